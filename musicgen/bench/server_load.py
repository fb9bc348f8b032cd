"""`python -m musicgen bench --listening N [--json PATH]`: N simulated participants against a running server.

Each participant is a websocket session speaking Streamlit's own protocol (bench/st_client.py), as a browser
tab would, but without a browser: it opens the study link (`/Listening_test?study=ID&key=KEY&pid=PID`), clicks
"I agree, start", and per trial "listens" (sleeps a random think time), picks an answer, writes a comment and
submits the form (the players' state reports the think time as seconds heard). The last answer is
double-clicked (two submits `double_click_gap_s` apart): it must still be stored once. Measured per trial:
**submit -> next trial playable** (a run finished successfully and its page shows trial n+1's players with
their audio); `first_trial` is start -> trial 1 playable. Afterwards the votes are read from the database
itself (one row per participant and trial, the answer and comment as sent), and the server's CPU is read from
/proc (its process and children).

By default the bench makes a throwaway SQLite store (or uses `db_url`), saves a pair study of SYSTEMS, warms
its clip bank in this process (timed apart), then starts its own server on a free port
(`python -m musicgen.ui.launch run <app>`, the participant-only deployment unless `app="full"`). With `url`
it uses a running server instead, which must share the store (`db_url`, default $MUSICGEN_DB_URL or the SQLite
file under $MUSICGEN_DATA): the study is added there; pass `server_pid` for its CPU.

JSON: {"mode": "server", "participants", "trials_per_participant", "think_s", "systems", "clip_seconds", "app",
"url", "clip_bank", "warm_s", "server_start_s", "waits", "wait_p50_s", "wait_p95_s", "wait_max_s",
"wait_p50_by_system_s" ({system: median wait of the trials it played in}), "first_trial_p50_s",
"first_trial_p95_s", "first_trial_max_s", "finish_max_s" (last submit -> thank-you page),
"votes_expected", "votes_stored", "lost_or_doubled" (participant-trials without exactly one vote, plus extra
rows), "answers_mismatched", "errors", "wall_s", "server_cpu_s", "server_cpus_busy" (server CPU-s per wall
second of the load), "server_cpu_s_per_page" (server CPU-s / pages served after a click, background renders
included), "client_cpus_busy" (this process), "other_processes_cpus_busy", "mb_received"}.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import select

from musicgen import listening as L
from musicgen.bench import st_client as sc
from musicgen.bench.app_start import free_port, stop_server
from musicgen.bench.pipeline import cpu_snapshot, other_cpu_load
from musicgen.listening import bank, schedule
from musicgen.listening.schema import trials as trials_table
from musicgen.listening.schema import votes as votes_table

SYSTEMS = ("markov", "A-lstm", "B-lstm", "transformer")
ROOT = Path(__file__).resolve().parents[2]
APPS = {"study": "deploy/study/study_app.py", "full": "app.py"}
PAGE = "Listening_test"  # the participant page's URL name in both apps
START_TIMEOUT_S = 120.0
STORED_ANSWER = {"No preference": "none"}  # the page's labels -> the answers stored (A and B are themselves)
_TRIAL = re.compile(r"Trial (\d+) of (\d+)")


def _run_in_own_loop(coroutine):
    """`asyncio.run` in a thread of its own: the caller's thread may already run an event loop (a test
    process that drove Playwright's sync API has one), and one thread cannot run two."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="bench-load") as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _quantile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


# ---- the server and its CPU ------------------------------------------------------------------------------
def start_server(app: str, data_dir: Path, db_url: str) -> tuple[subprocess.Popen, str, Path]:
    """The app on a free port with its own store; (process, base URL, log file) once /_stcore/health answers."""
    port = free_port()
    env = {**os.environ, "MUSICGEN_DATA": str(data_dir), "MUSICGEN_DB_URL": db_url,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "musicgen.ui.launch", "run", APPS[app], "--server.port",
                                 str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
                                 "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
            if r.status == 200:
                return proc, base, log_path
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S:g} s")
        time.sleep(0.3)


