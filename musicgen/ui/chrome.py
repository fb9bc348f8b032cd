"""Pages that show Streamlit's chrome to nobody: the participant's listening page, a phone in a live vote, the
kiosk. `hide_app_chrome()` hides the sidebar (and its page list), the header with the toolbar and its "Deploy"
button, and the footer, so a participant cannot wander to Generate and hear the systems by name. (The
participant-only deployment, `scripts/study.sh`, also serves no other page; this is for the full app.)"""

from __future__ import annotations

import streamlit as st

HIDE_APP_CHROME = """
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stToolbar"], [data-testid="stHeader"], [data-testid="stDecoration"], header, footer,
#MainMenu { display: none !important; }
"""


def hide_app_chrome(extra_css: str = "") -> None:
    st.html(f"<style>{HIDE_APP_CHROME}{extra_css}</style>")
