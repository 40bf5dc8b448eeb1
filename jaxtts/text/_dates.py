"""Dates and times of day: '2024-01-05', '1/5/2024', 'Jan. 5, 2024', '5 January', 'May 3-5',
'7:30 pm EST', '1:01:01'; and whether 'a/b' is a date, a span of years or a fraction."""
from __future__ import annotations

import re

from jaxtts.text import numbers as nums
from jaxtts.text._codes import serial
from jaxtts.text._context import RANGE_DASH, next_word, pad, prev_token, prev_word, sentence_ends_after
from jaxtts.text._tables import MONTH_NAMES, MONTHS, SCORE_WORDS, SLASH_IDIOMS, TIMEZONES, UNITS, WEEKDAYS
from jaxtts.text._words import spell

Match = re.Match
Result = tuple[str, int]

DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)"
ORD = r"(?i:st|nd|rd|th)"
_AMPM = re.compile(r"\s?(?P<ap>[AaPp])\.?[Mm](?![A-Za-z])(?P<dot>\.)?")
_TIMEZONE = re.compile(r"\s?(?P<tz>(?:[A-Za-z]\.){2,3}[A-Za-z]?|[A-Za-z]{2,4})(?![\w])\.?")
_DAY_RANGE = re.compile(rf"\s?[-–]\s?(?P<d>{DAY}){ORD}?(?![\w:])")
_DATE_PREPOSITIONS = frozenset("on by until till since from beginning starting dated due before after for".split())
_COMMON_DENOMINATORS = frozenset((2, 3, 4, 8, 16, 32, 64))
_WEEKDAY_NAMES = frozenset(WEEKDAYS.values())


def _is_year_span(a: str, b: str) -> bool:
    """'2020/21', '1999/2000': a year, then a later year (or its last two digits) within a decade."""
    if len(a) != 4 or not "1000" <= a <= "2099":
        return False
    if len(b) == 2:
        return 0 < int(b) - int(a[2:]) <= 10
    return len(b) == 4 and 0 < int(b) - int(a) <= 10


def fraction_or_date(text: str, start: int, num: str, fm: Match) -> str:
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
    if (dash := RANGE_DASH.match(text, end)) is not None:
        words += " to "
        end = dash.end()
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
