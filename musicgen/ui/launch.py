"""`python -m musicgen.ui.launch run app.py [streamlit flags]`: `streamlit run`, minus Streamlit's old "pages/
folder" mode, for the app and every script that serves it (scripts/app.sh, serve.sh, the browser tests).

A fresh Streamlit server runs its *first* script run in the old multipage mode whenever a `pages/` folder sits
beside the entry point (`PagesManager.uses_pages_directory`, process-wide, until `st.navigation` has run once):
the first visitor of, say, /Live_vote got a sidebar built from the folder, the home page listed as "app" and
Streamlit's own page titles. Our pages are registered by `st.navigation` in app.py, so the flag is cleared here
before the server starts; after that the command is exactly Streamlit's.
"""

from __future__ import annotations

import sys

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli


def main() -> None:
    PagesManager.uses_pages_directory = False
    sys.argv[0] = "streamlit"
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
