"""LSTM-VAE over 16th-note piano rolls (study D's D-lstm-vae, that study's best system).

Encoder: a stacked LSTM reads a window of frames (one frame = which keys sound in that 16th); its
outputs, averaged over the window, give the mean and log-variance of a small latent z. Decoder: a
stacked LSTM whose input at every step is the previous frame concatenated with z, and whose initial
state is also made from z; a sigmoid per key says how likely that key sounds. Sampling draws every
key by a Bernoulli coin (which stops the loops greedy decoding falls into). Loss, KL annealing,
chaining, continuation and interpolation are shared with the Transformer-VAE in `vae_common`.

The shipped preset adds three things the first shipped model lacked (see the config fields): the decoder
hears each frame's place in the beat (`phase`); a frame's keys are drawn low to high, each seeing the keys
below it (`frame_ar`, a MADE output, so the per-key coins are no longer independent); and decoding joins
the roll's one-16th gaps back into repeated notes (`restrike`). `hold_init` starts training from "notes
are held". With all four off (the defaults) the model is the first one.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from musicgen.models.vae_common import RollVAE, bernoulli
from musicgen.sequence import Note, NoteSequence


@dataclass(frozen=True, kw_only=True)
class LSTMVAEConfig:
    vocab_size: int = 128  # pitch rows of the piano roll (the representation's)
    steps: int = 64  # window length in 16th notes (must equal the preset's train.window)
    pitch_low: int = 28  # lowest key modelled (MIDI); notes outside low .. low + keys - 1 are dropped
    keys: int = 72
    latent: int = 20
    hidden: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    dropout: float = 0.1
    kl_max: float = 1.0  # β reached after kl_warmup steps
    kl_warmup: int = 1000
    free_bits: float = 0.0  # nats per window below which KL is not pushed down
    latent_norm: float = 0.0  # > 0: batch-normalise the latent means to this scale (BN-VAE, against collapse)
    # A linear path from the previous frame straight to the logits: "hold or repeat this key" is learned at
    # once instead of after a long plateau at the average frame (measured: recon stuck at 12.3 nats/frame).
    skip: bool = True
    # Training only: each previous-frame input is blanked with this probability, so the decoder must
    # lean on z (without it the first run collapsed: every piece got the same latent mean).
    frame_dropout: float = 0.0
    carry: float = 0.5  # how much of the previous window's latent the next one keeps when chaining
    # > 0: the decoder also hears where in the beat each frame falls (one-hot of step mod `phase`; windows start
    # on a beat, so 4 = the four 16ths of a beat). Measured on the first shipped model without it: 41 % of its
    # notes were one 16th long (real chorales: 8 %); it could not tell a beat from the 16th after it.
    phase: int = 0
    # > 0: keys of a frame are drawn one after another, low to high, each seeing the keys already drawn in the
    # same frame (a NADE/MADE output with this many hidden units, fed the LSTM state too) instead of
    # independent coins, so a voice that moves to D or to F does not sound both or neither.
    frame_ar: int = 0
    # > 0: start the previous-frame path as "a key that sounded keeps sounding" (this logit on the diagonal)
    # and every key's bias at -3 (about 4 of 72 keys sound), instead of a random start; measured, the first
    # 600 steps otherwise went to learning that notes are held (teacher-forced cell F1 0.36 at step 600).
    hold_init: float = 0.0
    # Decode a one-16th gap between two runs of the same key as a repeated note (the earlier note lasting up to
    # the re-strike), undoing what the piano roll's encoder does to repeated notes. Measured: 64 training
    # chorales sent through the roll and back (plain decoding) are told from held-out chorales by the
    # evaluation's classifier 98 % of the time (durations a 16th short, polyphony 3.78 vs 4.03); decoded
    # this way, 47 % (real vs real: 36 %).
    restrike: bool = False
    # Decode a note that stops one 16th before another note begins within an octave of it, while no note
    # begins as it stops, as lasting up to that note (legato: a chorale voice does not rest for one 16th on its
    # way to the next note). Measured: real chorales through the roll and back are unchanged by it (C2ST
    # 0.488 either way); the shipped model's clips lose a third of their dotted-eighth notes and their
    # C2ST falls from 0.93-0.98 to 0.93-0.945 over three sets of 64 seeds.
    legato: bool = False


class LSTMVAE(RollVAE):
    family = "lstm-vae"
    Config = LSTMVAEConfig
    toy_config = {"steps": 16, "pitch_low": 48, "keys": 40, "latent": 4, "hidden": 24, "encoder_layers": 1,
                  "decoder_layers": 2, "dropout": 0.0, "kl_warmup": 10, "latent_norm": 1.0, "frame_dropout": 0.3,
                   "phase": 4, "frame_ar": 16, "restrike": True, "legato": True}
    toy_train = {"window": 16}

    def __init__(self, *, config: LSTMVAEConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.encoder = nn.LSTM(c.keys, c.hidden, num_layers=c.encoder_layers, batch_first=True,
                               dropout=c.dropout if c.encoder_layers > 1 else 0.0)
        self.to_latent = nn.Linear(c.hidden, 2 * c.latent)
        self.initial_state = nn.Linear(c.latent, 2 * c.decoder_layers * c.hidden)
        self.decoder = nn.LSTM(c.keys + c.latent + c.phase, c.hidden, num_layers=c.decoder_layers, batch_first=True,
                               dropout=c.dropout if c.decoder_layers > 1 else 0.0)
        self.head = nn.Linear(c.hidden, c.keys)
        self.skip = nn.Linear(c.keys, c.keys, bias=False) if c.skip else None
        if c.hold_init > 0:
            if self.skip is None:
                raise ValueError("hold_init needs the previous-frame path (skip=True)")
            with torch.no_grad():
                self.skip.weight.copy_(torch.eye(c.keys) * c.hold_init)
                self.head.bias.fill_(-3.0)
        if c.phase < 0 or c.frame_ar < 0:
            raise ValueError("phase and frame_ar must be 0 (off) or positive")
        self.within = FrameAR(c.keys, c.frame_ar, c.hidden) if c.frame_ar else None

    def encode_rolls(self, x):
        # The mean of the top layer's outputs over the window, not its last state: measured, a 3-layer
        # LSTM's last state barely depends on the input at initialisation (std 0.001 across pieces) and
        # the encoder never learned; averaging gives every step a direct gradient path.
        out, _ = self.encoder(x)
        mu, logvar = self.to_latent(out.mean(dim=1)).chunk(2, dim=-1)
        return self.normalise_mean(mu), logvar.clamp(-10.0, 10.0)

    def _state(self, z):
        c = self.config
        h, cell = torch.tanh(self.initial_state(z)).view(-1, 2, c.decoder_layers, c.hidden).permute(1, 2, 0, 3)
        return h.contiguous(), cell.contiguous()

    def recon_logits(self, x, z):
        previous = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        if self.training and self.config.frame_dropout > 0:
            keep = torch.rand(previous.shape[:2], device=x.device) >= self.config.frame_dropout
            previous = previous * keep[..., None]
        steps = x.shape[1]
        parts = [previous, z[:, None].expand(-1, steps, -1)]
        if self.config.phase:
            parts.append(self._phases(steps)[None].expand(x.shape[0], -1, -1))
        out, _ = self.decoder(torch.cat(parts, dim=-1), self._state(z))
        logits = self._logits(out, previous)
        return logits if self.within is None else logits + self.within(x, out)

    def notes_of(self, frames: torch.Tensor, *, qpm: float, name: str = "", program: int = 0) -> NoteSequence:
        seq = super().notes_of(frames, qpm=qpm, name=name, program=program)
        step = self.representation.step_seconds(qpm)
        if self.config.restrike:
            seq = rejoin_repeated_notes(seq, step)
        return close_one_step_holes(seq, step) if self.config.legato else seq

    def _phases(self, steps: int) -> torch.Tensor:
        """(steps, phase) one-hot of each frame's place in the beat (a window starts on a beat)."""
        return F.one_hot(torch.arange(steps) % self.config.phase, self.config.phase).float()

    def _logits(self, out, previous):
        return self.head(out) + (self.skip(previous) if self.skip is not None else 0.0)

    def draw_window(self, z, first, *, temperature, generator):
        # generator None: deterministic "mean-field" decoding: each frame's probabilities (not coin flips)
        # are fed back, and the output keeps the keys above 0.5 (plain thresholding of fed-back 0/1 frames
        # falls silent: no key of a first frame reaches 0.5). Interpolation uses it to show the latent path.
        # With the within-frame output the same holds key by key: each key's probability (not a coin) feeds the
        # keys above it. Measured on the retrained model (8 held-out pairs, 5 steps): greedy 0/1 keys instead
        # gave 28 notes per 4-bar step (real: ~70) and 6 of 32 neighbouring steps identical; this, 61 and 0.
        c = self.config
        phases = self._phases(c.steps) if c.phase else None
        state, frame, frames = self._state(z), first, []
        for t in range(c.steps):
            parts = [frame, z] + ([phases[t][None].expand(len(z), -1)] if phases is not None else [])
            out, state = self.decoder(torch.cat(parts, dim=-1)[:, None], state)
            logits = self._logits(out[:, 0], frame)
            if self.within is not None:
                frame = self.within.draw(logits, out[:, 0], temperature=temperature, generator=generator)
            elif generator is not None:
                frame = bernoulli(logits, temperature, generator)
            else:
                frame = torch.sigmoid(logits.float() / temperature)
            frames.append(frame)
        frames = torch.stack(frames, dim=1)
        return frames if generator is not None else (frames > 0.5).float()


