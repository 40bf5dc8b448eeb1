"""Handlers for everything made of digits, read in context: numbers with what follows them (units,
percent, ordinal and plural suffixes, ranges, arithmetic), money, times, dates, telephone numbers
and codes mixing letters and digits.

A handler takes the text and the master-regex match and returns (spoken words, where the scan
resumes); it may consume past the match (the unit after a number). Checks on what follows a
number are gated on the next character, so a bare number costs a couple of comparisons.
"""
from __future__ import annotations

import re

from jaxtts.text import numbers as nums
from jaxtts.text._context import next_word, pad, prev_token, prev_word, sentence_ends_after
from jaxtts.text._tables import (
    COUNT_NOUNS,
    CURRENCIES,
    CURRENCY_CODES,
    DETERMINERS,
    DIRECTIONS,
    DOLLAR_PREFIXES,
    FUNCTION_WORDS,
    LENGTH_UNITS,
    MONTH_NAMES,
    MONTHS,
    NOT_PLURAL,
    NUMBER_LABELS,
    PER_UNITS,
    POWERS,
    SCALES,
    SCORE_WORDS,
    SLASH_IDIOMS,
    STREET_TYPES,
    SYMBOL_NAMES,
    TIMEZONES,
    UNITS,
    WEEKDAYS,
)
from jaxtts.text._words import spell, word_piece

Match = re.Match
Result = tuple[str, int]

DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)"
ORD = r"(?i:st|nd|rd|th)"
CURRENCY_SYMBOLS = "$£€¥₹₩₽"

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
_UNIT = re.compile(
    r"(?P<scale>\s(?:hundred|thousand|million|billion|trillion))?(?P<sep>\s?|-)(?P<sq>(?:sq|cu)\.?\s?)?"
    r"(?P<u>[A-Za-z°][A-Za-z]{0,4})(?P<pow>[23](?!\d))?(?:/(?P<per>[A-Za-z]{1,5})(?P<ppow>[23](?!\d))?)?"
    r"(?P<dot>\.)?(?![\w°])"
)
_ISO_AFTER = re.compile(rf"\s(?P<iso>{'|'.join(CURRENCY_CODES)})(?!\w)")  # "100 USD"
_RATIO = re.compile(r":(\d{1,4})(?![\d:]|[.,]\d)")  # "2:1", "16:9": a time has two-digit minutes
_LOCAL_PHONE = re.compile(r"\d{3}-\d{4}(?![\w-]|[.,]\d)")
_PHONE_CUES = frozenset("call calling phone tel telephone dial fax cell mobile text ring".split())
_RESOLUTIONS = frozenset("144 240 360 480 576 720 1080 1440 2160 4320".split())  # "1080p", "1080i"
_OVER_LETTER = re.compile(r"/([A-Za-z])(?![\w/-])")  # "1/f noise": one over F
_EXPONENT = re.compile(r"[eE](?P<esign>[-+])?(?P<exp>\d{1,3})(?![\w.])")  # "6.02e23", "1e-5"
_TO_NOW = re.compile(r"\s?-\s?(?=(?i:present|now|today|date)(?![A-Za-z]))")
_POWER_SUFFIX = {"2": " squared", "3": " cubed"}
_INCH_CONTEXT = re.compile(r"\s*(?:$|[,;:!?)\]]|\.(?!\w)|x\b|by\b|long|wide|tall|high|deep|thick|in diameter)")
_PER = re.compile(r"/(?P<u>[A-Za-z]{1,5})(?![\w/])")
_ERA = re.compile(r"\s?(?P<era>A\.?D|B\.?C(?:\.?E)?|C\.?E)(?![A-Za-z])\.?")
_VERSION = re.compile(r"(?:\.\d+)+(?=\.?(?![\w.]))")
_FEET_INCHES = re.compile(r"'\s?(\d{1,2}(?:\.\d+)?)(?:\"|'')")
_PAREN_LETTER = re.compile(r"\(([a-z])\)")
_OPERATOR = re.compile(r"(?P<pre>\s?)(?P<op>[-+*=/×÷–])(?P<post>\s?)(?=[-+]?\.?\d)")
_CHAIN = re.compile(r"[\w.]+(?:[-/][\w.]+){2,}|\d+[-/][A-Za-z][\w/-]*")
_ID_PAIR = re.compile(r"0\d+-\d+(?![\w-])|[1-9]\d*-0\d+(?![\w-])")
_QUARTER = re.compile(r"([1-4])Q(\d\d)(?!\w)")
_PLURAL_AFTER = re.compile(r" [a-z]+[^\Ws]s\b")  # " users", not " glass" nor " tape"
_LETTERS = re.compile(r"[A-Za-z]+")
_GLUED_CODE = re.compile(r"[A-Za-z]+\d")  # letters then digits glued to a number: a code, not a unit
_SERIAL_PARTS = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?|.")
_STREET_AFTER = re.compile(
    r"\s+(?:(?P<dir>[NSEW]|NE|NW|SE|SW)\.?\s+)?(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,3}"
    rf"(?i:{'|'.join(sorted(STREET_TYPES, key=len, reverse=True))})(?![A-Za-z])"
)
_AMOUNT = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?"
    r"(?:\s?(?P<scale>(?i:thousand|million|billion|trillion|bn|mn|tn|[kmbt]))(?![A-Za-z]))?"
    r"(?:/(?P<per>[A-Za-z]{1,5})(?![A-Za-z]))?"
)
_INCH_MARK = re.compile(r'\d"')
_RANGE_END = re.compile(r"\s?[-–]\s?\d+")
_RANGE_DASH = re.compile(rf"\s?[-–]\s?(?=[{CURRENCY_SYMBOLS}]?\.?\d)")
_AMPM = re.compile(r"\s?(?P<ap>[AaPp])\.?[Mm](?![A-Za-z])(?P<dot>\.)?")
_TIMEZONE = re.compile(r"\s?(?P<tz>(?:[A-Za-z]\.){2,3}[A-Za-z]?|[A-Za-z]{2,4})(?![\w])\.?")
_DAY_RANGE = re.compile(rf"\s?[-–]\s?(?P<d>{DAY}){ORD}?(?![\w:])")

