"""The lstm-vae family: train step, KL schedule, determinism, continuation, interpolation (shared checks),
and its own output: beat phase and the within-frame (MADE) key-by-key distribution."""

import pytest
import torch

from musicgen.models import build_model
from musicgen.models.lstm_vae import FrameAR
from musicgen.representations import PianoRoll
from tests.models import vae_checks

FAMILY = "lstm-vae"


@pytest.mark.parametrize("check", vae_checks.SHARED_CHECKS, ids=vae_checks.check_id)
def test_shared_vae_behaviour(check):
    check(FAMILY)


def test_trained_latents_differ_between_pieces(tmp_path):
    vae_checks.check_trained_latents_differ_between_pieces(FAMILY, tmp_path)


def test_toy_model_uses_phase_and_within_frame_output():
    model, _ = vae_checks.toy_model(FAMILY)
    assert model.config.phase == 4 and model.config.frame_ar > 0 and model.within is not None
    assert model.decoder.input_size == model.config.keys + model.config.latent + 4


def _randomised_frame_ar(keys=12, units=20, hidden=8):
    torch.manual_seed(0)
    ar = FrameAR(keys, units, hidden)
    with torch.no_grad():  # out and direct start at zero; give every path weight
        for p in (ar.out, ar.direct):
            p.normal_()
    return ar


def test_within_frame_output_only_sees_lower_keys_of_its_frame():
    ar = _randomised_frame_ar()
    x, out = (torch.rand(3, 12) < 0.4).float(), torch.randn(3, 8)
    base = ar(x, out)
    for k in range(12):
        flipped = x.clone()
        flipped[:, k] = 1 - flipped[:, k]
        changed = (ar(flipped, out) - base).abs().amax(0) > 1e-6
        assert not changed[:k + 1].any(), f"key {k} leaked into keys at or below it"
        if k < 11:
            assert changed[k + 1:].any()


def test_drawing_key_by_key_matches_teacher_forced_probabilities():
    """The decode round trip: a drawn frame, scored whole by teacher forcing, gives exactly the probabilities
    its coins were compared with (sampled); without coins (mean field) the frame is its own probabilities."""
    ar = _randomised_frame_ar()
    logits, out = torch.randn(4, 12), torch.randn(4, 8)
    with torch.no_grad():
        mean_field = ar.draw(logits, out, temperature=0.8, generator=None)
        assert torch.allclose(torch.sigmoid((logits + ar(mean_field, out)) / 0.8), mean_field, atol=1e-6)
        for temperature in (1.0, 0.7):
            drawn = ar.draw(logits, out, temperature=temperature, generator=torch.Generator().manual_seed(5))
            coins = torch.rand(4, 12, generator=torch.Generator().manual_seed(5))
            p = torch.sigmoid((logits + ar(drawn, out)) / temperature)
            assert torch.equal((coins < p).float(), drawn)
            again = ar.draw(logits, out, temperature=temperature, generator=torch.Generator().manual_seed(5))
            assert torch.equal(drawn, again)


def test_teacher_forced_logits_are_causal_in_time_and_key_order():
    model, _ = vae_checks.toy_model(FAMILY)
    model.eval()
    with torch.no_grad():
        model.within.out.normal_()
        model.within.direct.normal_()
        keys = model.config.keys
        x, z = (torch.rand(2, model.config.steps, keys) < 0.2).float(), torch.randn(2, model.config.latent)
        base = model.recon_logits(x, z)
        flipped = x.clone()
        flipped[:, 5, 10] = 1 - flipped[:, 5, 10]
        diff = (model.recon_logits(flipped, z) - base).abs()
    assert float(diff[:, :5].max()) == 0.0 and float(diff[:, 5, :11].max()) == 0.0
    assert float(diff[:, 5, 11:].max()) > 0 and float(diff[:, 6:].max()) > 0


def test_first_shipped_config_still_builds_without_the_new_parts():
    """phase 0 and frame_ar 0 (the defaults) are the first model: independent coins, no beat input."""
    torch.manual_seed(0)
    model = build_model(FAMILY, {"steps": 16, "keys": 40, "pitch_low": 48, "latent": 4, "hidden": 16,
                                 "encoder_layers": 1, "decoder_layers": 1}, PianoRoll())
    assert model.within is None and model.decoder.input_size == 44
    assert "within.out" not in model.state_dict()
    [seq] = model.sample(1, length="3s", seed=0)
    assert seq == model.sample(1, length="3s", seed=0)[0]


