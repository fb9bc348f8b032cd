"""Piano-roll windows for the VAEs and the key range they model: notes ⇄ roll round trips, augmentation."""

import numpy as np
import pytest
import torch

from musicgen.models.roll_batches import MAX_TRANSPOSE, KeyRange, RollWindows
from musicgen.representations import PianoRoll
from musicgen.sequence import Note, NoteSequence


def chorale_like(low: int = 48) -> NoteSequence:
    step = 60.0 / 100 / 4
    notes = [Note(start=k * 2 * step, end=(k + 1) * 2 * step, pitch=low + (k * 5 + v * 4) % 24, velocity=80)
             for k in range(40) for v in range(3)]
    return NoteSequence(notes=tuple(notes), qpm=100.0, name="piece")


def test_notes_survive_the_key_range_round_trip():
    rep, keys = PianoRoll(), KeyRange(28, 72)
    seq = chorale_like()
    roll = torch.from_numpy(rep.encode(seq)).float()
    back = rep.decode(keys.widen(keys.narrow(roll).numpy()), qpm=seq.qpm)
    expected = rep.decode(rep.encode(seq), qpm=seq.qpm)
    assert back.notes == expected.notes and len(back) > 0  # the range keeps every note of the roll


def test_notes_outside_the_key_range_are_dropped():
    rep, keys = PianoRoll(), KeyRange(60, 12)
    roll = torch.from_numpy(rep.encode(chorale_like(low=48))).float()
    back = rep.decode(keys.widen(keys.narrow(roll).numpy()), qpm=100.0)
    assert back.notes and all(60 <= n.pitch < 72 for n in back.notes)


def test_key_range_must_fit_midi():
    with pytest.raises(ValueError, match="MIDI"):
        KeyRange(100, 40)


def test_windows_have_the_window_shape_and_transpose_within_limits():
    rep = PianoRoll()
    seq = chorale_like()
    windows = RollWindows.from_pieces(rep, [seq], window=32, batch_size=4, augment=True)
    original = rep.encode(seq)
    batches = list(windows.epoch(torch.Generator().manual_seed(0)))
    assert sum(len(b) for b in batches) == windows.examples_per_epoch() == len(original) // 32
    low = int(np.flatnonzero(original.any(0)).min())
    for batch in batches:
        assert batch.shape[1:] == (32, 128) and batch.dtype == torch.float32
        for w in batch:
            if w.sum() > 0:
                assert abs(int(torch.nonzero(w.any(0)).min()) - low) <= MAX_TRANSPOSE + 24
    again = list(windows.epoch(torch.Generator().manual_seed(0)))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))


def test_sequential_windows_cover_the_piece_in_order():
    rep = PianoRoll()
    seq = chorale_like()
    windows = RollWindows.from_pieces(rep, [seq], window=32, batch_size=2, augment=False)
    joined = torch.cat([w for b in windows.sequential() for w in b])
    original = torch.from_numpy(rep.encode(seq)).float()
    assert torch.equal(joined, original[:len(joined)])