_INERT = frozenset(("", ",", ";", ":", "!", "?", ")", "]", ".", "\n", "\t", "\r"))  # end a number's reading
_OPERATORS = "-+*=/×÷–"
_OPERATOR_WORDS = {"+": "plus", "*": "times", "×": "times", "=": "equals", "÷": "divided by"}
_MATH_BEFORE = frozenset("= + * x × /".split())
_YEAR_PREPOSITIONS = frozenset(
    "in since by until till of from to during before after around circa year years summer spring "
    "autumn fall winter early late mid the".split()
)
_DATE_PREPOSITIONS = frozenset("on by until till since from beginning starting dated due before after for".split())
_COMMON_DENOMINATORS = frozenset((2, 3, 4, 8, 16, 32, 64))
_WEEKDAY_NAMES = frozenset(WEEKDAYS.values())


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
    if (glued := _LETTERS.match(text, end)) is not None:
        return _unit_names(glued.group()) is not None
    nxt = next_word(text, end)
    low = nxt.lower()
    if low in COUNT_NOUNS or low in UNITS:
        return True
    return nxt.islower() and len(nxt) > 3 and nxt[-1] == "s" and nxt[-2] != "s" and low not in NOT_PLURAL


# Labels whose 3+ digit numbers are said digit by digit ("PIN 4821", "card ending in 8876") or in
# pairs like a house number ("room 1204": twelve oh four, "flight 302": three oh two). Aircraft
# models stay cardinals ("Boeing 737"), as the public context cases read them.
_DIGIT_LABELS = frozenset("pin code passcode ext extension account acct".split())
_PAIRED_LABELS = frozenset("room rm flight highway hwy interstate route apartment apt suite".split())


def _label_reading(text: str, start: int, digits: str) -> str | None:
    """The reading a label before the number asks for, if any."""
    label = prev_token(text, start).lower().rstrip(".:#,")
    ending_in = label == "in" and prev_word(text, start - len(label) - 1).lower() in ("ending", "ends")
    if label in _DIGIT_LABELS or ending_in:
        return nums.spell_digits(digits)
    if label in _PAIRED_LABELS:
        return _house_number(digits, "oh")
    return None


