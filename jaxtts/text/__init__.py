"""Text front-end: raw text -> normalized words -> phonemes -> `english_basic` ids.

    normalize("Dr. Smith paid $5.")   # 'doctor Smith paid five dollars.'
    to_ids("Hello world.")            # ids in 1..147 for FastPitch (0 is padding)
    to_phonemes("Hello world.")       # '{HH AH0 L OW1} {W ER1 L D}.'
    split_sentences(long_text)        # pieces of bounded length to synthesize one by one
"""
from __future__ import annotations

from jaxtts.errors import TextError
from jaxtts.text import g2p
from jaxtts.text.normalize import normalize
from jaxtts.text.sentences import split_sentences
from jaxtts.text.symbols import SYMBOLS, decode

__all__ = ["normalize", "to_ids", "to_phonemes", "split_sentences", "SYMBOLS"]


def to_ids(text: str) -> list[int]:
    """Model input ids of raw text; raises TextError when nothing speakable is left."""
    ids = g2p.encode(normalize(text))
    if not ids:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise TextError(f"nothing speakable in {shown!r}: it has no words or numbers after normalization")
    return ids


def to_phonemes(text: str) -> str:
    """The ids of `to_ids` as readable text, phones grouped per word: '{HH AH0 L OW1} {W ER1 L D}.'"""
    return decode(to_ids(text))
