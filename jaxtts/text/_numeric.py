"""Numbers read in context, with what follows them: units, percent, ordinal and plural suffixes,
ranges, arithmetic. Money, dates and times, and codes have their own modules (`_money`, `_dates`,
`_codes`; units `_units`); a number hands over to them where its shape or its neighbours say so.

A handler takes the text and the master-regex match and returns (spoken words, where the scan
resumes); it may consume past the match (the unit after a number). Checks on what follows a
number are gated on the next character, so a bare number costs a couple of comparisons.
"""
from __future__ import annotations

import re

from jaxtts.text import _codes as codes
from jaxtts.text import numbers as nums
from jaxtts.text._context import LETTERS, next_word, pad, prev_token, prev_word, sentence_ends_after
from jaxtts.text._dates import fraction_or_date
from jaxtts.text._money import code_after
from jaxtts.text._tables import (
    COUNT_NOUNS,
    DETERMINERS,
    DIRECTIONS,
    MONTHS,
    NOT_PLURAL,
    NUMBER_LABELS,
    PER_UNITS,
    LENGTH_UNITS,
    POWERS,
    ROMAN_CARDINAL_NOUNS,
    SCORE_CONTEXT,
    STREET_TYPES,
    UNITS,
)
from jaxtts.text._units import POWER_SUFFIX, before_a_noun, is_inches, per_unit, unit_names, units_after
from jaxtts.text._words import spell, word_piece

Match = re.Match
Result = tuple[str, int]

_NUMBER = re.compile(r"(?P<sign>[-+])?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?")
_NEXT_NUMBER = re.compile(r"[-+]?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?")
_MIXED_FRACTION = re.compile(r"\s+(\d{1,3})/(\d{1,3})(?![\d/])")
_SLASH = re.compile(r"/(?P<den>\d+)(?P<suf>(?i:(?:st|nd|rd|th)s?|s)(?![A-Za-z]))?(?![\d/]|\.\d)")
_ORDINAL_SUFFIX = re.compile(r"(?i:(st|nd|rd|th))(?![A-Za-z])")
_PLURAL = re.compile(r"'?s(?![\w'])")
_SPACED_S = re.compile(r" s(?![\w'])")
_PERCENT = re.compile(r"\s?%")
_DEGREES = re.compile(r"\s?°\s?(?P<scale>[CF](?![A-Za-z]))?|(?P<bare>[CF])(?![\w])")
_TIMES = re.compile(r"[x×](?=\d)|[x×](?![\w])")
_SPACED_TIMES = re.compile(r" [x×] (?=\d)")
_RATIO = re.compile(r":(\d{1,4})(?![\d:]|[.,]\d)")  # "2:1", "16:9": a time has two-digit minutes
_RESOLUTIONS = frozenset("144 240 360 480 576 720 1080 1440 2160 4320".split())  # "1080p", "1080i"
_OVER_LETTER = re.compile(r"/([A-Za-z])(?![\w/-])")  # "1/f noise": one over F
_EXPONENT = re.compile(r"[eE](?P<esign>[-+])?(?P<exp>\d{1,3})(?![\w.])")  # "6.02e23", "1e-5"
_TO_NOW = re.compile(r"\s?-\s?(?=(?i:present|now|today|date)(?![A-Za-z]))")
_PER = re.compile(r"\s?/(?P<u>[A-Za-z]{1,5})(?:\^?(?P<pow>[23]))?(?![\w/])")
_ERA = re.compile(r"\s?(?P<era>A\.?D|B\.?C(?:\.?E)?|C\.?E)(?![A-Za-z])\.?")
_VERSION = re.compile(r"(?:\.\d+)+(?=\.?(?![\w.]))")
_FEET_INCHES = re.compile(r"'\s?(\d{1,2}(?:\.\d+)?)(?:\"|'')")
_PAREN_LETTER = re.compile(r"\(([a-z])\)")
_OPERATOR = re.compile(r"(?P<pre>\s?)(?P<op>[-+*=/×÷–])(?P<post>\s?)(?=[-+]?\.?\d)")
_QUARTER = re.compile(r"([1-4])Q(\d\d)(?!\w)")
_PLURAL_AFTER = re.compile(r" [a-z]+[^\Ws]s\b")  # " users", not " glass" nor " tape"
_RANGE_END = re.compile(r"\s?[-–]\s?\d+")
_GLUED_CODE = re.compile(r"[A-Za-z]+\d")  # letters then digits glued to a number: a code, not a unit
_STREET_AFTER = re.compile(
    r"\s+(?:(?P<dir>[NSEW]|NE|NW|SE|SW)\.?\s+)?(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,3}"
    rf"(?i:{'|'.join(sorted(STREET_TYPES, key=len, reverse=True))})(?![A-Za-z])"
)