def _house_number(digits: str, zero: str = "zero") -> str:
    """Street numbers in pairs: 2788 -> twenty seven eighty eight, 123 -> one twenty three, 708 ->
    seven zero eight (NeMo's reading of addresses; `zero="oh"` for rooms and flights)."""
    if len(digits) == 3 and digits[1:] != "00":
        tail = f"{zero} {nums.cardinal(digits[2])}" if digits[1] == "0" else nums.cardinal(digits[1:])
        return f"{nums.cardinal(digits[0])} {tail}"
    if len(digits) == 4:
        return nums.year(digits)
    return nums.cardinal(digits) if len(digits) < 5 else nums.spell_digits(digits)


def _integer(text: str, start: int, end: int, digits: str, grouped: bool) -> Result:
    """A plain integer by its shape and context: leading zeros digit by digit, house numbers in
    pairs (taking a street direction along), years, long identifiers digit by digit."""
    if len(digits) > 1 and digits[0] == "0":
        return nums.spell_digits(digits), end
    if grouped:
        return nums.cardinal(digits), end
    n = len(digits)
    after = text[end + 1 : end + 2]  # a street name or ordinal: "350 5th Ave"
    street = _STREET_AFTER.match(text, end) if n <= 5 and (after.isupper() or after.isdigit()) else None
    if street is not None:
        words = _house_number(digits)
        if street.group("dir"):
            words += " " + DIRECTIONS[street.group("dir").lower()]
            end = street.end("dir") + (text[street.end("dir") : street.end("dir") + 1] == ".")
        return words, end
    if n >= 3 and (words := _label_reading(text, start, digits)) is not None:
        return words, end
    if n == 4 and "1000" <= digits <= "2099":
        return (nums.cardinal(digits) if _is_count(text, start, end) else nums.year(digits)), end
    if n >= 5 and not digits.endswith("000") and not _is_count(text, start, end):
        return nums.spell_digits(digits), end
    return nums.cardinal(digits), end


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


def _is_serial(chain: str) -> bool:
    """'978-0-13', '133-ABC', '1/f-4s' are codes; '12/kg', '5-kg', '1/2-inch' are numbers with a
    unit or a word after them."""
    segments = re.split("[-/]", chain)
    if len(segments) >= 3:
        return not (len(segments) == 3 and segments[0].isdigit() and segments[1].isdigit() and segments[2].isalpha())
    tail = _LETTERS.search(chain)
    return tail is None or (_unit_names(tail.group()) is None and tail.group() not in PER_UNITS)


# --- what follows a number -------------------------------------------------------------------


def _unit_names(unit: str) -> tuple[str, ...] | None:
    """(singular, plural) of a unit symbol; capitals fall back to lowercase ("KG"), except single
    letters ("M" is not metres)."""
    names = UNITS.get(unit)
    if names is None and len(unit) > 1:
        names = UNITS.get(unit.lower())
    return names


def _per_unit(unit: str | None) -> str | None:
    return None if unit is None else PER_UNITS.get(unit) or PER_UNITS.get(unit.lower())


_NOT_NOUNS = FUNCTION_WORDS | frozenset("long wide high tall deep thick old ago away apart later each per".split())


def _before_a_noun(text: str, end: int) -> bool:
    """A plain lowercase word follows that is not a function word or a measure adjective: after a
    determiner the quantity then modifies it ("the 10 km race"), unlike "the 10 km of road"."""
    nxt = next_word(text, end)
    return nxt.isalpha() and nxt.islower() and nxt not in _NOT_NOUNS


