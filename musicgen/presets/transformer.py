"""Preset of the `transformer` system: a small relative-position Transformer on the Bach chorales."""

from musicgen.presets.base import Preset, TrainConfig, register

register(Preset(
    id="transformer", system="transformer", family="transformer",
    title="Small Music Transformer",
    description=(
        "An attention network, the kind behind today's text and music generators, shrunk to run on a laptop. "
        "It predicts the next note or time step from up to the last 256 tokens (about 12 bars), and instead of "
        "reading a note's absolute position it learns how much to care about a note depending on how far "
        "back it lies (\"relative attention\", as in Google's Music Transformer), which suits music that "
        "repeats patterns at any point. Same Bach chorales, tokens and split as the LSTMs, so the numbers "
        "compare directly: it is our best model on them (held-out NLL 1.49 per token against 1.76 for the "
        "small LSTM; its samples are harder to tell from real chorales)."),
    limitations=(
        "Tiny next to the Music Transformer paper (4 layers of width 128 with 4 heads, about 1 M parameters, "
        "instead of 6+ layers of 512) and trained for 23 minutes on one CPU core (2500 steps of 16 windows of "
        "256 tokens, ~9 passes over the transposed data); validation loss was still falling (1.467 → 1.451 "
        "over the last 100 steps) while the training loss (1.28) had dropped below it. It sees at most "
        "the last 256 tokens (about 12 bars); anything earlier is forgotten, so it cannot repeat a chorale's "
        "opening phrase at the end. The chorales carry no dynamics, so there are no velocity tokens and every "
        "note plays at one loudness; note-offs are written as a duration on each note (longest a whole "
        "note). A classifier still tells its 30-second samples from real chorales 69 % of the time (chance "
        "is 50 %). It knows four-part hymn harmony and nothing else, and at high temperature it drifts out of "
        "key."),
    model_config={"d_model": 128, "heads": 4, "layers": 4, "ff": 512, "dropout": 0.1, "attn_dropout": 0.0,
                  "context": 256, "max_distance": 256, "warmup_steps": 200},
    # Measured 0.55 s/step (2500 steps in 23 min) with another training sharing the 2 cores, ~1.1 s/step
    # with three; the wall-clock cap stops it on a busier machine (before the cosine decay ends).
    train=TrainConfig(batch_size=16, window=256, lr=2e-3, weight_decay=0.01, max_steps=2500,
                      max_seconds=25 * 60, eval_every=200, log_every=25, threads=1),
))

# The flagship: the same network and tokens, larger, trained longer (a chain of resumed runs of at most 45 min
# each, listed on its card), on copies transposed into the chorales' own keys instead of all twelve
# (musicgen/keys.py): a model trained on all twelve writes in F# major as often as in G major.
register(Preset(
    id="transformer-large", system="transformer", family="transformer",
    title="Music Transformer (large)",
    description=(
        "Our best model: the same kind of attention network as the small Music Transformer, three times larger "
        "and trained three times longer, reading up to the last 256 tokens (about 12 bars) and weighing "
        "earlier notes by how far back they lie (\"relative attention\", as in Google's Music Transformer). "
        "It learned from copies of each chorale moved into the keys Bach himself used, so it writes in G "
        "major or A minor as often as he did, instead of in every key alike."),
    limitations=(
        "Still small next to the Music Transformer paper (6 layers of width 192 instead of 6+ layers of 512), "
        "trained on one CPU for about an hour and a half. It sees at most the last 256 tokens (about 12 "
        "bars), so it cannot repeat a chorale's opening phrase at the end. The chorales carry no dynamics, so "
        "every note plays at one loudness. It knows four-part hymn harmony and nothing else."),
    model_config={"d_model": 192, "heads": 6, "layers": 6, "ff": 768, "dropout": 0.2, "attn_dropout": 0.0,
                  "context": 256, "max_distance": 256, "warmup_steps": 300},
    train=TrainConfig(batch_size=16, window=256, lr=1.5e-3, weight_decay=0.05, max_steps=5000,
                      max_seconds=44 * 60, eval_every=250, log_every=25, transpose_keys="corpus", threads=2),
))
