"""Digits that name rather than count: codes mixing letters and digits, serial and identifier
numbers, labels read digit by digit ("PIN 4821") or in pairs ("room 1204"), house numbers,
telephone numbers, IP addresses.
"""
from __future__ import annotations

import re

from jaxtts.text import numbers as nums
from jaxtts.text._context import LETTERS, pad, prev_token, prev_word
from jaxtts.text._tables import IDENTIFIER_LABELS, PER_UNITS, SYMBOL_NAMES
from jaxtts.text._units import before_a_noun, unit_names
from jaxtts.text._words import word_piece

Match = re.Match
Result = tuple[str, int]

_LOCAL_PHONE = re.compile(r"\d{3}-\d{4}(?![\w-]|[.,]\d)")
_PHONE_CUES = frozenset("call calling phone tel telephone dial fax cell mobile text ring".split())
_CHAIN = re.compile(r"[\w.]+(?:[-/][\w.]+){2,}|\d+[-/][A-Za-z][\w/-]*")
_ID_PAIR = re.compile(r"0\d+-\d+(?![\w-])|[1-9]\d*-0\d+(?![\w-])")
_SERIAL_PARTS = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?|.")
_IDENTIFIER = re.compile(r"\d[\d,]*(?:\s?[-/]\s?[\dA-Z][\d,A-Z]*)*(?<!,)")

# Labels whose 3+ digit numbers are said digit by digit ("PIN 4821", "card ending in 8876") or in
# pairs like a house number ("room 1204": twelve oh four, "flight 302": three oh two). Aircraft
# models stay cardinals ("Boeing 737"), as the public context cases read them.
_DIGIT_LABELS = frozenset("pin code passcode ext extension account acct".split())
_PAIRED_LABELS = frozenset("room rm flight highway hwy interstate route apartment apt suite".split())


def label_reading(text: str, start: int, digits: str) -> str | None:
    """The reading a label before the number asks for, if any: digit by digit after 'PIN', an
    identifier label ('part number') or a telephone cue ('call 999', but 'call 100 people')."""
    label = prev_token(text, start).lower().rstrip(".:#,")
    ending_in = label == "in" and prev_word(text, start - len(label) - 1).lower() in ("ending", "ends")
    dialled = label in _PHONE_CUES and not before_a_noun(text, start + len(digits))
    if label in _DIGIT_LABELS or ending_in or dialled or _identifier_label(text, start):
        return nums.spell_digits(digits)
    if label in _PAIRED_LABELS:
        return house_number(digits, "oh")
    return None


def house_number(digits: str, zero: str = "zero") -> str:
    """Street numbers in pairs: 2788 -> twenty seven eighty eight, 123 -> one twenty three, 708 ->
    seven zero eight (NeMo's reading of addresses; `zero="oh"` for rooms and flights)."""
    if len(digits) == 3 and digits[1:] != "00":
        tail = f"{zero} {nums.cardinal(digits[2])}" if digits[1] == "0" else nums.cardinal(digits[1:])
        return f"{nums.cardinal(digits[0])} {tail}"
    if len(digits) == 4:
        return nums.year(digits)
    return nums.cardinal(digits) if len(digits) < 5 else nums.spell_digits(digits)


def _serial_digits(digits: str) -> str:
    """Digits inside codes: short runs as numbers, years as years, other long runs digit by digit."""
    if len(digits) > 1 and digits[0] == "0":
        return nums.spell_digits(digits)
    if len(digits) <= 3:
        return nums.cardinal(digits)
    if len(digits) == 4 and "1000" <= digits <= "2099":
        return nums.year(digits)
    if digits.endswith("00") and len(digits) <= 6:
        return nums.cardinal(digits)
    return nums.spell_digits(digits)


def _identifier_digits(digits: str) -> str:
    """A group of an identifier such as an ISSN: digit by digit, four digits in pairs."""
    if digits[0] == "0" or len(digits) > 4:
        return nums.spell_digits(digits)
    return nums.year(digits) if len(digits) == 4 else nums.cardinal(digits)


def serial(token: str) -> str:
    """Codes mixing letters and digits: 'B2A23C' -> 'B two A twenty three C', 'covid-19' ->
    'covid-nineteen', 'mid-1980s' -> 'mid-nineteen eighties'."""
    out: list[str] = []
    pieces = _SERIAL_PARTS.findall(token)
    plural_at = len(pieces) - 1 if len(pieces) > 1 and pieces[-1] == "s" and pieces[-2].isdigit() else -1
    for i, piece in enumerate(pieces):
        if i == plural_at:
            out[-1] = nums.plural_words(out[-1])
        elif piece[0].isalpha():
            out.append(word_piece(piece))
        elif piece[0].isdigit():
            whole, _, frac = piece.partition(".")
            out.append(nums.decimal(whole, frac) if frac else _serial_digits(whole))
        elif piece in "-/":
            out.append("-")
        elif piece in SYMBOL_NAMES:
            out.append(SYMBOL_NAMES[piece])
    return " ".join(out).replace(" - ", "-")


