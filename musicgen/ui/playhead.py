"""An audio player with a playhead: one small self-contained HTML component (`st.iframe` with inline HTML).

`playhead(audio, notes=seq)` shows an HTML5 `<audio>` player above the clip's piano roll (inline SVG: one
rectangle per note, primer notes grey, C lines and labels), and a vertical line over the roll that follows
the audio as it plays; a click on the roll (or the arrow keys on it) moves the audio there.
`playhead(audio)` without notes shows only the player and a thin track with the same line: it carries no
text but generic labels, so a blind listening test can use it without giving away what it plays.

Everything is inline (the audio as a base64 data URL, the SVG, the CSS and a few lines of JavaScript): no
CDN, no network, no media-file URL, so it works offline and the audio cannot be told apart by its address.
`playhead_html` builds the markup (pure, for tests); `playhead` puts it on the page.
"""

from __future__ import annotations

import base64
import html

import streamlit as st

from musicgen.plots import GENERATED_COLOR, PRIMER_COLOR, note_name, shared_pitch_range
from musicgen.sequence import NoteSequence

ROLL_HEIGHT = 240  # px: tall enough to tell neighbouring pitches apart in a chorale's ~3-octave range
AUDIO_HEIGHT = 40  # px: the player's height is set, not left to the browser, so the iframe height is exact
TRACK_HEIGHT = 12  # px: the progress track shown in place of a roll
GAP = 8  # px between the player and the roll or track
PAD = 4  # px of room around it all, so focus rings are not clipped by the iframe
LINE_COLOR = "#1f6feb"  # blue: stands apart from the orange-red generated and grey primer notes
ROLL_TITLE = "Piano roll with playhead"  # the iframe's accessible name
PLAYER_TITLE = "Audio player"  # the same without a roll: nothing that names a clip, a model or a seed


def component_height(*, roll: bool, roll_height: int = ROLL_HEIGHT) -> int:
    """The iframe's fixed height in px: a fixed height, because the roll is drawn to fill whatever height it
    gets (an auto-sized iframe would first render at a default height and then jump)."""
    return AUDIO_HEIGHT + GAP + (roll_height if roll else TRACK_HEIGHT) + 2 * PAD


def _num(x: float) -> str:
    return f"{x:.4f}".rstrip("0").rstrip(".") or "0"  # short numbers keep the page small


def roll_svg(notes: NoteSequence, *, primer_notes: int = 0) -> tuple[str, str, float]:
    """(the SVG, the pitch labels' HTML, the roll's length in seconds) for `notes`.

    The SVG's user units are seconds across and pitch rows down (`preserveAspectRatio="none"` stretches them
    to the box), so a note's rectangle is its start, end and pitch as they are, and the script can lengthen
    the time axis to the audio's own duration (it has a release tail) by changing only the viewBox."""
    low, high = shared_pitch_range([notes]) or (58, 72)  # no notes: an empty octave around C5
    rows = high - low + 1
    seconds = max(notes.duration, 0.001)
    primer_notes = max(0, min(primer_notes, len(notes.notes)))
    lines = "".join(f'<line class="c" x1="0" x2="100%" y1="{high - p + 1}" y2="{high - p + 1}"/>'
                    for p in range(low, high + 1) if p % 12 == 0)  # the bottom edge of each C's row
    rects = []
    for i, n in enumerate(notes.notes):
        color = PRIMER_COLOR if i < primer_notes else GENERATED_COLOR
        rects.append(f'<rect class="note" x="{_num(n.start)}" y="{high - n.pitch}" width="{_num(n.end - n.start)}" '
                     f'height="1" fill="{color}" fill-opacity="{_num(0.35 + 0.65 * n.velocity / 127)}" '
                     f'data-pitch="{n.pitch}"/>')
    svg = (f'<svg id="roll" class="roll" viewBox="0 0 {_num(seconds)} {rows}" preserveAspectRatio="none" '
           f'data-rows="{rows}" aria-hidden="true">{lines}{"".join(rects)}</svg>')
    labels = "".join(f'<span style="top:{_num(100 * (high - p + 0.5) / rows)}%">{note_name(p)}</span>'
                     for p in range(low, high + 1) if p % 12 == 0)
    return svg, labels, seconds


_CSS = """
html, body { margin: 0; padding: 0; overflow: hidden; background: transparent; }
body { padding: %(pad)spx; font: 11px "Source Sans Pro", "Source Sans 3", sans-serif; color: #555; }
audio { display: block; width: 100%%; height: %(audio)spx; }
.roll { display: flex; height: %(roll)spx; margin-top: %(gap)spx; }
.keys { position: relative; flex: 0 0 28px; }
.keys span { position: absolute; right: 4px; transform: translateY(-50%%); line-height: 1; }
.surface { position: relative; flex: 1 1 auto; min-width: 0; cursor: pointer; touch-action: manipulation;
           background: #fafbfc; border: 1px solid #e3e6ea; border-radius: 3px; }
.surface:focus-visible { outline: 2px solid %(line)s; outline-offset: 1px; }
.track { height: %(track)spx; margin-top: %(gap)spx; background: #e6e9ef; border: 0; border-radius: 6px; }
svg { display: block; width: 100%%; height: 100%%; }
svg line.c { stroke: #d0d5db; stroke-width: 1; vector-effect: non-scaling-stroke; }
#playhead { position: absolute; top: 0; bottom: 0; left: 0; width: 2px; margin-left: -1px;
            background: %(line)s; pointer-events: none; }
"""