def test_repeated_notes_survive_the_roll_round_trip():
    """The roll writes a repeated note as two runs a 16th apart; `restrike` decodes them as the two notes."""
    from musicgen.models.lstm_vae import rejoin_repeated_notes
    from musicgen.sequence import Note, NoteSequence
    step = PianoRoll().step_seconds(100.0)
    notes = [Note(pitch=60, velocity=80, start=0.0, end=4 * step), Note(pitch=60, velocity=80, start=4 * step, end=8 * step),
             Note(pitch=64, velocity=80, start=0.0, end=2 * step), Note(pitch=64, velocity=80, start=5 * step, end=6 * step),
             Note(pitch=67, velocity=80, start=0.0, end=8 * step)]
    seq = NoteSequence(notes=tuple(notes), qpm=100.0)
    roll = PianoRoll().encode(seq)
    plain = PianoRoll().decode(roll, qpm=100.0)
    assert sorted((n.pitch, round(n.duration / step)) for n in plain.notes if n.pitch == 60) == [(60, 3), (60, 4)]
    rejoined = rejoin_repeated_notes(plain, step)
    assert [(n.pitch, round(n.start / step), round(n.end / step)) for n in rejoined.notes] == \
        [(n.pitch, round(n.start / step), round(n.end / step)) for n in seq.notes]  # a 3-step rest stays a rest


def test_restrike_decoding_is_what_the_model_plays():
    model, _ = vae_checks.toy_model(FAMILY, restrike=True)
    frames = torch.zeros(8, model.config.keys)
    frames[0:3, 5] = 1
    frames[4:8, 5] = 1  # a 16th gap: a repeated note
    seq = model.notes_of(frames, qpm=100.0)
    step = model.representation.step_seconds(100.0)
    assert [(round(n.start / step), round(n.end / step)) for n in seq.notes] == [(0, 4), (4, 8)]
    plain, _ = vae_checks.toy_model(FAMILY, restrike=False, legato=False)
    assert [(round(n.start / step), round(n.end / step)) for n in plain.notes_of(frames, qpm=100.0).notes] == \
        [(0, 3), (4, 8)]


def test_legato_decoding_closes_a_one_step_hole_before_a_nearby_note_only():
    from musicgen.models.lstm_vae import close_one_step_holes
    from musicgen.sequence import Note, NoteSequence

    step = PianoRoll().step_seconds(100.0)

    def seq(*spans):
        return NoteSequence(notes=tuple(Note(pitch=p, velocity=80, start=round(a * step, 6), end=round(b * step, 6))
                                        for p, a, b in spans), qpm=100.0)

    def spans(s):
        return sorted((n.pitch, round(n.start / step), round(n.end / step)) for n in s.notes)

    # 60 and 72 stop at 3, and 62 starts at 4 (2 and 10 semitones away): both joined to it. 40 stops at 6 and
    # nothing starts at 7: a rest stays a rest.
    closed = close_one_step_holes(seq((60, 0, 3), (62, 4, 8), (72, 0, 3), (40, 0, 6), (41, 8, 9)), step)
    assert spans(closed) == [(40, 0, 6), (41, 8, 9), (60, 0, 4), (62, 4, 8), (72, 0, 4)]
    # A note that stops where another begins is a chord change, not a hole.
    chord_change = seq((60, 0, 3), (55, 3, 8), (64, 4, 8))
    assert spans(close_one_step_holes(chord_change, step)) == spans(chord_change)
    # The next note is more than an octave away: another voice.
    other_voice = seq((84, 0, 3), (71, 4, 6), (60, 0, 8))
    assert spans(close_one_step_holes(other_voice, step)) == spans(other_voice)
    model, _ = vae_checks.toy_model(FAMILY, restrike=False, legato=True)
    frames = torch.zeros(8, model.config.keys)
    frames[0:3, 5] = 1
    frames[4:8, 7] = 1
    assert spans(model.notes_of(frames, qpm=100.0)) == [(model.config.pitch_low + 5, 0, 4),
                                                         (model.config.pitch_low + 7, 4, 8)]


def test_hold_init_starts_from_held_notes():
    model, _ = vae_checks.toy_model(FAMILY, hold_init=5.0)
    keys = model.config.keys
    assert torch.equal(model.skip.weight, torch.eye(keys) * 5.0)
    assert torch.all(model.head.bias == -3.0)
    with pytest.raises(ValueError, match="skip"):
        vae_checks.toy_model(FAMILY, hold_init=5.0, skip=False)
