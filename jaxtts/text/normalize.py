"""English text normalization: arbitrary text -> words and prosodic punctuation a TTS model reads.

`normalize(text)` drops HTML/SSML tags, decodes character references, folds Unicode to ASCII, then
makes one left-to-right pass with a compiled "master" regex whose alternatives only match
*interesting* tokens: digits, symbols, runs of capitals, abbreviations, web addresses. Plain words
never leave the regex engine, so ordinary prose costs one C-level scan. Each match goes to a handler
that may read the neighbouring text (the word before, the words after) and may consume more than the
match (the unit after a number, "p.m." after a time); the scan resumes where the handler stopped.
Every alternative is anchored to a token start or consumes what it scans, so the pass is linear in
the length of the text.

Output conventions, which the G2P layer relies on:
- words separated by single spaces; of punctuation only `, . ! ? : ; - ' ( )` is kept;
- spelled acronyms are single capitals ("FBI" -> "F B I"); acronyms said as words stay one word
  ("NASA"); the rule is in `_words`;
- a sentence-initial article "A" is lowercased, because a lone capital is read as a letter name;
- no digits survive; text with nothing speakable gives "".
"""
from __future__ import annotations

import re
import unicodedata

from jaxtts.text import _codes as codes
from jaxtts.text import _dates as dates
from jaxtts.text import _money as money
from jaxtts.text import _numeric as numeric
from jaxtts.text import cmudict
from jaxtts.text import numbers as nums
from jaxtts.text._context import (
    WINDOW,
    next_word,
    pad,
    prev_token,
    prev_word,
    sentence_ends_after,
    sentence_start,
    shouting,
)
from jaxtts.text._dates import DAY, ORD
from jaxtts.text._tables import (
    ALWAYS,
    BEFORE_NUMBER,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    DETERMINERS,
    DIRECTIONS,
    FUNCTION_WORDS,
    LENGTH_UNITS,
    MONTHS,
    NUMBER_LABELS,
    NUMBER_PREFIXES,
    PER_UNITS,
    POWERS,
    REGNAL_NAMES,
    ROMAN_CARDINAL_NOUNS,
    ROMAN_ORDINAL_NOUNS,
    ROYAL_TITLES,
    SENTENCE_STARTERS,
    SILENT_SYMBOLS,
    SLASH_WORDS,
    STATES,
    STREET_TYPES,
    SYMBOL_NAMES,
    TITLE_NOUNS,
    TITLE_ONLY,
    TITLE_OR_PLACE,
    UNITS,
    URL_WORDS,
    WEEKDAYS,
    WITH_DOT,
)
from jaxtts.text._unicode import KEPT, decode_references, fold, strip_markup
from jaxtts.text._words import ROMAN, caps_token, roman_value, spell, vowelless

__all__ = ["normalize"]

Match = re.Match
Result = tuple[str, int]


def _trie(words: list[str]) -> str:
    """Alternation of `words` in lower, Title and UPPER case as a prefix tree: a position that
    starts none of them fails after one case-sensitive character test (an (?i:...) alternation
    tries every word)."""
    root: dict = {}
    for word in {v for w in words for v in (w, w.capitalize(), w.title(), w.upper())}:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" not in node:
            return body
        return (body if len(body) == 1 else f"(?:{body})") + "?"

    return emit(root)


# --- the master regex ---------------------------------------------------------------------------
# Alternatives sit behind cheap gates (a word start, a digit, a currency sign, a symbol), so a
# position that can start nothing fails after a handful of tests. Within a gate, order matters:
# at one position the first alternative that matches wins.

_MONTH = rf"(?:{_trie(list(MONTHS) + [m.lower() for m in MONTHS.values()] + ['sept'])})(?![A-Za-z])"
_END = r"(?![\w]|[.,]\d)"  # a number really ends here
_STREET_ABBREVIATIONS = [k for k, v in STREET_TYPES.items() if k != v]
_ABBREVIATIONS = sorted({*ALWAYS, *BEFORE_NUMBER, *TITLE_OR_PLACE, *TITLE_ONLY, *_STREET_ABBREVIATIONS})
_DOTTED_ABBREVIATIONS = sorted(set(WITH_DOT) - set(_ABBREVIATIONS))
_SLASHED = "|".join(re.escape(k) for k in sorted(SLASH_WORDS, key=len, reverse=True))  # "w/o" before "w/"