_INERT = frozenset(("", ",", ";", ":", "!", "?", ")", "]", ".", "\n", "\t", "\r"))  # end a number's reading
_OPERATORS = "-+*=/×÷–"
_OPERATOR_WORDS = {"+": "plus", "*": "times", "×": "times", "=": "equals", "÷": "divided by"}
_MATH_BEFORE = frozenset("= + * x × /".split())
_LABELS = NUMBER_LABELS | ROMAN_CARDINAL_NOUNS  # after them a capital is part of a name: "seat 5A", "Grade 3 A"
_YEAR_PREPOSITIONS = frozenset(
    "in since by until till of from to during before after around circa year years summer spring "
    "autumn fall winter early late mid the".split()
)


# --- readings of digit strings ---------------------------------------------------------------


def _decimal_or_integer(token: str) -> str:
    whole, _, frac = token.partition(".")
    return nums.decimal(whole, frac) if frac else nums.cardinal(whole)


def _is_count(text: str, start: int, end: int) -> bool:
    """Whether a bare number is a quantity ("1984 people", "= 1024") rather than a year ("in 1984")."""
    prev = prev_token(text, start).lower().rstrip(".:#,")
    if prev in NUMBER_LABELS or prev in _MATH_BEFORE:
        return True
    if prev in _YEAR_PREPOSITIONS or prev[:3] in MONTHS:
        return False
    if (rng := _RANGE_END.match(text, end)) is not None:  # "1980-1970 kg": the range shares its unit
        end = rng.end()
    if (glued := LETTERS.match(text, end)) is not None:
        return unit_names(glued.group()) is not None
    nxt = next_word(text, end)
    low = nxt.lower()
    if low in COUNT_NOUNS or low in UNITS:
        return True
    return nxt.islower() and len(nxt) > 3 and nxt[-1] == "s" and nxt[-2] != "s" and low not in NOT_PLURAL


def _integer(text: str, start: int, end: int, digits: str, grouped: bool) -> Result:
    """A plain integer by its shape and context: leading zeros digit by digit, house numbers in
    pairs (taking a street direction along), years, long identifiers digit by digit."""
    if len(digits) > 1 and digits[0] == "0":
        return nums.spell_digits(digits), end
    if grouped:
        return nums.cardinal(digits), end
    n = len(digits)
    letter = text[end] if text[end : end + 2].isupper() and text[end + 1 : end + 2] == " " else ""  # "221B Baker St"
    after = text[end + len(letter) + 1 : end + len(letter) + 2]  # a street name or ordinal: "350 5th Ave"
    street = _STREET_AFTER.match(text, end + len(letter)) if n <= 5 and (after.isupper() or after.isdigit()) else None
    if street is not None:
        words = codes.house_number(digits) + (" " + letter if letter else "")
        end += len(letter)
        if street.group("dir"):
            words += " " + DIRECTIONS[street.group("dir").lower()]
            end = street.end("dir") + (text[street.end("dir") : street.end("dir") + 1] == ".")
        return words, end
    if n >= 3 and (words := codes.label_reading(text, start, digits)) is not None:
        return words, end
    if n == 4 and "1000" <= digits <= "2099":
        return (nums.cardinal(digits) if _is_count(text, start, end) else nums.year(digits)), end
    if n >= 5 and not digits.endswith("000") and not _is_count(text, start, end):
        return nums.spell_digits(digits), end
    return nums.cardinal(digits), end


