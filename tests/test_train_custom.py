"""Training a preset's family on your own music: `train PRESET --corpus ... --set ... --name ...`."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from musicgen import checkpoints
from musicgen.cli import main
from musicgen.midi import to_midi_bytes
from musicgen.presets import PRESETS
from musicgen.presets.base import PresetError, customise
from musicgen.systems import Request, clear_model_cache, make_clip
from tests.shared_corpora import SHARED_CORPORA, real_midi_folder

SHARED = SHARED_CORPORA / "c-rnn-gan" / "data" / "classical"
TINY = ["--set", "window=32", "--set", "batch_size=4", "--set", "embed_dim=8", "--set", "hidden=16",
        "--set", "dense=16", "--max-steps", "4"]


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    clear_model_cache()
    yield tmp_path
    clear_model_cache()


@pytest.fixture
def real_folder(tmp_path) -> Path:
    """Ten real MIDI files from a study's repository (../shared/corpora), plus one that is not MIDI."""
    return real_midi_folder(SHARED, tmp_path / "mine", "part")


def test_train_on_a_folder_makes_a_user_checkpoint_that_generates_reproducibly(data, real_folder, capsys):
    assert main(["train", "B-lstm", "--corpus", str(real_folder), "--name", "mine", *TINY]) == 0
    out = capsys.readouterr().out
    assert "corpus folder:" in out and "10 pieces" in out
    folder = data / "data" / "checkpoints" / "mine"
    assert (folder / "split.json").exists() and not (checkpoints.checkpoints_dir() / "mine").exists()
    card = checkpoints.read_card(folder)
    assert card.user_trained and card.id == "mine" and card.family == "lstm"
    assert card.training.preset == "B-lstm" and card.training.overrides["hidden"] == 16
    info = card.training.corpus_info
    assert info["pieces"] == 10 and info["notes"] > 1000 and len(info["files_sha256"]) == 64
    assert "Trained by you" in card.description and "10 pieces" in card.description
    split = json.loads((folder / "split.json").read_text())
    assert sorted(split["train"] + split["valid"] + split["test"]) == sorted(
        p.relative_to(real_folder).as_posix() for p in real_folder.rglob("*.mid") if p.name != "broken.mid")
    assert main(["list"]) == 0 and "mine" in capsys.readouterr().out
    a = make_clip(Request(model="mine", seed=5, length="6s"))
    clear_model_cache()
    assert to_midi_bytes(make_clip(Request(model="mine", seed=5, length="6s"))) == to_midi_bytes(a) and len(a) > 0
    # ...and Compare offers it beside the shipped models, and plays it
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "pages" / "2_Compare.py"),
                           default_timeout=60).run()
    assert "mine" in at.multiselect(key="compare_models").options or any(
        "mine" in o for o in at.multiselect(key="compare_models").options)
    at.multiselect(key="compare_models").set_value(["mine", "markov"])
    at.number_input(key="compare_seconds").set_value(6.0).run()
    [button] = [b for b in at.button if b.label == "Compare"]
    button.click().run()
    assert not at.exception and not at.error
    assert "compare-roll-0" in [c.key for c in at.get("plotly_chart")]


def test_a_zip_corpus_trains_too(data, real_folder, capsys):
    archive = data / "mine.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in real_folder.rglob("*.mid"):
            z.write(f, f.relative_to(real_folder).as_posix())
    assert main(["train", "markov", "--corpus", str(archive)]) == 0
    assert (data / "data" / "checkpoints" / "markov-mine" / "card.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["--set", "nope=1"], "unknown setting 'nope'"),
    (["--set", "hidden"], "key=value"),
    (["--corpus", "/no/such/folder"], "neither a corpus"),
    (["--name", "A-lstm"], "shipped checkpoint"),
    (["--name", "bad name!"], "letters, digits"),
    (["--max-minutes", "0"], "more than 0"),
])
def test_bad_requests_are_one_line_errors(data, argv, message, capsys):
    assert main(["train", "B-lstm", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_too_little_music_is_refused_before_training(data, real_folder, capsys):
    few = data / "few"
    few.mkdir()
    for f in sorted(real_folder.rglob("*.mid"))[:2]:
        shutil.copy(f, few / f.name)
    assert main(["train", "B-lstm", "--corpus", str(few)]) == 2
    assert "too few to split" in capsys.readouterr().err
    assert not (data / "data" / "checkpoints").exists()


def test_a_broken_zip_is_a_clear_error(data, capsys):
    bad = data / "bad.zip"
    bad.write_bytes(b"PK not really")
    assert main(["train", "markov", "--corpus", str(bad)]) == 2
    assert "not a readable zip" in capsys.readouterr().err


def test_customise_keeps_the_preset_and_names_the_run():
    base = PRESETS["B-lstm"]
    p = customise(base, corpus="folder:/x/classical", settings={"lr": "0.0007", "dropout": "0"})
    assert p.id == "B-lstm-classical" and p.based_on == "B-lstm" and p.origin == "user"
    assert p.train.lr == 0.0007 and p.model_config["dropout"] == 0 and p.overrides == {"lr": 0.0007, "dropout": 0}
    assert base.origin == "shipped" and base.train.lr != 0.0007
    with pytest.raises(PresetError, match="model settings: .*hidden"):
        customise(base, settings={"hiden": "3"})


def test_an_interrupted_save_leaves_no_half_checkpoint(toy_checkpoints, tmp_path, monkeypatch):
    from musicgen.checkpoints import load_checkpoint, save_checkpoint

    loaded = load_checkpoint(toy_checkpoints["markov"])
    target = tmp_path / "ckpt"
    save_checkpoint(loaded.model, loaded.card, loaded.history, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # a cancel or a crash in the middle of writing
    monkeypatch.setattr(checkpoints, "write_card", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(loaded.model, loaded.card, loaded.history, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before  # the old checkpoint is whole
    load_checkpoint(target)
