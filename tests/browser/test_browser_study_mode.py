"""A participant-only deployment (`scripts/study.sh`, MUSICGEN_MODE=study): the listening page and nothing else."""

import pytest

from musicgen import listening as L

pytestmark = pytest.mark.browser

OTHER_PAGES = ["Generate", "Results", "Train"]  # the organiser's, the generator's and the trainer's pages


@pytest.fixture(scope="module")
def study(app_data):
    store = L.VoteStore(f"sqlite:///{app_data / 'listening.sqlite'}")
    store.save_study(L.StudySpec.from_dict({"id": "only", "systems": ["markov", "real"], "trials_per_participant": 1,
                                            "title": "Participants only", "clip": {"seconds": 3}}))
    yield f"study=only&key={L.study_key(store, 'only')}"  # the participant link's query
    store.close()


def test_the_study_link_works_and_nothing_else_is_reachable(page, study_server, study):
    page.goto(f"{study_server}/Listening_test?{study}")
    page.get_by_text("Participants only").first.wait_for()
    body = page.inner_text("body")
    assert "Deploy" not in body
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no page list
    assert page.locator('[data-testid="stSidebar"]').count() == 0 or not page.locator(
        '[data-testid="stSidebar"]').is_visible()
    assert page.locator('[data-testid="stToolbarActions"]').count() == 0  # no Deploy / toolbar actions
    for name in OTHER_PAGES:
        page.goto(f"{study_server}/{name}")
        page.wait_for_timeout(1500)
        text = page.inner_text("body")
        # Streamlit answers an unknown page with the default one: the participant page, never the asked one
        assert "Listening test" in text or "study link" in text, (name, text[:300])
        for marker in ("Generate", "Compare models", "results password", "Train a model", "Style push"):
            assert marker not in text, (name, marker)