def _units_after(text: str, end: int, singular: bool) -> Result | None:
    """A unit right after a number ("12kg", "5 km/h", "3 m2", "100 million kg"), in the number's
    grammatical number; hyphenated units are adjectives and stay singular ("a 5-kg bag")."""
    m = _UNIT.match(text, end)
    if m is None:
        return None
    unit, per = m.group("u"), m.group("per")
    if unit == "in" and (m.group("pow") or not _INCH_CONTEXT.match(text, m.end("u"))):
        return None  # "3 in the morning"
    names = _unit_names(unit)
    per_name = _per_unit(per)
    if names is None or (per is not None and per_name is None):
        return None
    power = m.group("pow") or (m.group("sq") or " ")[0]
    if power in POWERS and unit.lower() not in LENGTH_UNITS:
        return None
    one_or_many = 0 if singular or m.group("sep") == "-" else 1
    words = names[1] if m.group("scale") else names[one_or_many]
    if power in POWERS:
        words = f"{POWERS[power]} {words}"
    if m.group("scale"):
        words = f"{m.group('scale').strip()} {words}"
    if per_name and (ppow := m.group("ppow")):  # "kg/m3" per cubic meter, "m/s2" per second squared
        per_name = f"{POWERS[ppow]} {per_name}" if per.lower() in LENGTH_UNITS else per_name + _POWER_SUFFIX[ppow]
    if per_name:
        words += " per " + per_name
    if m.group("dot") and sentence_ends_after(text, m.end()):
        words += "."
    return words, m.end()


def _is_year_span(a: str, b: str) -> bool:
    """'2020/21', '1999/2000': a year, then a later year (or its last two digits) within a decade."""
    if len(a) != 4 or not "1000" <= a <= "2099":
        return False
    if len(b) == 2:
        return 0 < int(b) - int(a[2:]) <= 10
    return len(b) == 4 and 0 < int(b) - int(a) <= 10


def _fraction_or_date(text: str, start: int, num: str, fm: Match) -> str:
    """'3/4' is a fraction, 'on 1/4' or '(2/22)' a date (month first, as in American usage)."""
    den, suffix = fm.group("den"), fm.group("suf")
    if (idiom := SLASH_IDIOMS.get(f"{num}/{den}")) is not None and not suffix:
        return idiom
    if not den.strip("0"):
        return f"{nums.cardinal(num)} divided by zero"
    if not suffix and _is_year_span(num, den):  # "2020/21 season", "1999/2000": one year to the next
        if len(den) == 4:
            return f"{nums.year(num)} to {nums.year(den)}"
        later = f"oh {nums.DIGIT_WORDS[den[1]]}" if den[0] == "0" else nums.cardinal(den)
        return f"{nums.year(num)} to {later}"
    if suffix:
        fraction = nums.fraction(num, den)
        return nums.plural_words(fraction) if suffix.lower() == "s" and num == "1" else fraction
    a, b = (int(num), int(den)) if len(num) <= 2 and len(den) <= 2 else (0, 0)
    nxt = next_word(text, fm.end()).lower()
    month = int(num) if len(num) <= 2 else 0
    if len(den) == 4 and "1900" <= den <= "2099" and (2 <= month <= 12 or num == "01") and nxt != "of":
        return f"{MONTH_NAMES[month]} {nums.year(den)}"  # "5/2024", "01/2024"; "1/2000" is a shutter speed
    prev = prev_token(text, start).lower().rstrip(",")
    if (prev in SCORE_WORDS or nxt in SCORE_WORDS) and int(num) <= int(den):  # "rated 4/5", "7/10 points"
        return f"{nums.cardinal(num)} out of {nums.cardinal(den)}"
    if 1 <= a <= 12 and 1 <= b <= 31 and nxt != "of" and nxt not in UNITS:
        enclosed = text[start - 1 : start] == "("
        weekday = prev in WEEKDAYS or prev.capitalize() in _WEEKDAY_NAMES  # "Tuesday 1/4"
        if prev in _DATE_PREPOSITIONS or enclosed or weekday or b not in _COMMON_DENOMINATORS:
            if b <= 12:  # where either order would be a date, say it so both readers agree
                return f"the {nums.ordinal(str(b))} of {MONTH_NAMES[a]}"
            return f"{MONTH_NAMES[a]} {nums.ordinal(str(b))}"
    return nums.fraction(num, den)


def _is_inches(text: str, start: int, end: int) -> bool:
    """A double quote right after a number is an inch mark unless it closes a quotation, that is,
    unless an odd number of quote marks (other inch marks aside) comes before it."""
    if text[end : end + 1] != '"':
        return False
    window = text[max(0, start - 200) : start]
    return (window.count('"') - len(_INCH_MARK.findall(window))) % 2 == 0


