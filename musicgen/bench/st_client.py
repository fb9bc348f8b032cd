"""A minimal Streamlit client: speaks the browser's websocket protocol to a running server, for load tests.

What a browser does, and this does too: open `ws://HOST/_stcore/stream` (subprotocol "streamlit"), send a
`BackMsg.rerun_script` (a `ClientState`: the page's query string, the page's URL name, the widget states),
then read `ForwardMsg`s until `script_finished`. Each script run starts with `new_session` and sends one
`delta` per element, addressed by its `delta_path` (a later delta at the same path replaces the earlier
one: a spinner, then the element it made way for). A click on a button is a rerun with that button's
widget id and `trigger_value=True`; a form's submit sends the form's widget values along with the submit
button's trigger. A run ended by `st.rerun()` finishes with FINISHED_EARLY_FOR_RERUN and the next run
follows on its own, so `rerun(until=...)` reads on until a run that finished successfully shows the page
wanted. No JavaScript runs here: a component's state is sent as a browser would after it reported it.

The message classes are built from the protocol the installed Streamlit ships (`st_protocol.py`), without
importing the `streamlit` package: the library keeps Streamlit to `musicgen/ui` and `pages/`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import websockets

from musicgen.bench.st_protocol import BackMsg, ForwardMsg, WidgetState

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN


@dataclass
class Page:
    """The elements of the last script run, by delta path, and what the run ended with."""
    elements: dict = field(default_factory=dict)  # delta_path tuple -> (element type, element proto)
    finished: int | None = None  # a ForwardMsg.ScriptFinishedStatus, None while running
    page_not_found: bool = False

    def of_type(self, kind: str) -> list:
        return [e for path, (k, e) in sorted(self.elements.items()) if k == kind]

    def texts(self, kind: str) -> list[str]:
        return [e.body for e in self.of_type(kind)]

    def buttons(self, *, form: str | None = None) -> list:
        """Buttons of `form` (None: the ones outside any form)."""
        return [b for b in self.of_type("button") if (b.form_id or None) == form]

    def errors(self) -> list[str]:
        """st.error texts and exceptions shown on the page."""
        out = [a.body for a in self.of_type("alert") if a.format == a.ERROR]
        return out + [f"{x.type}: {x.message}" for x in self.of_type("exception")]


class StClient:
    """One browser tab: a websocket session on one page of the app (`page`: its URL name, e.g. "Listening_test")."""

    def __init__(self, ws, page: str, query: str, timeout_s: float):
        self.ws, self.page_name, self.query, self.timeout_s = ws, page, query, timeout_s
        self.page = Page()
        self.bytes_received = 0

    @classmethod
    async def connect(cls, base_url: str, page: str, query: str = "", *, timeout_s: float = 120.0) -> StClient:
        ws_url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/_stcore/stream"
        ws = await websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=timeout_s)  # permessage-deflate offered, as browsers do
        return cls(ws, page, query, timeout_s)

    async def close(self) -> None:
        await self.ws.close()

    async def send_rerun(self, widgets: list[WidgetState] = ()) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string, state.page_name = self.query, self.page_name
        state.widget_states.widgets.extend(widgets)
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, widgets: list[WidgetState] = (), *, until=None, clicks: int = 1, gap_s: float = 0.0) -> Page:
        """Send the rerun (`clicks` times, `gap_s` apart: a double click) and read until a run finishes
        successfully with `until(page)` true (default: any). Raises TimeoutError, or RuntimeError when a run
        finished with a page that `until` rejects and nothing more is coming within a second."""
        for i in range(clicks):
            if i:
                await asyncio.sleep(gap_s)
            await self.send_rerun(widgets)
        return await self.wait(until)

    async def wait(self, until=None) -> Page:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while True:
            page = await self._next_finished(deadline)
            if until is None or until(page):
                return page
            try:  # a page not yet the one wanted: another run may already be on its way (a queued click)
                page = await self._next_finished(min(deadline, loop.time() + 1.0))
            except TimeoutError:
                raise RuntimeError(f"the run finished on another page: {self.describe()}") from None
            if until(page):
                return page

    async def _next_finished(self, deadline: float) -> Page:
        """Read messages until a run finishes successfully; the page it left."""
        loop = asyncio.get_running_loop()
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no finished script run within {self.timeout_s:g} s")
            raw = await asyncio.wait_for(self.ws.recv(), left)
            self.bytes_received += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page = Page()
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                self.page.elements[tuple(msg.metadata.delta_path)] = (element.WhichOneof("type"),
                                                                      getattr(element, element.WhichOneof("type")))
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string  # the page rewrote its URL (st.query_params)
            elif kind == "page_not_found":
                self.page.page_not_found = True
            elif kind == "script_finished":
                self.page.finished = msg.script_finished
                if msg.script_finished == FINISHED:
                    return self.page

    async def settle(self, quiet_s: float = 1.0) -> Page:
        """Read on until nothing more has finished for `quiet_s` and no run is going (e.g. a second click's)."""
        loop = asyncio.get_running_loop()
        while True:
            quiet = self.page.finished is not None
            try:
                await self._next_finished(loop.time() + (quiet_s if quiet else self.timeout_s))
            except TimeoutError:
                if self.page.finished is not None:
                    return self.page
                if not quiet:
                    raise

    def describe(self) -> str:
        kinds = [k for _, (k, _) in sorted(self.page.elements.items())]
        return f"{kinds} errors={self.page.errors()}"


def click(button) -> WidgetState:
    return WidgetState(id=button.id, trigger_value=True)


def choose(radio, option: str) -> WidgetState:
    """A radio's value as the browser sends it: the option's label."""
    if option not in radio.options:
        raise ValueError(f"{option!r} is not one of {list(radio.options)}")
    return WidgetState(id=radio.id, string_value=option)


def text(widget, value: str) -> WidgetState:
    return WidgetState(id=widget.id, string_value=value)


def component_state(component, state: dict) -> WidgetState:
    """A bidirectional (v2) component's state, as its JavaScript's setStateValue calls leave it."""
    return WidgetState(id=component.id, json_value=json.dumps(state))
