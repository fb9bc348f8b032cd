"""Autoregressive sampling over note tokens, shared by every token family (LSTM, Markov, ...).

The family supplies `start(prefix) -> state, logits` (read the whole prefix once) and
`step(tokens, state) -> state, logits` (one token of work per new token: the recurrent state or
context is carried, never re-run over a window). This module owns what is common: temperature /
top-k / top-p, the seeded draws, stopping at a length in seconds or notes, and decoding.
"""

from __future__ import annotations

from typing import Callable

import torch

from musicgen.representations.notes import BOS, EOS, N_SPECIAL
from musicgen.sampling import Length, draw, filter_logits, make_generator
from musicgen.sequence import NoteSequence

MAX_TOKENS = 20000


def primer_prefix(representation, primer: NoteSequence | None) -> list[int]:
    if primer is None or len(primer) == 0:
        return [BOS]
    return [BOS] + representation.encode(primer).tolist()


def sample_token_sequences(*, representation, start: Callable, step: Callable, n: int, length: Length,
                           temperature: float, seed: int, top_k, top_p, primer: NoteSequence | None,
                           program: int = 0) -> list[NoteSequence]:
    generator = make_generator(seed)
    qpm = float(primer.qpm if primer is not None and len(primer) else representation.config.qpm)
    step_sec = representation.step_seconds(qpm)
    prefix = primer_prefix(representation, primer)
    kind = torch.from_numpy(representation.token_kind)
    shift = torch.from_numpy(representation.token_shift)

    prefix_tensor = torch.tensor([prefix] * n, dtype=torch.long)
    state, logits = start(prefix_tensor)
    rows = [[] for _ in range(n)]
    cursor = torch.zeros(n, dtype=torch.long)  # grid steps generated after the primer
    notes = torch.zeros(n, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    banned = torch.zeros(representation.vocab_size, dtype=torch.bool)
    banned[:N_SPECIAL] = True  # no PAD/BOS, and no EOS before the asked-for length
    # A pitch already struck at the current onset would merge into one note on decoding, so it is
    # banned until the next time shift: "N notes" then means N audible notes.
    pitch_of = torch.from_numpy(representation.token_pitch)
    struck = torch.zeros(n, representation.vocab_size, dtype=torch.bool)
    for t in reversed(prefix):
        if kind[t] != 1:
            break
        struck |= pitch_of == pitch_of[t]

    for _ in range(MAX_TOKENS):
        filtered = filter_logits(logits.masked_fill(banned | struck, float("-inf")), temperature=temperature,
                                 top_k=top_k, top_p=top_p)
        tokens = draw(filtered, generator)
        if length.unit == "seconds":
            ends = (cursor + shift[tokens]).double() * step_sec >= length.value
        else:
            ends = torch.zeros(n, dtype=torch.bool)
        accept = ~done & ~ends
        for i in torch.nonzero(accept).flatten().tolist():
            rows[i].append(int(tokens[i]))
        is_note = accept & (kind[tokens] == 1)
        struck[is_note] |= pitch_of[None, :] == pitch_of[tokens[is_note]][:, None]
        struck[accept & (kind[tokens] == 2)] = False
        cursor += torch.where(accept, shift[tokens], 0)
        notes += is_note.long()
        done |= ends
        if length.unit == "notes":
            done |= notes >= int(length.value)
        if bool(done.all()):
            break
        state, logits = step(tokens, state)

    out = []
    for row in rows:
        seq = representation.decode(prefix[1:] + row + [EOS], qpm=qpm, program=program)
        n_primer = len(representation.decode(prefix[1:], qpm=qpm)) if len(prefix) > 1 else 0
        out.append(seq.with_meta(primer_notes=str(n_primer)))
    return out