_MONEY = (
    rf"(?P<money>(?<![\w{CURRENCY_SYMBOLS}])(?:(?P<cc>US|AU|NZ|HK|A|C|S)?(?P<cur>[{CURRENCY_SYMBOLS}])\s?"
    rf"|(?=[A-Z]{{3}}\s\.?\d)(?P<iso>{'|'.join(CURRENCY_CODES)})\s)(?=\.?\d))"
)
_WEB = [  # only compiled in when the text shows a hint of them (see _web_or_code)
    r"(?P<url>(?<![\w@/.-])(?i:(?:https?|ftp|file)://|www\.)[^\s\"<>]+)",
    r"(?P<email>(?<![\w+&-])(?<![\w.+&-]\.)\w[\w.+&-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s\"<>]*)?)",
    r"(?P<domain>(?<![\w.@/&+-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z]{2,}(?![\w@])(?:/[^\s\"<>]*)?)",
]
_DATES = [
    rf"(?P<dmf>(?<![\w'-])(?P<mon>{_MONTH})\.?(?:[ -](?P<day>{DAY})(?P<dsuf>{ORD})?(?![\w:%]|[.,]\d)"
    rf"(?:(?P<ycomma>,)?[ -](?P<yr>\d{{4}}){_END})?|(?P<ycomma2>,)?\s(?P<yr2>\d{{4}}){_END}))",
    rf"(?P<wday>(?<![\w.-])(?:Mon|Tues?|Tu|Wed|Thu(?:rs?)?|Th|Fri|Sat|Sun)\.?(?=,?\s+\(?(?:\d{{1,2}}[/.-]\d|{_MONTH})))",
]
_WDAY = rf"(?:{_trie(list(WEEKDAYS) + [d.lower() for d in WEEKDAYS.values()])})\.?"
_DATES.append(rf"(?P<wrange>(?<![\w.-]){_WDAY}\s?-\s?{_WDAY}(?![\w-]))")  # "Mon-Fri"
_CODE = r"(?P<code>(?<![\w'./-])[A-Za-z]+(?:[-/][A-Za-z]+)*[-/]?(?=\d)(?:[\w/-]|[.,](?=\d))*)"
_NUMBER_PREFIX = "|".join(f"{k}|{k.capitalize()}" for k in NUMBER_PREFIXES)
_WORDS = [
    rf"(?P<slashed>(?<![\w/])(?i:{_SLASHED})(?![\w/]))",
    rf"(?P<numprefix>(?=[pPsS])(?<![\w.-])(?:{_NUMBER_PREFIX})\.(?=\s?\d))",  # "p. 41", "Sec. 5"
    rf"(?P<abbr>(?<![\w.-])(?:{_trie(_ABBREVIATIONS)}(?![\w'])\.?|{_trie(_DOTTED_ABBREVIATIONS)}\.(?!\w)))",
    r"(?P<caps>(?<![\w'.])(?=[A-Z]|[a-z][.A-Z])(?:[A-Za-z](?:\.[A-Za-z])+\.?(?!\w)"  # U.S.A., e.s.t
    r"|[A-Z][A-Z&]*[A-Z](?:'?[sS])?(?![\w'])"  # FBI, CEOs, AT&T
    r"|[a-z]?[A-Z][a-z]?[A-Z](?![\w'])"  # PhD, iOS
    r"|[A-Z]\.(?=\s+[A-Z])|[NSEW]\.(?!\w)|[IVX](?![\w'-])|A(?=\s+[a-z])))",  # initials, "Ave. S.", numerals, article
    r"(?P<cons>(?<![\w'.-])[b-df-hj-np-tv-xz]{2,5}(?![\w'-]))",  # tv, hmm
]
_NUMERIC = [
    # a small number that nothing but punctuation follows: by far the commonest, so it goes first
    r"(?P<simple>(?<![\w.])[1-9]\d?\d?(?=[,;!?)\]]|\.(?!\d)|$)(?!,\d{3}(?!\d)))",
    r"(?P<phone>(?<![\w+.-])(?:\+\d{1,3}\s?-?\s?|1-)?(?:\(\d{3}\)\s?-?\s?|\d{3}[-.])\d{3}[-.]\d{4}"
    r"(?:-\d{1,4})?(?![\w]|[.-]\d)|(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)"
    r"|(?<![\w-])1-8\d\d-[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-])"
    r"|(?<![\w+])\+\d{1,3}(?:[ .-]\d{1,4}){2,5}(?![\w]|[ .-]?\d))",  # "+44 20 7946 0958"
    r"(?P<ip>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d))",
    r"(?P<dnum>(?<![\w./-])(?:(?P<iy>\d{4})(?P<isep>[-/.])(?P<im>1[0-2]|0?[1-9])(?P=isep)"
    rf"(?P<id>{DAY})|(?P<na>\d{{1,2}})(?P<nsep>[-/.])(?P<nb>\d{{1,2}})(?P=nsep)(?P<ny>\d{{4}}|\d\d)){_END}(?!/))",
    rf"(?P<ddm>(?<![\w.,'/-])(?P<day2>{DAY})(?P<dsuf2>{ORD})?(?P<of>\sof)?[ -](?P<mon2>{_MONTH})\.?"
    rf"(?:(?P<ycomma3>,)?[ -](?P<yr3>\d{{4}}){_END})?)",
    r"(?P<time>(?<![\w.:])(?P<tsign>[-+](?=\d))?(?:(?P<hh>[01]?\d|2[0-4]):(?P<mm>[0-5]\d)"
    r"(?::(?P<ss>[0-5]\d))?(?![\d:]|[.,]\d)|(?P<hh2>[01]?\d|2[0-4])(?:[.:](?P<mm2>[0-5]\d))?"
    r"(?=\s?[AaPp]\.?[Mm](?![A-Za-z]))))",
    r"(?P<num>(?<![\w.])[-+]?\.?\d)",
    r"(?P<digits>\d+)",  # digits glued to something else: "x8", "...48"
]
_SYMBOL_CHARS = re.escape("&@%=#*<>^~|\\_+/" + KEPT)