def _dash_word(text: str, start: int, a_int: str, a_frac: str, op: Match) -> str:
    """'-' between numbers: 'minus' in arithmetic ('35-20=15', '3 - 2'); 'to' between numbers of
    similar size (a range '10-20', '1960-80', hours '9-5', a score '5-4'); else a pause ('978-0',
    or codes: '4F7-2B9')."""
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
    a_val, b_val = float(f"{a_digits or 0}.{a_frac or 0}"), float(f"{b_digits}.{b_frac or 0}")
    if a_val >= b_val and (op.group("pre") or op.group("post")):
        return "minus"
    year_shorthand = len(a_digits) == 4 and len(b_digits) == 2 and int(b_digits) > int(a_digits) % 100
    return "to" if abs(len(a_digits) - len(b_digits)) <= 1 or year_shorthand else "-"


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
        reading = _fraction_or_date(text, start, digits, fm)
        if _is_inches(text, start, fm.end()):  # 3/8"
            return f"{reading} inch", fm.end() + 1
        units = _units_after(text, fm.end(), digits.lstrip("0") == "1")
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
        units = _units_after(text, mf.end(), False)
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
        return f"{_house_number(whole, 'oh')} {c.upper()}", end + 1  # video lines: "ten eighty P"
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
    if c2.isupper() and (iso := _ISO_AFTER.match(text, end)) is not None:  # "100 USD"
        if (amount := _AMOUNT.match(text, start)).end() == end:
            return _amount_words(amount, _currency_names(*CURRENCY_CODES[iso.group("iso")]))[0], iso.end()
    if c.isalpha() or c in "°-" or c2.isalpha() or c2 == "°":
        prev = prev_token(text, start).lower()
        if (units := _units_after(text, end, singular or prev in ("a", "an"))) is not None:  # "a 3.5mm jack"
            if not singular and prev in DETERMINERS and _before_a_noun(text, units[1]):  # "the 100 m sprint"
                units = _units_after(text, end, True)
            return f"{words} {units[0]}", units[1]
    if c == "/" and (per := _PER.match(text, end)) is not None and (unit := PER_UNITS.get(per.group("u"))):
        return f"{words} per {unit}", per.end()
    if (c in "ABC" or c2 in "ABC") and not frac and len(whole) <= 4 and (era := _ERA.match(text, end)):
        words = f"{nums.year(whole)} {spell(era.group('era').replace('.', ''))}"
        return words + ("." if era.group()[-1] == "." and sentence_ends_after(text, era.end()) else ""), era.end()
    if _is_inches(text, start, end):
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
        letters = _LETTERS.match(text, end)
        return f"{words} {word_piece(letters.group())}", letters.end()
    return None


# --- handlers ----------------------------------------------------------------------------------


def _after_a_name(text: str, start: int) -> bool:
    """A capitalized word inside the sentence comes right before the number ("in Micah 6:6")."""
    prev = prev_word(text, start)
    return prev[:1].isupper() and prev_word(text, start - len(prev) - 1) != ""


def _small(text: str, start: int, digits: str) -> str:
    """1 to 999 with nothing after it that changes the reading; a label may still ("room 204")."""
    return len(digits) == 3 and _label_reading(text, start, digits) or nums.cardinal(digits)


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
    if c in " -" and not sign and frac is None and (now := _TO_NOW.match(text, end)) is not None:  # "1990-present"
        return pad(text, start, end, _integer(text, start, end, digits, "," in whole)[0]) + " to ", now.end()
    if c in "-/" and not sign and frac is None:
        if c == "-" and prev_word(text, start).lower() in _PHONE_CUES and (local := _LOCAL_PHONE.match(text, start)):
            return pad(text, start, local.end(), phone_words(local.group())), local.end()  # "call 555-1234"
        if (ident := _ID_PAIR.match(text, start)) is not None:
            words = " - ".join(_identifier_digits(group) for group in ident.group().split("-"))
            return pad(text, start, ident.end(), words), ident.end()
        if c == "/" and (over := _OVER_LETTER.match(text, end)) is not None and over.group(1) not in PER_UNITS:
            return pad(text, start, over.end(), f"{nums.cardinal(digits)} over {over.group(1).upper()}"), over.end()
        if (chain := _CHAIN.match(text, start)) is not None and _is_serial(chain.group()):
            return pad(text, start, chain.end(), serial(chain.group())), chain.end()
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


