"""ABC text of folk tunes as characters (system C-abc), and ABC text ⇄ NoteSequence.

A tune is its normalised ABC text (`M:`, `L:`, `K:` header lines then the body; `X:` and titles are
left out, see `normalise_tune`). Tokens are single characters from a FIXED alphabet
stored in the checkpoint card (never rebuilt from data), plus PAD / BOS (start of tune) / EOS (end of
tune). Text → notes goes through music21's ABC parser; a tune it cannot read raises `AbcParseError`
(callers report it, never crash). Notes → ABC (`sequence_to_abc`) writes a monophonic line on a
sixteenth-note grid in C with an explicit accidental on every note, so a primer can be given to the
model and text ⇄ notes round trips can be tested.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from musicgen.scores import score_to_sequence
from musicgen.sequence import NoteSequence

PAD, BOS, EOS = 0, 1, 2
N_SPECIAL = 3
# Every character kept by the normaliser in O'Neill's 1850 + Ryan's Mammoth that occurs at least ten
# times: 60 characters + 3 specials (the study's irish.abc has 83). Tunes with any other are left out.
DEFAULT_CHARS = "\n '(),-./0123456789:<=>ABCDEFGHKLMS[]^_abcdefgikmnoruvxyz{|}"
FOLK_QPM = 120.0  # the corpus loader's tempo (music21 ignores Q: there too), so pieces compare
PITCH_NAMES = ("C", "C", "D", "D", "E", "F", "F", "G", "G", "A", "A", "B")
SHARP = (False, True, False, True, False, False, True, False, True, False, True, False)


class AbcParseError(ValueError):
    """music21 could not turn this ABC text into notes; the message says why."""


class AbcVocabularyError(ValueError):
    """The text has a character outside the fixed alphabet."""


@dataclass(frozen=True)
class AbcConfig:
    chars: str = DEFAULT_CHARS
    qpm: float = FOLK_QPM  # tempo of decoded tunes (crotchets per minute)
    max_chars: int = 2500  # a sampled tune is cut here (corpus: median 228, 99th percentile 573, max ~1900)


class AbcText:
    name = "abc"

    def __init__(self, config: AbcConfig = AbcConfig()):
        if len(set(config.chars)) != len(config.chars):
            raise ValueError("the ABC alphabet repeats a character")
        self.config = config
        self.vocab_size = N_SPECIAL + len(config.chars)
        self._index = {ch: N_SPECIAL + i for i, ch in enumerate(config.chars)}

    def to_json(self) -> dict:
        return asdict(self.config)

    @classmethod
    def from_json(cls, d: dict) -> AbcText:
        return cls(AbcConfig(**d))

    def describe(self, token: int) -> str:
        return {PAD: "<pad>", BOS: "<tune>", EOS: "</tune>"}.get(token) or repr(self.config.chars[token - N_SPECIAL])

    # ---- text ⇄ ids ------------------------------------------------------------------------------
    def unknown_chars(self, text: str) -> set[str]:
        return {ch for ch in text if ch not in self._index}

    def encode_text(self, text: str) -> np.ndarray:
        """Characters → ids (no BOS/EOS); an unknown character raises AbcVocabularyError."""
        bad = self.unknown_chars(text)
        if bad:
            raise AbcVocabularyError(f"characters outside the ABC alphabet: {''.join(sorted(bad))!r}")
        return np.fromiter((self._index[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode_text(self, ids) -> str:
        """Ids → text; specials are dropped and the text ends at the first EOS."""
        out = []
        for t in (int(i) for i in ids):
            if t == EOS:
                break
            if t >= N_SPECIAL:
                out.append(self.config.chars[t - N_SPECIAL])
        return "".join(out)

    # ---- notes ⇄ ids (the representation contract) -------------------------------------------------
    def encode(self, seq: NoteSequence) -> np.ndarray:
        """A piece → ids: its own ABC text if it came from one (meta `abc`), else written from its notes."""
        text = seq.meta_dict().get("abc") or sequence_to_abc(seq)
        return self.encode_text(text)

    def decode(self, ids, *, qpm: float | None = None, program: int = 0, name: str = "") -> NoteSequence:
        """Ids → notes through music21; raises AbcParseError if the text does not parse."""
        text = self.decode_text(ids)
        seq = abc_to_sequence(text, qpm=qpm or self.config.qpm, name=name)
        return NoteSequence(notes=seq.notes, qpm=seq.qpm, program=program, name=name, meta=seq.meta)


def abc_to_sequence(text: str, *, qpm: float = FOLK_QPM, name: str = "") -> NoteSequence:
    """Normalised ABC text (header without X:) → notes, with the text in meta `abc`.

    Raises AbcParseError when music21 fails or finds no notes (the text is not a tune)."""
    if not text.strip():
        raise AbcParseError("empty tune")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = _parse_single_tune(text.strip() + "\n")
            seq = score_to_sequence(score, name=name, qpm=qpm, strip_ties_in_place=True)
    except Exception as e:  # noqa: BLE001 — music21 raises many kinds (ABCTokenException, IndexError, ...)
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise AbcParseError(f"music21 could not read this tune ({type(e).__name__}: {first})") from None
    if len(seq) == 0:
        raise AbcParseError("music21 read the text but found no notes in it")
    return seq.with_meta(abc=text)


def _parse_single_tune(text: str):
    """One tune's ABC text → a music21 stream, skipping what only engraving needs.

    `converter.parse` builds a Score through `abcToStreamScore`, whose parts run `makeBeams`: about half of
    a tune's parse time (0.2-0.4 s for a 30 s tune), and beams carry no pitch or time. A one-voice tune is
    therefore translated into a Part whose `makeBeams` does nothing; notes, offsets and ties are the
    same (the C-abc golden outputs check it). Several voices keep music21's own path."""
    from music21 import abcFormat, converter, stream  # music21 takes seconds to import: only when read
    from music21.abcFormat import translate

    class _UnbeamedPart(stream.Part):
        def makeBeams(self, *args, **kwargs):  # noqa: ARG002 — see above: engraving only
            return None

    handler = abcFormat.ABCHandler()
    handler.process(text)
    voices = handler.splitByVoice()
    if len(voices) != 1:
        score = converter.parse("X:1\n" + text, format="abc")
        return score.scores[0] if hasattr(score, "scores") and len(score.scores) else score
    return translate.abcToStreamPart(voices[0], inputM21=_UnbeamedPart())