def process_tree_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by `pid` and its live descendants, from /proc; None without it."""
    if pid is None:
        return None
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
    if pid not in stats:
        return None
    tree, total = {pid}, 0
    for _ in range(8):  # descendants, a few generations deep
        tree |= {p for p, (ppid, _) in stats.items() if ppid in tree}
    total = sum(stats[p][1] for p in tree)
    return total / os.sysconf("SC_CLK_TCK")


# ---- one participant ---------------------------------------------------------------------------------------
def trial_shown(page: sc.Page) -> int | None:
    """The trial number the page shows when its players carry audio (a playable trial), else None."""
    numbers = [int(m.group(1)) for e in page.of_type("progress") if (m := _TRIAL.search(e.text))]
    players = page.of_type("bidi_component")
    if not numbers or not players:
        return None
    clips = json.loads(players[0].json or "{}").get("clips", [])
    playable = len(clips) >= 2 and all(c.get("src", "").startswith("data:audio/") and len(c["src"]) > 1000
                                       for c in clips)
    return numbers[0] if playable else None


def thanked(page: sc.Page) -> bool:
    return any(a.format == a.SUCCESS for a in page.of_type("alert"))


async def participant(base: str, query: str, pid: str, thinks: list[float], rng: random.Random, out: dict,
                      *, double_click_gap_s: float, timeout_s: float) -> None:
    """One participant's whole study; appends to out["waits"] etc., answers sent to out["sent"][(pid, n)]."""
    client = await sc.StClient.connect(base, PAGE, query, timeout_s=timeout_s)
    try:
        page = await client.rerun()
        start = page.buttons(form=None)
        if not start:
            raise RuntimeError(f"no start button: {client.describe()}")
        t = time.perf_counter()
        page = await client.rerun([sc.click(start[0])], until=lambda p: trial_shown(p) == 1)
        out["firsts"].append(time.perf_counter() - t)
        total = len(thinks)
        for n in range(1, total + 1):
            await asyncio.sleep(thinks[n - 1])
            radio = page.of_type("radio")[0]
            submit = [b for b in page.buttons(form=radio.form_id) if b.is_form_submitter][0]
            comment = [w for w in page.of_type("text_area") if w.form_id == radio.form_id]
            label = rng.choice(list(radio.options))
            played = round(thinks[n - 1], 1)
            widgets = [sc.choose(radio, label), sc.click(submit),
                       sc.component_state(page.of_type("bidi_component")[0], {"played": [played, played]})]
            widgets += [sc.text(comment[0], f"{pid}/{n}")] if comment else []
            out["sent"][(pid, n)] = (STORED_ANSWER.get(label, label), f"{pid}/{n}" if comment else None)
            last = n == total
            t = time.perf_counter()
            page = await client.rerun(widgets, clicks=2 if last else 1, gap_s=double_click_gap_s,
                                      until=thanked if last else (lambda p, n=n: trial_shown(p) == n + 1))
            if last:
                out["finishes"].append(time.perf_counter() - t)
            else:
                out["waits"].append(time.perf_counter() - t)
                out["trial_waits"][(pid, n + 1)] = out["waits"][-1]
            if page.errors():
                raise RuntimeError(f"trial {n}: {page.errors()}")
        await client.settle(1.0)  # the double click's second run, if it came after the first
        if page.errors():
            raise RuntimeError(f"after the last trial: {page.errors()}")
    finally:
        out["bytes"] += client.bytes_received
        await client.close()


async def _crowd(base: str, queries: dict[str, str], thinks: dict[str, list[float]], seed: int, spread_s: float,
                 *, double_click_gap_s: float, timeout_s: float) -> dict:
    out = {"waits": [], "firsts": [], "finishes": [], "errors": [], "sent": {}, "trial_waits": {}, "bytes": 0}

    async def one(i: int, pid: str) -> None:
        await asyncio.sleep(spread_s * i / max(1, len(queries)))  # arrivals spread over one think time
        try:
            await participant(base, queries[pid], pid, thinks[pid], random.Random(seed * 1000 + i), out,
                              double_click_gap_s=double_click_gap_s, timeout_s=timeout_s)
        except Exception as e:  # noqa: BLE001 — counted and reported
            out["errors"].append(f"{pid}: {type(e).__name__}: {e}")

    await asyncio.gather(*(one(i, pid) for i, pid in enumerate(queries)))
    return out


