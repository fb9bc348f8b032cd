"""The model contract, checked for every family in the registry (`musicgen.models.MODELS`).

Parametrized from `MODELS` itself: a new family gets these tests by being registered. Each family is
toy-trained once (its own `toy_preset`, seconds), saved, loaded, and then:
- the card round-trips (`parse_card(card.to_dict())`, and the card.json on disk);
- the same request gives byte-identical MIDI from two separate loads (and through `make_clip`);
- another seed gives other music;
- temperature changes the music, unless the family declares `uses_temperature = False`;
- a primer is kept (the clip starts with the primer's notes) where `accepts_primer`, and refused with a
  clear error where not.
`OVERRIDES` holds the few families whose toy run needs something else; a missing entry means defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from musicgen import runtime
from musicgen.card import Card, parse_card
from musicgen.checkpoints import CARD, load_checkpoint
from musicgen.corpora import CORPORA, Corpus, load_corpus
from musicgen.midi import to_midi_bytes
from musicgen.models import MODELS
from musicgen.presets import toy_preset
from musicgen.sampling import TEMPERATURE_RANGE
from musicgen.sequence import Note, NoteSequence, opening
from musicgen.systems import Request, clear_model_cache, make_clip, sample_checkpoint

LENGTH = "4s"  # long enough for a few bars of toy music, short enough to keep the module fast
PRIMER_SECONDS = 2.0
SEED = 7
# Meta keys `systems.sample_checkpoint` adds from the request: not part of "the music" a model made.
REQUEST_META = {"model", "seed", "temperature", "length"}

COMPOSER_CORPUS = "contract-composers"


def composer_corpus() -> Corpus:
    """Low "bach" and high "mozart" pieces: a toy corpus the composer classifier can be trained on."""
    step = 0.15
    pattern = [0, 4, 7, 12, 7, 4, 2, 5]

    def piece(name: str, low: int) -> NoteSequence:
        notes = tuple(Note(start=k * 2 * step, end=(k + 1) * 2 * step, pitch=low + pattern[k % 8]) for k in range(48))
        return NoteSequence(notes=notes, qpm=100.0, name=name)

    low = [piece(f"bach/low{i}", 40 + i) for i in range(5)]
    high = [piece(f"mozart/high{i}", 76 + i) for i in range(5)]
    split = {"train": low[:3] + high[:3], "valid": [low[3], high[3]], "test": [low[4], high[4]]}
    return Corpus(name=COMPOSER_CORPUS, pieces=tuple(low + high),
                  split={part: [p.name for p in ps] for part, ps in split.items()})


# family → what its toy run needs beyond `toy_preset(family)`: `train` (TrainConfig overrides), `preset`
# (Preset field replacements), `primer` ("continues", the default, or "pushes": the family reworks the
# primer itself instead of continuing it).
OVERRIDES: dict[str, dict] = {
    # Until ~200 steps the toy ABC model writes text music21 cannot read, and a primed tune is lost with it.
    "char-lstm": {"train": {"max_steps": 200}},
    # A composer classifier needs pieces named "<composer>/...", a piano roll, and a small config.
    "classifier-ascent": {
        "train": {"window": 16, "batch_size": 8, "lr": 3e-3, "max_steps": 6},
        "preset": {"corpus": COMPOSER_CORPUS, "representation": "pianoroll",
                   "model_config": {"steps": 16, "d_model": 32, "heads": 2, "layers": 1, "ff": 64, "dropout": 0.0,
                                    "ascent_steps": 20, "noise": 0.1, "default_target": "mozart",
                                    "source_corpus": COMPOSER_CORPUS}},
        "primer": "pushes",
    },
}

FAMILIES = list(MODELS)


def music(seq: NoteSequence) -> tuple:
    """What a model made: its notes and its own meta (e.g. C-abc's text), not the request echoed back."""
    return seq.notes, tuple((k, v) for k, v in seq.meta if k not in REQUEST_META)


def decode_failure(seq: NoteSequence) -> str | None:
    """A family whose output can fail to decode says so in a meta `*_error` (C-abc: `abc_error`)."""
    return next((v for k, v in seq.meta if k.endswith("_error")), None)


def describe(seq: NoteSequence, n: int = 6) -> str:
    head = ", ".join(f"{x.pitch}@{x.start:.2f}-{x.end:.2f}" for x in seq.notes[:n])
    return f"{len(seq)} notes [{head}{', ...' if len(seq) > n else ''}]"


@dataclass(frozen=True)
class Toy:
    family: str
    folder: Path
    card: Card

    @property
    def cls(self):
        return MODELS[self.family]

    def request(self, **changes) -> Request:
        d = self.card.sampling.defaults
        base = Request(model=self.card.id, seed=SEED, temperature=float(d.temperature), top_k=d.top_k,
                       top_p=d.top_p, length=LENGTH)
        return replace(base, **changes)


@pytest.fixture(scope="module", autouse=True)
def setting():
    runtime.configure("sample")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(CORPORA, COMPOSER_CORPUS, lambda refresh=False: composer_corpus())
        yield
    clear_model_cache()


@pytest.fixture(scope="module", params=FAMILIES)
def toy(request, tmp_path_factory, setting) -> Toy:
    """One toy-trained, saved checkpoint per family, shared by this module's tests."""
    from musicgen.train import train

    family = request.param
    over = OVERRIDES.get(family, {})
    # No validation passes while training: nothing to check here, and none writes resume state to runs/.
    preset = toy_preset(family, **{"eval_every": 10**6, **over.get("train", {})})
    preset = replace(preset, **over.get("preset", {}))
    root = tmp_path_factory.mktemp(f"contract-{family}")
    folder = train(preset, out_dir=root / preset.id, progress=False)
    runtime.configure("sample")
    return Toy(family=family, folder=folder, card=load_checkpoint(folder).card)


@pytest.fixture
def in_checkpoints(toy, monkeypatch):
    """`systems.make_clip` finds the toy checkpoint by id."""
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy.folder.parent))
    return toy


