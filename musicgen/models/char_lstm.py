"""Character-level LSTM over ABC text of folk tunes (system C-abc; MIT 6.S191 lab 1's music model).

Study: Embedding(83 chars, 256) → one LSTM of 1024 units → dense(vocab) softmax, cross-entropy on the
text shifted by one character, Adam. Kept: that architecture (narrower here, see the preset) and the
loss on every position. Training text is the stream `BOS tune EOS BOS tune EOS ...` cut into windows.

Sampling draws one character at a time (temperature / top-k / top-p from a local generator), keeping
the LSTM state between steps, until the end-of-tune token (or `max_chars`). The text then goes through
music21: a tune that parses becomes notes with its ABC text in meta `abc`; one that does not comes
back as a sequence with no notes and meta `abc_error` (and the text), never an exception. One sample
is one tune: a requested length cuts a longer tune, and a shorter tune is returned as it is. A primer
(notes) is written as ABC (`sequence_to_abc`, monophonic, in C) and the model continues that text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from musicgen.batches import TokenBatches
from musicgen.models.base import MusicModel
from musicgen.representations.abc import BOS, EOS, PAD, AbcParseError, abc_to_sequence, sequence_to_abc
from musicgen.sampling import draw, filter_logits, make_generator
from musicgen.sequence import NoteSequence


@dataclass(frozen=True, kw_only=True)
class CharLSTMConfig:
    vocab_size: int
    embed_dim: int = 64
    hidden: int = 512
    layers: int = 1
    dropout: float = 0.0


class CharLSTM(MusicModel):
    family = "char-lstm"
    Config = CharLSTMConfig
    temperature_meaning = "logits ÷ T before each next-character draw (1 = as trained)"
    toy_config = {"embed_dim": 16, "hidden": 32, "layers": 1}
    toy_representation = "abc"
    toy_train = {"window": 64}

    def __init__(self, *, config: CharLSTMConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.lstm = nn.LSTM(c.embed_dim, c.hidden, num_layers=c.layers, batch_first=True,
                            dropout=c.dropout if c.layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, c.vocab_size)

    def forward(self, tokens: torch.Tensor, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(self.drop(out)), state

    # ---- training ---------------------------------------------------------------------------------
    @classmethod
    def make_batches(cls, representation, pieces, *, train, augment: bool, window: int | None = None):
        """Tunes → one character stream `BOS tune EOS ...` in windows (no transposition: it is text)."""
        return TokenBatches(tune_stream(representation, pieces), window or train.window, train.batch_size)

    def loss(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, _ = self(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), ignore_index=PAD)
        return {"loss": loss}

    # ---- sampling ---------------------------------------------------------------------------------
    def _sample(self, n, *, length, temperature, seed, top_k, top_p, primer):
        rep = self.representation
        primer_text = sequence_to_abc(primer) if primer is not None and len(primer) else ""
        texts = self.sample_texts(n, temperature=temperature, seed=seed, top_k=top_k, top_p=top_p,
                                  prefix_text=primer_text)
        qpm = float(primer.qpm) if primer_text else rep.config.qpm  # the primer keeps its tempo
        n_primer = len(abc_to_sequence(primer_text, qpm=qpm)) if primer_text else 0
        return [tune_to_sequence(t, length=length, qpm=qpm, primer_notes=n_primer) for t in texts]

    def sample_texts(self, n: int, *, temperature: float = 1.0, seed: int = 0, top_k=None, top_p=None,
                     prefix_text: str = "") -> list[str]:
        """`n` tunes as ABC text (prefix included), one LSTM step per character."""
        rep = self.representation
        was_training = self.training
        self.eval()
        try:  # one-step LSTM sampling: the `sample` runtime profile has oneDNN off (musicgen/runtime.py)
            generator = make_generator(seed)
            prefix = [BOS] + rep.encode_text(prefix_text).tolist()
            logits, state = self(torch.tensor([prefix] * n, dtype=torch.long))
            logits = logits[:, -1]
            banned = torch.zeros(rep.vocab_size, dtype=torch.bool)
            banned[[PAD, BOS]] = True
            rows = [[] for _ in range(n)]
            done = torch.zeros(n, dtype=torch.bool)
            for _ in range(rep.config.max_chars - len(prefix_text)):
                tokens = draw(filter_logits(logits.masked_fill(banned, float("-inf")), temperature=temperature,
                                            top_k=top_k, top_p=top_p), generator)
                for i in torch.nonzero(~done).flatten().tolist():
                    rows[i].append(int(tokens[i]))
                done |= tokens == EOS
                if bool(done.all()):
                    break
                logits, state = self(tokens[:, None], state)
                logits = logits[:, -1]
            return [prefix_text + rep.decode_text(row) for row in rows]
        finally:
            self.train(was_training)

    # ---- evaluation hook (musicgen.evaluation) ----------------------------------------------------
    @staticmethod
    def evaluation_extras(generated: list[NoteSequence]) -> tuple[list[NoteSequence], dict]:
        """Only tunes that parse are compared with real ones; the parse rate is reported beside."""
        parsed = [g for g in generated if "abc_error" not in g.meta_dict() and len(g)]
        return parsed, {"abc_parse_rate": round(len(parsed) / max(len(generated), 1), 4),
                        "abc_parsed": len(parsed), "abc_samples": len(generated)}


def tune_stream(representation, pieces: list[NoteSequence]) -> np.ndarray:
    parts = [np.concatenate([[BOS], representation.encode(p), [EOS]]).astype(np.int64) for p in pieces]
    if not parts:
        raise ValueError("no tunes to make batches from")
    return np.concatenate(parts)


def tune_to_sequence(text: str, *, length, qpm: float, primer_notes: int = 0) -> NoteSequence:
    """Sampled ABC → notes cut to `length`; an unparseable tune → no notes, meta `abc_error` + `abc`."""
    try:
        seq = abc_to_sequence(text, qpm=qpm)
    except AbcParseError as e:
        return NoteSequence(qpm=qpm).with_meta(abc=text, abc_error=str(e), primer_notes="0")
    if length.unit == "seconds":
        seq = seq.slice_time(0.0, length.value)
    else:
        seq = seq.first_notes(int(length.value))
    return seq.with_meta(primer_notes=str(min(primer_notes, len(seq))))