class FrameAR(nn.Module):
    """The within-frame part of the output (MADE, Germain et al. 2015, conditioned on the LSTM state): key k's
    logit gets a term from the keys below k in the same frame, through a masked hidden layer (whose input
    also has the LSTM output) and a masked direct path. Teacher forcing scores a whole frame at once; drawing
    goes key by key, low to high, updating the hidden layer with each drawn key (one column per key)."""

    def __init__(self, keys: int, units: int, hidden: int):
        super().__init__()
        self.keys = keys
        self.context = nn.Linear(hidden, units)
        self.into = nn.Parameter(torch.randn(units, keys) / math.sqrt(keys))
        self.out = nn.Parameter(torch.zeros(keys, units))
        self.direct = nn.Parameter(torch.zeros(keys, keys))
        degree = torch.arange(units) % max(1, keys - 1) + 1  # hidden unit m sees keys below its degree
        key = torch.arange(keys)
        self.register_buffer("mask_in", (key[None] < degree[:, None]).float(), persistent=False)
        self.register_buffer("mask_out", (degree[None] <= key[:, None]).float(), persistent=False)
        self.register_buffer("mask_direct", torch.tril(torch.ones(keys, keys), diagonal=-1), persistent=False)

    def weights(self):
        return self.into * self.mask_in, self.out * self.mask_out, self.direct * self.mask_direct

    def forward(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Added logits (..., keys) for the frames `x` given LSTM outputs `out` (teacher forcing)."""
        w_in, w_out, w_direct = self.weights()
        hidden = torch.relu(self.context(out) + x @ w_in.T)
        return hidden @ w_out.T + x @ w_direct.T

    def draw(self, logits: torch.Tensor, out: torch.Tensor, *, temperature: float,
             generator: torch.Generator | None) -> torch.Tensor:
        """One frame (batch, keys) drawn key by key; without a generator, the probabilities themselves
        (mean field: each key's probability, not a 0/1 draw, feeds the keys above it)."""
        w_in, w_out, w_direct = self.weights()
        n = logits.shape[0]
        act = self.context(out)
        base = logits.clone()
        coins = torch.rand(n, self.keys, generator=generator) if generator is not None else None
        frame = torch.zeros(n, self.keys)
        for k in range(self.keys):
            logit = base[:, k] + torch.relu(act) @ w_out[k]
            p = torch.sigmoid(logit / temperature)
            on = (coins[:, k] < p).float() if coins is not None else p
            if not bool(on.any()):
                continue
            frame[:, k] = on
            act = act + on[:, None] * w_in[:, k]
            base = base + on[:, None] * w_direct[:, k]
        return frame


def rejoin_repeated_notes(seq: NoteSequence, step: float) -> NoteSequence:
    """Each note followed, one grid step after its end, by a note of the same pitch is lengthened to that
    note's start: the piano roll writes a repeated note as two runs with a one-step gap."""
    by_pitch: dict[int, list[Note]] = {}
    for n in sorted(seq.notes, key=lambda n: (n.pitch, n.start)):
        by_pitch.setdefault(n.pitch, []).append(n)
    notes = []
    for run in by_pitch.values():
        for n, after in zip(run, run[1:] + [None]):
            if after is not None and round((after.start - n.end) / step) == 1:
                n = Note(pitch=n.pitch, velocity=n.velocity, start=n.start, end=after.start)
            notes.append(n)
    return dataclasses.replace(seq, notes=tuple(notes))  # the sequence sorts them


def close_one_step_holes(seq: NoteSequence, step: float, *, max_interval: int = 12) -> NoteSequence:
    """Each note that ends one grid step before an onset within `max_interval` semitones of it, with no onset
    at its own end, is lengthened to that onset (the `legato` decoding)."""
    onsets: dict[int, list[int]] = {}
    for n in seq.notes:
        onsets.setdefault(round(n.start / step), []).append(n.pitch)
    notes = []
    for n in seq.notes:
        end = round(n.end / step)
        if end not in onsets and any(abs(p - n.pitch) <= max_interval for p in onsets.get(end + 1, ())):
            n = Note(pitch=n.pitch, velocity=n.velocity, start=n.start, end=round((end + 1) * step, 6))
        notes.append(n)
    return dataclasses.replace(seq, notes=tuple(notes))