def primer_request(toy: Toy, **changes) -> Request:
    piece_id = load_corpus(toy.card.corpus).split["test"][0]
    return toy.request(primer=f"test:{piece_id}", primer_seconds=PRIMER_SECONDS, **changes)


def primer_notes(toy: Toy) -> NoteSequence:
    corpus = load_corpus(toy.card.corpus)
    return opening(corpus.heldout_piece(corpus.split["test"][0]), PRIMER_SECONDS)


# ---- the card ---------------------------------------------------------------------------------------
def test_registry_entry_names_its_family(toy):
    cls = toy.cls
    assert cls.family == toy.family, f"MODELS[{toy.family!r}] is {cls.__name__}, whose family is {cls.family!r}"
    assert cls.temperature_meaning.strip(), (
        f"{cls.__name__} has no temperature_meaning: say in plain words how temperature applies (or that it "
        "is ignored); it goes on every card")


def test_card_round_trips(toy):
    card = toy.card
    assert card.family == toy.family
    assert card.sampling.accepts_primer == toy.cls.accepts_primer
    assert card.sampling.temperature_meaning == toy.cls.temperature_meaning
    again = parse_card(card.to_dict())
    assert again == card, (f"{toy.family}: parse_card(card.to_dict()) differs from the card: "
                           f"{_card_diff(card, again)}")


def _card_diff(a: Card, b: Card) -> str:
    da, db = a.to_dict(), b.to_dict()
    fields = [k for k in da if da.get(k) != db.get(k)] or ["(only in the typed fields: compare the dataclasses)"]
    return "; ".join(f"{k}: {da.get(k)!r} → {db.get(k)!r}" for k in fields)


def test_card_on_disk_reads_back_as_saved(toy):
    import json

    doc = json.loads((toy.folder / CARD).read_text())
    assert parse_card(doc).to_dict() == doc, f"{toy.family}: card.json does not read back to the same JSON"


# ---- sampling -----------------------------------------------------------------------------------------
def test_same_request_same_midi_across_loads(in_checkpoints):
    toy = in_checkpoints
    req = toy.request()
    first = sample_checkpoint(load_checkpoint(toy.folder), req)
    second = sample_checkpoint(load_checkpoint(toy.folder), req)
    assert to_midi_bytes(first) == to_midi_bytes(second) and music(first) == music(second), (
        f"{toy.family}: the same request gave different music from two loads of one checkpoint "
        f"({describe(first)} vs {describe(second)}): sampling must draw only from a local generator seeded "
        "by the request, and keep no state on the model")
    clip = make_clip(req)
    assert to_midi_bytes(clip) == to_midi_bytes(first), (
        f"{toy.family}: systems.make_clip and sample_checkpoint made different clips of one request")
    clips = [first]
    if toy.cls.accepts_primer:  # a primed clip too (the toy C-abc often writes unreadable text without one)
        primed = primer_request(toy)
        clips.append(make_clip(primed))
        clear_model_cache()  # a fresh load
        again = make_clip(primed)
        assert to_midi_bytes(again) == to_midi_bytes(clips[-1]) and music(again) == music(clips[-1]), (
            f"{toy.family}: the same primed request gave different music from two loads")
    assert any(len(c) for c in clips), f"{toy.family}: the toy model made no notes at all; train its toy longer"


