"""`python -m musicgen study check FILE` and `study report ID`, on throwaway files and SQLite stores."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from musicgen import listening as L
from musicgen.cli import main
from tests.listening.test_listening_report import pair_study

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("MUSICGEN_DB_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'votes.db'}"
    store = L.VoteStore(url)
    pair_study(store)
    store.close()
    return url


def test_check_prints_a_summary_of_a_shipped_study(capsys):
    assert main(["study", "check", str(ROOT / "studies" / "example.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("study example: pair, 3 systems, 10 trials per participant, 20 s clips")
    assert "system markov: temperature 1" in out and "question: Which clip is more musical?" in out
    assert out.rstrip().endswith("OK")


def test_check_every_shipped_study_file(capsys):
    for path in sorted((ROOT / "studies").glob("*.toml")):
        assert main(["study", "check", "--offline", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("text, field", [
    ('id = "x"\nkind = "nope"\nsystems = ["a", "b"]\n', "kind: 'nope' must be one of"),
    ('id = "Bad Id"\nsystems = ["a", "b"]\n', "id: 'Bad Id' must be"),
    ('id = "x"\nsystems = ["a"]\n', "systems: a pair study needs at least two systems"),
    ('id = "x"\nsystems = ["a", "b"]\n[clip]\nseconds = 9999\n', "clip.seconds: 9999 must be"),
    ('id = "x"\nsystems = ["a", "b"\n', "not valid TOML"),
])
def test_check_a_bad_file_is_one_line_naming_the_field_and_exit_2(tmp_path, capsys, text, field):
    path = tmp_path / "study.toml"
    path.write_text(text)
    assert main(["study", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and field in err


def test_check_names_systems_that_are_not_installed(tmp_path, capsys):
    path = tmp_path / "study.toml"
    path.write_text('id = "x"\nsystems = ["no-such-model", "real"]\n')
    assert main(["study", "check", str(path)]) == 2
    assert "systems: no checkpoint or sample set named 'no-such-model'" in capsys.readouterr().err
    assert main(["study", "check", "--offline", str(path)]) == 0
    assert main(["study", "check", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_report_writes_html_csv_and_json(db, tmp_path, capsys):
    out, csv_path, json_path = tmp_path / "r.html", tmp_path / "votes.csv", tmp_path / "votes.json"
    assert main(["study", "report", "demo", "--db", db, "--out", str(out), "--csv", str(csv_path),
                 "--json", str(json_path), "--boot", "20"]) == 0
    said = capsys.readouterr().out
    assert "study demo: 14 votes from 3 participants, 1 excluded" in said and f"wrote {out}" in said
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Results without the excluded participants" in page
    assert len(list(csv.DictReader(csv_path.open()))) == 14
    assert len(json.loads(json_path.read_text())["votes"]) == 14


def test_report_of_an_unknown_study_exits_2(db, tmp_path, capsys):
    assert main(["study", "report", "nope", "--db", db, "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "no study 'nope'" in err and "demo" in err and not (tmp_path / "r.html").exists()


def test_report_uses_the_default_store(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MUSICGEN_DB_URL", db)
    assert main(["study", "report", "demo", "--out", str(tmp_path / "r.html"), "--boot", "10", "--cdn"]) == 0
    assert len((tmp_path / "r.html").read_text()) < 300_000


def test_study_check_as_a_module(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text('id = "x"\nsystems = ["a", "b"]\ntrials_per_participant = 0\n')
    done = subprocess.run([sys.executable, "-m", "musicgen", "study", "check", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "trials_per_participant: 0 must be a whole number from 1 to" in done.stderr


def test_report_from_a_store_that_is_not_there_exits_2_and_makes_none(tmp_path, capsys):
    missing = tmp_path / "none.db"
    assert main(["study", "report", "demo", "--db", f"sqlite:///{missing}", "--out", str(tmp_path / "r.html")]) == 2
    assert f"no vote store at {missing}" in capsys.readouterr().err and not missing.exists()


def test_check_says_a_continuation_study_continues_openings(capsys):
    path = ROOT / "studies" / "continuation.toml"
    if not path.exists():
        pytest.skip("no continuation study shipped")
    assert main(["study", "check", "--offline", str(path)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "s clips continuing a " in first and "held-out opening" in first
