"""Presets of study D's latent-variable systems on piano rolls: D-lstm-vae and D-tvae (its negative result)."""

from musicgen.presets.base import Preset, TrainConfig, register

_BACH_ROLL = ("Trained on the ~280 training Bach chorales (same split as the note models) as windows of 64 "
              "sixteenth notes (4 bars at 100 beats per minute, 9.6 s), transposed by up to ±6 semitones.")

register(Preset(
    id="D-lstm-vae", system="D-lstm-vae", family="lstm-vae",
    title="LSTM variational autoencoder (piano roll)",
    description=(
        "A model that learns to squeeze four bars of music into 20 numbers (a point in a 'latent space') "
        "and to rebuild the four bars from them. One LSTM reads the piano roll and writes the 20 numbers; "
        "another LSTM plays the bars back one sixteenth note at a time, hearing the 20 numbers at every step, "
        "and flips a weighted coin for each key. Picking a random point gives new music; walking from one "
        "piece's point to another's morphs one into the other (see the Interpolate page). Longer pieces are "
        "chained four bars at a time, each new point staying close to the last one. " + _BACH_ROLL),
    limitations=(
        "Far from the study's 'best system' on our CPU budget: 3500 steps (~14 minutes on one CPU thread, "
        "~125 passes over the windows). Held-out bound 6.27 nats per 16th-note frame (reconstruction 6.09 + "
        "KL 0.19). Its music is recognisably worse than the note LSTMs: at the default temperature 0.8, 32 "
        "samples of 30 s had 4.6 notes per second but ~30 different pitches each (a chorale uses ~15-20): every "
        "key is an independent coin flip per frame, so stray notes and broken-up held notes appear; lower "
        "temperature (0.6) is sparser and more in key, higher (1.0) is busier. MGEval overlap with held-out "
        "chorales 0.546 on 64 samples (below the 0.6 we aimed for; the note LSTMs reach ~0.80) and a classifier "
        "tells them from real chorales every time (C2ST 1.0). Interpolation works mechanically (the latent "
        "is used: per-dimension spread 0.4-1.4 across held-out pieces) but the end steps only faintly resemble "
        "the two pieces (about 2 % of note cells shared), so a morph is a walk between two textures rather than "
        "between two recognisable tunes. Smaller than a typical study setup: 192 units per LSTM layer, 64-step "
        "windows (4 bars), keys MIDI 28-99 only, no velocities; longer pieces are chained 4 bars at a time. "
        "Added to the study's recipe, each because the first run collapsed (every piece got the same latent): "
        "the encoder averages its outputs instead of using its last state, the latent means are batch-"
        "normalised (BN-VAE), 30 % of the decoder's previous-frame inputs are blanked while training, and a "
        "linear path from the previous frame to the output speeds up learning to hold notes."),
    representation="pianoroll",
    sampling_defaults={"temperature": 0.8, "top_k": None, "top_p": None, "length": "30s"},
    model_config={"steps": 64, "pitch_low": 28, "keys": 72, "latent": 20, "hidden": 192, "encoder_layers": 3,
                  "decoder_layers": 3, "dropout": 0.1, "kl_max": 1.0, "kl_warmup": 1000, "free_bits": 0.0,
                  "latent_norm": 1.0, "frame_dropout": 0.3, "skip": True,
                  "carry": 0.5, "phase": 4, "frame_ar": 128, "hold_init": 5.0},
    train=TrainConfig(batch_size=32, window=64, lr=2e-3, max_steps=8000, max_seconds=44 * 60, eval_every=250,
                      log_every=25, threads=1),
))

register(Preset(
    id="D-tvae", system="D-tvae", family="tvae",
    title="Transformer variational autoencoder (piano roll, negative result)",
    description=(
        "Study D's Transformer version of the autoencoder idea: a stack of attention layers reads a whole "
        "four-bar piano roll at once and summarises it as 20 numbers (its first and last outputs give them); "
        "a second stack writes all four bars at once from those numbers, with a learned 'position' for each "
        "sixteenth note, and a weighted coin is flipped for every key. The study found it produced loops of "
        "the commonest notes; it is shipped as that negative result. " + _BACH_ROLL),
    limitations=(
        "The negative result, reproduced in our own way: the whole window is written at once, so every key of "
        "every sixteenth note is an independent coin flip given the 20 numbers, and nothing ties one frame to "
        "the next. The result is a stutter of one-sixteenth-note blips around the commonest pitches (a sample "
        "at seed 0: 555 notes in 30 s, mean length 0.18 s, D4 alone 47 times) - 18.6 notes per second at "
        "temperature 1 (the default, as trained) against ~5 in the chorales, with ~40 different pitches per "
        "30 s. Held-out bound 9.99 nats per frame (reconstruction 9.73 + KL 0.26) against 6.27 for the "
        "LSTM-VAE; MGEval overlap with held-out chorales 0.470 on 64 samples and C2ST 1.0. Unlike the "
        "study we decode with Bernoulli draws rather than deterministically, so it does not loop exactly; it "
        "blurs instead. Much smaller than the study's: 6 + 6 layers of width 64 (4 heads, feed-forward 128), "
        "trained for 1522 steps in 7 minutes on one CPU thread (the 7-minute cap stopped it before 2000 "
        "steps). Same windows, keys (MIDI 28-99), loss, KL schedule and batch-normalised latent means as the "
        "LSTM-VAE, so the difference is the architecture. Interpolation runs, but the steps differ mainly in "
        "which blips sound."),
    representation="pianoroll",
    model_config={"steps": 64, "pitch_low": 28, "keys": 72, "latent": 20, "d_model": 64, "heads": 4,
                  "encoder_layers": 6, "decoder_layers": 6, "ff": 128, "dropout": 0.1, "kl_max": 1.0,
                  "kl_warmup": 1000, "free_bits": 0.0, "latent_norm": 1.0, "carry": 0.5},
    train=TrainConfig(batch_size=32, window=64, lr=1e-3, max_steps=2000, max_seconds=7 * 60, eval_every=250,
                      log_every=25, threads=1),
))
