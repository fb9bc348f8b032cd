import shlex

import pytest

from musicgen.checkpoints import load_checkpoint
from musicgen.cli import main
from musicgen.generate import Request, generate, opening
from musicgen.midi import to_midi_bytes
from musicgen.sampling import SamplingError
from musicgen.sequence import Note, NoteSequence


def test_command_reproduces_the_notes(toy_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["lstm"].parent))
    req = Request(model="toy-lstm", seed=42, temperature=0.8, length="8s", top_k=20, top_p=0.9)
    seq = generate(load_checkpoint("toy-lstm"), req)
    out = tmp_path / "again.mid"
    argv = shlex.split(req.command(out=str(out)))
    assert argv[:4] == ["python", "-m", "musicgen", "generate"]
    assert main(argv[3:]) == 0
    assert out.read_bytes() == to_midi_bytes(seq)


def test_request_validation():
    with pytest.raises(SamplingError):
        Request(model="x", temperature=50).validate()
    with pytest.raises(SamplingError):
        Request(model="x", length="forever").validate()


def test_opening_starts_at_first_note():
    seq = NoteSequence(notes=tuple(Note(start=2.0 + i, end=2.5 + i, pitch=60 + i) for i in range(10)))
    head = opening(seq, 3.0)
    assert [n.start for n in head.notes] == [0.0, 1.0, 2.0]
