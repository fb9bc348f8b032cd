"""Compare the study's irish.abc (MIT 6.S191 lab 1) with C-abc's corpus: alphabet and music21 parse rate.

irish.abc is only compared, never trained on (it is not installable with music21).

    python scripts/abc_compare.py ../shared/corpora/introtodeeplearning/mitdeeplearning/data/irish.abc
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from musicgen.corpora.irish_abc import normalise_tune, split_tunes
from musicgen.representations.abc import AbcParseError, AbcText, abc_to_sequence


def parse_rate(texts: list[str]) -> float:
    ok = 0
    for text in texts:
        try:
            abc_to_sequence(text)
            ok += 1
        except AbcParseError:
            pass
    return ok / max(len(texts), 1)


def main(path: str) -> None:
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    tunes = [t for _, t in split_tunes(raw)]
    normalised = [normalise_tune(t) for t in tunes]
    rep = AbcText()
    outside = [t for t in normalised if rep.unknown_chars(t)]
    result = {"tunes": len(tunes), "raw_alphabet": len(set(raw)), "normalised_alphabet": len(set("".join(normalised))),
              "c_abc_alphabet": len(rep.config.chars),
              "tunes_with_chars_outside_c_abc_alphabet": len(outside),
              "chars_outside": "".join(sorted(set().union(*(rep.unknown_chars(t) for t in outside)))) if outside else "",
              "music21_parse_rate_normalised": round(parse_rate(normalised), 4)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         "../shared/corpora/introtodeeplearning/mitdeeplearning/data/irish.abc")
