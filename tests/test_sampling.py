import pytest
import torch

from musicgen.sampling import Length, SamplingError, check_params, draw, filter_logits, make_generator


def test_length_parse():
    assert Length.parse("30s") == Length(30.0, "seconds")
    assert Length.parse("30") == Length(30.0, "seconds")
    assert Length.parse("200n") == Length(200.0, "notes")
    assert Length.parse(12) == Length(12.0, "seconds")
    for bad in ["-3s", "abc", "0", "100000s"]:
        with pytest.raises(SamplingError):
            Length.parse(bad)


@pytest.mark.parametrize("kwargs", [dict(temperature=0.0), dict(temperature=99), dict(top_k=0),
                                    dict(top_p=0.0), dict(top_p=1.5), dict(seed=-1)])
def test_out_of_range_params(kwargs):
    params = dict(temperature=1.0, top_k=None, top_p=None, seed=0) | kwargs
    with pytest.raises(SamplingError):
        check_params(**params)


def test_top_k_and_top_p_filtering():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    k = filter_logits(logits, top_k=2)
    assert torch.isinf(k[0, 2:]).all() and torch.isfinite(k[0, :2]).all()
    p = filter_logits(logits, top_p=0.7)  # 0.5 alone < 0.7, 0.5+0.3 ≥ 0.7
    assert torch.isfinite(p[0, :2]).all() and torch.isinf(p[0, 2:]).all()
    assert torch.isfinite(filter_logits(logits, top_p=0.1)[0, 0])  # always keeps the best


def test_draws_depend_only_on_seed():
    logits = torch.zeros(4, 50)
    a = draw(logits, make_generator(7))
    torch.manual_seed(123)  # global seed must not matter
    b = draw(logits, make_generator(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, draw(logits, make_generator(8)))