# --- what follows a number -------------------------------------------------------------------


def _dash_word(text: str, start: int, a_int: str, a_frac: str, op: Match) -> str:
    """'-' between numbers: 'minus' in arithmetic ('35-20=15', '3 - 2'); 'to' between numbers of
    similar size (a range '10-20', '1960-80', hours '9-5', a score '5-4', 'won 3 - 1') and in a span
    of years ('1914 - 18'); else a pause ('978-0', or codes: '4F7-2B9')."""
    b = _NEXT_NUMBER.match(text, op.end())
    b_int, b_frac = b.group("int") or "", b.group("frac") or ""
    if "=" in text[b.end() : b.end() + 3] or prev_token(text, start).endswith("="):
        return "minus"
    a_digits, b_digits = a_int.replace(",", ""), b_int.replace(",", "")
    if text[start - 1 : start].isalpha() or _GLUED_CODE.match(text, b.end()):
        return "-"  # "4F7-2B9", "7-2B9": a dash between parts of a code is not a range
    if not b_digits or (len(a_digits) > 1 and a_digits[0] == "0") or (len(b_digits) > 1 and b_digits[0] == "0"):
        return "-"
    if len(a_digits) > 15 or len(b_digits) > 15:
        return "-"
    year_shorthand = len(a_digits) == 4 and len(b_digits) == 2 and int(b_digits) > int(a_digits) % 100
    if year_shorthand and "1000" <= a_digits <= "2099" and not a_frac and not b_frac:
        return "to"  # "1914 - 18": a span of years
    a_val, b_val = float(f"{a_digits or 0}.{a_frac or 0}"), float(f"{b_digits}.{b_frac or 0}")
    if a_val >= b_val and (op.group("pre") or op.group("post")) and not _a_score(text, start, b.end()):
        return "minus"
    return "to" if abs(len(a_digits) - len(b_digits)) <= 1 or year_shorthand else "-"


def _a_score(text: str, start: int, end: int) -> bool:
    """A word of winning, losing or scoring before 'a - b' or after it: 'won 3 - 1', 'a 2 - 0 win'."""
    before = prev_token(text, start).lower().strip(",;:()")
    return before in SCORE_CONTEXT or next_word(text, end).lower() in SCORE_CONTEXT


_RETIREMENT_PLANS = frozenset({"401", "403", "457"})  # US plans named after tax-code sections


def _section(digits: str) -> str:
    """A legal section number: "401" four oh one (three digits read as a house number), else a cardinal."""
    if len(digits) == 3 and digits[0] != "0":
        tail = f"oh {nums.DIGIT_WORDS[digits[2]]}" if digits[1] == "0" else nums.cardinal(digits[1:])
        return f"{nums.DIGIT_WORDS[digits[0]]} {tail}"
    return nums.cardinal(digits)


