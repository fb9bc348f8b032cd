"""Sample sets (an outside model's files, `samples:<name>`) as systems of a listening study."""

import io

import pytest
import soundfile

from musicgen import listening as L
from musicgen import sample_sets as ss
from musicgen.corpora import toy_corpus
from musicgen.listening import clips
from musicgen.listening.schedule import next_trial
from musicgen.midi import save_midi

SET = "samples:outside"


@pytest.fixture
def sqlite_store(tmp_path):
    store = L.VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
    yield store
    store.close()


@pytest.fixture
def outside(tmp_path):
    """A sample set of 4 files (toy pieces, transposed) compared with the toy corpus; MUSICGEN_DATA is per test."""
    folder = tmp_path / "outside-files"
    folder.mkdir()
    for piece in toy_corpus(n_pieces=4).pieces:
        save_midi(piece.transpose(3), folder / f"{piece.name}.mid")
    return ss.add_sample_set("outside", folder, corpus="toy")


def study(store, **fields):
    spec = L.StudySpec.from_dict({"id": "s", "systems": ["toy-markov", SET], "trials_per_participant": 2,
                                  "clip": {"seconds": 3}, **fields})
    return store.save_study(spec)


def test_a_pair_with_a_sample_set_is_prepared_rendered_and_revealed(checkpoints_env, outside, sqlite_store):
    spec = study(sqlite_store)
    assert spec.missing_checkpoints() == [] and clips.study_corpus(spec) == "toy"
    assert clips.seed_space(spec, SET) == 4
    trial = L.prepare_trial(sqlite_store, "s", "p1")
    record = sqlite_store.get_trial(trial.token)
    assert {record.system_a, record.system_b} == {"toy-markov", SET}
    seed, settings = ((record.seed_a, record.settings_a) if record.system_a == SET
                      else (record.seed_b, record.settings_b))
    assert 0 <= seed < 4
    assert settings == {"seconds": 3.0, "file": outside.files[seed].name, "sample_set_sha256": outside.sha256}
    page_text = repr(trial)
    assert "outside" not in page_text and outside.files[seed].name not in page_text  # nothing names the set
    decoded = [soundfile.info(io.BytesIO(clip)) for clip in trial.audio]
    assert decoded[0].frames == decoded[1].frames > 0 and decoded[0].duration <= 3.0 + 0.1  # + the MP3 lead-in and last frame (no Info tag)
    vote = L.submit_vote(sqlite_store, trial.token, "B")
    notes = L.clip_notes(SET, seed, settings)
    assert len(notes) > 0 and notes.meta_dict()["file"] == settings["file"]
    assert L.describe_system(SET)["title"] == "outside (sample set)" and vote.winner in (SET, "toy-markov")


def test_identify_counts_a_sample_set_as_a_machine(checkpoints_env, outside, sqlite_store):
    study(sqlite_store, kind="identify", systems=[SET, "real"], trials_per_participant=2)  # real: its corpus, toy
    record = next_trial(sqlite_store, "s", "p1")
    while record.system_a != SET:
        sqlite_store.record_vote(record.token, "person")
        record = next_trial(sqlite_store, "s", "p1")
    assert L.submit_vote(sqlite_store, record.token, "machine").correct


def test_a_changed_set_is_refused_like_changed_weights(checkpoints_env, outside, sqlite_store, tmp_path):
    spec = study(sqlite_store)
    settings = clips.clip_settings(spec, SET, 1)
    assert len(clips.clip_notes(SET, 1, settings)) > 0
    ss.remove_sample_set("outside")
    other = tmp_path / "other"
    other.mkdir()
    for piece in toy_corpus(n_pieces=4).pieces:  # the same names, other notes
        save_midi(piece, other / f"{piece.name}.mid")
    ss.add_sample_set("outside", other, corpus="toy")
    with pytest.raises(ss.SampleSetError, match="changed since this trial"):
        clips.clip_notes(SET, 1, settings)


def test_missing_and_too_small_sets_are_named(checkpoints_env, outside, sqlite_store):
    spec = L.StudySpec.from_dict({"id": "m", "systems": ["toy-markov", SET, "samples:nope", "real"]})
    assert spec.missing_checkpoints() == ["samples:nope"]
    study(sqlite_store, trials_per_participant=5)  # 4 files cannot give 5 trials without a repeat
    with pytest.raises(ValueError, match="4 files, fewer than the 5 trials"):
        next_trial(sqlite_store, "s", "p1")