# One driver for every player on every page (Generate's roll, the blind listening test's clips): it finds its
# parts inside `root` (the iframe's document, or one clip's box in the listening component), so the line and
# the seeking behave the same everywhere, and it calls `onPlayed(seconds)` with the seconds actually heard.
_FOLLOW_JS = """
const follow = (root, onPlayed) => {
  const audio = root.querySelector("audio");
  const surface = root.querySelector(".surface");
  const head = root.querySelector(".head");
  const roll = root.querySelector("svg.roll");
  // the time axis in seconds: the notes' length, stretched to the audio's once known (its release tail)
  let span = parseFloat(surface.dataset.seconds) || 0;
  const fit = () => {
    if (isFinite(audio.duration) && audio.duration > span) {
      span = audio.duration;
      if (roll) roll.setAttribute("viewBox", `0 0 ${span} ${roll.dataset.rows}`);
    }
    draw();
  };
  const draw = () => {
    const f = span > 0 ? Math.min(1, Math.max(0, audio.currentTime / span)) : 0;
    head.style.left = (100 * f) + "%";
    surface.setAttribute("aria-valuenow", audio.currentTime.toFixed(1));
  };
  // seconds heard: the sum of small forward steps of currentTime while playing (a seek is not listening)
  let heard = 0, last = null;
  const count = () => {
    const now = audio.currentTime;
    if (!audio.paused && last !== null && now > last && now - last < 1.5) heard += now - last;
    last = now;
    if (onPlayed) onPlayed(heard, false);
  };
  let frame = 0;
  const tick = () => { draw(); frame = audio.paused ? 0 : requestAnimationFrame(tick); };
  audio.addEventListener("play", () => { last = audio.currentTime; if (!frame) frame = requestAnimationFrame(tick); });
  for (const e of ["loadedmetadata", "durationchange"]) audio.addEventListener(e, fit);
  for (const e of ["seeked", "timeupdate", "pause", "ended"]) audio.addEventListener(e, draw);
  audio.addEventListener("timeupdate", count);
  audio.addEventListener("seeking", () => { last = null; });
  for (const e of ["pause", "ended"]) {
    audio.addEventListener(e, () => { count(); if (onPlayed) onPlayed(heard, true); });
  }
  const seek = (t) => { if (span > 0) { audio.currentTime = Math.min(Math.max(t, 0), span); draw(); } };
  surface.addEventListener("click", (e) => {
    const box = (roll || surface).getBoundingClientRect();
    if (box.width > 0) seek(span * (e.clientX - box.left) / box.width);
  });
  surface.addEventListener("keydown", (e) => {  // the roll is a slider for the keyboard too
    const step = {ArrowLeft: -5, ArrowRight: 5}[e.key];
    if (step) { e.preventDefault(); seek(audio.currentTime + step); }
    if (e.key === "Home") { e.preventDefault(); seek(0); }
  });
  fit();
};
"""

# Why a script at all: Streamlit reruns Python on events, far too slowly to move a line 60 times a second,
# so the line follows `audio.currentTime` in the browser (requestAnimationFrame while playing, and on
# seeks/pauses otherwise), and a click seeks the audio directly, without a round trip to the server.
_JS = _FOLLOW_JS + "follow(document, null);\n"


def playhead_html(audio: bytes, mime: str = "audio/ogg", *, notes: NoteSequence | None = None,
                  primer_notes: int = 0, roll_height: int = ROLL_HEIGHT) -> str:
    """The component's whole HTML document: the player for `audio` (bytes of type `mime`) and, with `notes`,
    their piano roll (the first `primer_notes` grey) under a playhead; without, a bare progress track."""
    src = f"data:{mime};base64,{base64.b64encode(audio).decode('ascii')}"
    css = _CSS % {"pad": PAD, "audio": AUDIO_HEIGHT, "roll": roll_height, "gap": GAP, "track": TRACK_HEIGHT,
                  "line": LINE_COLOR}
    if notes is not None:
        svg, labels, seconds = roll_svg(notes, primer_notes=primer_notes)
        body = (f'<div class="roll"><div class="keys" aria-hidden="true">{labels}</div>'
                f'<div class="surface" id="surface" data-seconds="{_num(seconds)}" tabindex="0" role="slider" '
                f'aria-label="Playback position: click the roll to play from there" aria-valuemin="0" '
                f'aria-valuemax="{_num(seconds)}" aria-valuenow="0">{svg}'
                '<div id="playhead" class="head"></div></div></div>')
    else:
        body = ('<div class="surface track" id="surface" data-seconds="0" tabindex="0" role="slider" '
                'aria-label="Playback position" aria-valuemin="0" aria-valuenow="0">'
                '<div id="playhead" class="head"></div></div>')
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head><body>'
            f'<audio id="audio" controls preload="auto" src="{html.escape(src, quote=True)}"></audio>'
            f'{body}<script>{_JS}</script></body></html>')


