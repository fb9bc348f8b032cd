"""`musicgen bench` on toy checkpoints: the JSON has every key and sensible numbers (no timing asserts)."""

import json
import math
from argparse import Namespace

import pytest

from musicgen import bench
from musicgen.bench import app_start, report
from musicgen.presets import toy_preset

pytest.importorskip("fluidsynth")


@pytest.fixture(scope="module")
def result(toy_checkpoints, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["lstm"].parent))
    try:
        yield bench.collect(quick=True, cold_start=False, train_preset=toy_preset("lstm"), overrides=FEW,
                            log=lambda *_: None)
    finally:
        mp.undo()


FEW = {"runs": 2, "lstm_tokens": 20, "cached_runs": 1, "naive_runs": 1, "train_warmup": 1, "train_steps": 1}
MODEL_KEYS = ("load_first_s", "load_median_s", "first_generate_s", "sample_median_s", "synthesis_median_s",
              "normalize_median_s", "encode_ogg_median_s", "encode_mp3_median_s", "end_to_end_30s_median_s",
              "end_to_end_30s_max_s", "audio_seconds", "notes_median", "synthesis_realtime_factor",
              "audio_kb_per_30s", "mp3_kb_per_30s")


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_every_model_has_positive_numbers(result):
    assert set(result["models"]) == {"toy-lstm", "toy-markov"}
    for cid, m in result["models"].items():
        assert "error" not in m, m
        assert 1 <= m["runs"] <= FEW["runs"]
        for key in MODEL_KEYS:
            assert _positive(m[key]), (cid, key, m[key])
        assert 20 < m["audio_seconds"] <= 30.5 + 0.1  # a 30 s request + the synth's 0.5 s tail


def test_global_numbers_and_machine(result):
    for key in ("synthesis_realtime_factor", "audio_kb_per_30s", "lstm_cached_vs_naive_speedup",
                "lstm_train_sequences_per_s", "wall_s"):
        assert _positive(result[key]), key
    assert result["lstm_cached_vs_naive"]["checkpoint"] == "toy-lstm"
    assert result["lstm_cached_vs_naive"]["tokens"] == FEW["lstm_tokens"]
    assert result["lstm_train"]["preset"] == "toy-lstm"
    assert result["app_cold_start_s"] is None and result["app_cold_start"]["reason"]
    machine = result["machine"]
    assert machine["cpu_count"] >= 1 and machine["torch_threads"] >= 1 and machine["torch"]
    assert result["quick"] is True and result["schema"] == bench.SCHEMA


def test_checks_cover_every_target(result):
    names = {c["name"] for c in result["checks"]}
    assert names == {"end_to_end_30s_median_s[toy-lstm]", "end_to_end_30s_median_s[toy-markov]", *report.TARGETS}
    cold = next(c for c in result["checks"] if c["name"] == "app_cold_start_s")
    assert cold["pass"] is None  # not measured is neither PASS nor FAIL
    assert isinstance(result["all_pass"], bool)


def test_report_and_json_round_trip(result, tmp_path):
    text = report.format_report(result)
    for cid in result["models"]:
        assert cid in text
    assert "app_cold_start_s" in text and "skipped by the caller" in text
    path = bench.write_json(result, tmp_path / "out" / "bench.json")
    assert json.loads(path.read_text())["models"].keys() == result["models"].keys()


def test_broken_model_is_reported_not_raised(toy_checkpoints, monkeypatch):
    monkeypatch.setattr(bench, "bench_model", lambda cid, runs, **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(bench, "cached_vs_naive", lambda *a, **k: {"speedup": 1.0})
    monkeypatch.setattr(bench, "training_throughput", lambda *a, **k: {"sequences_per_s": 1.0})
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["lstm"].parent))
    out = bench.collect(quick=True, ids=["toy-markov"], cold_start=False, log=lambda *_: None)
    assert out["models"]["toy-markov"]["error"] == "RuntimeError: boom"
    assert out["synthesis_realtime_factor"] is None and out["all_pass"] is False


def test_cold_start_without_browser_says_why(tmp_path):
    out = app_start.measure_cold_start(1, chromium=str(tmp_path / "no-chromium"))
    assert out["app_cold_start_s"] is None and "no browser" in out["reason"]


def test_run_cli_writes_json(monkeypatch, tmp_path, result, capsys):
    monkeypatch.setattr(bench, "collect", lambda quick: result)
    assert bench.run_cli(Namespace(quick=True, json=str(tmp_path / "b.json"))) == 0
    assert json.loads((tmp_path / "b.json").read_text())["schema"] == bench.SCHEMA
    assert "targets met" in capsys.readouterr().out


def test_load_keeps_cpus_busy_only_while_the_bench_runs(monkeypatch, tmp_path, result, capsys):
    from musicgen.bench import burn

    seen = {}

    def fake_collect(quick):
        procs = seen["procs"] = list(burn_procs)
        seen["running"] = [p.poll() is None for p in procs]
        return json.loads(json.dumps(result))  # a copy: the module's result stays as it was

    burn_procs = []
    real_busy = burn.busy_cpus

    def recording_busy(k):
        cm = real_busy(k)
        procs = cm.__enter__()
        burn_procs.extend(procs)

        class _Exit:
            def __enter__(self):
                return procs

            def __exit__(self, *exc):
                return cm.__exit__(*exc)
        return _Exit()

    monkeypatch.setattr(bench, "busy_cpus", recording_busy)
    monkeypatch.setattr(bench, "collect", fake_collect)
    assert bench.run_cli(Namespace(quick=True, load=2, json=str(tmp_path / "b.json"))) == 0
    assert seen["running"] == [True, True]
    assert all(p.poll() is not None for p in seen["procs"])  # stopped on the way out
    assert json.loads((tmp_path / "b.json").read_text())["machine"]["background_load_cpus"] == 2
    assert "LOADED on purpose: --load 2" in capsys.readouterr().out


def test_listening_load_smoke(toy_checkpoints, tmp_path, monkeypatch):
    """`bench --listening 2` in miniature: every vote stored exactly once, no errors, waits measured."""
    from musicgen.bench import listening_load

    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["markov"].parent))
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CLIP_BANK", "2")
    r = listening_load.run(2, trials=2, think_s=(0.05, 0.1), systems=("toy-markov", "toy-lstm"), clip_seconds=3)
    assert r["errors"] == [] and r["votes_stored"] == r["votes_expected"] == 4 and r["lost_or_doubled"] == 0
    assert r["duplicates_refused"] == 2 and r["waits"] == 2 and r["wait_p95_s"] >= r["wait_p50_s"] > 0
    assert "submit -> next trial playable" in listening_load.format_result(r)