# ---- the votes, from the database ----------------------------------------------------------------------------
def check_votes(store: L.VoteStore, study_id: str, sent: dict, pids: list[str], trials: int) -> dict:
    """Compare the vote rows themselves with what was expected: one per participant and trial number."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(votes_table.c.participant_id, votes_table.c.number, votes_table.c.answer,
                                   votes_table.c.comment).where(votes_table.c.study_id == study_id)).all()
    count: dict = {}
    for r in rows:
        count[(r.participant_id, r.number)] = count.get((r.participant_id, r.number), 0) + 1
    expected = {(p, n) for p in pids for n in range(1, trials + 1)}
    lost_or_doubled = sum(count.get(k, 0) != 1 for k in expected) + sum(c for k, c in count.items()
                                                                          if k not in expected)
    mismatched = sum(1 for r in rows if (r.participant_id, r.number) in sent
                     and sent[(r.participant_id, r.number)] != (r.answer, r.comment))
    return {"votes_expected": len(expected), "votes_stored": len(rows), "lost_or_doubled": lost_or_doubled,
            "answers_mismatched": mismatched}


def waits_by_system(store: L.VoteStore, study_id: str, trial_waits: dict) -> dict:
    """Median wait for the trials each system played in (from the trials served): if one system's trials come
    slower, the wait itself tells a listener what is coming."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(trials_table.c.participant_id, trials_table.c.number, trials_table.c.system_a,
                                   trials_table.c.system_b).where(trials_table.c.study_id == study_id)).all()
    by: dict = {}
    for r in rows:
        wait = trial_waits.get((r.participant_id, r.number))
        if wait is not None:
            for system in {r.system_a, r.system_b} - {None}:
                by.setdefault(system, []).append(wait)
    return {system: round(_quantile(ws, 0.5), 2) for system, ws in sorted(by.items())}


# ---- the whole run ---------------------------------------------------------------------------------------------
def run(n: int, *, trials: int = 5, think_s: tuple[float, float] = (8.0, 12.0), systems=SYSTEMS,
        clip_seconds: float = 20.0, url: str | None = None, db_url: str | None = None, app: str = "study",
        server_pid: int | None = None, warm: bool = True, seed: int = 0, double_click_gap_s: float = 0.05,
        timeout_s: float = 120.0, log=lambda *_: None) -> dict:
    """Run the load test and return the JSON-ready result (see the module doc)."""
    tmp = tempfile.TemporaryDirectory(prefix="musicgen-server-load-")
    if url is None:
        db_url = db_url or f"sqlite:///{Path(tmp.name) / 'votes.sqlite'}"
    store = L.VoteStore(db_url or L.default_db_url())
    study_id = f"load-{os.getpid()}-{int(time.time())}"
    spec = store.save_study(L.StudySpec.from_dict({
        "id": study_id, "systems": list(systems), "trials_per_participant": trials, "clip": {"seconds": clip_seconds},
        "min_listen_seconds": min(think_s[0], clip_seconds, 5.0)}))
    warm_s = bank.warm(store, spec, sample_rate=schedule.SAMPLE_RATE, log=lambda m: log(f"server load: {m}")) \
        if warm else 0.0
    proc, server_start_s = None, None
    try:
        if url is None:
            log(f"server load: starting the {app} app")
            t = time.perf_counter()
            proc, url, _ = start_server(app, Path(tmp.name), db_url)
            server_start_s = time.perf_counter() - t
            server_pid = proc.pid
        key = schedule.study_key(store, study_id)
        pids = [f"load{i}" for i in range(n)]
        queries = {p: f"study={study_id}&key={key}&pid={p}" for p in pids}
        rng = random.Random(seed)
        thinks = {p: [rng.uniform(*think_s) for _ in range(trials)] for p in pids}
        log(f"server load: {n} participants x {trials} trials on {url}, think {think_s[0]:g}-{think_s[1]:g} s")
        cpu_before, server_before, t0 = cpu_snapshot(), process_tree_cpu_s(server_pid), time.perf_counter()
        out = _run_in_own_loop(_crowd(url, queries, thinks, seed, think_s[0], double_click_gap_s=double_click_gap_s,
                                 timeout_s=timeout_s))
        wall = time.perf_counter() - t0
        cpu_after, server_after = cpu_snapshot(), process_tree_cpu_s(server_pid)
    finally:
        if proc is not None:
            stop_server(proc)
    votes = check_votes(store, study_id, out["sent"], pids, trials)
    by_system = waits_by_system(store, study_id, out["trial_waits"])
    store.close()
    bank.pool().wait_idle(60)
    tmp.cleanup()
    server_cpu = None if server_before is None or server_after is None else server_after - server_before
    client_cpu = None if cpu_before is None else (cpu_after[2] - cpu_before[2]) / wall
    other = other_cpu_load(cpu_before, cpu_after)
    waits = out["waits"]
    served = len(waits) + len(out["firsts"]) + len(out["finishes"])  # trial and thank-you pages after a click
    return {"mode": "server", "participants": n, "trials_per_participant": trials, "think_s": list(think_s),
            "systems": list(systems), "clip_seconds": clip_seconds, "app": app if proc is not None else None,
            "url": url, "clip_bank": bank.bank_size(), "warm_s": round(warm_s, 2),
            "server_start_s": None if server_start_s is None else round(server_start_s, 2),
            "waits": len(waits), "wait_p50_s": _quantile(waits, 0.5), "wait_p95_s": _quantile(waits, 0.95),
            "wait_max_s": max(waits, default=None), "first_trial_p50_s": _quantile(out["firsts"], 0.5),
            "first_trial_p95_s": _quantile(out["firsts"], 0.95), "first_trial_max_s": max(out["firsts"], default=None),
            "finish_max_s": max(out["finishes"], default=None), "wait_p50_by_system_s": by_system, **votes,
            "errors": out["errors"],
            "wall_s": round(wall, 2), "server_cpu_s": None if server_cpu is None else round(server_cpu, 1),
            "server_cpus_busy": None if server_cpu is None else round(server_cpu / wall, 2),
            "server_cpu_s_per_page": None if server_cpu is None else round(server_cpu / max(1, served), 2),
            "client_cpus_busy": None if client_cpu is None else round(client_cpu, 2),
            "other_processes_cpus_busy": None if other is None or server_cpu is None
            else round(max(0.0, other - server_cpu / wall), 2),
            "mb_received": round(out["bytes"] / 1e6, 1)}