def playhead(audio: bytes, mime: str = "audio/ogg", *, notes: NoteSequence | None = None, primer_notes: int = 0,
             roll_height: int = ROLL_HEIGHT) -> None:
    """Show the player (with `notes`: over their piano roll with a moving playhead) at the container's width
    and a fixed height. `st.iframe` with inline HTML, not a registered component: nothing to build or serve,
    and the audio travels inside the page (no media URL to fetch, name or cache)."""
    st.iframe(playhead_html(audio, mime, notes=notes, primer_notes=primer_notes, roll_height=roll_height),
              height=component_height(roll=notes is not None, roll_height=roll_height),
              alt=ROLL_TITLE if notes is not None else PLAYER_TITLE)


# ---- the blind listening test's players (a bidirectional component) -------------------------------------
# The same driver (`follow`) on each clip, plus what the listening test needs back in Python: the seconds each
# clip has actually been played. Only labels ("A", "B") and the audio go in, as data; nothing names a clip.
_LISTEN_CSS = """
.mg-listen { display: flex; flex-wrap: wrap; gap: 1rem 2rem; }
.mg-listen .clip { flex: 1 1 260px; min-width: 0; }
.mg-listen .label { font-weight: 600; margin-bottom: .25rem; }
.mg-listen audio { display: block; width: 100%; height: 40px; }
.mg-listen .surface { position: relative; height: 12px; margin-top: 8px; background: #e6e9ef; border-radius: 6px;
                      cursor: pointer; touch-action: manipulation; }
.mg-listen .head { position: absolute; top: 0; bottom: 0; left: 0; width: 2px; margin-left: -1px;
                   background: #1f6feb; pointer-events: none; }
.mg-listen .heard { font-size: .85rem; color: #555; margin-top: .3rem; }
.mg-listen .heard.done { color: #1a7f37; }
"""
_LISTEN_JS = "export default function(component) {\n" + _FOLLOW_JS + """
  const { data, parentElement, setStateValue } = component;
  const need = data.min_seconds;
  let box = parentElement.querySelector(".mg-listen");
  if (box && box.dataset.trial === String(data.trial)) return;  // a rerun of the same trial: keep playing
  if (box) box.remove();
  box = document.createElement("div");
  box.className = "mg-listen";
  box.dataset.trial = String(data.trial);
  parentElement.appendChild(box);
  const played = data.clips.map(() => 0);
  const reported = data.clips.map(() => 0);
  data.clips.forEach((clip, i) => {
    const part = document.createElement("div");
    part.className = "clip";
    part.innerHTML = `<div class="label"></div><audio controls preload="auto"></audio>` +
      `<div class="surface" data-seconds="0" tabindex="0" role="slider" aria-label="Playback position">` +
      `<div class="head"></div></div><div class="heard" aria-live="polite"></div>`;
    part.querySelector(".label").textContent = clip.label;
    part.querySelector("audio").src = clip.src;
    const heard = part.querySelector(".heard");
    const show = () => {
      const done = played[i] >= need;
      heard.classList.toggle("done", done);
      heard.textContent = need <= 0 ? "" : done ? "Listened"
        : `Listen for at least ${need} s (${Math.floor(played[i])} s so far)`;
    };
    show();
    box.appendChild(part);
    follow(part, (seconds, stopped) => {
      played[i] = seconds;
      show();
      // tell Python only when it matters (the answer may open, or playback stopped): each report is a rerun
      const crossed = reported[i] < need && seconds >= need;
      if (crossed || (stopped && seconds - reported[i] >= 0.5)) {
        reported[i] = seconds;
        setStateValue("played", played.map((s) => Math.round(s * 10) / 10));
      }
    });
  });
}
"""
_listen_component = None


def listen_players(clips: list[bytes], mime: str, labels: list[str], *, min_seconds: float, trial: int | str
                   ) -> list[float]:
    """The clips' players side by side, each with its progress line; returns the seconds each has been played
    (from the browser; 0 until it reports). The page opens the answer once every clip reaches `min_seconds`.
    `trial` tells screens apart (a new value: new players): the trial number, or e.g. "practice1"."""
    global _listen_component
    if _listen_component is None:  # registered once per process, on first use (it needs a running app)
        _listen_component = st.components.v2.component(
            "musicgen.listen_players", css=_LISTEN_CSS, js=_LISTEN_JS, isolate_styles=False)
    srcs = [f"data:{mime};base64,{base64.b64encode(c).decode('ascii')}" for c in clips]
    result = _listen_component(
        key=f"listen_players_{trial}", on_played_change=lambda: None,
        data={"trial": trial, "min_seconds": min_seconds,
              "clips": [{"label": label, "src": src} for label, src in zip(labels, srcs)]},
        default={"played": [0.0] * len(clips)})
    played = getattr(result, "played", None) or [0.0] * len(clips)
    return [float(s) for s in played]