def _integer_suffix(text: str, start: int, end: int, digits: str) -> Result | None:
    """An integer whose reading a glued suffix changes: ordinals, decades and plurals, fractions
    and short dates, quarters ("2Q22"), legal sections ("401(k)"), mixed numbers ("2 1/2")."""
    c, c2 = text[end : end + 1] or "\0", text[end + 1 : end + 2] or "\0"
    if c == "(" and (paren := _PAREN_LETTER.match(text, end)) is not None:
        return f"{_section(digits)} {paren.group(1).upper()}", paren.end()
    if c in "kb" and digits in _RETIREMENT_PLANS and not c2.isalnum():  # "401k" is a plan, not 401,000
        return f"{_section(digits)} {c.upper()}", end + 1
    if c == "Q" and (q := _QUARTER.match(text, start)) is not None:
        return f"the {nums.ordinal(q.group(1))} quarter of {nums.cardinal(q.group(2))}", q.end()
    if c == "/" and (fm := _SLASH.match(text, end)) is not None:
        reading = fraction_or_date(text, start, digits, fm)
        if is_inches(text, start, fm.end()):  # 3/8"
            return f"{reading} inch", fm.end() + 1
        units = units_after(text, fm.end(), digits.lstrip("0") == "1")
        return (f"{reading} {units[0]}", units[1]) if units is not None else (reading, fm.end())
    if len(digits) > nums.MAX_CARDINAL_DIGITS:
        return None
    if c in "sSnNrRtT" and (om := _ORDINAL_SUFFIX.match(text, end)) is not None:
        last2 = digits[-2:].rjust(2, "0")
        expected = "th" if last2[0] == "1" else {"1": "st", "2": "nd", "3": "rd"}.get(last2[1], "th")
        if om.group(1).lower() == expected:
            return nums.ordinal(digits), om.end()
        letters = spell(om.group(1)) if om.group(1).isupper() else om.group(1)
        return f"{nums.cardinal(digits)} {letters}", om.end()  # "1th" is not an ordinal
    if c == "d" and digits[-1] in "23" and digits[-2:-1] != "1" and not text[end + 1 : end + 2].isalnum():
        # Old style "22d", "33d" (twenty-second, thirty-third: the Warren Commission report, the
        # published model's training text); a lone "2d"/"3d" is a dimension ("3d printing") unless
        # "of" or a name follows ("the 3d of June", "2d Lt.").
        nxt = next_word(text, end + 1)
        if len(digits) > 1 or nxt == "of" or nxt[:1].isupper():
            return nums.ordinal(digits), end + 1
    if c in "'s" or (c == " " and c2 == "s"):
        decade_spaced = len(digits) == 4 and digits[-1] == "0"  # "1980 s"
        pm = _PLURAL.match(text, end) or (_SPACED_S.match(text, end) if decade_spaced else None)
        if pm is not None:
            decade = len(digits) == 4 and "1000" <= digits <= "2099"
            return nums.plural_words(nums.year(digits) if decade else nums.cardinal(digits)), pm.end()
    if c == " " and c2.isdigit() and (mf := _MIXED_FRACTION.match(text, end)) is not None:
        part = nums.fraction(mf.group(1), mf.group(2))
        if mf.group(1).lstrip("0") == "1":
            part = "a " + part[4:]  # "two and a half"
        words = f"{nums.cardinal(digits)} and {part}"
        units = units_after(text, mf.end(), False)
        return (f"{words} {units[0]}", units[1]) if units else (words, mf.end())
    return None