def _is_serial(token: str) -> bool:
    """'978-0-13', '133-ABC', '1/f-4s' are codes; '12/kg', '5-kg', '1/2-inch' are numbers with a
    unit or a word after them."""
    segments = re.split("[-/]", token)
    if len(segments) >= 3:
        return not (len(segments) == 3 and segments[0].isdigit() and segments[1].isdigit() and segments[2].isalpha())
    tail = LETTERS.search(token)
    return tail is None or (unit_names(tail.group()) is None and tail.group() not in PER_UNITS)


def _identifier_label(text: str, start: int) -> bool:
    """An identifier label comes before the number, perhaps with 'number', 'No.' or '#' between:
    'ISBN 0-306', 'part number 4523', 'patent No. 7,654,321', 'order #1234'."""
    label = prev_token(text, start)
    key = label.lower().rstrip(".:#,")
    if key in IDENTIFIER_LABELS:
        return True
    if key not in ("number", "no", "nos", "") or not label:
        return False
    before = prev_token(text, text.rfind(label, 0, start)).lower().rstrip(".:,")
    return before in IDENTIFIER_LABELS


def identifier(text: str, start: int) -> Result | None:
    """A number after an identifier label, with its dashed or slashed groups ('runway 09/27',
    'application No. 10/123,456'): digit by digit, letters spelled, a pause between groups."""
    if not _identifier_label(text, start):
        return None
    m = _IDENTIFIER.match(text, start)
    groups = [g.replace(",", "") for g in re.split(r"\s?[-/]\s?", m.group())]
    words = " - ".join(nums.spell_digits(g) if g.isdigit() else serial(g) for g in groups)
    return pad(text, start, m.end(), words), m.end()


def local_phone(text: str, start: int) -> Result | None:
    """'call 555-1234': after a word that cues a telephone, a local number is one."""
    if prev_word(text, start).lower() in _PHONE_CUES and (local := _LOCAL_PHONE.match(text, start)) is not None:
        return pad(text, start, local.end(), phone_words(local.group())), local.end()
    return None


def id_pair(text: str, start: int) -> Result | None:
    """'0345-12', '12-045': a leading zero on either side makes a dashed pair an identifier."""
    if (ident := _ID_PAIR.match(text, start)) is None:
        return None
    words = " - ".join(_identifier_digits(group) for group in ident.group().split("-"))
    return pad(text, start, ident.end(), words), ident.end()


def chain(text: str, start: int) -> Result | None:
    """'978-0-13-110362-7', '133-ABC': three or more dashed or slashed parts, or digits then
    letters that are no unit, read as a code."""
    if (m := _CHAIN.match(text, start)) is None or not _is_serial(m.group()):
        return None
    groups = m.group().split("-")
    if len(groups) >= 4 and all(g.isdigit() or g == "X" for g in groups):  # an ISBN: "0-306-40615-2"
        words = " - ".join(nums.spell_digits(g) if g.isdigit() else g for g in groups)
        return pad(text, start, m.end(), words), m.end()
    return pad(text, start, m.end(), serial(m.group())), m.end()


def code(text: str, m: Match) -> Result:
    """Letters and digits mixed in one token: 'B2A23C', 'COVID-19', 'fifa2016'."""
    return pad(text, m.start(), m.end(), serial(m.group())), m.end()


def phone(text: str, m: Match) -> Result:
    """Telephone numbers digit by digit in their groups, with pauses: '+1 (800) 555-0199' ->
    'plus one, eight hundred, five five five, zero one nine nine'."""
    return pad(text, m.start(), m.end(), phone_words(m.group())), m.end()


def phone_words(token: str) -> str:
    groups = []
    if token[0] == "+":
        code = re.match(r"\+(\d+)", token)
        groups.append("plus " + nums.spell_digits(code.group(1)))
        token = token[code.end() :]
    for part in re.findall(r"[A-Za-z0-9]+", token):
        if part.isdigit():
            groups.append(nums.cardinal(part) if len(part) == 3 and part.endswith("00") else nums.spell_digits(part))
        else:
            groups.append(word_piece(part))
    return ", ".join(groups)


def ip_address(text: str, m: Match) -> Result:
    words = " dot ".join(nums.spell_digits(part) for part in m.group().split("."))
    return pad(text, m.start(), m.end(), words), m.end()
