"""Units after numbers: "12kg", "5 km/h", "3 m2", "a 5-kg bag", inch marks; the readers of numbers
and of money share them."""
from __future__ import annotations

import re

from jaxtts.text._context import next_word, sentence_ends_after
from jaxtts.text._tables import FUNCTION_WORDS, LENGTH_UNITS, PER_UNITS, POWERS, UNITS

Result = tuple[str, int]

_UNIT = re.compile(
    r"(?P<scale>\s(?:hundred|thousand|million|billion|trillion))?(?P<sep>\s?|-)(?P<sq>(?:sq|cu)\.?\s?)?"
    r"(?P<u>[A-Za-z°][A-Za-z]{0,4})(?P<pow>\^?[23](?!\d))?(?:/(?P<per>[A-Za-z]{1,5})(?P<ppow>\^?[23](?!\d))?)?"
    r"(?P<dot>\.)?(?![\w°])"
)
POWER_SUFFIX = {"2": " squared", "3": " cubed"}
_INCH_CONTEXT = re.compile(r"\s*(?:$|[,;:!?)\]]|\.(?!\w)|x\b|by\b|long|wide|tall|high|deep|thick|in diameter)")
_INCH_MARK = re.compile(r'\d"')


def unit_names(unit: str) -> tuple[str, ...] | None:
    """(singular, plural) of a unit symbol; capitals fall back to lowercase ("KG"), except single
    letters ("M" is not metres; "W" is watts by its own entry)."""
    names = UNITS.get(unit)
    if names is None and len(unit) > 1:
        names = UNITS.get(unit.lower())
    return names


def per_unit(unit: str | None) -> str | None:
    """The name of a unit after a slash ("/mo" month, "/h" hour), None when it is none."""
    return None if unit is None else PER_UNITS.get(unit) or PER_UNITS.get(unit.lower())


_NOT_NOUNS = FUNCTION_WORDS | frozenset("long wide high tall deep thick old ago away apart later each per".split())


def before_a_noun(text: str, end: int) -> bool:
    """A plain lowercase word follows that is not a function word or a measure adjective: after a
    determiner the quantity then modifies it ("the 10 km race"), unlike "the 10 km of road"."""
    nxt = next_word(text, end)
    return nxt.isalpha() and nxt.islower() and nxt not in _NOT_NOUNS


def units_after(text: str, end: int, singular: bool, capitals: bool = False) -> Result | None:
    """A unit right after a number ("12kg", "5 km/h", "3 m2", "km^2", "100 million kg"), in the
    number's grammatical number; hyphenated units are adjectives and stay singular ("a 5-kg bag").
    A single capital ("100 W", "12V") is a unit only when the caller allows `capitals`, that is,
    when no label makes it part of a name ("seat 5A", "Grade 3 A")."""
    m = _UNIT.match(text, end)
    if m is None:
        return None
    unit, per = m.group("u"), m.group("per")
    if unit == "in" and (m.group("pow") or not _INCH_CONTEXT.match(text, m.end("u"))):
        return None  # "3 in the morning"
    if len(unit) == 1 and unit.isupper():
        after = text[m.end("u") : m.end("u") + 2]
        if not capitals or after == "'s" or (after[:1] == "." and after[1:].isalpha()) or after.strip()[:1].isdigit():
            return None  # "two A's", "500 A.D.", "02 A 0509": a letter in a code
    names = unit_names(unit)
    per_name = per_unit(per)
    if names is None or (per is not None and per_name is None):
        return None
    power = (m.group("pow") or (m.group("sq") or " ")[0]).lstrip("^")
    if power in POWERS and unit.lower() not in LENGTH_UNITS:
        return None
    one_or_many = 0 if singular or m.group("sep") == "-" else 1
    words = names[1] if m.group("scale") else names[one_or_many]
    if power in POWERS:
        words = f"{POWERS[power]} {words}"
    if m.group("scale"):
        words = f"{m.group('scale').strip()} {words}"
    if per_name and (ppow := (m.group("ppow") or "").lstrip("^")):  # "kg/m3" per cubic meter, "m/s2" per second squared
        per_name = f"{POWERS[ppow]} {per_name}" if per.lower() in LENGTH_UNITS else per_name + POWER_SUFFIX[ppow]
    if per_name:
        words += " per " + per_name
    if m.group("dot") and sentence_ends_after(text, m.end()):
        words += "."
    return words, m.end()


def is_inches(text: str, start: int, end: int) -> bool:
    """A double quote right after a number is an inch mark unless it closes a quotation, that is,
    unless an odd number of quote marks (other inch marks aside) comes before it."""
    if text[end : end + 1] != '"':
        return False
    window = text[max(0, start - 200) : start]
    return (window.count('"') - len(_INCH_MARK.findall(window))) % 2 == 0
