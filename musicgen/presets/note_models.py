"""Presets of the note-token systems (A-lstm, B-lstm, markov) and the style push (D-classifier-ascent)."""

from musicgen.presets.base import Preset, TrainConfig, register

register(Preset(
    id="A-lstm", system="A-lstm", family="lstm",
    title="Next-note LSTM",
    description=(
        "A recurrent neural network that reads the music so far and predicts the next note or chord, "
        "one at a time, like predictive text for music. Study A's architecture: three stacked LSTM layers "
        "with dropout 0.3, a dense layer of 256 and a softmax over the vocabulary. Trained here on ~300 "
        "Bach chorales, transposed into every key that fits."),
    limitations=(
        "Narrower than the study's (3×256 LSTM units instead of 3×512) so it trains in under 30 minutes on "
        "a 2-core CPU. Chords are written as their notes (lowest first) followed by a time step, instead of "
        "one token per chord, and each note keeps its own length (the study played every token as an "
        "eighth note). It learns local harmony and voice-leading, but not a chorale's phrase form or "
        "cadences over long spans; at high temperature it wanders out of key."),
    model_config={"embed_dim": 128, "hidden": 256, "layers": 3, "dense": 256, "dropout": 0.3},
    # 4000 steps ≈ 18 min on 2 idle cores; the wall-clock cap stops it on a busy machine.
    train=TrainConfig(batch_size=32, window=128, lr=3e-3, max_steps=4000, max_seconds=30 * 60,
                      eval_every=250, log_every=25),
))

register(Preset(
    id="B-lstm", system="B-lstm", family="lstm",
    title="Small next-note LSTM",
    description=(
        "The same kind of note-by-note predictor as the next-note LSTM, but much smaller: two LSTM layers "
        "of 128 units instead of three of 256. Study B's big LSTM barely learned and the study suggested a "
        "smaller model; this one answers that question on the same Bach chorales, tokens and split."),
    limitations=(
        "Same tokens and data as A-lstm, so the two compare directly (held-out NLL, evaluate). Study B "
        "trained on classical piano music; we use the chorales so the comparison is fair. Smaller means "
        "less capacity for harmony: expect more wrong notes than A-lstm at the same temperature."),
    model_config={"embed_dim": 64, "hidden": 128, "layers": 2, "dense": 128, "dropout": 0.3},
    train=TrainConfig(batch_size=32, window=128, lr=3e-3, max_steps=5000, max_seconds=20 * 60,
                      eval_every=250, log_every=25, threads=1),
))

register(Preset(
    id="markov", system="markov", family="markov",
    title="Markov chain (baseline)",
    description=(
        "The classic baseline: it counts which note or time step followed each run of three tokens in "
        "the Bach chorales and rolls weighted dice with those counts. No neural network; every other "
        "model must beat it."),
    limitations=(
        "Remembers only the last three tokens (a chord or two), so it has no sense of key, phrase or "
        "form beyond that and drifts aimlessly; unseen contexts fall back to shorter ones "
        "(Witten-Bell interpolation)."),
    model_config={"order": 3},
    train=TrainConfig(batch_size=64, window=1024, max_epochs=1, eval_every=10**9, log_every=10,
                      lr_decay=False),
))


register(Preset(
    id="D-classifier-ascent", system="D-classifier-ascent", family="classifier-ascent",
    title="Style push (composer classifier + gradient ascent)",
    description=(
        "Not a composer but an editor: a small Transformer learned to tell five composers apart (Bach, "
        "Palestrina, Monteverdi, Beethoven, Mozart) from four-bar piano-roll snippets, and names the composer "
        "of all 30 held-out pieces correctly (75 % of single four-bar snippets). To \"push\" a piece toward a "
        "composer, its piano roll is nudged step by step in whatever direction raises the classifier's belief "
        "in that composer, while penalties keep it close to the original and smooth in time; the result is "
        "cut back into notes. Study D's last system, kept as its negative result."),
    limitations=(
        "The study found this gives noise, and so do we. Pushing 16 held-out pieces toward Mozart raised the "
        "classifier's belief from 16 % to 98 % on the blurred (0..1) piano roll, but only to 39 % once cut back "
        "into notes: the ascent finds faint changes that fool the classifier, not Mozart. What survives is "
        "scattered short notes (89 % of the original notes kept, 26 % more notes), not a change of style. "
        "The classifier mostly tells string quartets (Beethoven, Mozart) from vocal music and confuses "
        "Beethoven with Mozart in short snippets. Snippets are 64 sixteenth notes × 128 pitches at one tempo "
        "for every score; ~150 pieces from music21's corpus, split by piece (held-out numbers rest on 30 "
        "pieces, only 4 or 5 for Beethoven and Mozart). Without a primer it pushes a held-out validation "
        "piece chosen by the seed toward Mozart."),
    corpus="music21-composers", representation="pianoroll",
    model_config={"steps": 64, "d_model": 64, "heads": 4, "layers": 2, "ff": 128, "dropout": 0.1,
                  "default_target": "mozart", "ascent_steps": 150, "ascent_lr": 0.05, "noise": 0.02,
                  "l2_weight": 0.5, "continuity_weight": 0.05},
    train=TrainConfig(batch_size=64, window=64, lr=1e-3, weight_decay=0.01, max_steps=4000, max_seconds=13 * 60,
                      eval_every=250, log_every=25, augment_transpose=True, threads=1),
    sampling_defaults={"temperature": 1.0, "top_k": None, "top_p": None, "length": "30s", "target": "mozart",
                       "strength": 1.0},
))