def _master(word_alternatives: list[str]) -> re.Pattern:
    return re.compile(
        rf"(?=[A-Z{CURRENCY_SYMBOLS}]){_MONEY}"
        rf"|(?<![A-Za-z0-9_])(?=[A-Za-z])(?:{'|'.join(word_alternatives)})"
        rf"|(?=[-+]?\.?\d|\()(?:{'|'.join(_NUMERIC)})"
        rf"|(?P<sym>[{_SYMBOL_CHARS}]+)"
    )


_MASTER_FULL = _master(_WEB + _DATES + [_CODE] + _WORDS)  # dates before codes: "Jan-15-2020"
_MASTER_PLAIN = _master(_DATES + _WORDS)
_DOMAIN_HINT = re.compile(r"\.[a-z]{2}")
_CODE_HINT = re.compile(r"\d(?:(?<=[A-Za-z]\d)|(?<=[A-Za-z][-/]\d))")  # starts with a digit: a fast scan


def _web_or_code(text: str) -> bool:
    """Cheap over-approximation of 'the text may hold a web address, an e-mail or a letter-digit
    code': those alternatives scan whole words, so prose without a hint skips them."""
    return (
        "@" in text
        or "://" in text
        or "www." in text
        or _DOMAIN_HINT.search(text) is not None
        or _CODE_HINT.search(text) is not None
    )


# --- word handlers ------------------------------------------------------------------------------

_URL_PARTS = re.compile(r"[A-Za-z]+|\d+|://|.")
_URL_TRAILING = re.compile(r"[.,;:!?)\]'\"]+$")
_URL_SYMBOLS = {
    ".": "dot", "/": "slash", "-": "dash", "_": "underscore", "@": "at", ":": "colon", "&": "ampersand",
    "?": "question mark", "=": "equals", "#": "hash", "~": "tilde", "%": "percent", "+": "plus",
}  # fmt: skip
_SPELLED_URL_WORDS = frozenset(("http", "https", "www", "ftp"))
_VOWEL = re.compile("[aeiouy]")
_STATE_AFTER = re.compile(r"\.?(?:$|[,.;:)]|\s(?:\d{5}(?!\d)|$|[^A-Za-z]))")
_SYMBOL_WORDS = {**SYMBOL_NAMES, **dict.fromkeys(SILENT_SYMBOLS, "")}
_AMOUNT_AHEAD = re.compile(r"\s?\.?\d")
_SYMBOL_BEFORE_NUMBER = {"~": "approximately", "<": "less than", ">": "greater than", "^": "to the power of"}
_TITLES_WITHOUT_DOT_AT_END = frozenset("mr mrs ms messrs gen maj lt col capt sgt rev prof".split())


