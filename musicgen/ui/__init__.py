"""The Streamlit half of musicgen: the only package (with `app.py` and `pages/`) that imports Streamlit.

One module per page (`generation`, `compare`, `training`, `style_push`, `interpolate`, `listening`,
`game`, `results`, `cards` for the home page), plus what they share: `widgets` (model picker, seed, the
held-out-or-upload piece picker, the audio player), `resources` (the process's cached resources; importing
it sets the torch settings once) and `errors` (library errors as plain messages). A page imports its own
modules directly; this package re-exports nothing, so importing one page's module never loads another's.
"""