def format_result(r: dict) -> str:
    def s(x):
        return "-" if x is None else f"{x:.2f} s"

    def cpus(x):
        return "-" if x is None else f"{x:.2f}"

    rows = [("submit -> next trial playable", f"p50 {s(r['wait_p50_s'])}  p95 {s(r['wait_p95_s'])}  "
                                              f"max {s(r['wait_max_s'])}  ({r['waits']} trials)"),
            ("  median, trials with each system",
             "  ".join(f"{k} {v:.2f} s" for k, v in r.get("wait_p50_by_system_s", {}).items()) or "-"),
            ("start -> first trial playable", f"p50 {s(r['first_trial_p50_s'])}  p95 {s(r['first_trial_p95_s'])}  "
                                              f"max {s(r['first_trial_max_s'])}"),
            ("last submit (double click) -> thanks", f"max {s(r['finish_max_s'])}"),
            ("votes in the database", f"{r['votes_stored']} of {r['votes_expected']}  (lost or doubled "
                                      f"{r['lost_or_doubled']}, answer/comment mismatched {r['answers_mismatched']})"),
            ("errors", str(len(r["errors"]))),
            ("CPUs busy: server / bench client / others", f"{cpus(r['server_cpus_busy'])} / "
                                                          f"{cpus(r['client_cpus_busy'])} / "
                                                          f"{cpus(r['other_processes_cpus_busy'])}"),
            ("server CPU per page after a click", "-" if r["server_cpu_s_per_page"] is None
             else f"{r['server_cpu_s_per_page']:.2f} s (background clip renders included)"),
            ("wall", f"{r['wall_s']:.1f} s ({r['mb_received']} MB received)")]
    where = f"own server, {r['app']} app" if r["app"] else r["url"]
    head = (f"listening load ({where}): {r['participants']} participants x "
            f"{r['trials_per_participant']} trials, think {r['think_s'][0]:g}-{r['think_s'][1]:g} s, "
            f"{', '.join(r['systems'])}; bank {r['clip_bank']} clips/system warmed in {r['warm_s']:.1f} s"
            + ("" if r["server_start_s"] is None else f", server up in {r['server_start_s']:.1f} s")
            + (f"; LOADED on purpose: --load {r['background_load_cpus']} CPU(s) spinning"
               if r.get("background_load_cpus") else ""))
    width = max(len(k) for k, _ in rows)
    return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows] + [f"  error: {e}" for e in r["errors"][:5]])