def _web(text: str, m: Match) -> Result:
    """URLs, e-mail addresses, domains: separators spoken ('dot', 'slash', 'at', 'dash'), digits one
    by one, unpronounceable parts and two-letter country domains spelled."""
    token, end = m.group(), m.end()
    if (trailing := _URL_TRAILING.search(token)) is not None:  # sentence punctuation after it
        token, end = token[: trailing.start()], end - len(trailing.group())
    pieces = _URL_PARTS.findall(token)
    words = []
    for i, piece in enumerate(pieces):
        if piece[0].isalpha():
            low = piece.lower()
            country = len(piece) == 2 and i > 0 and pieces[i - 1] == "." and pieces[i + 1 : i + 2] in ([], ["/"])
            if low in URL_WORDS:
                words.append(URL_WORDS[low])
            elif low in _SPELLED_URL_WORDS or len(piece) == 1 or country or not _VOWEL.search(low):
                words.append(spell(piece))
            else:
                words.append(piece)
        elif piece.isdigit():
            words.append(nums.cardinal(piece) if piece.endswith("000") else nums.spell_digits(piece))
        elif piece == "://":
            words.append("colon slash slash")
        elif piece in _URL_SYMBOLS:
            words.append(_URL_SYMBOLS[piece])
    return pad(text, m.start(), end, " ".join(words)), end


_WORD_NEAR = re.compile(r"[a-z]")  # a lowercase letter within a few characters: running text
_INITIAL_BEFORE_NAME = re.compile(r"\s+[A-Z]")
_CODE_AHEAD = re.compile(r"[A-Z]{1,3}-?\d")  # "No. A12", "Flight No. BA287": a code is numbered too
_NOT_A_NAME = frozenset(SENTENCE_STARTERS) | frozenset(DIRECTIONS)  # capitalised, yet no name: "It", "W"
_HOUSE_NUMBER = re.compile(r"\d{1,5}[A-Za-z]?")
# Lowercase "no" without a dot is the word unless a label or a determiner comes before it ("room
# no 5", "the no 10 shirt"); "No 10" and "No. 10" are numbers (British style drops the dot).
_NUMBERED_AFTER = NUMBER_LABELS | ROMAN_CARDINAL_NOUNS | DETERMINERS


def _abbreviation(text: str, m: Match) -> Result:
    """Abbreviations by context: 'Dr. Smith' doctor / 'Circle Dr.' drive, 'St. Louis' saint / 'Main
    St.' street, 'No. 5' number, 'Gen.' general; a dot that also ends the sentence is kept."""
    token = m.group()
    dotted = token[-1] == "."
    key = token.rstrip(".").lower()
    start, end = m.start(), m.end()
    nxt = next_word(text, end)
    if key in BEFORE_NUMBER:
        if token == "no" and prev_word(text, start).lower() not in _NUMBERED_AFTER:
            return _not_an_abbreviation(text, m)  # "no 2 people", "I saw no 5 cars"; but "room no 5"
        after = text[end : end + 4].lstrip(" (" if dotted else " ")[:1]  # "No. 5", "Eq. (5)"
        code = _CODE_AHEAD.match(text[end : end + 8].lstrip())
        if after.isdigit() or after == "#" or code or (key.startswith("vol") and ROMAN.fullmatch(nxt or "-")):
            return BEFORE_NUMBER[key], end
        label = prev_word(text, start)
        if dotted and label[:1].isupper() and not sentence_start(text, start - len(label) - 1):
            return BEFORE_NUMBER[key] + ("." if sentence_ends_after(text, end) else ""), end  # "Case No."
        return _not_an_abbreviation(text, m)
    if key in ALWAYS or (key in WITH_DOT and key not in TITLE_OR_PLACE and key not in STREET_TYPES):
        if (key in MONTHS or key in WEEKDAYS or key == "sept") and token[0].islower():
            return _not_an_abbreviation(text, m)  # "On the mar."
        words = ALWAYS.get(key) or WITH_DOT[key]
        if dotted and key not in _TITLES_WITHOUT_DOT_AT_END and sentence_ends_after(text, end):
            words += "."
        return pad(text, start, end, words), end
    if token.isupper() and len(key) > 1 and not shouting(text, start, end):
        return _not_an_abbreviation(text, m)  # "Atari ST", "DR DOS": capitals are acronyms
    before_name = bool(nxt) and nxt[0].isupper() and nxt.lower() not in _NOT_A_NAME
    prev = prev_token(text, start)
    # A street name ('Main', '5th', 'King Jr.') precedes a street type; a bare number ('in 2024 Dr.
    # Who') does not. A house number before the name ('10 Downing St.') makes it an address.
    if prev[-1:] == "." and prev[:-1].lower() in ALWAYS:
        prev = prev[:-1]
    after_name = bool(prev) and prev[-1].isalnum() and (prev[0].isupper() or (prev[0].isdigit() and not prev.isdigit()))
    numbered = after_name and _HOUSE_NUMBER.fullmatch(prev_token(text, text.rfind(prev, 0, start))) is not None
    end_dot = "." if dotted and sentence_ends_after(text, end) else ""
    if key in TITLE_OR_PLACE:
        title, place = TITLE_OR_PLACE[key]
        if not numbered and (before_name or (nxt[:1].isupper() and not after_name)):  # "Dr. Who"
            return title, end
        noun = key in TITLE_NOUNS and prev.lower() in DETERMINERS  # "the Dr. said", "ask your Dr."
        if after_name or (not nxt and not noun):
            return place + end_dot, end
        if noun:
            return title + end_dot, end
    elif key in TITLE_ONLY:
        if before_name:
            return TITLE_ONLY[key], end
    elif after_name:
        return STREET_TYPES[key] + end_dot, end
    return _not_an_abbreviation(text, m)


