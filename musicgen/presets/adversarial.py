"""Presets of the adversarial systems (A-gan, B-gan, E-crnngan, D-dcgan), all on the Bach chorales
split that A-lstm uses, so their evaluations compare.

The piano-roll GANs train without transposition: in the chorales' own keys a generator has a handful
of keys to learn instead of twelve (measured on B-gan: overlap 0.46 after 1000 steps with transposition
and binary neurons; 0.66 after 4000 without). E-crnngan keeps transposition: without it, 0.40 instead of
0.49.

A-gan, E-crnngan and D-dcgan ship the snapshot that scored best against the validation chorales
(`keep_best`): their adversarial training does not settle, the critic wins sooner or later and the
samples collapse, so a fixed last step would be a lottery."""

from musicgen.presets.base import Preset, TrainConfig, register

_GAN_SAMPLING = {"temperature": 1.0, "top_k": None, "top_p": None, "length": "30s"}

register(Preset(
    id="A-gan", system="A-gan", family="gan-lstm",
    title="LSTM-GAN",
    description=(
        "Two networks trained against each other: a generator turns random numbers into 19 seconds of "
        "four-part music at once, and a critic (discriminator) learns to tell its output from real Bach "
        "chorales; each gets better by beating the other. Study A's design: dense layers that grow the noise "
        "into a sequence, three LSTM layers that shape it in time, and an LSTM + bidirectional LSTM critic. "
        "It paints a piano roll: for every eighth note, which of 64 pitches sound."),
    limitations=(
        "The study made 100 tokens (one number per note or chord, rounded to a token id, so neighbouring "
        "numbers were unrelated chords, and its decoder squeezed every pitch into one octave); here each "
        "eighth note is a row of 64 pitch cells (MIDI 28-91), a cell above one half sounds. Windows are 64 "
        "steps (about 19 s; a 30 s clip joins two unrelated windows). Sixteenth-note passing tones are lost "
        "by the grid. LSTMs of 128 units instead of the study's 256 (a 2-core CPU). Trained in the chorales' own "
        "keys (no transposition), so it writes in the few keys Bach used most. With the study's recipe its LSTM "
        "critic wins within a few hundred steps and the generator learns little (overlap 0.29-0.46, samples "
        "nearly alike). What made it learn: Gaussian noise (0.2) on everything the critic sees, a nearly silent "
        "starting picture (so its untrained generator scores only 0.11), and shipping the snapshot whose "
        "samples best matched the validation chorales (step 2700 of 3000; the others collapse now and then). "
        "Overlap with held-out chorales 0.65 (real music 0.91); a classifier still tells it from Bach every "
        "time. It writes about a third as many notes as Bach: long held tones, whole bars and more, with "
        "short notes only where a window starts. Also tried: 5000 steps with the study's recipe (0.435), a "
        "critic learning 4x slower (0.39), feature matching (every sample the same piece), an R1 gradient "
        "penalty (0.29), no dropout in the generator (0.33)."),
    representation="pianoroll", representation_config={"steps_per_quarter": 2},
    model_config={"steps": 64, "seq_features": 10, "g_hidden": 128, "g_layers": 3, "d_hidden": 128,
                  "dropout": 0.3, "latent_dim": 100, "real_label": 0.9, "ema": 0.99, "binary_output": True,
                  "output_bias": -3.0, "instance_noise": 0.2, "keep_best": True},
    train=TrainConfig(batch_size=32, window=64, lr=2e-4, max_steps=3000, max_seconds=40 * 60, eval_every=100,
                      log_every=25, lr_decay=False, grad_clip=None, threads=1,
                      augment_transpose=False),
    sampling_defaults=_GAN_SAMPLING,
))

register(Preset(
    id="B-gan", system="B-gan", family="gan-dense",
    title="Dense GAN",
    description=(
        "A generator made only of fully connected layers (no memory of time) turns random numbers straight "
        "into 19 seconds of four-part music, while an LSTM critic learns to tell it from real Bach chorales. "
        "Study B's GAN, which it found \"passable\": a repeated bass note with harmony on top."),
    limitations=(
        "Same piano-roll windows and data as A-gan (64 pitch cells per eighth note, 64 steps; a 30 s clip "
        "joins two unrelated windows); study B trained on classical piano music and made 100-note sequences. "
        "With no recurrence, every step is drawn at once: it holds chords well but its melodies are stiff. "
        "Dense layers of 256, 512 and 512 units (a 1024-unit last layer would make a 17 MB checkpoint). "
        "Trained in the chorales' own keys (no transposition)."),
    representation="pianoroll", representation_config={"steps_per_quarter": 2},
    # Dense layers 256-512-512 (study B: up to 1024): the last one feeds 64 × 64 cells, and 1024 × 4096
    # weights alone would be a 17 MB checkpoint.
    model_config={"steps": 64, "g_layers": [256, 512, 512], "d_hidden": 128, "d_dense": 64, "latent_dim": 100,
                  "real_label": 0.9, "ema": 0.999, "binary_output": True},
    train=TrainConfig(batch_size=32, window=64, lr=2e-4, max_steps=4000, max_seconds=40 * 60, eval_every=250,
                      log_every=25, lr_decay=False, grad_clip=None, threads=1,
                      augment_transpose=False),
    sampling_defaults=_GAN_SAMPLING,
))

