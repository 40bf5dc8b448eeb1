"""Split long raw text into sentences, then into pieces of bounded length, in linear time.

Splitting runs on raw text (before normalization), so abbreviations still have their dots. When in
doubt it does not split: a sentence left too long is cut at the length bound anyway, while a
wrong split ("Dr." | "Smith said") damages both halves.
"""
from __future__ import annotations

import re

from jaxtts.errors import InputError
from jaxtts.text._tables import BEFORE_A_NAME, BEFORE_NUMBER, NUMBER_PREFIXES
from jaxtts.text._unicode import strip_markup

MAX_CHARS = 300  # LJSpeech transcripts, the published model's training text, are at most ~190 characters

_TOKEN = re.compile(r"\S+")
_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
# Closers written as HTML character references ('"Go.&quot; Then'); decoding waits for normalize.
_CLOSER_REFS = re.compile(r"(?:&(?:quot|apos|rdquo|rsquo|raquo|rpar|rsqb|rbrack|#34|#39|#41|#187|#8217|#8221);)+$")
_CLAUSE = re.compile(r"[,;:—–]\s|\s[-–—]+\s")
_INITIALS = re.compile(r"[A-Za-z](?:\.[A-Za-z])*")  # "J", "U.S", "e.g", "p.m"
_NUMBERED = frozenset({*BEFORE_NUMBER, *NUMBER_PREFIXES})  # before a number only: "No. 7", but "I said no."


_BULLETS = "•◦▪▫‣∙●○■□–—-*"  # a line starting with one is a list item


def _ends_sentence(token: str, next_token: str, gap: str) -> bool:
    """Whether a sentence ends after `token`, given the token that follows and the space between."""
    if gap.count("\n") >= 2 or ("\n" in gap and next_token[0] in _BULLETS):
        return True
    core = token.rstrip(_CLOSERS)
    if core.endswith(";"):
        core = _CLOSER_REFS.sub("", core).rstrip(_CLOSERS)
    if not core or core[-1] not in _TERMINATORS:
        return False
    if next_token.lstrip(_OPENERS)[:1].islower():
        return False
    if core[-1] != "." or core.endswith(".."):
        return True
    word = core[:-1].lstrip(_OPENERS)
    if _INITIALS.fullmatch(word):
        return False
    word = word.lower()
    return word not in BEFORE_A_NAME and not (word in _NUMBERED and next_token[:1].isdigit())


def _bounded(sentence: str, max_chars: int) -> list[str]:
    """Pieces of at most `max_chars`, cut after the last clause mark in the window's second half,
    else at the last space, else mid-word."""
    pieces = []
    start, end = 0, len(sentence)
    while end - start > max_chars:
        stop = start + max_chars + 1  # a space just past the bound is a clean cut too
        clause = max((m.end() for m in _CLAUSE.finditer(sentence, start + max_chars // 2, stop)), default=0)
        space = max(sentence.rfind(c, start, stop) for c in " \n\t")
        cut = clause or (space + 1 if space > start else start + max_chars)
        pieces.append(sentence[start:cut].strip())
        start = cut
    pieces.append(sentence[start:].strip())
    return [p for p in pieces if p]


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of `text` (stripped), each further cut to at most `max_chars` characters.

    Keeps together abbreviations ("Dr. Smith", "e.g. this"), initials ("J. R. R. Tolkien"),
    decimals ("3.14"), ellipses followed by lowercase, and closing quotes ('"Stop." She left.' ->
    '"Stop."', 'She left.'; also written `&quot;`, which normalize decodes later). A blank line
    and a new line starting with a bullet always end a sentence; HTML/SSML tags are dropped first. The bound is in characters of raw text;
    normalization lengthens numbers, so size buckets on ids, not on this bound.
    """
    if max_chars < 1:
        raise InputError(f"max_chars must be at least 1, got {max_chars}")
    text = strip_markup(text)  # "said.<br>Next" ends a sentence
    sentences: list[str] = []
    start = 0
    prev: re.Match[str] | None = None
    for match in _TOKEN.finditer(text):
        if prev is not None and _ends_sentence(prev.group(), match.group(), text[prev.end() : match.start()]):
            sentences.extend(_bounded(text[start : prev.end()].strip(), max_chars))
            start = match.start()
        prev = match
    sentences.extend(_bounded(text[start:].strip(), max_chars))
    return sentences
