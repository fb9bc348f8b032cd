"""The clip bank and the render pool: banked trials are served without rendering, the pool keeps its
budget, blinding holds, and a clip not banked yet is rendered on demand."""

import io
import threading
import time

import pytest
import soundfile

from musicgen import listening as L
from musicgen.listening import bank, schedule

pytest.importorskip("fluidsynth")


@pytest.fixture
def banked(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSICGEN_CLIP_BANK", "3")
    pool = bank.reset_pool(1)
    store = L.VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
    yield store, pool
    pool.wait_idle(60)
    store.close()


def _study(store, **fields):
    spec = L.StudySpec.from_dict({"id": "bank", "systems": ["toy-markov", "toy-markov1", "real"],
                                  "trials_per_participant": 3, "clip": {"seconds": 3}, **fields})
    return store.save_study(spec)


def _fail_renders(monkeypatch):
    def no_render(*_a, **_k):
        raise AssertionError("rendered although the clip was banked")

    monkeypatch.setattr(bank, "render_audio", no_render)


def test_banked_trials_are_served_without_rendering_and_stay_blind(checkpoints_env, banked, monkeypatch):
    store, pool = banked
    spec = _study(store)
    for f in bank.top_up(store, spec, sample_rate=schedule.SAMPLE_RATE):
        f.result(timeout=120)
    rows = store.banked_clips("bank")
    from musicgen.listening import clips
    expected = {s: min(3, clips.seed_space(spec, s)) for s in spec.systems}  # the toy corpus has few real pieces
    assert {s: sum(r["system"] == s for r in rows) for s in spec.systems} == expected
    _fail_renders(monkeypatch)
    for number in (1, 2, 3):
        trial = L.prepare_trial(store, "bank", "p1")
        assert trial.number == number
        record = store.get_trial(trial.token)
        # blinding as without the bank: equal frames and byte counts, no ID3 tag, no identity in the bytes
        info = [soundfile.info(io.BytesIO(clip)) for clip in trial.audio]
        assert info[0].frames == info[1].frames > 0 and len(trial.audio[0]) == len(trial.audio[1])
        assert not any(clip.startswith(b"ID3") for clip in trial.audio)
        model_seeds = [str(seed) for system, seed, _ in record.clips if system != L.REAL]  # long enough to search
        for secret in (record.system_a, record.system_b, record.soundfont, *model_seeds):
            assert all(secret.encode() not in clip for clip in trial.audio)
        assert pool.wait_idle(60)  # the look-ahead of the next trial ran (from banked clips only)
        L.submit_vote(store, trial.token, "A")
    assert L.prepare_trial(store, "bank", "p1") is None
    heard = [(v.system_a, v.seed_a) for v in store.votes("bank")] + [(v.system_b, v.seed_b) for v in store.votes("bank")]
    assert len(set(heard)) == 6  # never the same clip twice for a participant
    banked_keys = {(r["system"], r["seed"]) for r in rows}
    assert set(heard) <= banked_keys


def test_look_ahead_serves_the_next_trial_already_encoded(checkpoints_env, banked):
    store, pool = banked
    _study(store, trials_per_participant=2)
    first = L.prepare_trial(store, "bank", "p1")
    assert pool.wait_idle(60)
    [(key, plan)] = [(k, p) for k, p in schedule._PLANS.items() if k[:2] == ("bank", "p1")]
    assert key[2] == 2 and plan.token in schedule._AUDIO_CACHE
    L.submit_vote(store, first.token, "B")
    second = L.prepare_trial(store, "bank", "p1")
    assert second.token == plan.token and second.audio == schedule._AUDIO_CACHE[plan.token]
    assert store.get_trial(second.token).served_at > store.get_trial(first.token).served_at


def test_a_clip_not_banked_is_rendered_on_demand_and_banked(checkpoints_env, banked):
    store, _ = banked
    _study(store)
    trial = L.prepare_trial(store, "bank", "p2")  # the bank is still empty: rendered now, never an error
    record = store.get_trial(trial.token)
    keys = {(r["system"], r["seed"]) for r in store.banked_clips("bank")}
    assert {(record.system_a, record.seed_a), (record.system_b, record.seed_b)} <= keys


def test_a_changed_provenance_is_not_served_from_the_bank(checkpoints_env, banked):
    store, _ = banked
    spec = _study(store)
    for f in bank.top_up(store, spec, sample_rate=schedule.SAMPLE_RATE):
        f.result(timeout=120)
    [row, *_] = store.banked_clips("bank", "toy-markov")
    assert bank.usable_clips(store, spec, "toy-markov", soundfont=row["soundfont"], sample_rate=row["sample_rate"])
    changed = {**row["settings"], "weights_sha256": "0" * 64}
    assert bank.clip_key("toy-markov", row["seed"], changed, row["soundfont"], row["sample_rate"]) != row["key"]
    assert store.get_clip(bank.clip_key("toy-markov", row["seed"], changed, row["soundfont"],
                                        row["sample_rate"])) is None


def test_the_pool_never_runs_more_than_its_budget():
    pool = bank.RenderPool(2)
    now, lock = [0], threading.Lock()
    most = [0]

    def job(i):
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        time.sleep(0.02)
        with lock:
            now[0] -= 1
        return i

    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(pool.run(f"job{i}", lambda i=i: job(i))))
               for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == list(range(12))
    assert most[0] <= 2 and pool.peak <= 2 and pool.completed == 12
    # one key, one run: a second submit shares the queued job
    gate = threading.Event()
    blocker = pool.submit("block", gate.wait, bank.URGENT)
    pool.submit("block2", gate.wait, bank.URGENT)
    a = pool.submit("same", lambda: object(), bank.BACKGROUND)
    b = pool.submit("same", lambda: object(), bank.URGENT)
    assert a is b
    gate.set()
    assert blocker.result(5) and a.result(5) is b.result(5)
    pool.shutdown()


