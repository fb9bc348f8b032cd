"""The blind listening test: studies, blinded trials, a vote store in a real database, statistics.

What a page calls (everything else is internal)::

    from musicgen import listening as L

    store = L.open_store()                        # once per process ($MUSICGEN_DB_URL or the SQLite file)
    store.save_study(L.load_study("studies/example.toml"))      # or L.StudySpec.from_dict({...})
    spec = store.get_study(study_id)              # consent text, question, kind, trials_per_participant
    pid = L.new_participant_id()                  # keep in the browser session
    trial = L.prepare_trial(store, study_id, pid) # BlindTrial (token, number/total, labels, OGG bytes) or None
    vote = L.submit_vote(store, trial.token, "A", comment="...")   # stored once; now it may be revealed
    L.reveal(store, token)                        # the stored Vote (PermissionError before the vote)
    L.progress(store, study_id, pid)              # Progress(answered, total, done)
    L.describe_system(vote.system_a)              # title + one-line description for the reveal
    L.clip_notes(vote.system_a, vote.seed_a, vote.settings_a)      # notes for a piano roll (after the vote)
    L.participant_summary(store, study_id, pid)   # the final reveal, next to everyone's votes
    L.study_results(store, study_id)              # Results page: pairs, matrix, ranking, identification, csv()

Rating studies (kind "mos": one clip, 1-5 per criterion; "mushra": K clips labelled 1..K, 0-100 each) submit
`L.submit_vote(store, token, ratings={criterion: [value per clip]})`; a pair study with several criteria
`answers={criterion: "A"|"B"|"none"}`. `store.ratings(study_id)` reads the ratings back (one row per clip and
criterion, the system resolved on the server). The participant's steps before and after the trials (consent,
headphone check, questionnaire, practice, completion code) are in `musicgen.listening.flow`.

Nothing in a `BlindTrial` names a system, a seed or a file; the mapping stays in the store. Pages must
not show a participant the text of an exception raised while preparing a trial (it may name a model).
Identify studies ("Human or AI?") use the same calls: one clip, answers "person"/"machine",
`vote.correct` and `participant_summary(...).correct` for the running score.
"""

from musicgen.listening.clips import clip_notes, describe_system
from musicgen.listening.results import (
    AnsweredTrial,
    ParticipantSummary,
    StudyResults,
    participant_summary,
    study_results,
)
from musicgen.listening.schedule import (
    BlindTrial,
    Progress,
    StudyClosed,
    StudyExhausted,
    new_participant_id,
    prepare_trial,
    progress,
    reveal,
    study_key,
    study_key_ok,
    submit_vote,
)
from musicgen.listening.stats import (
    Identification,
    PairResult,
    Proportion,
    RankedSystem,
    WinMatrix,
    bradley_terry,
    bradley_terry_ranking,
    identification,
    pair_results,
    position_bias,
    proportion,
    votes_csv,
    votes_for_power,
    wilson_interval,
    win_matrix,
)
from musicgen.listening.store import ANSWERS, TIE, TrialRecord, Vote, VoteStore, default_db_url, open_store
from musicgen.listening.study import REAL, ClipSettings, Sampling, StudyError, StudySpec, load_studies, load_study

__all__ = [
    "ANSWERS",
    "REAL",
    "TIE",
    "AnsweredTrial",
    "BlindTrial",
    "ClipSettings",
    "Identification",
    "PairResult",
    "ParticipantSummary",
    "Progress",
    "Proportion",
    "RankedSystem",
    "Sampling",
    "StudyError",
    "StudyClosed",
    "StudyExhausted",
    "StudyResults",
    "StudySpec",
    "TrialRecord",
    "Vote",
    "VoteStore",
    "WinMatrix",
    "bradley_terry",
    "bradley_terry_ranking",
    "clip_notes",
    "default_db_url",
    "describe_system",
    "identification",
    "load_studies",
    "load_study",
    "new_participant_id",
    "open_store",
    "pair_results",
    "position_bias",
    "participant_summary",
    "prepare_trial",
    "progress",
    "proportion",
    "reveal",
    "study_results",
    "study_key",
    "study_key_ok",
    "submit_vote",
    "votes_csv",
    "votes_for_power",
    "wilson_interval",
    "win_matrix",
]