def test_another_seed_other_music(toy):
    loaded = load_checkpoint(toy.folder)
    a = sample_checkpoint(loaded, toy.request())
    b = sample_checkpoint(loaded, toy.request(seed=SEED + 1))
    assert music(a) != music(b), (
        f"{toy.family}: seeds {SEED} and {SEED + 1} made the same music ({describe(a)}): the seed must reach "
        "every random draw")


def test_temperature_changes_the_music_unless_the_family_says_otherwise(toy):
    meaning = toy.cls.temperature_meaning
    loaded = load_checkpoint(toy.folder)
    t = toy.request().temperature
    hotter = min(TEMPERATURE_RANGE[1], max(3.0 * t, t + 1.0))
    base = sample_checkpoint(loaded, toy.request())
    hot = sample_checkpoint(loaded, toy.request(temperature=hotter))
    if not toy.cls.uses_temperature:
        assert music(base) == music(hot), (
            f"{toy.family}: uses_temperature is False ({meaning!r}), yet T={t:g} and T={hotter:g} made "
            "different music")
    else:
        assert music(base) != music(hot), (
            f"{toy.family}: T={t:g} and T={hotter:g} made the same music ({describe(base)}), but the card says "
            f"{meaning!r}. Make temperature reach the sampler, or set uses_temperature = False and say so in "
            "temperature_meaning")


# ---- primers ------------------------------------------------------------------------------------------
def test_primer_is_kept_or_clearly_refused(in_checkpoints):
    toy = in_checkpoints
    if toy.cls.accepts_primer:
        if OVERRIDES.get(toy.family, {}).get("primer") == "pushes":
            _check_pushed_primer(toy)
        else:
            _check_continued_primer(toy)
    else:
        _check_refused_primer(toy)


def _check_continued_primer(toy: Toy) -> None:
    """The clip starts with the primer: every primer note is there, and nothing new before its last onset
    (the continuation may add notes at that onset: a chord). A family whose output can fail to decode
    (C-abc's unreadable text) may report that instead, but one of a few seeds must keep the primer."""
    primer = primer_notes(toy)
    assert len(primer) > 0
    last_onset = max(n.start for n in primer.notes)
    kept, failures = 0, []
    for seed in range(SEED, SEED + 4):
        clip = make_clip(primer_request(toy, seed=seed))
        failure = decode_failure(clip)
        if failure is not None and len(clip) == 0:
            failures.append(f"seed {seed}: {failure}")
            continue
        before = sorted(n for n in clip.notes if n.start < last_onset - 1e-9)
        missing = set(primer.notes) - set(clip.notes)
        assert not missing and before == sorted(n for n in primer.notes if n.start < last_onset - 1e-9), (
            f"{toy.family}, seed {seed}: the clip does not start with the primer's notes.\n  primer: "
            f"{describe(primer, 12)}\n  clip:   {describe(clip, 12)}\n  missing: {sorted(missing)[:5]}")
        if "primer_notes" in clip.meta_dict():
            assert int(clip.meta_dict()["primer_notes"]) == len(primer), (
                f"{toy.family}: meta primer_notes={clip.meta_dict()['primer_notes']} but the primer has "
                f"{len(primer)} notes")
        kept += 1
    assert kept, f"{toy.family}: no seed kept the primer; every clip failed to decode: {failures}"


def _check_pushed_primer(toy: Toy) -> None:
    """A family that reworks the primer (the style push) starts from it: the clip names it as its source
    and stays within the primer's time."""
    primer = primer_notes(toy)
    clip = make_clip(primer_request(toy))
    assert clip.meta_dict().get("source") == primer.name, (
        f"{toy.family}: a pushed clip should name the primer as its source, meta is {clip.meta_dict()}")
    assert len(clip) > 0 and max(n.end for n in clip.notes) <= primer.duration + 1e-6, (
        f"{toy.family}: the pushed clip ({describe(clip)}) is not the primer ({describe(primer)}) reworked")
    other = make_clip(toy.request())  # without a primer: a piece of its source corpus
    assert music(other) != music(clip)


def _check_refused_primer(toy: Toy) -> None:
    """A family that cannot continue a primer says so, both in the model and through make_clip."""
    with pytest.raises(ValueError, match="primer") as raised:
        load_checkpoint(toy.folder).model.sample(1, length=LENGTH, seed=SEED, primer=primer_notes(toy))
    assert "cannot" in str(raised.value), f"{toy.family}: unclear refusal: {raised.value}"
    with pytest.raises(ValueError, match="primer") as raised:
        make_clip(primer_request(toy))
    assert "cannot" in str(raised.value), f"{toy.family}: unclear refusal: {raised.value}"