def _not_an_abbreviation(text: str, m: Match) -> Result:
    """An abbreviation-shaped token that is not one here: capitals go through the acronym rule, the
    dot stays in the text."""
    word = m.group().rstrip(".")
    if word.isupper() and len(word) > 1:
        return _caps_word(text, m.start(), m.start() + len(word), word)
    return word, m.start() + len(word)


def _weekday(text: str, m: Match) -> Result:
    return WEEKDAYS[m.group().rstrip(".").lower()], m.end()


def _weekday_range(text: str, m: Match) -> Result:
    """'Mon-Fri' is a span of days: 'Monday to Friday'."""
    days = [d.strip(" .").lower() for d in m.group().split("-")]
    words = " to ".join(WEEKDAYS.get(d) or d.capitalize() for d in days)
    return words + ("." if m.group()[-1] == "." and sentence_ends_after(text, m.end()) else ""), m.end()


def _caps(text: str, m: Match) -> Result:
    """Capitals: dotted initials ('U.S.A.' -> 'U S A'), initials before a name, acronyms, Roman
    numerals, state codes, the article 'A'."""
    token = m.group()
    start, end = m.start(), m.end()
    if "." in token:
        letters = token.replace(".", "")
        if len(letters) == 1:  # "C. S. Lewis": the dot is not a sentence end
            if _after_street(text, start, end, letters):  # "King St. W."
                return DIRECTIONS[letters.lower()] + ("." if sentence_ends_after(text, end) else ""), end
            return (letters, end) if _INITIAL_BEFORE_NAME.match(text, end) else (token, end)
        if (state := _state(text, start, end, letters)) is not None:
            return state
        words = spell(letters) + ("." if token[-1] == "." and sentence_ends_after(text, end) else "")
        return pad(text, start, end, words), end
    if token == "A":
        return ("a" if sentence_start(text, start) else "A"), end
    if not token.removesuffix("s").removesuffix("'").isupper():  # "PhD", "iOS": an initialism
        return pad(text, start, end, spell(token)), end
    return _caps_word(text, start, end, token)


def _caps_word(text: str, start: int, end: int, token: str) -> Result:
    if (roman := _roman(text, start, end, token)) is not None:
        return roman, end
    if len(token) == 1:
        return token, end
    if _after_street(text, start, end, token):
        return DIRECTIONS[token.lower()], end
    if (state := _state(text, start, end, token)) is not None:
        return state
    return pad(text, start, end, caps_token(token, shouting(text, start, end))), end


def _after_street(text: str, start: int, end: int, letters: str) -> bool:
    """A compass letter right after a street type, and not an initial before a name, is its
    quadrant: 'Pennsylvania Ave NW', 'King St. W.' (but 'Dr. W. Smith')."""
    if letters.lower() not in DIRECTIONS or prev_token(text, start).rstrip(".,").lower() not in STREET_TYPES:
        return False
    nxt = next_word(text, end + (text[end : end + 1] == "."))
    return not nxt[:1].isupper() or nxt.lower() in SENTENCE_STARTERS


def _state(text: str, start: int, end: int, letters: str) -> Result | None:
    """A two-letter state code after 'City,' and before the end, a comma or a ZIP code:
    'Kansas City, MO.' -> Missouri, 'Santa Clara, CA 95051' -> California."""
    name = STATES.get(letters)
    if name is None:
        return None
    prev = prev_token(text, start)
    if len(prev) < 2 or prev[-1] != "," or not prev[0].isupper() or not _STATE_AFTER.match(text, end):
        return None
    if text[end : end + 1] == "." and text[end - 1] != ".":  # "MO." ends with the state's own dot
        end += 1
        return name + ("." if sentence_ends_after(text, end) else ""), end
    return name, end


