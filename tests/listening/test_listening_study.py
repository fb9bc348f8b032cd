"""Study specs: TOML and dict loading, validation messages, round trip."""

from pathlib import Path

import pytest

from musicgen.listening import REAL, StudyError, StudySpec, load_studies, load_study

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
id = "s1"
systems = ["markov", "A-lstm", "real"]
trials_per_participant = 6
question = "Which is more musical?"
consent = "Be kind."
[clip]
seconds = 12
temperature = 0.8
[clip.overrides.A-lstm]
temperature = 1.2
top_k = 20
"""


def test_toml_study_loads_with_defaults_and_overrides(tmp_path):
    path = tmp_path / "s1.toml"
    path.write_text(GOOD)
    spec = load_study(path)
    assert spec.id == "s1" and spec.kind == "pair" and spec.systems == ("markov", "A-lstm", "real")
    assert spec.models == ("markov", "A-lstm")
    assert spec.pairs == [("A-lstm", "markov"), ("A-lstm", "real"), ("markov", "real")]
    assert spec.clip.seconds == 12.0 and spec.clip.primer == "none"
    assert spec.clip.sampling_for("markov").temperature == 0.8
    assert spec.clip.sampling_for("A-lstm").temperature == 1.2 and spec.clip.sampling_for("A-lstm").top_k == 20
    assert StudySpec.from_dict(spec.to_dict()) == spec


def test_shipped_example_study_is_valid():
    spec = load_study(ROOT / "studies" / "example.toml")
    assert spec.id == "example" and REAL in spec.systems and spec.consent


def test_defaults_fill_question_per_kind():
    spec = StudySpec.from_dict({"id": "g", "kind": "identify", "systems": ["markov", "real"]})
    assert "person" in spec.question and spec.trials_per_participant == 10 and spec.clip.seconds == 20.0


@pytest.mark.parametrize("patch, message", [
    ({"id": "Bad Id"}, "id:"),
    ({"id": 3}, "id:"),
    ({"kind": "triple"}, "kind:"),
    ({"systems": "markov"}, "systems:"),
    ({"systems": ["markov"]}, "at least two systems"),
    ({"systems": ["markov", "markov"]}, "listed twice"),
    ({"kind": "identify", "systems": ["markov", "A-lstm"]}, "needs 'real'"),
    ({"trials_per_participant": 0}, "trials_per_participant"),
    ({"trials_per_participant": 2.5}, "trials_per_participant"),
    ({"trials_per_participant": True}, "trials_per_participant"),
    ({"question": 5}, "question:"),
    ({"colour": "red"}, "unknown field(s) colour"),
    ({"clip": {"seconds": 0}}, "clip.seconds"),
    ({"clip": {"seconds": 1000}}, "clip.seconds"),
    ({"clip": {"temperature": -1}}, "clip.temperature"),
    ({"clip": {"top_p": 2}}, "clip.top_p"),
    ({"clip": {"primer": "test:bwv1"}}, "clip.primer"),
    ({"clip": {"speed": 2}}, "clip: unknown field(s) speed"),
    ({"clip": {"overrides": {"nobody": {"temperature": 1}}}}, "clip.overrides.nobody"),
    ({"clip": {"overrides": {"real": {"temperature": 1}}}}, "clip.overrides.real"),
    ({"clip": {"overrides": {"markov": {"seconds": 3}}}}, "clip.overrides.markov: unknown"),
    ({"corpus": ""}, "corpus:"),
])
def test_invalid_fields_are_named(patch, message):
    data = {"id": "s", "systems": ["markov", "real"], **patch}
    with pytest.raises(StudyError, match=None) as err:
        StudySpec.from_dict(data)
    assert message in str(err.value)


def test_toml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nsystems = [\n')
    with pytest.raises(StudyError, match="bad.toml: not valid TOML"):
        load_study(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('id = "x"\nsystems = ["markov"]\n')
    with pytest.raises(StudyError, match="wrong.toml: systems"):
        load_study(wrong)
    with pytest.raises(StudyError, match="cannot read"):
        load_study(tmp_path / "missing.toml")


def test_several_studies_from_a_folder_and_duplicate_ids(tmp_path):
    (tmp_path / "a.toml").write_text('id = "a"\nsystems = ["markov", "real"]\n')
    (tmp_path / "b.toml").write_text('id = "b"\nkind = "identify"\nsystems = ["markov", "real"]\n')
    assert sorted(load_studies(tmp_path)) == ["a", "b"]
    (tmp_path / "c.toml").write_text('id = "a"\nsystems = ["markov", "real"]\n')
    with pytest.raises(StudyError, match="used by another file"):
        load_studies(tmp_path)


def test_missing_checkpoints_are_listed(checkpoints_env):
    spec = StudySpec.from_dict({"id": "m", "systems": ["toy-markov", "nope", "real"]})
    assert spec.missing_checkpoints() == ["nope"]
