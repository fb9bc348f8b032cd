import torch

from musicgen.batches import TokenBatches, piece_tokens
from musicgen.corpora import toy_corpus
from musicgen.representations.notes import BOS, EOS, NoteTokens

REP = NoteTokens()


def test_augmentation_adds_transpositions_in_range():
    pieces = toy_corpus().subset("train")
    plain = piece_tokens(REP, pieces, augment=False)
    aug = piece_tokens(REP, pieces, augment=True)
    assert len(plain) == len(pieces) and len(aug) == 12 * len(pieces)
    assert all(t[0] == BOS and t[-1] == EOS for t in aug)


def test_epoch_covers_windows_once_and_is_seeded():
    b = TokenBatches.from_pieces(REP, toy_corpus().subset("train"), window=16, batch_size=4, augment=False)
    ep = list(b.epoch(torch.Generator().manual_seed(0)))
    assert sum(x.shape[0] for x in ep) == b.windows_per_epoch()
    assert all(x.shape[1] == 17 for x in ep)
    again = list(b.epoch(torch.Generator().manual_seed(0)))
    assert all(torch.equal(x, y) for x, y in zip(ep, again))
    assert [x.tolist() for x in b.sequential()] == [x.tolist() for x in b.sequential()]


def test_corpus_key_augmentation_makes_as_many_copies_and_refuses_an_unknown_mode():
    import pytest

    from musicgen.batches import transpositions

    pieces = toy_corpus().subset("train")
    assert len(piece_tokens(REP, pieces, augment=True, keys="corpus")) == 12 * len(pieces)
    assert transpositions(pieces, augment=False, keys="corpus") == [[0]] * len(pieces)
    with pytest.raises(ValueError, match="transpose_keys"):
        transpositions(pieces, augment=True, keys="some")
