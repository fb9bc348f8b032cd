"""Next-note LSTM (study A's A-lstm, and B-lstm as a smaller preset of the same family).

Study A: LSTM 512 → dropout 0.3 → LSTM 512 → dropout 0.3 → LSTM 512 → dense 256 → dropout 0.3 →
dense(vocab) softmax, cross-entropy. Kept: the stacked LSTMs with dropout between them, the dense
bottleneck and the softmax head; an embedding replaces the study's one-float-per-token input. Unlike
the study (last token of a 100-token window only, greedy argmax) the loss covers every position and
sampling draws with temperature / top-k / top-p, carrying the LSTM state between steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from musicgen.models.base import MusicModel
from musicgen.models.token_sampling import sample_token_sequences
from musicgen.representations.notes import PAD


@dataclass(frozen=True, kw_only=True)
class LSTMConfig:
    vocab_size: int
    embed_dim: int = 128
    hidden: int = 256
    layers: int = 3
    dense: int = 256
    dropout: float = 0.3


class NextNoteLSTM(MusicModel):
    family = "lstm"
    Config = LSTMConfig
    temperature_meaning = "logits ÷ T before each next-token draw (1 = as trained)"
    toy_config = {"embed_dim": 16, "hidden": 32, "layers": 2, "dense": 32, "dropout": 0.0}

    def __init__(self, *, config: LSTMConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.lstm = nn.LSTM(c.embed_dim, c.hidden, num_layers=c.layers, dropout=c.dropout, batch_first=True)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(c.hidden, c.dense), nn.ReLU(),
                                  nn.Dropout(c.dropout), nn.Linear(c.dense, c.vocab_size))

    def forward(self, tokens: torch.Tensor, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state

    def loss(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, _ = self(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1), ignore_index=PAD)
        return {"loss": loss}

    def _sample(self, n, *, length, temperature, seed, top_k, top_p, primer):
        was_training = self.training
        self.eval()
        # Process-wide torch settings (threads, oneDNN) are the runtime profile's, never toggled here.
        try:
            def start(prefix):
                logits, state = self(prefix)
                return state, logits[:, -1]

            def step(tokens, state):
                logits, state = self(tokens[:, None], state)
                return state, logits[:, -1]

            return sample_token_sequences(representation=self.representation, start=start, step=step, n=n,
                                          length=length, temperature=temperature, seed=seed, top_k=top_k,
                                          top_p=top_p, primer=primer)
        finally:
            self.train(was_training)