def _after_number(text: str, start: int, end: int, words: str, singular: bool, whole: str, frac: str) -> Result | None:
    """What follows a number: versions, percent, cents, thousands, feet and inches, degrees,
    multiplication, units, eras, operators and ranges, glued letters. Each check runs only when
    the next character (or the one after a space) can start it."""
    c = text[end : end + 1]
    c2 = text[end + 1 : end + 2] if c == " " else "\0"
    if c == "." and (version := _VERSION.match(text, end)) is not None:  # "2.0.1"
        return words + "".join(" point " + nums.spell_digits(p) for p in version.group()[1:].split(".")), version.end()
    if c == ":" and not frac and (ratio := _RATIO.match(text, end)) is not None and not _after_a_name(text, start):
        return f"{words} to {nums.cardinal(ratio.group(1))}", ratio.end()  # not a verse: "Micah 6:6"
    if c in "pi" and whole in _RESOLUTIONS and not frac and not text[end + 1 : end + 2].isalnum():
        return f"{codes.house_number(whole, 'oh')} {c.upper()}", end + 1  # video lines: "ten eighty P"
    if c in _INERT or c2 in _INERT:
        return None
    if c == "%" or c2 == "%":
        return words + " percent", _PERCENT.match(text, end).end()
    if c == "¢" or c2 == "¢":
        return words + (" cent" if singular else " cents"), text.index("¢", end) + 1
    if c == "k" and not text[end + 1 : end + 2].isalnum():  # "3.5k people"
        return words + " thousand", end + 1
    if (c in "MB" and not text[end + 1 : end + 2].isalnum() and (frac or _PLURAL_AFTER.match(text, end + 1))
            and prev_token(text, start).lower() not in NUMBER_LABELS):  # "3.5M grant", "5M users"; "3M tape", "seat 5B"
        return words + (" million" if c == "M" else " billion"), end + 1
    if c == "'" and (fi := _FEET_INCHES.match(text, end)) is not None:  # 5' 10"
        inches = fi.group(1)
        feet = "foot" if singular else "feet"
        return f"{words} {feet} {_decimal_or_integer(inches)} inch{'' if inches == '1' else 'es'}", fi.end()
    if (c == "°" or c2 == "°" or (c in "CF" and prev_token(text, start).lower() not in NUMBER_LABELS)) and (
        dm := _DEGREES.match(text, end)
    ) is not None:  # "75F", but "apartment 4C"
        scale = dm.group("scale") or dm.group("bare")
        names = UNITS["°c" if scale == "C" else "°f" if scale == "F" else "°"]
        return f"{words} {names[0] if singular else names[1]}", dm.end()
    if c in "x×" and (tm := _TIMES.match(text, end)) is not None:  # "2x4" by, "3x faster" times
        return words + (" by " if text[tm.end() : tm.end() + 1].isdigit() else " times"), tm.end()
    if c2 in "x×" and (tm := _SPACED_TIMES.match(text, end)) is not None:
        return words + " times ", tm.end()
    if c2.isupper() and (money := code_after(text, start, end)) is not None:  # "100 USD"
        return money
    if c.isalpha() or c in "°-" or c2.isalpha() or c2 == "°":
        prev = prev_token(text, start).lower()
        capitals = (c if c != " " else c2).isupper() and (  # "a 100 W bulb", but "seat 5A", "in 1990 A", "02 A"
            prev.rstrip(".:#,") not in _LABELS and not (len(whole) == 4 and "1000" <= whole <= "2099")
            and whole[:1] != "0" and not text[start - 1 : start].isalpha()  # "25d08A"
        )
        if (units := units_after(text, end, singular or prev in ("a", "an"), capitals)) is not None:  # "a 3.5mm jack"
            if not singular and prev in DETERMINERS and before_a_noun(text, units[1]):  # "the 100 m sprint"
                units = units_after(text, end, True, capitals)
            return f"{words} {units[0]}", units[1]
    if (c == "/" or c2 == "/") and (per := _PER.match(text, end)) is not None and (unit := per_unit(per.group("u"))):
        if power := per.group("pow"):  # "250 /km2": per square kilometer
            unit = f"{POWERS[power]} {unit}" if per.group("u").lower() in LENGTH_UNITS else unit + POWER_SUFFIX[power]
        return f"{words} per {unit}", per.end()
    if (c in "ABC" or c2 in "ABC") and not frac and len(whole) <= 4 and (era := _ERA.match(text, end)):
        words = f"{nums.year(whole)} {spell(era.group('era').replace('.', ''))}"
        return words + ("." if era.group()[-1] == "." and sentence_ends_after(text, era.end()) else ""), era.end()
    if is_inches(text, start, end):
        return f"{words} {'inch' if singular else 'inches'}", end + 1
    if (c in _OPERATORS or c2 in _OPERATORS) and (op := _OPERATOR.match(text, end)) is not None:
        symbol = op.group("op")
        if symbol in "-–":
            word = _dash_word(text, start, whole, frac, op)
            if word == "-":
                return f"{words} - ", op.end()
        elif symbol == "/":  # "1795 / 1805": a spaced slash between integers is a fraction
            b = _NEXT_NUMBER.match(text, op.end())
            if not (op.group("pre") and op.group("post")) or frac or not b.group("int") or b.group("frac"):
                return None
            return nums.fraction(whole, b.group("int").replace(",", "")), b.end()
        else:
            word = _OPERATOR_WORDS[symbol]
        return f"{words} {word} ", op.end()
    if c.isalpha():
        letters = LETTERS.match(text, end)
        return f"{words} {word_piece(letters.group())}", letters.end()
    return None