def test_closing_the_pool_drops_queued_renders_and_waits_for_the_running_one():
    # At exit the pool is closed this way: a worker killed mid-render aborted a test run with exit 134.
    pool = bank.RenderPool(1)
    started, release = threading.Event(), threading.Event()
    running = pool.submit("running", lambda: (started.set(), release.wait(5), "done")[2])
    queued = pool.submit("queued", lambda: "never")
    assert started.wait(5)
    threading.Timer(0.3, release.set).start()
    pool.close(timeout=5)
    assert running.result(timeout=0) == "done" and queued.cancelled()
    assert not any(t.is_alive() for t in pool._threads) and pool.pending() == 0


def test_banked_clips_keep_their_blind_mp3_so_any_process_serves_trials_without_encoding(
        checkpoints_env, banked, monkeypatch):
    """Banking a clip also stores its blind MP3 (matched on its own); a process that never encoded anything
    (its cache empty, as a replica or a restarted server) serves a trial whose clips both reach the target
    loudness without encoding, and the bytes equal encoding the trial's clips there and then."""
    store, pool = banked
    spec = _study(store, systems=["toy-markov", "toy-markov1"])
    for f in bank.top_up(store, spec, sample_rate=schedule.SAMPLE_RATE):
        f.result(timeout=120)
    rows = store.banked_clips("bank")
    assert len(rows) == 6 and all(store.get_blind(r["key"]) is not None for r in rows)
    monkeypatch.setattr(bank, "_ENCODED", type(bank._ENCODED)())  # another process: nothing cached
    encoded = []
    real_encode = bank.encode_blind
    monkeypatch.setattr(bank, "encode_blind", lambda clip: encoded.append(1) or real_encode(clip))
    trial = L.prepare_trial(store, "bank", "p1")
    assert pool.wait_idle(120)
    assert encoded == []  # the toy clips reach the target loudness: both MP3s came from the store
    record = store.get_trial(trial.token)
    clips_ = [bank.get_clip(store, "bank", s, seed, st, sample_rate=schedule.SAMPLE_RATE) for s, seed, st in record.clips]
    length = min(float(record.settings_a["seconds"]), *(c.duration for c in clips_))
    fresh = tuple(real_encode(c) for c in schedule.match_clips(clips_, length=length, fade=schedule.FADE_SECONDS))
    assert trial.audio == fresh


def test_a_clip_matched_otherwise_is_encoded_not_served_from_the_store(checkpoints_env, banked):
    store, pool = banked
    spec = _study(store, systems=["toy-markov", "toy-markov1"])
    for f in bank.top_up(store, spec, sample_rate=schedule.SAMPLE_RATE):
        f.result(timeout=120)
    row = store.banked_clips("bank")[0]
    clip = bank._from_flac(store.get_clip(row["key"]), row["soundfont"])
    quieter = bank.solo_matched(clip, 3.0)
    quieter = type(quieter)(samples=quieter.samples * 0.5, sample_rate=quieter.sample_rate, soundfont=quieter.soundfont)
    assert bank.encode_blind_once(quieter, store=store, key=row["key"]) == bank.encode_blind(quieter)
    assert bank.encode_blind_once(quieter, store=store, key=row["key"]) != store.get_blind(row["key"])[1]
