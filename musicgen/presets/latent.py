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
        "another LSTM plays the bars back one sixteenth note at a time, hearing the 20 numbers and where in the "
        "beat it is at every step, and decides the keys of each sixteenth from low to high with a weighted coin "
        "per key, each coin knowing which keys below it already sound. Picking a random point gives new music; "
        "walking from one piece's point to another's morphs one into the other (see the Interpolate page). "
        "Longer pieces are chained four bars at a time, each new point staying close to the last one. "
        + _BACH_ROLL.replace(", transposed by up to ±6 semitones.", " (first run transposed by up to ±6 "
                             "semitones, second run in the original keys).")),
    limitations=(
        "Retrained in December 2026 (the first version scored overlap 0.546). Two chained runs on one CPU "
        "thread: 8000 steps in 40 minutes with every window transposed by up to ±6 semitones, then 1500 "
        "more steps (6 minutes, resumed) in the chorales' own keys, because the transposed model wrote every key "
        "equally often and the classifier used that. Held-out bound 2.68 nats per 16th-note frame "
        "(reconstruction 2.50 + KL 0.18; the first version: 6.27). MGEval overlap with held-out chorales 0.865 "
        "on 64 samples of 30 s at the default temperature 0.9 (the note LSTMs reach ~0.80), and a classifier "
        "tells them from real chorales 94 % of the time (C2ST 0.942; 0.931 and 0.929 on seeds 64-127 and "
        "128-191; before the legato decoding below: 0.971, 0.938 and 0.952, so one set of 64 seeds moves it "
        "by ±0.02). What gives them away: too many sixteenth-note onsets (15 % of onset gaps; Bach: 7 %), "
        "mostly a voice moving a 16th before the beat, and a voice now and then dropping out (3.9 notes "
        "sounding on average; Bach 4.0-4.2). Decoding plays a note that stops one 16th before another "
        "begins within an octave as lasting up to it ('legato': a chorale voice does not rest for one 16th "
        "on its way to the next note; real chorales sent through the roll are unchanged by it), which "
        "halves the dotted-eighth notes that such holes made. Why "
        "the first version was weak (measured on held-out windows): not posterior collapse (every latent "
        "dimension carried 0.35-0.78 nats) but its output: each key an independent coin per 16th, with no "
        "sense of the beat, so 41 % of its notes were one 16th long (Bach: 8 %), and its piano roll wrote "
        "repeated notes a 16th short (real chorales sent through that roll are already told from Bach 98 % of "
        "the time). What changed: the decoder hears the position in the beat, each key's coin sees the keys "
        "below it in the same 16th (a MADE output instead of independent coins), a one-16th gap between two "
        "notes of the same key is played as a repeated note, training starts from 'notes are held' (the "
        "loss fell below the first version's final value in 250 steps), each chained window keeps 80 % of "
        "the last one's latent (was 50 %: keys wandered between windows), and the default temperature is 0.9 "
        "(measured on other seeds: 0.8-1.0 all give overlap 0.84-0.87, C2ST 0.92-0.97). Interpolation: "
        "the default ('most likely notes') decoding now plays 61 notes per 4-bar step (the first version: 3); "
        "over 8 pairs of held-out chorales and 5 steps, no two neighbouring steps were identical and "
        "neighbouring steps differ by 0.80 of the feature difference between two random real openings, while "
        "the two ends differ by 0.96 (scripts/interpolation_smoothness.py): the latent is used, but a step "
        "changes the music almost as much as the whole walk, so a morph sounds like a chain of related "
        "phrases rather than a gradual blend. Smaller "
        "than a typical study setup: 192 units per LSTM layer, 64-step windows (4 bars), keys MIDI 28-99 "
        "only, no velocities. Kept from the first version against posterior collapse: the encoder averages its "
        "outputs, the latent means are batch-normalised (BN-VAE, which also keeps each dimension's KL above "
        "0.5 nats, so free bits were not needed), and 30 % of the decoder's previous-frame inputs are blanked "
        "while training."),
    representation="pianoroll",
    sampling_defaults={"temperature": 0.9, "top_k": None, "top_p": None, "length": "30s"},
    model_config={"steps": 64, "pitch_low": 28, "keys": 72, "latent": 20, "hidden": 192, "encoder_layers": 3,
                  "decoder_layers": 3, "dropout": 0.1, "kl_max": 1.0, "kl_warmup": 1000, "free_bits": 0.0,
                  "latent_norm": 1.0, "frame_dropout": 0.3, "skip": True,
                  "carry": 0.8, "phase": 4, "frame_ar": 128, "hold_init": 5.0, "restrike": True,
                  "legato": True},
    train=TrainConfig(batch_size=32, window=64, lr=2e-3, max_steps=9500, max_seconds=44 * 60, eval_every=250,
                      augment_transpose=False,
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
