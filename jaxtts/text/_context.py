"""Look-around helpers for the normalizer's handlers: the word before, the word after, sentence
edges. Every helper reads a bounded window, so a look-around costs O(1) whatever the text size."""
from __future__ import annotations

import re

from jaxtts.text._tables import CURRENCY_SYMBOLS, SENTENCE_STARTERS

WINDOW = 64
WORD = re.compile(r"[A-Za-z][A-Za-z'&]*")
LETTERS = re.compile(r"[A-Za-z]+")
RANGE_DASH = re.compile(rf"\s?[-–]\s?(?=[{CURRENCY_SYMBOLS}]?\.?\d)")  # "9:00 - 5:00", "$5-10": a range
_TOKEN = re.compile(r"\S+")
OPENING = "\"'(["
CLOSING = "\"')]"


def prev_token(text: str, start: int) -> str:
    """The whitespace-delimited token before `start` (skipping an opening quote glued to `start`),
    without its own opening quotes or brackets; '' at the start of the text."""
    end = start
    while end > 0 and text[end - 1] in OPENING:
        end -= 1
    while end > 0 and text[end - 1] == " ":
        end -= 1
    lo = max(0, end - WINDOW)
    cut = max(text.rfind(" ", lo, end), text.rfind("\n", lo, end), text.rfind("\t", lo, end))
    return text[(cut + 1 if cut >= 0 else lo) : end].lstrip(OPENING)


def prev_word(text: str, start: int) -> str:
    """The word before `start` if only a space separates them, else ''."""
    if start == 0 or text[start - 1] not in " \t":
        return ""
    token = prev_token(text, start)
    return token if token.isalpha() else ""


def next_word(text: str, end: int) -> str:
    """The word (or else the token) after `end` if only a space separates them, else ''."""
    if end >= len(text) or text[end] not in " \t":
        return ""
    m = WORD.match(text, end + 1) or _TOKEN.match(text[end + 1 : end + 1 + WINDOW])
    return m.group() if m else ""


def sentence_start(text: str, start: int) -> bool:
    """Whether only spaces and openers separate `start` from the start of a sentence."""
    i = start
    while i > 0 and text[i - 1] in " \t\"'(":
        i -= 1
    return i <= 0 or text[i - 1] in ".!?:;\n"


def sentence_ends_after(text: str, end: int) -> bool:
    """Whether an abbreviation's dot just before `end` also ends the sentence: the text ends, or
    the next word is a capitalised sentence opener ("... Elm St. It was")."""
    rest = text[end : end + WINDOW].lstrip(CLOSING + " ")
    if not rest:
        return True
    word = WORD.match(rest)
    return word is not None and rest[0].isupper() and word.group().lower() in SENTENCE_STARTERS


def shouting(text: str, start: int, end: int) -> bool:
    """Whether the words around a capitalised token are capitals too (a headline, a shout), so an
    all-caps word there is an ordinary word rather than an acronym."""
    around = WORD.findall(text, max(0, start - 40), start)[-2:] + WORD.findall(text, end, end + 40)[:2]
    return len(around) >= 2 and all(w.isupper() for w in around) and any(len(w) >= 2 for w in around)


def pad(text: str, start: int, end: int, words: str) -> str:
    """Separate replacement words from letters or digits glued to the replaced span ("3D" -> "three D")."""
    if start > 0 and text[start - 1].isalnum():
        words = " " + words
    if end < len(text) and text[end].isalnum():
        words += " "
    return words