register(Preset(
    id="E-crnngan", system="E-crnngan", family="crnngan",
    title="C-RNN-GAN (continuous notes)",
    description=(
        "A GAN that writes notes one after another as four numbers each: when the note starts after the "
        "previous one, how long it lasts, its pitch and its loudness. The generator (an LSTM fed random noise "
        "and its own last note) and a bidirectional LSTM critic train against each other on Bach chorales; "
        "the generator learns to make the critic's inner picture of its music match real music's "
        "(feature matching). Study E's C-RNN-GAN."),
    limitations=(
        "LSTMs of 128 units instead of the paper's 350; it trains on windows of 64 notes (about 10 s) and, "
        "being recurrent, writes a longer piece as one line. Onsets and lengths are snapped to sixteenth notes "
        "when decoding, and the chorales have no dynamics, so loudness is constant. Fixed against the paper's "
        "public code: the features are normalised and it trains with Adam instead of SGD at lr 0.1. It learned "
        "less than we aim for: against held-out chorales its overlap is 0.49 (its untrained generator 0.32, "
        "real music 0.91, our goal 0.5). Its notes come out between the values real notes take (gaps between "
        "\"same chord\" and \"next beat\"), so the rhythm is a blur of short notes, chords rarely have four "
        "voices, and it leans on a few pitch classes. Shipped: feature matching, the snapshot whose samples best "
        "matched the validation chorales (step 2200 of 2500). Tried: the last snapshot after 2000 steps with "
        "a 30 s clip made of unrelated 64-note windows (0.42; this snapshot scores 0.43 that way), adding the usual adversarial loss (every sample alike, 0.33), "
        "the adversarial loss with an R1 penalty instead of feature matching (alike again), 4000 steps (0.34), "
        "a critic that sees the batch's spread (minibatch standard deviation, 0.40), training in the chorales' "
        "own keys (0.40), feature matching plus the usual adversarial loss at weight 0.3 with the same "
        "selection (0.33)."),
    representation="features",
    model_config={"steps": 64, "latent_dim": 32, "hidden": 128, "d_hidden": 128, "feature_matching": True,
                  "instance_noise": 0.05, "real_label": 0.9, "ema": 0.999, "keep_best": True},
    train=TrainConfig(batch_size=32, window=64, lr=2e-4, max_steps=2500, max_seconds=40 * 60, eval_every=100,
                      log_every=25, lr_decay=False, grad_clip=None, threads=1),
    sampling_defaults=_GAN_SAMPLING,
))

register(Preset(
    id="D-dcgan", system="D-dcgan", family="dcgan",
    title="DCGAN (piano-roll images)",
    description=(
        "Treats music as a picture: a piano roll, with time from left to right and pitch from bottom to "
        "top. An image generator (six transposed convolutions, the kind used to make photos) paints eight bars "
        "of chorale-like piano roll from random numbers, and an image critic with six convolutions learns to "
        "tell its pictures from real ones. Study D's DCGAN."),
    limitations=(
        "Images are 64 eighth notes × 64 pitches (MIDI 28-91) instead of the study's 128 × 128, so it "
        "trains on a 2-core CPU; sixteenth-note passing tones are lost and a 30 s clip joins unrelated "
        "eight-bar images. Every painted cell above half brightness sounds, so stray cells become stray "
        "notes. Kept from the study: six (transposed) convolutions each side, batch norm, L2 on the critic's "
        "weights. Changed, because the study's recipe collapsed here (overlap 0.29 after 600 steps, every "
        "sample alike): the critic sees the cells as they will sound (0 or 1) and is kept smooth around real "
        "pieces (an R1 gradient penalty), the generator starts from a nearly silent picture, the loss is "
        "averaged over the batch, and the snapshot that ships is the one whose samples best matched the "
        "validation chorales (step 600 of 1200: after it the critic wins and the pictures collapse). Overlap "
        "with held-out chorales 0.77 (its untrained generator 0.11, real music 0.91), yet a classifier tells "
        "its pieces from Bach's every time: it repeats one bar's rhythm over and over, mostly in eighth notes, "
        "and its voices do not lead from chord to chord. Earlier "
        "tries that failed (overlap 0.19-0.39): feature matching, a weaker critic with input noise, a "
        "spectrally normalised critic, sixteenth-note images."),
    representation="pianoroll", representation_config={"steps_per_quarter": 2},
    model_config={"steps": 64, "pitches": 64, "pitch_low": 28, "latent_dim": 128, "width": 16, "loss_sum": False,
                  "d_weight_decay": 1e-4, "real_label": 0.9, "ema": 0.99, "binary_output": True,
                  "r1_gamma": 1.0, "output_bias": -3.0, "keep_best": True},
    train=TrainConfig(batch_size=32, window=64, lr=2e-4, max_steps=1200, max_seconds=25 * 60, eval_every=100,
                      log_every=25, lr_decay=False, grad_clip=None, threads=1,
                      augment_transpose=False),
    sampling_defaults=_GAN_SAMPLING,
))