# --- handlers ----------------------------------------------------------------------------------


def _after_a_name(text: str, start: int) -> bool:
    """A capitalized word inside the sentence comes right before the number ("in Micah 6:6")."""
    prev = prev_word(text, start)
    return prev[:1].isupper() and prev_word(text, start - len(prev) - 1) != ""


def _small(text: str, start: int, digits: str) -> str:
    """1 to 999 with nothing after it that changes the reading; a label may still ("room 204")."""
    return len(digits) == 3 and codes.label_reading(text, start, digits) or nums.cardinal(digits)


def simple(text: str, m: Match) -> Result:
    """A small number followed only by punctuation (the master regex checked that)."""
    return _small(text, m.start(), m.group()), m.end()


def number(text: str, m: Match) -> Result:
    """Any number token, with whatever follows it that changes or extends its reading."""
    start = m.start()
    body = _NUMBER.match(text, start)
    sign, whole, frac = body.group("sign", "int", "frac")
    end = body.end()
    c = text[end : end + 1]
    if c in _INERT and c != ":" and not sign and frac is None and whole and len(whole) <= 3 and whole[0] != "0":
        return pad(text, start, end, _small(text, start, whole)), end
    whole = whole or ""
    digits = whole.replace(",", "")
    if not digits and frac is None:  # a lone sign
        return text[start], start + 1
    grouped = c in "-/" or "," in whole or text[end : end + 2] == " /"
    if grouped and not sign and frac is None and (ident := codes.identifier(text, start)) is not None:  # "ISBN 0-306-40615-2"
        return ident
    if c in " -" and not sign and frac is None and (now := _TO_NOW.match(text, end)) is not None:  # "1990-present"
        return pad(text, start, end, _integer(text, start, end, digits, "," in whole)[0]) + " to ", now.end()
    if c in "-/" and not sign and frac is None:
        if c == "-" and (phone := codes.local_phone(text, start)) is not None:  # "call 555-1234"
            return phone
        if (ident := codes.id_pair(text, start)) is not None:
            return ident
        if c == "/" and (over := _OVER_LETTER.match(text, end)) is not None and over.group(1) not in PER_UNITS:
            return pad(text, start, over.end(), f"{nums.cardinal(digits)} over {over.group(1).upper()}"), over.end()
        if (chain := codes.chain(text, start)) is not None:
            return chain
    prefix = {"-": "minus ", "+": "plus "}.get(sign or "", "")
    if sign == "-" and text[start - 1 : start] in ("%", "°"):  # "51%-49%", "20°-25°": a range
        prefix = " to "
    if c in "eE" and (e := _EXPONENT.match(text, end)) is not None and len(digits) <= nums.MAX_CARDINAL_DIGITS:
        mantissa = nums.decimal(digits, frac) if frac is not None else nums.cardinal(digits)
        power = ("minus " if e.group("esign") == "-" else "") + nums.cardinal(e.group("exp"))
        return pad(text, start, e.end(), f"{prefix}{mantissa} times ten to the power of {power}"), e.end()
    if frac is not None:
        if len(digits) <= nums.MAX_CARDINAL_DIGITS:
            words = prefix + nums.decimal(digits, frac)
        else:
            words = f"{prefix}{nums.spell_digits(digits)} point {nums.spell_digits(frac)}"
        singular = False
    else:
        special = _integer_suffix(text, start, end, digits)
        if special is not None:
            words, end = special
            op = _OPERATOR.match(text, end) if text[end : end + 1] in "-–" else None
            if op is not None and _dash_word(text, start, whole, "", op) == "to":  # "1960s-80s", "5th-7th"
                words, end = words + " to ", op.end()
            return pad(text, start, end, prefix + words), end
        words, end = _integer(text, start, end, digits, "," in whole)
        words = prefix + words
        singular = digits == "1"
    tail = _after_number(text, start, end, words, singular, digits, frac or "")
    if tail is not None:
        words, end = tail
    return pad(text, start, end, words), end