def _roman(text: str, start: int, end: int, token: str) -> str | None:
    """Roman numerals where the word before says so: after 'Chapter', 'World War', 'Type' a cardinal
    ('Chapter XV' -> fifteen), after a monarch's name a regnal ordinal ('Henry VIII' -> the eighth),
    after another name a cardinal (sequels and events: 'Rocky II' two, 'Apollo XI' eleven), before
    'century' or 'dynasty' an ordinal ('XXI century' -> twenty first). A lone 'I' needs a known
    regnal name ('David I'), so the pronoun stays. A numeral that is a line of its own is a heading
    ('XIV', 'IV.'). Without such context only numerals no acronym looks like are read: 'II', 'XIV'
    in running text (not 'IV', 'XL', 'XXX'), and any of five letters or more ('LXXXV' eighty five;
    'MMXXIV' a year)."""
    suffix = ""
    if token.endswith("'s"):
        token, suffix = token[:-2], "'s"
    if not token or not ROMAN.fullmatch(token):
        return None
    value = str(roman_value(token))
    if len(token) > 1 and set(token) <= set("IVXLC") and next_word(text, end).lower() in ROMAN_ORDINAL_NOUNS:
        return nums.ordinal(value) + suffix  # "the XXI century"
    bare = None  # in running text (a word next to it) only; a token standing alone is left spelled
    if set(token) <= set("IVX") and (len(token) >= 3 or token == "II") and token != "XXX":
        bare = nums.cardinal(value) + suffix if _WORD_NEAR.search(text, max(0, start - 3), end + 3) else None
    elif len(token) >= 5:  # no acronym is a numeral that long: "MMXXIV" is a year, "LXXXV" a number
        bare = (nums.year(value) if 1000 <= int(value) < 2100 else nums.cardinal(value)) + suffix
    prev = prev_word(text, start)
    if not prev:
        heading = _HEADING.fullmatch(_line_around(text, start, end))
        if set(token) <= set("IVXL") and heading and (token != "I" or heading.group("mark")):
            return nums.cardinal(value) + suffix  # a heading: "XIV", "IV.", "I." (not the pronoun "I")
        return bare
    if prev.lower() in ROMAN_CARDINAL_NOUNS and (len(token) > 1 or prev[0].isupper()):  # not "volume I wrote"
        return nums.cardinal(value) + suffix
    is_name = prev[0].isupper() and prev[1:].islower() and prev.lower() not in FUNCTION_WORDS
    if not is_name or not set(token) <= set("IVX") or token == "X":
        return bare
    before = prev_word(text, start - len(prev) - 1)
    royal = prev in REGNAL_NAMES or before in ROYAL_TITLES or before in REGNAL_NAMES  # "Queen Victoria I", "John Smith III"
    nxt = next_word(text, end)
    if token == "I" and (not royal or (nxt[:1].islower() and nxt not in ("of", "and"))):
        return None  # "Sam and I", "Queen Anne I think"
    if token == "V" and not royal and not nxt[:1].islower() and text[end : end + 1] not in ("", ".", "!", "?"):
        return None  # "Gabayan V, Ganz T": an initial; "Auto V is" five
    return f"the {nums.ordinal(value)}{suffix}" if royal else nums.cardinal(value) + suffix


_HEADING = re.compile(r"[\s\"'(]*[IVXL]+(?:'s)?(?P<mark>[.:)])?\s*")


def _line_around(text: str, start: int, end: int) -> str:
    """The line holding text[start:end], read at most a window's length either way."""
    lo = text.rfind("\n", max(0, start - WINDOW), start) + 1 or max(0, start - WINDOW)
    hi = text.find("\n", end, end + WINDOW)
    return text[lo : hi if hi >= 0 else end + WINDOW]


def _consonants(text: str, m: Match) -> Result:
    """Lowercase tokens without vowels: a unit named on its own ('in lbs'), a word CMUdict knows
    ('hmm'), else spelled ('tv')."""
    token = m.group()
    if token in UNITS and prev_word(text, m.start()).lower() in ("in", "per", "into", "to"):
        return UNITS[token][1], m.end()
    return vowelless(token), m.end()


_SHARP_NOTE = re.compile(r"[^\w]?[A-G]")  # a lone note letter right before "#": C#, F# minor
_TAG = re.compile(r"[A-Za-z]+(?![A-Za-z#])")  # "#mytext#" is no hashtag; digits after it are read as numbers
_SQUARED = re.compile(r"[23](?![\d.])")
_PER_WORD = re.compile(r"(?P<u>[A-Za-z]{1,5})\^?(?P<pow>[23])?(?![\w/])")