def code(text: str, m: Match) -> Result:
    """Letters and digits mixed in one token: 'B2A23C', 'COVID-19', 'fifa2016'."""
    return pad(text, m.start(), m.end(), serial(m.group())), m.end()


def time_of_day(text: str, m: Match) -> Result:
    """'7:30 pm' -> 'seven thirty P M', '19:05' -> 'nineteen o five', '1:01:01' -> hours, minutes,
    seconds (a duration, unless a.m./p.m. makes it a clock: '10:00:05 pm' -> 'ten and five seconds
    P M'); a following time zone is spelled and a following dash is 'to'."""
    hours = m.group("hh") or m.group("hh2")
    minutes = m.group("mm") or m.group("mm2")
    seconds = m.group("ss")
    end = m.end()
    h = nums.cardinal(hours)
    ampm = _AMPM.match(text, end)
    clock_seconds = ""
    if seconds is not None and ampm is not None:
        if seconds != "00":
            clock_seconds = f" and {nums.cardinal(seconds)} second{'' if int(seconds) == 1 else 's'}"
        seconds = None
    if seconds is not None:
        parts = [(h, hours, "hour"), (nums.cardinal(minutes), minutes, "minute")]
        words = " ".join(f"{w} {unit}{'' if int(v) == 1 else 's'}" for w, v, unit in parts)
        words += f" and {nums.cardinal(seconds)} second{'' if int(seconds) == 1 else 's'}"
    elif minutes is None or minutes == "00":
        words = h
    elif minutes[0] == "0":
        words = f"{h} o {nums.DIGIT_WORDS[minutes[1]]}"
    else:
        words = f"{h} {nums.cardinal(minutes)}"
    words += clock_seconds
    if m.group("tsign"):
        words = ("minus " if m.group("tsign") == "-" else "plus ") + words
    if ampm is not None:
        words += f" {ampm.group('ap').upper()} M"
        end = ampm.end()
        if ampm.group("dot") and sentence_ends_after(text, end):
            words += "."
    elif minutes == "00" and seconds is None and not text[end : end + 9].lstrip().startswith("o'clock"):
        words += " o'clock"
    tz = _TIMEZONE.match(text, end)
    if tz is not None and tz.group("tz").replace(".", "").lower() in TIMEZONES:
        words += " " + spell(tz.group("tz").replace(".", ""))
        end = tz.end()
    if (dash := _RANGE_DASH.match(text, end)) is not None:
        words += " to "
        end = dash.end()
    return pad(text, m.start(), end, words), end


def _amount_words(amount: Match, names: tuple[str, str, str, str]) -> Result:
    """An amount of money: '12.50' -> twelve dollars fifty cents, '2.5 million' -> two point five
    million dollars, '20.506' -> twenty point five zero six dollars, '/mo' -> per month."""
    one, many, minor_one, minor_many = names
    whole = (amount.group("int") or "").replace(",", "")
    frac = amount.group("frac") or ""
    scale, per = amount.group("scale"), amount.group("per")
    end = amount.end()
    per_name = _per_unit(per)
    if per is not None and per_name is None:
        end = amount.start("per") - 1
    if scale is not None:
        value = nums.decimal(whole, frac) if frac else nums.cardinal(whole or "0")
        words = f"{value} {SCALES[scale.lower()]} {many}"
    elif len(whole) > nums.MAX_CARDINAL_DIGITS:
        words = f"{nums.spell_digits(whole)} {many}"
    elif len(frac.rstrip("0")) > 2 or (frac.rstrip("0") and not minor_one):
        words = f"{nums.decimal(whole, frac)} {many}"
    else:
        cents = int(frac.rstrip("0").ljust(2, "0")) if frac.rstrip("0") else 0
        parts = []
        if whole.strip("0") or not cents:
            parts.append(f"{nums.cardinal(whole or '0')} {one if whole.lstrip('0') == '1' else many}")
        if cents:
            parts.append(f"{nums.cardinal(str(cents))} {minor_one if cents == 1 else minor_many}")
        words = " ".join(parts)
    if per_name:
        words += " per " + per_name
    return words, end


