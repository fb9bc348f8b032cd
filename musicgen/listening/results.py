"""Store-level summaries for the Results page (organisers) and the participant's final reveal."""

from __future__ import annotations

from dataclasses import dataclass

from musicgen.listening import stats
from musicgen.listening.store import TIE, Vote, VoteStore
from musicgen.listening.study import StudySpec


@dataclass(frozen=True)
class StudyResults:
    spec: StudySpec
    votes: list[Vote]
    participants: int
    pairs: list[stats.PairResult]  # pair studies
    matrix: stats.WinMatrix  # rows/columns: spec.systems order
    ranking: list[stats.RankedSystem]
    identification: stats.Identification | None  # studies with `real`

    def csv(self) -> str:
        return stats.votes_csv(self.votes)


def study_results(store: VoteStore, study_id: str, *, n_boot: int = 500, seed: int = 0) -> StudyResults:
    """Everything the Results page shows for one study (bootstrap seeded: same votes, same numbers)."""
    spec = store.get_study(study_id)
    votes = store.votes(study_id)
    counted = [v for v in votes if v.catch_answer is None]  # catch trials are screening, not comparisons
    pair_systems = list(spec.systems) if spec.kind == "pair" else []
    return StudyResults(spec=spec, votes=votes, participants=len({v.participant_id for v in votes}),
                        pairs=stats.pair_results(counted), matrix=stats.win_matrix(counted, pair_systems),
                        ranking=stats.bradley_terry_ranking(counted, pair_systems, n_boot=n_boot, seed=seed)
                        if spec.kind == "pair" else [],
                        identification=stats.identification(counted))


@dataclass(frozen=True)
class AnsweredTrial:
    vote: Vote
    agreed_with: float | None  # pair: share of everyone's decisive votes on this pair that chose the same system
    everyone_correct: float | None  # identify: share of everyone's calls on this system that were right


@dataclass(frozen=True)
class ParticipantSummary:
    trials: list[AnsweredTrial]
    correct: int  # identify studies: the running score
    answered: int


def participant_summary(store: VoteStore, study_id: str, participant_id: str, *, everyone: bool = True
                        ) -> ParticipantSummary:
    """The participant's own votes (revealed: only voted trials appear), next to everyone's when `everyone`
    (otherwise `agreed_with` and `everyone_correct` stay None: other participants' votes are not used)."""
    votes = [v for v in store.votes(study_id) if v.catch_answer is None]  # catch trials are not comparisons
    mine = [v for v in votes if v.participant_id == participant_id]
    others = votes if everyone else mine
    pairs = {(r.a, r.b): r for r in stats.pair_results(others)}
    ident = stats.identification(others)
    trials = []
    for v in mine:
        agreed = correct_rate = None
        if v.kind == "pair" and v.winner != TIE:
            r = pairs[tuple(sorted((v.system_a, v.system_b)))]
            decisive = r.wins_a + r.wins_b
            agreed = (r.wins_a if v.winner == r.a else r.wins_b) / decisive if decisive else None
        elif v.kind == "identify" and ident is not None:
            correct_rate = ident.by_system[v.system_a].rate
        if not everyone:
            agreed = correct_rate = None
        trials.append(AnsweredTrial(v, agreed, correct_rate))
    return ParticipantSummary(trials=trials, correct=sum(bool(v.correct) for v in mine), answered=len(mine))
