"""Sample sets: an outside model's MIDI files as a system `samples:<name>` (add/list/remove, clips, Generate)."""

import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen import sample_sets as ss
from musicgen.cli import main
from musicgen.corpora import toy_corpus
from musicgen.midi import load_midi, save_midi, to_midi_bytes
from musicgen.systems import Request, UnknownSystemError, get_system, list_systems, make_clip
from tests.shared_corpora import SHARED_CORPORA, real_midi_folder

ROOT = Path(__file__).resolve().parent.parent
SHARED = SHARED_CORPORA / "c-rnn-gan" / "data" / "classical"


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def real_folder(tmp_path) -> Path:
    """Ten real MIDI files from a study's repository (../shared/corpora) in nested folders, plus a bad one."""
    return real_midi_folder(SHARED, tmp_path / "outside", "run")


def toy_files(folder: Path, n: int = 5) -> Path:
    """`n` small MIDI files (toy pieces) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for piece in toy_corpus(n_pieces=n).pieces:
        save_midi(piece, folder / f"{piece.name}.mid")
    return folder


def test_add_a_folder_lists_and_skips_the_bad_file(data, real_folder, capsys):
    assert main(["samples", "add", "outside-1", str(real_folder), "--corpus", "toy"]) == 0
    out = capsys.readouterr().out
    assert "broken.mid: SKIPPED not a MIDI file" in out
    assert "10 files added, 1 skipped" in out
    folder = data / "samples" / "outside-1"
    card = json.loads((folder / ss.CARD).read_text())
    assert card["name"] == "outside-1" and card["corpus"] == "toy" and card["n_files"] == 10
    assert card["source"] == str(real_folder.resolve()) and card["added_at"].endswith("Z")
    assert [s["source"] for s in card["skipped"]] == ["broken.mid"] and card["skipped"][0]["reason"]
    assert card["evaluation"] == {}
    names = sorted(p.name for p in folder.glob("*.mid"))
    assert names == [f["name"] for f in card["files"]] and all(n.startswith(("run0__", "run1__")) for n in names)
    for f in card["files"]:  # copied byte for byte from where they came from
        assert (folder / f["name"]).read_bytes() == (real_folder / f["source"]).read_bytes()
    assert card["sha256"] == ss.files_sha256(folder, names)
    loaded = ss.load_sample_set("outside-1")
    assert loaded.id == "samples:outside-1" and loaded.n_files == 10 and loaded.sha256 == card["sha256"]

    assert main(["samples", "list"]) == 0
    listed = capsys.readouterr().out
    assert "samples:outside-1" in listed and "10 files" in listed and "not evaluated" in listed
    assert main(["samples", "add", "outside-1", str(real_folder)]) == 2  # the name is taken
    assert "already exists" in capsys.readouterr().err
    assert "samples:outside-1" in [s.id for s in list_systems()]
    assert main(["samples", "remove", "outside-1"]) == 0 and not folder.exists()
    assert main(["samples", "remove", "outside-1"]) == 2


def test_add_a_zip_with_a_garbage_file(data, tmp_path, capsys):
    pieces = toy_corpus(n_pieces=4).pieces
    archive = tmp_path / "outside.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i, p in enumerate(pieces):
            z.writestr(f"epoch {i // 2}/sample {i}.mid", to_midi_bytes(p))
        z.writestr("epoch 0/garbage.mid", b"\x00\x01 definitely not MIDI")
        z.writestr("__MACOSX/epoch 0/._sample 0.mid", b"resource fork")  # ignored, not listed
    assert main(["samples", "add", "zipped", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "epoch 0/garbage.mid: SKIPPED" in out and "__MACOSX" not in out
    assert "4 files added, 1 skipped" in out
    s = ss.load_sample_set("zipped")
    assert s.corpus == ss.DEFAULT_CORPUS == "bach-chorales"
    assert [f.name for f in s.files] == ["epoch_0__sample_0.mid", "epoch_0__sample_1.mid", "epoch_1__sample_2.mid",
                                         "epoch_1__sample_3.mid"]
    assert [len(load_midi(s.folder / f.name)) for f in s.files] == [len(p) for p in pieces]


def test_too_few_usable_files_and_bad_names_are_refused(data, tmp_path, capsys):
    folder = toy_files(tmp_path / "one", n=1)
    (folder / "junk.mid").write_bytes(b"junk")
    assert main(["samples", "add", "one", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "1 usable MIDI file(s) (1 skipped)" in err and "at least 2" in err
    assert not (data / "samples" / "one").exists()
    assert [p.name for p in (data / "samples").iterdir()] == []  # no half-written set left behind
    assert main(["samples", "add", "no good", str(folder)]) == 2
    assert "letters, digits" in capsys.readouterr().err
    assert main(["samples", "add", "x", str(tmp_path / "nowhere")]) == 2
    assert main(["samples", "add", "x", str(folder), "--corpus", "nope"]) == 2
    assert "unknown corpus" in capsys.readouterr().err


def test_a_clip_is_the_file_the_seed_picks_cut_to_the_length(data, tmp_path):
    s = ss.add_sample_set("toys", toy_files(tmp_path / "toys", n=5), corpus="toy")
    system = get_system("samples:toys")
    assert system.kind == "samples" and system.is_samples and not system.accepts_primer and system.corpus == "toy"
    names = [f.name for f in s.files]
    assert names == sorted(names)
    a = make_clip(Request(model="samples:toys", seed=7, length="5s"))
    assert a.meta_dict()["file"] == names[7 % 5] and a.meta_dict()["model"] == "samples:toys"
    assert a.notes == make_clip(Request(model="samples:toys", seed=7, length="5s")).notes  # deterministic
    assert a.notes == make_clip(Request(model="samples:toys", seed=2, length="5s")).notes  # 7 % 5 == 2
    assert a.notes != make_clip(Request(model="samples:toys", seed=3, length="5s")).notes
    full = load_midi(s.folder / names[2])
    assert 0 < a.duration <= 5.0 + 1e-9 < full.duration
    assert len(make_clip(Request(model="samples:toys", seed=2, length="12n"))) == 12
    with pytest.raises(ValueError, match="cannot continue a primer"):
        make_clip(Request(model="samples:toys", primer="test:toy00"))
    command = Request(model="samples:toys", seed=7, length="5s").command("x.mid")
    assert command == "python -m musicgen generate --model samples:toys --seed 7 --length 5s --out x.mid"
    out = tmp_path / "x.mid"
    assert main(["generate", "--model", "samples:toys", "--seed", "7", "--length", "5s", "--out", str(out)]) == 0
    assert len(load_midi(out)) == len(a)


def test_changed_broken_and_missing_sets_are_clear_errors(data, tmp_path):
    s = ss.add_sample_set("toys", toy_files(tmp_path / "toys", n=3))
    before = s.sha256
    make_clip(Request(model="samples:toys", seed=0, length="3s"), expect_weights=before)
    save_midi(toy_corpus(n_pieces=4).pieces[3], s.folder / s.files[0].name)  # a file changes in place
    with pytest.raises(ss.SampleSetError, match="changed since this trial"):
        make_clip(Request(model="samples:toys", seed=0, length="3s"), expect_weights=before)
    (s.folder / s.files[1].name).unlink()
    with pytest.raises(ss.SampleSetError, match="missing"):
        get_system("samples:toys")
    assert "samples:toys" not in [x.id for x in list_systems()]
    [broken] = ss.list_sample_sets()
    assert isinstance(broken, ss.BrokenSampleSet) and "missing" in broken.error
    (s.folder / ss.CARD).write_text("{ not json")
    with pytest.raises(ss.SampleSetError, match="cannot be read"):
        ss.load_sample_set("toys")
    with pytest.raises(UnknownSystemError, match="no sample set 'nope'"):
        get_system("samples:nope")
    with pytest.raises(ss.SampleSetError, match="letters, digits"):
        get_system("samples:../x")


# ---- Generate -------------------------------------------------------------------------------------------
def test_generate_page_offers_a_sample_set(data, tmp_path):
    ss.add_sample_set("toys", toy_files(tmp_path / "toys", n=3), corpus="toy")
    at = AppTest.from_file(str(ROOT / "pages" / "1_Generate.py"), default_timeout=90).run()
    assert not at.exception
    picker = at.selectbox(key="model")
    assert "samples:toys" in picker.options or "toys (sample set)" in picker.options
    picker.set_value("samples:toys").run()
    assert not at.exception and not at.error
    assert not [s for s in at.slider if s.key == "temperature"]  # temperature does not apply to a set
    at.number_input(key="length_seconds").set_value(4.0).run()
    next(b for b in at.button if b.label == "Generate").click().run()
    assert not at.exception and not at.error
    codes = "\n".join(str(c.value) for c in at.code)
    assert "--model samples:toys --seed 0 --length 4s" in codes
    captions = "\n".join(str(c.value) for c in at.caption)
    assert "3 MIDI files" in captions and "no loss curve" in captions
    assert "evaluate --model samples:toys" in "\n".join(str(i.value) for i in at.info)
