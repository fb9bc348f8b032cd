"""The one model contract every family follows.

- The constructor takes a keyword-only frozen config dataclass plus the representation, and only
  builds layers. `Config` is the class; the card stores `asdict(config)` to rebuild the model.
- `train_step(batch, optimizers) -> dict[str, float]`: likelihood models keep the default (backward on
  `loss()`); GANs override it. The training loop never changes.
- `sample(n, *, length, temperature, seed, top_k, top_p, primer) -> list[NoteSequence]`, with all
  randomness from a local generator and no sampling state kept on the model, so one cached model
  serves every session.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import ClassVar

import torch
from torch import nn

from musicgen.batches import TokenBatches
from musicgen.distributed import average_gradients
from musicgen.sampling import Length, check_params
from musicgen.sequence import NoteSequence


class MusicModel(nn.Module):
    family: ClassVar[str] = ""
    Config: ClassVar[type] = object
    # How temperature applies in this family, in plain words (goes on the card).
    temperature_meaning: ClassVar[str] = ""
    uses_temperature: ClassVar[bool] = True  # False: temperature changes nothing (say so in temperature_meaning)
    accepts_primer: ClassVar[bool] = True  # False: the family makes each piece from noise alone (the GANs)
    is_likelihood_model: ClassVar[bool] = True
    # Can `torchrun` split its batches over processes? (the default train_step averages gradients; a
    # family with its own optimiser steps (GANs) or no gradients (Markov counts) says False)
    supports_distributed: ClassVar[bool] = True
    # A seconds-long version of this family for tests (`presets.toy_preset`): model config, the
    # representation it reads, and training overrides.
    toy_config: ClassVar[dict] = {}
    toy_representation: ClassVar[str] = "notes"
    toy_train: ClassVar[dict] = {}

    def __init__(self, *, config, representation):
        super().__init__()
        self.config = config
        self.representation = representation

    # ---- training -----------------------------------------------------------------------------
    @classmethod
    def make_batches(cls, representation, pieces, *, train, augment: bool, window: int | None = None):
        """Pieces → an object with `epoch(generator)`, `sequential()`, `examples_per_epoch()` and
        `describe()`. Token families use windows of the token stream; others override this."""
        return TokenBatches.from_pieces(representation, pieces, window=window or train.window,
                                        batch_size=train.batch_size, augment=augment, keys=train.transpose_keys)

    def loss(self, batch) -> dict[str, torch.Tensor]:
        """{'loss': scalar tensor to minimise, other parts...}."""
        raise NotImplementedError

    def make_optimizers(self, *, lr: float, weight_decay: float = 0.0) -> dict[str, torch.optim.Optimizer]:
        params = [p for p in self.parameters() if p.requires_grad]
        if not params:
            return {}
        return {"model": torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)}

    def train_step(self, batch, optimizers: dict, *, grad_clip: float | None = 1.0) -> dict[str, float]:
        opt = optimizers["model"]
        opt.zero_grad(set_to_none=True)
        parts = self.loss(batch)
        parts["loss"].backward()
        average_gradients(self.parameters())  # over torchrun's processes; nothing in a single process
        if grad_clip:
            nn.utils.clip_grad_norm_(self.parameters(), grad_clip)
        opt.step()
        return {("train_loss" if k == "loss" else k): float(v.detach()) for k, v in parts.items()}

    @torch.no_grad()
    def eval_loss(self, batches) -> dict[str, float]:
        """Token-weighted mean of the loss over `batches` (validation / test)."""
        was_training = self.training
        self.eval()
        total, count = 0.0, 0
        for batch in batches:
            n = batch[:, 1:].numel()
            total += float(self.loss(batch)["loss"]) * n
            count += n
        self.train(was_training)
        return {"loss": total / max(count, 1)}

    def finish_training(self) -> None:
        """Hook for families that build their inference state after the last step (e.g. Markov)."""

    def training_summary(self) -> dict:
        """Facts about the finished training that the card's `training` section should carry."""
        return {}

    # ---- checkpoint -------------------------------------------------------------------------------
    def config_dict(self) -> dict:
        return asdict(self.config)

    def inference_state_dict(self) -> dict[str, torch.Tensor]:
        """What ships in model.safetensors (a GAN returns its generator only)."""
        return {k: v.detach().contiguous() for k, v in self.state_dict().items()}

    def load_inference_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.load_state_dict(state, strict=True)

    # ---- sampling ------------------------------------------------------------------------------
    def sample(self, n: int = 1, *, length="30s", temperature: float = 1.0, seed: int = 0,
               top_k: int | None = None, top_p: float | None = None,
               primer: NoteSequence | None = None) -> list[NoteSequence]:
        check_params(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, n=n)
        with torch.inference_mode():
            return self._sample(n, length=Length.parse(length), temperature=temperature, seed=seed,
                                top_k=top_k, top_p=top_p, primer=primer)

    def _sample(self, n, *, length: Length, temperature, seed, top_k, top_p, primer) -> list[NoteSequence]:
        raise NotImplementedError
