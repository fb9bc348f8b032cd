"""Write the committed parse of the music21 corpora (`musicgen/corpora/packed/`), so no machine parses them.

    .venv/bin/python scripts/pack_corpora.py [NAME ...]          # parse again (minutes), then pack
    .venv/bin/python scripts/pack_corpora.py --from-cache [NAME ...]   # pack what this machine parsed already

Run it after music21 or the corpus code changes (`CACHE_VERSION`), then commit the folder;
`tests/test_corpora.py` checks the packed pieces against a fresh parse of a few of them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicgen.corpora import load_corpus  # noqa: E402
from musicgen.corpora.base import CACHE_VERSION, PACKED_DIR, cache_dir  # noqa: E402
from musicgen.corpora.irish_abc import CACHE_VERSION as ABC_CACHE_VERSION  # noqa: E402

PACKED = {  # corpus → the cache files that hold its parse
    "bach-chorales": [f"bach-chorales.v{CACHE_VERSION}.npz"],
    "music21-composers": [f"music21-composers.v{CACHE_VERSION}.npz"],
    "oneills-1850": [f"oneills-1850.v{CACHE_VERSION}.npz"],
    "irish-abc": [f"irish-abc.v{ABC_CACHE_VERSION}.npz", f"irish-abc.v{ABC_CACHE_VERSION}.json"],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=list(PACKED))
    ap.add_argument("--from-cache", action="store_true", help="pack this machine's cached parse, do not parse")
    args = ap.parse_args()
    import music21

    PACKED_DIR.mkdir(exist_ok=True)
    manifest_path = PACKED_DIR / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    for name in args.names:
        if name not in PACKED:
            ap.error(f"unknown corpus {name!r}; choose from {', '.join(PACKED)}")
        if not args.from_cache:
            load_corpus(name, refresh=True)  # parses and writes this machine's cache
        for file in PACKED[name]:
            shutil.copyfile(cache_dir() / file, PACKED_DIR / file)
        pieces = len(load_corpus(name).pieces)
        manifest[name] = {"files": PACKED[name], "pieces": pieces, "music21": music21.__version__}
        print(f"{name}: {pieces} pieces packed")
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