def _symbols(text: str, m: Match) -> Result:
    """A run of symbols, each by its name; the last one in context: '#' before a number is 'number',
    '~' before a number 'approximately', '/' in 'and/or' silent. A currency sign before a number is
    left to the money rule ("~$5": about five dollars)."""
    run = m.group()
    start, end = m.start(), m.end()
    if len(run) > 1 and run[-1] in CURRENCY_SYMBOLS and _AMOUNT_AHEAD.match(text, end):
        run, end = run[:-1], end - 1
    words = [_SYMBOL_WORDS[c] for c in run]
    last = run[-1]
    hashtag = run == "#" and not text[start - 1 : start].isalnum() and not _CODE_AHEAD.match(text, end)
    if hashtag and (tag := _TAG.match(text, end)) is not None:
        return f" hashtag {_hashtag(tag.group())} ", tag.end()  # "#BlackLivesMatter"
    if last == "^" and (power := _SQUARED.match(text, end)) is not None:  # "x^2", "10^3" (x², 10³)
        words[-1] = "squared" if power.group() == "2" else "cubed"
        return f" {' '.join(words)} ", power.end()
    if run == "/" and text[start - 1 : start].isalpha() and (per := _PER_WORD.match(text, end)) is not None:
        unit = PER_UNITS.get(per.group("u")) or PER_UNITS.get(per.group("u").lower())
        if unit and (len(per.group("u")) > 1 or per.group("pow")):  # "people/km2": per square kilometer
            if per.group("pow"):
                unit = f"{POWERS[per.group('pow')]} {unit}" if per.group("u").lower() in LENGTH_UNITS else unit
            return f" per {unit} ", per.end()
    after = text[end : end + 3].lstrip(" " + CURRENCY_SYMBOLS)[:1]
    if last == "#" and (after.isdigit() or _CODE_AHEAD.match(text, end)):  # "#5", "#A-1234"
        words[-1] = "number"
    elif run == "#" and _SHARP_NOTE.fullmatch(text, max(start - 2, 0), start) and not text[end : end + 1].isalnum():
        words[-1] = "sharp"  # "C#", "F# minor"
    elif last in _SYMBOL_BEFORE_NUMBER and (
        after.isdigit() or (len(run) == 1 and last in "<>" and text[start - 1 : start] == " " == text[end : end + 1])
    ):
        words[-1] = _SYMBOL_BEFORE_NUMBER[last]  # "~50", "a < b"
    elif run == "/" and prev_token(text, start).lower().endswith("and") and text[end : end + 2] == "or":
        words[-1] = ""  # "and/or" is said "and or"
    elif run == "/" and prev_token(text, start).isupper() and text[end : end + 1].isupper():
        words[-1] = ""  # "A/B testing", "TCP/IP", "I/O"
    return f" {' '.join(words)} ", end


_REFERRING = frozenset("see on at in from to and also cf compare under per".split())


def _number_prefix(text: str, m: Match) -> Result:
    """'see p. 41' page forty one, 'Sec. 5 applies' section five: at a sentence's start or after a
    word that refers to a place in a text. In a bare citation ('2002; p. 62') the abbreviation is
    left as written, as the public context cases read it."""
    before = text[max(0, m.start() - 3) : m.start()].rstrip(" \"'(")
    if before[-1:] in ("", ".", "!", "?", "\n") or prev_word(text, m.start()).lower() in _REFERRING:
        return NUMBER_PREFIXES[m.group()[:-1].lower()], m.end()
    return m.group(), m.end()


_HASHTAG_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")


def _hashtag(tag: str) -> str:
    """The words of a hashtag: by its capitals ('BlackLivesMatter'), else by the dictionary
    ('nothappy' -> 'not happy': the fewest known words), else as written."""
    if not tag.islower():
        return " ".join(_HASHTAG_WORDS.findall(tag)) or tag
    if len(tag) > 30 or cmudict.contains(tag):
        return tag
    best: list[list[str] | None] = [[]] + [None] * len(tag)  # best[i]: fewest words spelling tag[:i]
    for i in range(1, len(tag) + 1):
        for j in range(max(0, i - 20), i):
            piece = tag[j:i]
            if best[j] is not None and (len(piece) > 1 or piece in "ai") and cmudict.contains(piece):
                if best[i] is None or len(best[j]) + 1 < len(best[i]):
                    best[i] = [*best[j], piece]
    return " ".join(best[-1]) if best[-1] else tag


def _slashed(text: str, m: Match) -> Result:
    """'w/o' without, 'c/o' care of, 'N/A' not applicable."""
    return pad(text, m.start(), m.end(), SLASH_WORDS[m.group().lower()]), m.end()


