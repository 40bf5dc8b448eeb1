"""Numbers as English words: cardinals, ordinals, years, digit strings, decimals, fractions.

Everything works on digit strings, not floats, so "2.050" keeps its zeros and huge inputs never
meet `int()`'s digit limit. Readings are American ("one hundred twenty three", no "and").
Words below a thousand come from a table built once, so the common case is a lookup.
"""
from __future__ import annotations

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ("", " thousand", " million", " billion", " trillion", " quadrillion", " quintillion", " sextillion")
MAX_CARDINAL_DIGITS = 3 * len(_SCALES)  # longer digit strings are read digit by digit

_UNDER_100 = _ONES + [_TENS[t] + ("" if u == 0 else " " + _ONES[u]) for t in range(2, 10) for u in range(10)]
_UNDER_1000 = _UNDER_100 + [
    _ONES[h] + " hundred" + ("" if r == 0 else " " + _UNDER_100[r]) for h in range(1, 10) for r in range(100)
]
DIGIT_WORDS = dict(zip("0123456789", _ONES))
_SPELLED = str.maketrans({d: w + " " for d, w in DIGIT_WORDS.items()})

_ORDINAL_LAST = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip
_FRACTION_NAMES = {"2": ("half", "halves"), "4": ("quarter", "quarters")}


def cardinal(digits: str) -> str:
    """'1234' -> 'one thousand two hundred thirty four'. Leading zeros are ignored."""
    digits = digits.lstrip("0")
    n = len(digits)
    if n <= 3:
        return _UNDER_1000[int(digits)] if digits else "zero"
    if n > MAX_CARDINAL_DIGITS:
        return spell_digits(digits)
    words = []
    top = n % 3 or 3
    groups = [digits[:top]] + [digits[i : i + 3] for i in range(top, n, 3)]
    last = len(groups) - 1
    for i, group in enumerate(groups):
        value = int(group)
        if value:
            words.append(_UNDER_1000[value] + _SCALES[last - i])
    return " ".join(words)


def spell_digits(digits: str) -> str:
    """'0509' -> 'zero five zero nine' (one C-level translate, so a megabyte of digits is cheap)."""
    return digits.translate(_SPELLED)[:-1]


def ordinal_words(words: str) -> str:
    """Ordinal of a cardinal reading: 'twenty one' -> 'twenty first'."""
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_LAST:
        last = _ORDINAL_LAST[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}" if head else last


def ordinal(digits: str) -> str:
    """'22' -> 'twenty second'."""
    return ordinal_words(cardinal(digits))


def plural_words(words: str) -> str:
    """Plural of a number reading: 'nineteen eighty' -> 'nineteen eighties', 'six' -> 'sixes'."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def year(digits: str) -> str:
    """Year reading: 1984 -> nineteen eighty four, 1905 -> nineteen oh five, 2007 -> two thousand
    seven, 1900 -> nineteen hundred, 2010 -> twenty ten; 340 -> three forty."""
    digits = digits.lstrip("0") or "0"
    if len(digits) not in (3, 4):
        return cardinal(digits)
    high, low = int(digits[:-2]), int(digits[-2:])
    if low == 0:
        return cardinal(digits) if high % 10 == 0 else _UNDER_100[high] + " hundred"
    if high % 10 == 0 and low < 10:  # 2005, 1009: "two thousand five"
        return cardinal(digits)
    return _UNDER_100[high] + (" oh " if low < 10 else " ") + _UNDER_100[low]


def decimal(whole: str, frac: str) -> str:
    """'2', '050' -> 'two point zero five zero'; an empty whole part reads 'point one'."""
    head = cardinal(whole) + " " if whole else ""
    return f"{head}point {spell_digits(frac)}" if frac else cardinal(whole)


def fraction(num: str, den: str) -> str:
    """'3', '4' -> 'three quarters'; '1', '2' -> 'one half'; '142', '1' -> 'one hundred forty two over one'."""
    n, d = num.lstrip("0") or "0", den.lstrip("0") or "0"
    if d in ("0", "1") or len(d) > MAX_CARDINAL_DIGITS:
        return f"{cardinal(n)} over {cardinal(d)}"
    singular, plural = _FRACTION_NAMES.get(d) or (ordinal(d), plural_words(ordinal(d)))
    return f"{cardinal(n)} {singular if n == '1' else plural}"
