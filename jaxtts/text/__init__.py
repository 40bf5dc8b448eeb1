"""Text front-end: raw text -> normalized words -> phonemes -> `english_basic` ids.

    normalize("Dr. Smith paid $5.")   # 'doctor Smith paid five dollars.'
    to_ids("Hello world.")            # ids in 1..147 for FastPitch (0 is padding)
    to_ids("Say {T AH0 M EY1 T OW2}") # braces hold ARPAbet phones, passed through as NVIDIA's do
    to_phonemes("Hello world.")       # 'hello {W ER1 L D}.' (letters where the model learned them)
    split_sentences(long_text)        # pieces of bounded length to synthesize one by one
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from jaxtts.errors import InputError, TextError
from jaxtts.text import g2p
from jaxtts.text.normalize import normalize
from jaxtts.text.sentences import split_sentences
from jaxtts.text.g2p import Lexicon
from jaxtts.text.symbols import PHONE_TO_ID, PUNCTUATION, SPACE_ID, SYMBOL_TO_ID, SYMBOLS, decode

__all__ = ["normalize", "to_ids", "to_phonemes", "pieces_to_ids", "split_sentences", "Lexicon", "SYMBOLS"]

_BRACES = re.compile(r"\{([^{}]*)\}")
_PHONE_LIKE = re.compile(r"[A-Z]{1,2}[0-9]?")
_NO_SPACE_BEFORE = frozenset(SYMBOL_TO_ID[c] for c in ",.!?:;)")


def to_ids(text: str, *, arpabet: bool = True, lexicon: Lexicon | None = None, ambiguous: str = "ignore") -> list[int]:
    """Model input ids of raw text; raises TextError when nothing speakable is left.

    `arpabet=False` reads every word as letters, for a checkpoint trained without ARPAbet
    (`FastPitchConfig.p_arpabet == 0`; braces still pass phones through, as NVIDIA's do).
    `lexicon` reads words with a model's own dictionary (`FastPitchConfig.lexicon`, from NeMo).
    `ambiguous="first"` reads a word with several CMUdict pronunciations by its first, for a model
    trained so (NVIDIA's `handle_arpabet_ambiguous`); "ignore" spells it, as the published model learned.

    `{HH AH0 L OW1}` spells a pronunciation in CMUdict's ARPAbet, as NVIDIA's front-end accepts
    (`to_phonemes` writes that form, and reads back to the same ids). A group of phone-shaped
    tokens with stress digits that holds an unknown phone is an InputError; other braces are text.
    """
    if "{" in text:
        ids = _with_phones(text, arpabet, lexicon, ambiguous)
    else:
        ids = g2p.encode(normalize(text), arpabet, lexicon, ambiguous)
    if not ids:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise TextError(f"nothing speakable in {shown!r}: it has no words or numbers after normalization")
    return ids


def to_phonemes(text: str, *, arpabet: bool = True, lexicon: Lexicon | None = None, ambiguous: str = "ignore") -> str:
    """The ids of `to_ids` as readable text, phones grouped per word: 'hello {W ER1 L D}.'"""
    return decode(to_ids(text, arpabet=arpabet, lexicon=lexicon, ambiguous=ambiguous))


def _phones(group: str) -> list[int] | None:
    """Ids of an ARPAbet group, None when it is not meant as one: '{sic}', '{OK}', '{Q}'. A group
    of phone-shaped tokens that carries a stress digit is meant as phones, so a wrong one is named."""
    tokens = group.split()
    if not tokens or not all(_PHONE_LIKE.fullmatch(t) for t in tokens):
        return None
    unknown = [t for t in tokens if t not in PHONE_TO_ID]
    if unknown and not any(t[-1].isdigit() for t in tokens):
        return None
    if unknown:
        raise InputError(f"unknown ARPAbet phone{'s' * (len(unknown) > 1)} {', '.join(unknown)} in {{{group}}}; "
                        "use CMUdict's phones with stress on vowels, e.g. {HH AH0 L OW1}")
    return [PHONE_TO_ID[t] for t in tokens]


def _plain(piece: str, arpabet: bool, lexicon: Lexicon | None, ambiguous: str) -> list[int]:
    """Ids of the text between phone groups; a piece without words keeps its punctuation."""
    ids = g2p.encode(normalize(piece), arpabet, lexicon, ambiguous)
    return ids or [SYMBOL_TO_ID[c] for c in piece if c in PUNCTUATION and c != " "]


def _with_phones(text: str, arpabet: bool, lexicon: Lexicon | None, ambiguous: str) -> list[int]:
    """Plain pieces and phone groups joined by a space wherever the text has whitespace between them
    (none before closing punctuation or after an opening parenthesis, as `g2p.encode` does)."""
    parts: list[tuple[str, list[int]]] = []  # (source, ids)
    pos = 0
    for m in _BRACES.finditer(text):
        phones = _phones(m.group(1))
        if phones is None:
            continue
        parts += [(text[pos:m.start()], _plain(text[pos:m.start()], arpabet, lexicon, ambiguous)), (m.group(), phones)]
        pos = m.end()
    if not parts:
        return g2p.encode(normalize(text), arpabet, lexicon, ambiguous)
    parts.append((text[pos:], _plain(text[pos:], arpabet, lexicon, ambiguous)))
    return _join(parts)[0]


def pieces_to_ids(pieces: Sequence[str], *, arpabet: bool = True, lexicon: Lexicon | None = None,
                  ambiguous: str = "ignore") -> tuple[list[int], list[int]]:
    """The ids of text written in pieces (SSML's spans, each read with its own controls), and for
    each id the index of the piece it came from. Each piece is read as `to_ids` reads it (a piece
    without words keeps its punctuation, a blank one only separates), the pieces joined by a space
    wherever whitespace separates them; a joining space belongs to the piece that wrote the
    whitespace. TextError when nothing is speakable."""
    parts = [(piece, _with_phones(piece, arpabet, lexicon, ambiguous) if "{" in piece
              else _plain(piece, arpabet, lexicon, ambiguous)) for piece in pieces]
    ids, owners = _join(parts)
    if not ids:
        shown = "".join(pieces)
        raise TextError(f"nothing speakable in {shown[:57] + '...' if len(shown) > 60 else shown!r}: "
                        "it has no words or numbers after normalization")
    return ids, owners


def _join(parts: list[tuple[str, list[int]]]) -> tuple[list[int], list[int]]:
    """The ids of (source, ids) parts joined by a space where whitespace separates them (none before
    closing punctuation or after an opening parenthesis), and each id's part index (a space's: the
    part whose whitespace it is)."""
    ids: list[int] = []
    owners: list[int] = []
    gap: int | None = None  # the part where whitespace came since the last ids
    for i, (source, part) in enumerate(parts):
        if gap is None and source[:1].isspace():
            gap = i
        if part:
            if ids and gap is not None and part[0] not in _NO_SPACE_BEFORE and ids[-1] != SYMBOL_TO_ID["("]:
                ids.append(SPACE_ID)
                owners.append(gap)
            ids += part
            owners += [i] * len(part)
            gap = None
        if gap is None and source[-1:].isspace():
            gap = i
    return ids, owners
