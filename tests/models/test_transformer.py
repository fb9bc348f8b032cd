"""The relative-position Transformer: training step, exact KV-cached sampling, determinism per seed."""
import pytest
import torch

from musicgen.batches import TokenBatches
from musicgen.checkpoints import load_checkpoint
from musicgen.corpora import toy_corpus
from musicgen.midi import to_midi_bytes
from musicgen.models import build_model
from musicgen.models.token_sampling import sample_token_sequences
from musicgen.models.transformer import band_mask, skew
from musicgen.presets import PRESETS, toy_preset
from musicgen.representations.notes import NoteTokens
from musicgen.sampling import Length, SamplingError

REP = NoteTokens()


def toy_model(seed: int = 0, **overrides):
    torch.manual_seed(seed)
    return build_model("transformer", {**toy_preset("transformer").model_config, **overrides}, REP)


@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory):
    from musicgen.train import train

    return train(toy_preset("transformer"), out_dir=tmp_path_factory.mktemp("toy") / "toy-transformer",
                 progress=False)


def test_skew_puts_each_distance_in_place():
    L = 6
    qer = torch.randn(2, 3, L, L)  # column r = distance L-1-r
    s = skew(qer)
    for i in range(L):
        for j in range(i + 1):
            assert torch.equal(s[..., i, j], qer[..., i, L - 1 - (i - j)])


def test_band_mask_hides_future_and_far_past():
    m = band_mask(5, 3)
    assert m[1, 2] and m[4, 1] and not m[4, 2] and not m[2, 2]


def test_relative_attention_matches_a_naive_loop():
    model = toy_model(dropout=0.0).eval()
    attn = model.blocks[0].attn
    x = torch.randn(2, 9, model.config.d_model)
    out, _ = attn(x, band_mask(9, attn.context))
    q, k, v = attn._heads(x)
    rows = []
    for i in range(9):
        keys = range(max(0, i - attn.context + 1), i + 1)
        logits = torch.stack([(q[:, :, i] * (k[:, :, j] + attn.rel[:, min(i - j, attn.max_distance - 1)])).sum(-1)
                              for j in keys], -1) / attn.dh ** 0.5
        rows.append((logits.softmax(-1)[..., None] * v[:, :, list(keys)]).sum(-2))
    y = torch.stack(rows, 2).transpose(1, 2).reshape(2, 9, -1)
    assert torch.allclose(out, attn.proj(y), atol=1e-5)


def test_train_step_changes_weights_and_lowers_the_loss():
    model = toy_model()
    opts = model.make_optimizers(lr=3e-3, weight_decay=0.01)
    batches = TokenBatches.from_pieces(REP, toy_corpus().subset("train"), window=32, batch_size=8, augment=False)
    before_w = {k: v.clone() for k, v in model.state_dict().items()}
    before = model.eval_loss(batches.sequential())["loss"]
    g = torch.Generator().manual_seed(0)
    for _ in range(6):
        for batch in batches.epoch(g):
            out = model.train_step(batch, opts)
    assert set(out) == {"train_loss"}
    assert all(not torch.equal(before_w[k], v) for k, v in model.state_dict().items())
    assert model.eval_loss(batches.sequential())["loss"] < before - 1.0
    # the warm-up scales the step, then hands the scheduled learning rate back
    assert all(g["lr"] == 3e-3 and g["steps_done"] > 5 for g in opts["model"].param_groups)


def test_reads_sequences_longer_than_its_context():
    model = toy_model().eval()
    long = torch.randint(3, REP.vocab_size, (2, 3 * model.config.context + 1))
    assert torch.isfinite(model.loss(long)["loss"])


def test_kv_cache_gives_the_logits_of_a_full_forward_pass():
    model = toy_model(seed=1).eval()
    n = 2 * model.config.context + 10  # well past the cache length: the band makes the cache exact
    tokens = torch.randint(3, REP.vocab_size, (3, n))
    with torch.no_grad():
        full, _ = model(tokens)
        logits, caches = model(tokens[:, :7])
        stepped = [logits[:, -1]]
        for t in range(7, n):
            last, caches = model.step(tokens[:, t], caches)
            stepped.append(last)
    assert all(c[0].shape[2] == model.config.context for c in caches)  # keys trimmed to the window
    assert torch.allclose(torch.stack(stepped[:-1], 1), full[:, 6:n - 1], atol=1e-4)


def test_cached_sampling_plays_the_notes_of_a_full_rerun(toy_checkpoint):
    model = load_checkpoint(toy_checkpoint).model

    def start(prefix):  # no cache: the state is every token so far, re-read in full at each step
        return prefix, model(prefix)[0][:, -1]

    def step(tokens, seen):
        seen = torch.cat([seen, tokens[:, None]], 1)
        return seen, model(seen)[0][:, -1]

    kw = {"n": 2, "length": Length.parse("8s"), "temperature": 1.0, "seed": 7, "top_k": None, "top_p": None,
          "primer": None}
    with torch.inference_mode():
        naive = sample_token_sequences(representation=model.representation, start=start, step=step, **kw)
    cached = model.sample(2, length="8s", seed=7)
    assert [to_midi_bytes(x) for x in naive] == [to_midi_bytes(x) for x in cached]
    assert sum(len(x) for x in cached) > 20  # well past the 32-token context


def test_same_seed_same_notes_and_sampling_past_the_window(toy_checkpoint):
    model = load_checkpoint(toy_checkpoint).model
    assert model.config.context == 32
    a = model.sample(2, length="20s", seed=3)  # hundreds of tokens: far past the 32-token cache
    b = model.sample(2, length="20s", seed=3)
    assert [to_midi_bytes(x) for x in a] == [to_midi_bytes(x) for x in b]
    assert a[0].notes != model.sample(1, length="20s", seed=4)[0].notes
    assert max(n.start for n in a[0].notes) > 10.0
    by_notes = model.sample(1, length="120n", seed=1, temperature=0.8, top_k=5, top_p=0.9)[0]
    assert len(by_notes) == 120


def test_primer_is_continued(toy_checkpoint):
    model = load_checkpoint(toy_checkpoint).model
    primer = toy_corpus().pieces[0].first_notes(8)
    [seq] = model.sample(1, length="4s", seed=0, primer=primer)
    assert int(seq.meta_dict()["primer_notes"]) == 8
    # generated notes may join the primer's last chord, so compare as a set of (pitch, onset)
    onsets = {(n.pitch, round(n.start, 3)) for n in seq.notes}
    assert {(n.pitch, round(n.start, 3)) for n in primer.notes} <= onsets
    assert seq.duration > primer.duration


def test_bad_sampling_params_raise(toy_checkpoint):
    model = load_checkpoint(toy_checkpoint).model
    with pytest.raises(SamplingError):
        model.sample(1, length="5s", temperature=0)
    with pytest.raises(SamplingError):
        model.sample(1, length="5s", top_p=1.5)


def test_preset_is_registered_and_fits_its_window():
    p = PRESETS["transformer"]
    assert p.family == "transformer" and p.train.threads == 1
    assert p.train.window <= p.model_config["context"]
    assert "velocity" in p.limitations