def _currency_names(region: str | None, symbol: str) -> tuple[str, str, str, str]:
    one, many, minor_one, minor_many = CURRENCIES[symbol]
    if region and symbol == "$":
        one, many = f"{region} {one}", f"{region} {many}"
    return one, many, minor_one, minor_many


def money(text: str, m: Match) -> Result:
    """'$12.50', 'US$76.3 trillion', 'USD 100', '£10/wk', '$50-$100', '$5-10' (the currency said once)."""
    iso = m.group("iso")
    if iso:
        names = _currency_names(*CURRENCY_CODES[iso])
    else:
        names = _currency_names(DOLLAR_PREFIXES.get(m.group("cc") or ""), m.group("cur"))
    first = _AMOUNT.match(text, m.end())
    words, end = _amount_words(first, names)
    if (dash := _RANGE_DASH.match(text, end)) is not None:
        if text[dash.end()] in CURRENCY_SYMBOLS:
            words, end = words + " to ", dash.end()
        else:
            second_words, end = _amount_words(_AMOUNT.match(text, dash.end()), names)
            whole, frac = (first.group("int") or "0").replace(",", ""), first.group("frac")
            words = f"{nums.decimal(whole, frac) if frac else nums.cardinal(whole)} to {second_words}"
    return pad(text, m.start(), end, words), end


def _year_words(digits: str) -> str:
    if len(digits) == 2:
        return nums.spell_digits(digits) if digits[0] == "0" else nums.cardinal(digits)
    return nums.year(digits)


def _month(name: str) -> str:
    return MONTHS[name[:3].lower()]


def date_numeric(text: str, m: Match) -> Result:
    """'2024-01-05', '1/5/2024' (month first), '15.01.2020' (day first when it cannot be a month)."""
    if m.group("iy"):
        words = f"{MONTH_NAMES[int(m.group('im'))]} {nums.ordinal(m.group('id'))} {nums.year(m.group('iy'))}"
    else:
        a, b, year = int(m.group("na")), int(m.group("nb")), m.group("ny")
        if 1 <= a <= 12 and 1 <= b <= 31:
            words = f"{MONTH_NAMES[a]} {nums.ordinal(str(b))} {_year_words(year)}"
        elif 1 <= b <= 12 and 1 <= a <= 31:
            words = f"the {nums.ordinal(str(a))} of {MONTH_NAMES[b]} {_year_words(year)}"
        else:
            words = serial(m.group())
    return pad(text, m.start(), m.end(), words), m.end()


def date_month_first(text: str, m: Match) -> Result:
    """'Jan. 5, 2024' -> 'January fifth, twenty twenty four'; 'May 3-5'; 'January 1921'."""
    month = _month(m.group("mon"))
    end = m.end()
    if m.group("day"):
        words = f"{month} {nums.ordinal(m.group('day'))}"
        if m.group("yr"):
            words += ("," if m.group("ycomma") else "") + " " + nums.year(m.group("yr"))
        elif (days := _DAY_RANGE.match(text, end)) is not None:
            words += f" to {nums.ordinal(days.group('d'))}"
            end = days.end()
    else:
        words = f"{month}{',' if m.group('ycomma2') else ''} {nums.year(m.group('yr2'))}"
    return pad(text, m.start(), end, words), end


def date_day_first(text: str, m: Match) -> Result:
    """'5 January 2024' -> 'the fifth of January twenty twenty four' ('the' unless already there)."""
    day = nums.ordinal(m.group("day2"))
    month = _month(m.group("mon2"))
    the = "" if m.group("of") or prev_word(text, m.start()).lower() == "the" else "the "
    words = f"{the}{day} of {month}"
    if m.group("yr3"):
        words += ("," if m.group("ycomma3") else "") + " " + nums.year(m.group("yr3"))
    return pad(text, m.start(), m.end(), words), m.end()


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
