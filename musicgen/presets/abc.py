"""Preset of system C-abc: a character-level LSTM that writes Irish folk tunes as ABC text."""

from musicgen.presets.base import Preset, TrainConfig, register

register(Preset(
    id="C-abc", system="C-abc", family="char-lstm",
    title="Folk tunes as text (character LSTM over ABC)",
    description=(
        "This model never sees notes: it reads and writes ABC, the plain-text notation folk musicians use "
        "to share tunes (letters for notes, numbers for lengths, bar lines as '|'). Like predictive text, it "
        "writes one character at a time, each chosen from what it predicts should come next. The finished "
        "text is then read by music21 into notes. Trained on about 3,000 Irish and Scottish tunes (reels, "
        "jigs, hornpipes, airs) from O'Neill's 1850 and Ryan's Mammoth collections, which come with music21. "
        "Beside each tune the app shows the text it wrote."),
    limitations=(
        "Much smaller than the study's: one LSTM of 512 units (study 1024), 64-d embedding (study 256), 2425 steps of 32 windows x 128 characters (~16.6 epochs, 20 min on one busy CPU core). It overfits: validation loss was lowest at ~1250 steps (1.172 nats/char) and ended at 1.253 (test 1.187 nats per character; not comparable with note-token models). Trained on music21's O'Neill's 1850 + Ryan's Mammoth (3031 tunes, 2425 for training), not the study's irish.abc. Titles, fingerings, chord names and decorations are dropped; repeats are not expanded. One sample is one tune (median real tune 24 s at a fixed 120 crotchets/min): shorter tunes stay shorter than asked, longer ones are cut. A quick check gave 15 of 16 tunes parsing at temperature 1; tunes that do not parse are shown as text with a warning. A primer is written as monophonic ABC in C, a style the corpus rarely uses. No score rendering (no offline engraver installed)."),
    corpus="irish-abc", representation="abc",
    model_config={"embed_dim": 64, "hidden": 512, "layers": 1, "dropout": 0.1},
    # ~0.45 s a step on one busy core: the wall-clock cap (20 min) stops it before 3000 steps.
    train=TrainConfig(batch_size=32, window=128, lr=3e-3, max_steps=3000, max_seconds=20 * 60,
                      eval_every=250, log_every=25, augment_transpose=False, threads=1),
    sampling_defaults={"temperature": 1.0, "top_k": None, "top_p": None, "length": "30s"},
))
