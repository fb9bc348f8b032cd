"""What every piano-roll VAE shares (lstm-vae, tvae): the loss, the KL schedule, Bernoulli decoding,
chained sampling, continuation and interpolation. A family only says how to encode a window to a
latent, how to score a window given z (teacher forcing) and how to draw a window given z.

Loss per 16th-note frame: BCE summed over the model's keys (`recon_loss`) + β · KL / frames, where KL
(`kl_loss`, reported per frame too, so the ELBO per frame is recon_loss + kl_loss) is floored at
`free_bits` nats per window and β rises linearly from 0 to `kl_max` over `kl_warmup` steps. The step
counter is a buffer saved with the model, so a resumed run continues the schedule where it stopped.

Sampling: windows are chained; the first latent is a prior draw (or, with a primer, near the encoding
of the primer's last window), each next one is `carry · μ(previous window) + √(1 − carry²) · ε`, which
keeps key and texture from window to window and is still N(0, I) when μ is. Temperature divides the
Bernoulli logits; latents are never scaled.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from musicgen.models.base import MusicModel
from musicgen.models.roll_batches import KeyRange, RollWindows
from musicgen.sampling import Length, SamplingError, check_params, make_generator
from musicgen.sequence import NoteSequence

MAX_INTERPOLATION_STEPS = 16
DECODINGS = ("deterministic", "sampled")  # how `interpolate` plays each step
BERNOULLI_MEANING = ("each key's Bernoulli logit ÷ T before every on/off draw (1 = as trained, lower = only "
                     "the likeliest notes, higher = more scattered notes); the latent is not scaled; top-k and "
                     "top-p do not apply")


class RollVAE(MusicModel):
    """Base of the latent piano-roll families. Config needs: steps, pitch_low, keys, latent, kl_max,
    kl_warmup, free_bits, carry."""

    is_likelihood_model = False  # the test loss is an ELBO bound per frame, not a per-token NLL
    temperature_meaning = BERNOULLI_MEANING
    toy_representation = "pianoroll"

    def __init__(self, *, config, representation):
        super().__init__(config=config, representation=representation)
        self.key_range = KeyRange(config.pitch_low, config.keys)
        self.register_buffer("kl_step", torch.zeros((), dtype=torch.long))
        # BN-VAE (Zhu et al. 2020): batch-normalised means with a fixed scale keep the latent in use.
        # Measured without it: Adam follows the KL gradient while the reconstruction's is still ~0,
        # and every piece got the same mean within 1e-7 (posterior collapse) by step 400.
        scale = getattr(config, "latent_norm", 0.0)
        self.mean_norm = nn.BatchNorm1d(config.latent, affine=False) if scale > 0 else None

    # ---- what a family provides ----------------------------------------------------------------
    def encode_rolls(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch, steps, keys) → mean and log-variance (batch, latent)."""
        raise NotImplementedError

    def recon_logits(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (batch, steps, keys) for the window `x` given z."""
        raise NotImplementedError

    def draw_window(self, z: torch.Tensor, first: torch.Tensor, *, temperature: float,
                    generator: torch.Generator) -> torch.Tensor:
        """A 0/1 window (batch, steps, keys) given z; `first` is the frame just before it."""
        raise NotImplementedError

    # ---- training --------------------------------------------------------------------------------
    @classmethod
    def make_batches(cls, representation, pieces, *, train, augment: bool, window: int | None = None):
        # Always the preset's window (the model's fixed length), not the loop's longer test window.
        return RollWindows.from_pieces(representation, pieces, window=train.window, batch_size=train.batch_size,
                                       augment=augment)

    def normalise_mean(self, mu: torch.Tensor) -> torch.Tensor:
        """A family passes its raw means through this (identity unless `latent_norm` > 0)."""
        if self.mean_norm is None:
            return mu
        if self.training and mu.shape[0] == 1:  # one window: batch statistics are undefined, use the running ones
            return F.batch_norm(mu, self.mean_norm.running_mean, self.mean_norm.running_var) * self.config.latent_norm
        return self.mean_norm(mu) * self.config.latent_norm

    def kl_weight(self) -> float:
        c = self.config
        return c.kl_max * min(1.0, float(self.kl_step) / max(1, c.kl_warmup))

    def elbo_parts(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.key_range.narrow(batch.float())
        mu, logvar = self.encode_rolls(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        logits = self.recon_logits(x, z)
        frames = x.shape[1]
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / (x.shape[0] * frames)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1).mean()
        return {"recon_loss": recon, "kl_window": kl, "frames": torch.tensor(float(frames))}

    def loss(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        p = self.elbo_parts(batch)
        frames = p["frames"]
        kl_term = torch.clamp(p["kl_window"], min=self.config.free_bits)
        loss = p["recon_loss"] + self.kl_weight() * kl_term / frames
        return {"loss": loss, "recon_loss": p["recon_loss"], "kl_loss": p["kl_window"] / frames,
                "kl_weight": torch.tensor(self.kl_weight())}

    def train_step(self, batch, optimizers: dict, *, grad_clip: float | None = 1.0) -> dict[str, float]:
        parts = super().train_step(batch, optimizers, grad_clip=grad_clip)
        self.kl_step += 1
        return parts

    @torch.no_grad()
    def eval_loss(self, batches) -> dict[str, float]:
        """Per-frame ELBO bound (β = 1, z = μ for the reconstruction) and its parts over every window."""
        was_training = self.training
        self.eval()
        recon = kl = 0.0
        count = 0
        for batch in batches:
            p = self.elbo_parts(batch)
            recon += float(p["recon_loss"]) * len(batch)
            kl += float(p["kl_window"] / p["frames"]) * len(batch)
            count += len(batch)
        self.train(was_training)
        count = max(count, 1)
        return {"loss": (recon + kl) / count, "recon_loss": recon / count, "kl_loss": kl / count, "windows": count}

    # ---- rolls ⇄ notes -----------------------------------------------------------------------------
    def rolls_of(self, seq: NoteSequence) -> torch.Tensor:
        """A piece → its (steps, keys) roll in this model's key range."""
        return self.key_range.narrow(torch.from_numpy(self.representation.encode(seq)).float())

    def last_window(self, roll: torch.Tensor) -> torch.Tensor:
        """The last `steps` frames, silence-padded at the front when shorter."""
        steps = self.config.steps
        return F.pad(roll[-steps:], (0, 0, max(0, steps - roll.shape[0]), 0))

    def first_window(self, roll: torch.Tensor) -> torch.Tensor:
        steps = self.config.steps
        return F.pad(roll[:steps], (0, 0, 0, max(0, steps - roll.shape[0])))

    def notes_of(self, frames: torch.Tensor, *, qpm: float, name: str = "", program: int = 0) -> NoteSequence:
        return self.representation.decode(self.key_range.widen(frames.cpu().numpy()), qpm=qpm, name=name,
                                          program=program)

    @torch.no_grad()
    def encode_piece(self, seq: NoteSequence) -> torch.Tensor:
        """The latent mean of a piece's opening window (from its first note)."""
        start = seq.notes[0].start if len(seq) else 0.0
        roll = self.rolls_of(seq.shift_time(-start))
        mu, _ = self.encode_rolls(self.first_window(roll)[None])
        return mu[0]

    # ---- sampling ----------------------------------------------------------------------------------
    def _next_latent(self, mu: torch.Tensor | None, n: int, generator: torch.Generator) -> torch.Tensor:
        eps = torch.randn(n, self.config.latent, generator=generator)
        if mu is None:
            return eps
        carry = self.config.carry
        return carry * mu + math.sqrt(1.0 - carry ** 2) * eps

    def _sample(self, n, *, length: Length, temperature, seed, top_k, top_p, primer):
        was_training = self.training
        self.eval()
        try:  # one-step recurrent draws: the `sample` runtime profile has oneDNN off (musicgen/runtime.py)
            return self._chained(n, length, temperature, make_generator(seed), primer)
        finally:
            self.train(was_training)

    def _chained(self, n: int, length: Length, temperature: float, generator, primer) -> list[NoteSequence]:
        primed = primer is not None and len(primer) > 0
        qpm = float(primer.qpm if primed else self.representation.config.qpm)
        step_sec = self.representation.step_seconds(qpm)
        keys = self.config.keys
        mu, first = None, torch.zeros(n, keys)
        if primed:
            roll = self.rolls_of(primer)
            window = self.last_window(roll)[None].expand(n, -1, -1)
            mu, _ = self.encode_rolls(window)
            first = window[:, -1]
        limit_steps = math.ceil(length.value / step_sec) if length.unit == "seconds" else None
        windows: list[torch.Tensor] = []
        while True:
            z = self._next_latent(mu, n, generator)
            frames = self.draw_window(z, first, temperature=temperature, generator=generator)
            windows.append(frames)
            mu, _ = self.encode_rolls(frames)
            first = frames[:, -1]
            total = len(windows) * self.config.steps
            if limit_steps is not None and total >= limit_steps:
                break
            if limit_steps is None:
                counts = [len(self.notes_of(torch.cat(windows, 1)[i], qpm=qpm)) for i in range(n)]
                if min(counts) >= length.value or total * step_sec >= 600:
                    break
        rolls = torch.cat(windows, 1)
        out = []
        for i in range(n):
            seq = self.notes_of(rolls[i, :limit_steps], qpm=qpm, program=primer.program if primed else 0)
            if length.unit == "notes":
                seq = seq.first_notes(int(length.value))
            if primed:
                offset = self.rolls_of(primer).shape[0] * step_sec
                seq = _merge(primer, seq.shift_time(offset))
            out.append(seq.with_meta(primer_notes=str(len(primer) if primed else 0)))
        return out

    def continue_piece(self, piece: NoteSequence, *, length="30s", temperature: float = 1.0,
                       seed: int = 0) -> NoteSequence:
        """`piece` followed by `length` of new music that starts from its last window."""
        if len(piece) == 0:
            raise ValueError("the piece to continue has no notes")
        return self.sample(1, length=length, temperature=temperature, seed=seed, primer=piece)[0]

    def interpolation_latents(self, a: NoteSequence, b: NoteSequence, steps: int) -> torch.Tensor:
        """(steps, latent): the straight line from a's latent mean to b's, both ends included."""
        if not (2 <= steps <= MAX_INTERPOLATION_STEPS):
            raise SamplingError(f"interpolation steps must be between 2 and {MAX_INTERPOLATION_STEPS}, got {steps}")
        for name, piece in (("first", a), ("second", b)):
            if len(piece) == 0:
                raise ValueError(f"the {name} piece has no notes to interpolate from")
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                za, zb = self.encode_piece(a), self.encode_piece(b)
        finally:
            self.train(was_training)
        t = torch.linspace(0.0, 1.0, steps)[:, None]
        return (1 - t) * za + t * zb

    def interpolate(self, a: NoteSequence, b: NoteSequence, steps: int, *, seed: int = 0,
                    temperature: float = 1.0, decoding: str = "deterministic") -> list[NoteSequence]:
        """`steps` windows morphing from a's opening to b's: latent means on a straight line.

        `decoding="deterministic"` (the default) decodes each step's most likely frames (no seed), so the
        steps differ by the latent alone. `"sampled"` draws every key by a coin from the same seed at every
        step; measured on the first D-lstm-vae (held-out chorales, 4 pairs × 4 steps), the shared coins outweigh
        the latent: 2 of 12 neighbouring steps came out identical and the ends resembled their own piece
        little more than the other (cell overlap 0.131 vs 0.108; deterministic: 0 of 12, 0.081 vs 0.058). On the
        retrained one (8 pairs × 5 steps): sampled 2 of 32 identical, deterministic 0 of 32."""
        check_params(temperature=temperature, top_k=None, top_p=None, seed=seed)
        if decoding not in DECODINGS:
            raise SamplingError(f"decoding must be one of {', '.join(DECODINGS)}, not {decoding!r}")
        latents = self.interpolation_latents(a, b, steps)
        qpm = float(a.qpm)
        was_training = self.training
        self.eval()
        out = []
        try:
            with torch.inference_mode():
                for i, z in enumerate(latents):
                    generator = make_generator(seed) if decoding == "sampled" else None
                    frames = self.draw_window(z[None], torch.zeros(1, self.config.keys), temperature=temperature,
                                              generator=generator)
                    seq = self.notes_of(frames[0], qpm=qpm, name=f"step {i + 1}/{steps}")
                    out.append(seq.with_meta(step=str(i + 1), of=str(steps), alpha=f"{i / (steps - 1):.3f}"))
        finally:
            self.train(was_training)
        return out


def morph_clip(steps: list[NoteSequence], *, window_seconds: float | None = None) -> NoteSequence:
    """The interpolation steps one after another in time (each in a slot of `window_seconds` when given, so
    silent endings keep the beat)."""
    if not steps:
        raise ValueError("no interpolation steps to join")
    notes, offset = [], 0.0
    for seq in steps:
        notes.extend(seq.shift_time(offset).notes)
        offset += window_seconds if window_seconds else seq.duration
    return NoteSequence(notes=tuple(notes), qpm=steps[0].qpm, program=steps[0].program, name="morph")


def _merge(a: NoteSequence, b: NoteSequence) -> NoteSequence:
    return NoteSequence(notes=a.notes + b.notes, qpm=a.qpm, program=a.program, name=a.name)


def bernoulli(logits: torch.Tensor, temperature: float, generator: torch.Generator | None) -> torch.Tensor:
    """0/1 draws of sigmoid(logits ÷ T), from the local generator; without one, the most likely frame
    (the keys above 1/2: deterministic decoding, see `RollVAE.interpolate`)."""
    probs = torch.sigmoid(logits.float() / temperature)
    if generator is None:
        return (probs > 0.5).float()
    return (torch.rand(probs.shape, generator=generator) < probs).float()


__all__ = ["BERNOULLI_MEANING", "DECODINGS", "RollVAE", "bernoulli", "morph_clip"]