# ---- raw ABC files → normalised tune texts (the corpus loader and `musicgen.importing` share these) ---------
HEADER_FIELDS = ("M", "L", "K")
_FIELD = re.compile(r"^([A-Za-z]):(.*)$")
# Bowing (u v), trill/fermata/segno marks (T H S ~) and a few one-letter decorations: no pitch meaning.
_DECORATIONS = re.compile(r"[uvTHS~PMOLRJk](?=[=_^A-Ga-gz(\[{]|$)")


def split_tunes(text: str) -> list[tuple[str, str]]:
    """A multi-tune ABC file → [(X number, tune text)]."""
    parts = re.split(r"(?m)^X:", text)
    out = []
    for part in parts[1:]:
        number = part.partition("\n")[0]
        out.append((number.strip(), "X:" + part))
    return out


def normalise_tune(tune: str) -> str:
    """One raw tune → `M:..\\nL:..\\nK:..\\nbody`: only what the model needs (M:, L:, K: and the body);
    titles, sources, notes, fingerings and chord names in quotes, `!decorations!`, bowing marks and
    comments are dropped, runs of spaces become one."""
    head, body, in_body = [], [], False
    for raw in tune.splitlines():
        line = raw.split("%")[0].rstrip()
        m = _FIELD.match(line)
        if m:
            field, value = m.group(1), re.sub(r"\s+", " ", m.group(2).strip())
            if field in HEADER_FIELDS:
                (body if in_body else head).append(f"{field}:{value}")
            in_body = in_body or field == "K"
            continue
        if not in_body or not line.strip():
            continue
        line = re.sub(r'"[^"]*"', "", line)
        line = re.sub(r"![^!]*!", "", line)
        line = re.sub(r"\+[^+]*\+", "", line)
        line = _DECORATIONS.sub("", line.replace("\\", " ").replace("\t", " "))
        line = re.sub(r" +", " ", line).strip()
        if line:
            body.append(line)
    return "\n".join(head + body)


def _pitch_text(pitch: int) -> str:
    octave = pitch // 12 - 5  # 0 = the octave of middle C (ABC "C".."B")
    name = ("^" if SHARP[pitch % 12] else "=") + PITCH_NAMES[pitch % 12]
    if octave >= 1:
        return name.lower() + "'" * (octave - 1)
    return name + "," * (-octave)


def _length_text(steps: int) -> str:
    return "" if steps == 1 else str(steps)


def sequence_to_abc(seq: NoteSequence, *, meter: str = "4/4", steps_per_bar: int = 16) -> str:
    """Notes → ABC text in C, L:1/16, bar lines every `steps_per_bar` sixteenths.

    Monophonic: where notes start together the highest is kept, and a note ends where the next begins.
    Times snap to the sixteenth-note grid of the piece's tempo; notes crossing a bar line are tied.
    Every note carries its accidental (`=` or `^`), so ABC's rule that accidentals last to the end of
    the bar never changes a pitch."""
    step = 60.0 / seq.qpm / 4
    by_onset: dict[int, int] = {}
    ends: dict[int, int] = {}
    for n in seq.notes:
        s = int(round(n.start / step))
        if s not in by_onset or n.pitch > by_onset[s]:
            by_onset[s] = n.pitch
            ends[s] = max(s + 1, int(round(n.end / step)))
    onsets = sorted(by_onset)
    events = []  # (start step, length, pitch or None for a rest)
    t = 0
    for i, s in enumerate(onsets):
        if s > t:
            events.append((t, s - t, None))
        end = min(ends[s], onsets[i + 1]) if i + 1 < len(onsets) else ends[s]
        events.append((s, end - s, by_onset[s]))
        t = end
    body = []
    for start, length, pitch in events:
        pieces, pos, left = [], start, length
        while left > 0:  # split at bar lines
            room = steps_per_bar - pos % steps_per_bar
            take = min(left, room)
            pieces.append((take, pos + take))
            pos, left = pos + take, left - take
        for k, (take, stop) in enumerate(pieces):
            word = ("z" if pitch is None else _pitch_text(pitch)) + _length_text(take)
            tie = "-" if pitch is not None and k + 1 < len(pieces) else ""
            body.append(word + tie + (" |" if stop % steps_per_bar == 0 else ""))
    lines, bar = [], []
    for word in body:  # four bars a line, like the corpus
        bar.append(word)
        if word.endswith("|") and sum(w.endswith("|") for w in bar) == 4:
            lines.append(" ".join(bar))
            bar = []
    if bar:
        lines.append(" ".join(bar))
    text = "\n".join(lines).rstrip()
    if not text.endswith("|"):
        text += " |"
    return f"M:{meter}\nL:1/16\nK:C\n{text}"