_HANDLERS = {
    "slashed": _slashed,
    "numprefix": _number_prefix,
    "money": money.money,
    "url": _web,
    "email": _web,
    "domain": _web,
    "dmf": dates.date_month_first,
    "wday": _weekday,
    "wrange": _weekday_range,
    "code": codes.code,
    "abbr": _abbreviation,
    "caps": _caps,
    "cons": _consonants,
    "simple": numeric.simple,
    "phone": codes.phone,
    "ip": codes.ip_address,
    "dnum": dates.date_numeric,
    "ddm": dates.date_day_first,
    "time": dates.time_of_day,
    "num": numeric.number,
    "digits": numeric.number,
    "sym": _symbols,
}

# What the model cannot say becomes a space; brackets become parentheses.
_FINAL = str.maketrans(
    {
        **{chr(c): " " for c in (*range(32), 127)},
        **dict.fromkeys('"`<>|\\^~_*&@#/=%+$' + KEPT, " "),
        **{"[": "(", "]": ")", "{": "(", "}": ")"},
    }
)
_LETTER = re.compile("[A-Za-z]")
_UNICODE_ROMAN = re.compile("[\u2160-\u2182\u2185-\u2188]+")  # Ⅰ … ↈ: numerals by definition


def _unicode_roman(m: Match) -> str:
    """A run of Unicode Roman numeral characters is a number, never an acronym: its value in digits
    ('Ⅻ' -> 12), except after a regnal name or 'Chapter'-like noun, where the ASCII letters let
    `_roman` read it in context ('Henry Ⅷ' -> Henry the eighth)."""
    letters = fold(m.group()).upper()
    prev = prev_word(m.string, m.start())
    if ROMAN.fullmatch(letters) and (prev in REGNAL_NAMES or prev.lower() in ROMAN_CARDINAL_NOUNS):
        return letters
    value = roman_value(letters) if ROMAN.fullmatch(letters) else sum(map(unicodedata.numeric, m.group()))
    return f"{int(value)}"


_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_GREEK = "\u0370-\u03ff\u1f00-\u1fff"
# A Greek letter on its own, not in a Greek word; not the micro sign before a unit ("μg") nor the
# ohm sign ("10 kΩ"), which folding turns into units.
_GREEK_LETTER = re.compile(rf"(?<![{_GREEK}])(?:[\u0391-\u03a8\u03b1-\u03bb\u03bd-\u03c9]|μ(?![A-Za-z]))(?![{_GREEK}])")
_GREEK_NAMES = {"lamda": "lambda"}  # Unicode's spelling


_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_WORD_BEFORE = re.compile(r"[A-Za-z]{0,8}$")


def _superscript(m: Match) -> str:
    """Superscript digits are a power after a number, a letter or a unit ('10³', 'x²', 'km²') and
    a footnote mark after a word ('as shown¹'), which is not read."""
    start = m.start()
    last = m.string[start - 1 : start]
    if not last.isalpha():
        return "^" + m.group().translate(_SUPERSCRIPT_DIGITS) if last.isdigit() or last == ")" else " "
    word = _WORD_BEFORE.search(m.string, max(0, start - 8), start).group().lower()
    if len(word) == 1 or word in UNITS or not _VOWEL.search(word):  # "x²", "km²", "mc²"
        return "^" + m.group().translate(_SUPERSCRIPT_DIGITS)
    return " "


def _greek_letter(m: Match) -> str:
    """A lone Greek letter by its name: 'α-helix' alpha-helix, 'Δ T' delta T."""
    name = unicodedata.name(m.group()).rsplit(" ", 1)[-1].lower()
    return pad(m.string, m.start(), m.end(), _GREEK_NAMES.get(name, name))


def normalize(text: str) -> str:
    """Spoken form of English `text`: numbers, dates, times, money, units, abbreviations, acronyms,
    symbols and web addresses in words, Unicode folded to ASCII. '' when nothing is speakable."""
    text = decode_references(strip_markup(text))  # web text
    if not text.isascii():
        text = _SUPERSCRIPT.sub(_superscript, _GREEK_LETTER.sub(_greek_letter, _UNICODE_ROMAN.sub(_unicode_roman, text)))
        text = fold(text)
    search = (_MASTER_FULL if _web_or_code(text) else _MASTER_PLAIN).search
    out = []
    pos = 0
    m = search(text)
    while m is not None:
        out.append(text[pos : m.start()])
        words, pos = _HANDLERS[m.lastgroup](text, m)
        out.append(words)
        m = search(text, pos)
    out.append(text[pos:])
    spoken = " ".join("".join(out).translate(_FINAL).split())
    return spoken if _LETTER.search(spoken) else ""
