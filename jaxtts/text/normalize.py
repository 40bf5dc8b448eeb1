"""English text normalization: arbitrary text -> words and prosodic punctuation a TTS front end reads.

`normalize(text)` folds Unicode to ASCII, then makes one left-to-right pass with a single compiled
"master" regex whose alternatives only match *interesting* tokens (digits, symbols, capitals runs,
abbreviations, addresses). Plain words never leave the regex engine, so ordinary prose costs one
C-level scan. Each match is handed to a handler that may look at the neighbouring text (the word
before, the words after) and may consume more than the match (a unit after a number, "p.m." after
a time), then the scan resumes where the handler stopped. Every alternative is anchored to a token
start or consumes what it scans, and repeats are bounded where they could back off, so the pass is
linear in the input length.

Output conventions (what the G2P layer expects):
- words separated by single spaces; punctuation kept from `, . ! ? : ; - ' ( )`, others dropped;
- acronyms to spell come out as single capitals ("FBI" -> "F B I", "FBI's" -> "F B I's");
- acronyms said as words stay one word ("NASA"): an all-caps token is a word when CMUdict knows its
  lowercase form with a pronunciation that is not just its letter names (and it has three or more
  letters, or the text around it is all capitals), or, when CMUdict lacks it, when it has four or more
  letters and is pronounceable (English onset, vowels, codas: "CUDA" yes, "NVDA" no);
- a sentence-initial article "A" becomes "a", since a lone capital is read as a letter name;
- numbers never survive as digits; text with nothing speakable becomes "".
"""
from __future__ import annotations

import re
from functools import lru_cache

from jaxtts.text import cmudict
from jaxtts.text import numbers as nums
from jaxtts.text._tables import (
    ALWAYS,
    BEFORE_NUMBER,
    COUNT_NOUNS,
    CURRENCIES,
    DIRECTIONS,
    DOLLAR_PREFIXES,
    FUNCTION_WORDS,
    LENGTH_UNITS,
    MONTH_NAMES,
    MONTHS,
    NOT_PLURAL,
    NUMBER_LABELS,
    PER_UNITS,
    REGNAL_NAMES,
    POWERS,
    ROMAN_CARDINAL_NOUNS,
    SLASH_IDIOMS,
    SCALES,
    SENTENCE_STARTERS,
    SHORT_CAPS_WORDS,
    SILENT_SYMBOLS,
    SPELLED_ACRONYMS,
    STATES,
    STREET_TYPES,
    SYMBOL_NAMES,
    TIMEZONES,
    TITLE_ONLY,
    TITLE_OR_PLACE,
    UNITS,
    URL_WORDS,
    WEEKDAYS,
    WITH_DOT,
)
from jaxtts.text._unicode import KEPT, fold

__all__ = ["normalize"]

# --------------------------------------------------------------------------------------------
# The master regex. Alternatives are tried in this order at each position; the leftmost match wins.

_MONTH_WORDS = (
    "jan january feb february mar march apr april may jun june jul july aug august sep sept september "
    "oct october nov november dec december".split()
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?!\d)"
_ORD = r"(?i:st|nd|rd|th)"
_END = r"(?![\w]|[.,]\d)"  # a number really ends here
_STREET_ABBR = [k for k, v in STREET_TYPES.items() if k != v]
_ABBR_OPTIONAL_DOT = sorted({*ALWAYS, *BEFORE_NUMBER, *TITLE_OR_PLACE, *TITLE_ONLY, *_STREET_ABBR})
_ABBR_DOT = sorted(set(WITH_DOT) - set(_ABBR_OPTIONAL_DOT))
_SYMBOL_CHARS = re.escape("&@%=#*<>^~|\\_+/" + KEPT)


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _trie(words: list[str]) -> str:
    """Alternation of `words` (in lower, Title and UPPER case) as a prefix tree: a failing position
    costs one case-sensitive character test, far cheaper than an (?i:...) alternation."""
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
        if "" in node:
            return (body if len(branches) == 1 and len(body) == 1 else f"(?:{body})") + "?"
        return body

    return emit(root)


_MONTH = rf"(?:{_trie(_MONTH_WORDS)})(?![A-Za-z])"


# Alternatives grouped behind cheap gates (a word start, a digit or sign, a symbol): a position
# that can start nothing fails after a handful of tests instead of trying every alternative.
_MONEY = r"(?P<money>(?<![\w$£€¥₹₩₽])(?P<cc>US|AU|NZ|HK|A|C|S)?(?P<cur>[$£€¥₹₩₽])\s?(?=\.?\d))"
_CODE = r"(?P<mixed>(?<![\w'./-])[A-Za-z]+(?:[-/][A-Za-z]+)*[-/]?(?=\d)(?:[\w/-]|[.,](?=\d))*)"
_ADDRESS_LIKE = [
    r"(?P<url>(?<![\w@/.-])(?i:(?:https?|ftp|file)://|www\.)[^\s\"<>]+)",
    r"(?P<email>(?<![\w+&-])(?<![\w.+&-]\.)\w[\w.+&-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s\"<>]*)?)",
    r"(?P<domain>(?<![\w.@/&+-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z]{2,}(?![\w@])(?:/[^\s\"<>]*)?)",
]
_WORD_START = [
    rf"(?P<dmf>(?<![\w'-])(?P<mon>{_MONTH})\.?(?:[ -](?P<day>{_DAY})(?P<dsuf>{_ORD})?(?![\w:%]|[.,]\d)"
    rf"(?:(?P<ycomma>,)?[ -](?P<yr>\d{{4}}){_END})?|(?P<ycomma2>,)?\s(?P<yr2>\d{{4}}){_END}))",
    rf"(?P<wday>(?<![\w.-])(?:Mon|Tues?|Tu|Wed|Thu(?:rs?)?|Th|Fri|Sat|Sun)\.?(?=,?\s+\(?(?:\d{{1,2}}[/.-]\d|{_MONTH})))",
    rf"(?P<abbr>(?<![\w.-])(?:{_trie(_ABBR_OPTIONAL_DOT)}(?![\w'])\.?|{_trie(_ABBR_DOT)}\.(?!\w)))",
    r"(?P<caps>(?<![\w'.])(?=[A-Z]|[a-z][.A-Z])(?:[A-Za-z](?:\.[A-Za-z])+\.?(?!\w)|[A-Z][A-Z&]*[A-Z](?:'?[sS])?(?![\w'])"
    r"|[a-z]?[A-Z][a-z]?[A-Z](?![\w'])|[A-Z]\.(?=\s+[A-Z])|[IVX](?![\w'-])|A(?=\s+[a-z])))",
    r"(?P<cons>(?<![\w'.-])[b-df-hj-np-tv-xz]{2,5}(?![\w'-]))",
]
_NUMERIC = [
    # a small number that nothing follows but punctuation: by far the commonest, so it goes first
    r"(?P<simple>(?<![\w.])[1-9]\d?\d?(?=[,;!?)\]]|\.(?!\d)|$)(?!,\d{3}(?!\d)))",
    r"(?P<phone>(?<![\w+.-])(?:\+\d{1,3}\s?-?\s?|1-)?(?:\(\d{3}\)\s?-?\s?|\d{3}[-.])\d{3}[-.]\d{4}"
    r"(?:-\d{1,4})?(?![\w]|[.-]\d)|(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)"
    r"|(?<![\w-])1-8\d\d-[A-Z0-9]+(?:-[A-Z0-9]+)*(?![\w-]))",
    r"(?P<ip>(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d))",
    r"(?P<dnum>(?<![\w./-])(?:(?P<iy>\d{4})(?P<isep>[-/.])(?P<im>1[0-2]|0?[1-9])(?P=isep)"
    rf"(?P<id>{_DAY})|(?P<na>\d{{1,2}})(?P<nsep>[-/.])(?P<nb>\d{{1,2}})(?P=nsep)(?P<ny>\d{{4}}|\d\d)){_END}(?!/))",
    rf"(?P<ddm>(?<![\w.,'/-])(?P<day2>{_DAY})(?P<dsuf2>{_ORD})?(?P<of>\sof)?[ -](?P<mon2>{_MONTH})\.?"
    rf"(?:(?P<ycomma3>,)?[ -](?P<yr3>\d{{4}}){_END})?)",
    r"(?P<time>(?<![\w.:])(?P<tsign>[-+](?=\d))?(?:(?P<hh>[01]?\d|2[0-4]):(?P<mm>[0-5]\d)"
    r"(?::(?P<ss>[0-5]\d))?(?![\d:]|[.,]\d)|(?P<hh2>[01]?\d|2[0-4])(?:[.:](?P<mm2>[0-5]\d))?"
    r"(?=\s?[AaPp]\.?[Mm](?![A-Za-z]))))",
    r"(?P<num>(?<![\w.])[-+]?\.?\d)",
    r"(?P<digits>\d+)",
]


def _master(word_alternatives: list[str]) -> re.Pattern:
    return re.compile(
        rf"(?=[A-Z$£€¥₹₩₽]){_MONEY}"
        rf"|(?<![A-Za-z0-9_])(?=[A-Za-z])(?:{'|'.join(word_alternatives)})"
        rf"|(?=[(+.-]?\d)(?:{'|'.join(_NUMERIC)})"
        rf"|(?P<sym>[{_SYMBOL_CHARS}]+)"
    )


# Alternatives that scan a whole word (web addresses, codes mixing letters and digits) only run on
# text that shows their hint, so ordinary prose never pays for them.
_MASTER_FULL = _master(_ADDRESS_LIKE + _WORD_START[:2] + [_CODE] + _WORD_START[2:])  # dates before codes
_MASTER_PLAIN = _master(_WORD_START)
_DOMAIN_HINT = re.compile(r"\.[a-z]{2}")
_CODE_HINT = re.compile(r"\d(?:(?<=[A-Za-z]\d)|(?<=[A-Za-z][-/]\d))")  # starts with a digit: a fast scan


def _address_like(text: str) -> bool:
    """Cheap over-approximation of 'text may hold a web address, e-mail or letter-digit code'."""
    return (
        "@" in text
        or "://" in text
        or "www." in text
        or _DOMAIN_HINT.search(text) is not None
        or _CODE_HINT.search(text) is not None
    )

# --------------------------------------------------------------------------------------------
# Small anchored patterns the handlers use to look around a match.

_NUMBER = re.compile(r"(?P<sign>[-+])?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?")
_MIXED_FRACTION = re.compile(r"\s+(\d{1,3})/(\d{1,3})(?![\d/])")
_SLASH = re.compile(r"/(?P<den>\d+)(?P<suf>(?i:st|nd|rd|th|s)(?![A-Za-z]))?(?![\d/]|\.\d)")
_ORDINAL_SUFFIX = re.compile(r"(?i:(st|nd|rd|th))(?![A-Za-z])")
_PLURAL = re.compile(r"'?s(?![\w'])")
_SPACED_S = re.compile(r" s(?![\w'])")
_PERCENT = re.compile(r"\s?%")
_DEGREES = re.compile(r"\s?°\s?(?P<scale>[CF](?![A-Za-z]))?|(?P<bare>[CF])(?![\w])")
_TIMES = re.compile(r"[x×](?=\d)|[x×](?![\w])")
_UNIT = re.compile(
    r"(?P<scale>\s(?:hundred|thousand|million|billion|trillion))?(?P<sep>\s?|-)"
    r"(?P<u>[A-Za-z°][A-Za-z]{0,4})(?P<pow>[23²³](?!\d))?(?:/(?P<per>[A-Za-z]{1,5}))?(?P<dot>\.)?(?![\w°])"
)
_INCH_CONTEXT = re.compile(r"\s*(?:$|[,;:!?)\]]|\.(?!\w)|x\b|by\b|long|wide|tall|high|deep|thick|in diameter)")
_ERA = re.compile(r"\s?(?P<era>A\.?D|B\.?C(?:\.?E)?|C\.?E)(?![A-Za-z])\.?")
_VERSION = re.compile(r"(?:\.\d+)+(?=\.?(?![\w.]))")
_FEET_INCHES = re.compile(r"'\s?(\d{1,2}(?:\.\d+)?)(?:\"|'')")
_SPACED_TIMES = re.compile(r" [x×] (?=\d)")
_PER = re.compile(r"/(?P<u>[A-Za-z]{1,5})(?![\w/])")
_PAREN_LETTER = re.compile(r"\(([a-z])\)")
_OPERATOR = re.compile(r"(?P<pre>\s?)(?P<op>[-+*=/×÷–])(?P<post>\s?)(?=[-+]?\.?\d)")
_NEXT_NUMBER = re.compile(r"[-+]?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?")
_CHAIN = re.compile(r"[\w.]+(?:[-/][\w.]+){2,}|\d+[-/][A-Za-z][\w/-]*")
_ID_PAIR = re.compile(r"0\d+-\d+(?![\w-])|[1-9]\d*-0\d+(?![\w-])")
_QUARTER = re.compile(r"([1-4])Q(\d\d)(?!\w)")
_LETTERS = re.compile(r"[A-Za-z]+")
_STREET_AFTER = re.compile(
    r"\s+(?:(?P<dir>[NSEW]|NE|NW|SE|SW)\.?\s+)?(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,3}"
    rf"(?i:{_alternation(sorted(STREET_TYPES, key=len, reverse=True))})(?![A-Za-z])"
)
_AMOUNT = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?"
    r"(?:\s?(?P<scale>(?i:thousand|million|billion|trillion|bn|mn|tn|[kmbt]))(?![A-Za-z]))?"
    r"(?:/(?P<per>[A-Za-z]{1,5})(?![A-Za-z]))?"
)
_RANGE_DASH = re.compile(r"\s?[-–]\s?(?=[$£€¥₹₩₽]?\.?\d)")
_AMPM = re.compile(r"\s?(?P<ap>[AaPp])\.?[Mm](?![A-Za-z])(?P<dot>\.)?")
_TZ = re.compile(r"\s?(?P<tz>(?:[A-Za-z]\.){2,3}[A-Za-z]?|[A-Za-z]{2,4})(?![\w])\.?")
_DAY_RANGE = re.compile(rf"\s?[-–]\s?(?P<d>{_DAY})(?:{_ORD})?(?![\w:])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'&]*")
_HAS_LETTER = re.compile(r"[A-Za-z]")
_SERIAL_PARTS = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?|.")
_URL_PARTS = re.compile(r"[A-Za-z]+|\d+|://|.")
_URL_TRAILING = re.compile(r"[.,;:!?)\]'\"]+$")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_VOWELS = re.compile(r"[AEIOU]+|Y(?![AEIOU])|[^AEIOUY]+|Y")

_YEAR_PREPOSITIONS = frozenset(
    "in since by until till of from to during before after around circa year years summer spring "
    "autumn fall winter early late mid the".split()
)
_DATE_PREPOSITIONS = frozenset("on by until till since from beginning starting dated due before after for".split())
_CLOSING = "\"')]"
_OPENING = "\"'(["
_FINAL = str.maketrans(
    {
        **{chr(c): " " for c in (*range(32), 127)},
        **dict.fromkeys('"`<>|\\^~_*' + KEPT, " "),
        **{"[": "(", "]": ")", "{": "(", "}": ")", "&": " and ", "@": " at ", "#": " ", "/": " ", "=": " "},
        **dict.fromkeys("%+$", " "),
    }
)

# --------------------------------------------------------------------------------------------
# Context helpers. Windows are bounded so every look-around costs O(1).

_WINDOW = 64


def _prev_token(text: str, start: int) -> str:
    """The whitespace-delimited token just before `start` ('' at the start of the text)."""
    end = start
    while end > 0 and text[end - 1] in _OPENING:
        end -= 1
    while end > 0 and text[end - 1] == " ":
        end -= 1
    lo = max(0, end - _WINDOW)
    cut = max(text.rfind(" ", lo, end), text.rfind("\n", lo, end), text.rfind("\t", lo, end))
    return text[(cut + 1 if cut >= 0 else lo) : end].lstrip(_OPENING)


def _prev_word(text: str, start: int) -> str:
    """The word before `start` if only spaces separate them, else ''."""
    if start == 0 or text[start - 1] not in " \t":
        return ""
    token = _prev_token(text, start)
    return token if token.isalpha() else ""


def _next_word(text: str, end: int) -> str:
    """The token after `end` if only spaces separate them (trailing punctuation removed)."""
    if end >= len(text) or text[end] not in " \t":
        return ""
    m = _WORD.match(text, end + 1)
    if m is None:
        m = re.match(r"\S+", text[end + 1 : end + 1 + _WINDOW])
        return m.group() if m else ""
    return m.group()


def _sentence_start(text: str, start: int) -> bool:
    """Whether nothing but sentence punctuation and openers separates `start` from a sentence end."""
    i = start
    while i > 0 and text[i - 1] in " \t\"'(":
        i -= 1
    return i == 0 or text[i - 1] in ".!?:;\n"


def _sentence_ends_after(text: str, end: int) -> bool:
    """Whether a dot consumed just before `end` also ended the sentence."""
    rest = text[end : end + _WINDOW].lstrip(_CLOSING + " ")
    if not rest:
        return True
    word = _WORD.match(rest)
    return word is not None and rest[0].isupper() and word.group().lower() in SENTENCE_STARTERS


def _shouting(text: str, start: int, end: int) -> bool:
    """Whether the words around a capitalised token are capitals too (a headline, a shout)."""
    before = _WORD.findall(text, max(0, start - 40), start)[-2:]
    after = _WORD.findall(text, end, end + 40)[:2]
    around = before + after
    return len(around) >= 2 and all(w.isupper() and len(w.rstrip("'sS")) >= 1 for w in around) and any(
        len(w) >= 2 for w in around
    )


def _pad(text: str, start: int, end: int, words: str) -> str:
    """Separate replacement words from letters or digits glued to them in the source."""
    if start > 0 and text[start - 1].isalnum():
        words = " " + words
    if end < len(text) and text[end].isalnum():
        words += " "
    return words


# --------------------------------------------------------------------------------------------
# Words, letters, acronyms.


def _spell(letters: str) -> str:
    return " ".join(letters.upper())


@lru_cache(maxsize=None)
def _letter_phones() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Stress-free pronunciations of each letter name, from CMUdict itself."""
    table = {}
    for letter in "abcdefghijklmnopqrstuvwxyz":
        prons = cmudict.lookup(letter) or ()
        table[letter] = tuple(tuple(p.rstrip("012") for p in pron.split()) for pron in prons)
    return table


def _is_spelled(word: str, pron: str) -> bool:
    """Whether CMUdict's pronunciation is just the word's letter names ("fbi" -> EH F B IY AY)."""
    phones = tuple(p.rstrip("012") for p in pron.split())
    names = _letter_phones()
    reach = {0}
    for letter in word:
        reach = {
            i + len(name)
            for i in reach
            for name in names.get(letter, ())
            if phones[i : i + len(name)] == name
        }
        if not reach:
            return False
    return len(phones) in reach


_ONSETS = frozenset(
    "B BL BR C CH CHR CL CR D DR DW F FL FR G GL GR GW H J K KL KN KR KW L M N P PH PHR PL PR PS QU R "
    "S SC SCH SCR SH SHR SK SKR SL SM SN SP SPH SPL SPR SQU ST STR SW T TH THR TR TW V W WH WR Y Z".split()
)
_CODAS = frozenset(
    "B CH CK CT D DS F FT G GS GHT K KS L LD LF LK LL LM LP LS LT M MP MPS MS N NCH ND NDS NG NGS NK NKS NS "
    "NT NTS P PS PT R RB RC RD RF RG RK RL RM RN RP RS RSH RT RTH S SH SK SP SS ST T TCH TH TS TZ V W X Z".split()
)


def _pronounceable(word: str) -> bool:
    """Rough English phonotactics on capitals: legal onset and coda, short vowel and consonant runs."""
    clusters = _VOWELS.findall(word)
    if not any(c[0] in "AEIOUY" and not (c == "Y" and len(clusters) == 1) for c in clusters):
        return False
    for i, c in enumerate(clusters):
        if c[0] in "AEIOU" or (c == "Y" and i > 0):
            if len(c) > 2:
                return False
            continue
        if i == 0:
            if c not in _ONSETS:
                return False
        elif i == len(clusters) - 1:
            if c not in _CODAS and not (c.endswith("S") and c[:-1] in _CODAS):
                return False
        elif len(c) > 3 or not any(
            (c[:k] in _CODAS or k == 0) and (c[k:] in _ONSETS or k == len(c)) for k in range(len(c) + 1)
        ):
            return False
    return True


@lru_cache(maxsize=8192)
def _acronym(letters: str, shouting: bool) -> str:
    """An all-caps token: itself when said as a word, else its letters spelled out."""
    if not shouting and letters in SPELLED_ACRONYMS:
        return _spell(letters)
    lower = letters.lower()
    prons = cmudict.lookup(lower)
    if prons:
        if _is_spelled(lower, prons[0]):
            return _spell(letters)
        if len(letters) >= 3 or shouting or letters in SHORT_CAPS_WORDS:
            return letters
        return _spell(letters)
    if len(letters) == 2 and letters in SHORT_CAPS_WORDS:
        return letters
    if len(letters) >= 4 and _pronounceable(letters):
        return letters
    return _spell(letters)


def _caps_token(token: str, shouting: bool) -> str:
    """All-caps token with optional possessive/plural ('FBI's', 'CEOs') and ampersands ('AT&T')."""
    suffix = ""
    if token[-1] in "sS" and (token[-2] == "'" or (token[-1] == "s" and len(token) > 2)):
        token, suffix = (token[:-2], "'s") if token[-2] == "'" else (token[:-1], "s")
    parts = [_acronym(p, shouting) if len(p) > 1 else p for p in token.split("&")]
    words = " and ".join(p for p in parts if p)
    if suffix and (len(token) < 2 or words != token):
        return words + suffix  # "F B I's", "C E Os"
    return words + suffix.upper() if token.isupper() and suffix == "'s" else words + suffix


def _word_piece(piece: str) -> str:
    """Letters inside serials and addresses: capitals runs via the acronym rule, single letters as capitals."""
    if len(piece) == 1:
        return piece.upper()
    if piece.isupper():
        return _acronym(piece, False)
    return piece


# --------------------------------------------------------------------------------------------
# Numbers in context.


def _roman_value(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for a, b in zip(numeral, numeral[1:] + " "):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def _is_count(text: str, start: int, end: int) -> bool:
    """Whether a bare number is a quantity of something ("1984 people") rather than a year."""
    prev = _prev_token(text, start).lower().rstrip(".:#,")
    if prev in NUMBER_LABELS:
        return True
    if prev in _YEAR_PREPOSITIONS or prev in MONTHS or prev[:3] in MONTHS:
        return False
    nxt = _next_word(text, end)
    if not nxt:
        return False
    low = nxt.lower()
    if low in COUNT_NOUNS or low in UNITS:
        return True
    return nxt.islower() and len(nxt) > 3 and nxt.endswith("s") and not nxt.endswith("ss") and low not in NOT_PLURAL


def _house_number(digits: str) -> str:
    """Street numbers in pairs: 2788 -> twenty seven eighty eight, 123 -> one twenty three."""
    if len(digits) == 3 and digits[1:] != "00":
        tail = nums.spell_digits(digits[1:]) if digits[1] == "0" else nums.cardinal(digits[1:])
        return f"{nums.cardinal(digits[0])} {tail}"
    if len(digits) == 4:
        return nums.year(digits)
    return nums.cardinal(digits) if len(digits) < 5 else nums.spell_digits(digits)


def _integer(text: str, start: int, end: int, digits: str, grouped: bool) -> tuple[str, int]:
    """Reading of a plain integer token by its shape and context; may consume a street direction."""
    if len(digits) > 1 and digits[0] == "0":
        return nums.spell_digits(digits), end
    if grouped:
        return nums.cardinal(digits), end
    n = len(digits)
    if n <= 5 and text[end : end + 1] == " " and text[end + 1 : end + 2].isupper() and (
        street := _STREET_AFTER.match(text, end)
    ):
        words = _house_number(digits)
        if street.group("dir"):
            words += " " + DIRECTIONS[street.group("dir").lower()]
            end = street.start("dir") + len(street.group("dir"))
            if end < len(text) and text[end] == ".":
                end += 1
        return words, end
    if n == 4 and "1000" <= digits <= "2099":
        return (nums.cardinal(digits) if _is_count(text, start, end) else nums.year(digits)), end
    if n >= 5 and not digits.endswith("000") and not _is_count(text, start, end):
        return nums.spell_digits(digits), end
    return nums.cardinal(digits), end


def _serial_digits(digits: str) -> str:
    """Digits inside codes: short runs as numbers, years as years, long runs digit by digit."""
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


def _serial(token: str) -> str:
    """Codes mixing letters and digits: 'B2A23C' -> 'B two A twenty three C', 'covid-19' -> 'covid-nineteen'."""
    out = []
    pieces = _SERIAL_PARTS.findall(token)
    plural_at = len(pieces) - 1 if len(pieces) > 1 and pieces[-1] == "s" and pieces[-2].isdigit() else -1
    for i, piece in enumerate(pieces):
        if i == plural_at:  # "mid-1980s": the s makes the number plural
            out[-1] = nums.plural_words(out[-1])
        elif piece[0].isalpha():
            out.append(_word_piece(piece))
        elif piece[0].isdigit():
            whole, _, frac = piece.partition(".")
            out.append(nums.decimal(whole, frac) if frac else _serial_digits(whole))
        elif piece in "-/":
            out.append("-")
        elif piece in SYMBOL_NAMES:
            out.append(SYMBOL_NAMES[piece])
    return " ".join(out).replace(" - ", "-")


def _is_serial(chain: str) -> bool:
    """'978-0-13', '133-ABC', '1/f-4s' are codes; '12/kg', '5-kg' and '1/2-inch' are numbers with a
    unit or a word."""
    segments = re.split("[-/]", chain)
    if len(segments) >= 3:
        return not (len(segments) == 3 and segments[0].isdigit() and segments[1].isdigit() and segments[2].isalpha())
    tail = _LETTERS.search(chain)
    return tail is None or (_unit_name(tail.group()) is None and tail.group() not in PER_UNITS)


def _unit_name(unit: str) -> tuple[str, str] | None:
    names = UNITS.get(unit)
    if names is None and len(unit) > 1:
        names = UNITS.get(unit.lower())
    return names


def _units_after(text: str, end: int, singular: bool) -> tuple[str, int] | None:
    """A unit right after a number ("12kg", "5 km/h", "3 m2", "100 million kg"), read by the value."""
    m = _UNIT.match(text, end)
    if m is None:
        return None
    unit, per = m.group("u"), m.group("per")
    if unit == "in" and (m.group("pow") or not _INCH_CONTEXT.match(text, m.end("u"))):
        return None
    names = _unit_name(unit)
    if names is None:
        return None
    if per is not None and per not in PER_UNITS and per.lower() not in PER_UNITS:
        return None
    words = names[0] if singular or m.group("sep") == "-" else names[1]
    if m.group("pow"):
        if unit.lower() not in LENGTH_UNITS:
            return None
        words = f"{POWERS[m.group('pow')]} {words}"
    if per is not None:
        words += " per " + (PER_UNITS.get(per) or PER_UNITS[per.lower()])
    if m.group("scale"):
        words = m.group("scale").strip() + " " + names[1] + words[len(names[0 if singular else 1]) :]
    stop = m.end()
    if m.group("dot") and _sentence_ends_after(text, stop):
        words += "."
    return words, stop


def _fraction_or_date(text: str, start: int, end: int, num: str, fm: re.Match) -> str | None:
    """'3/4' is a fraction and 'on 1/4' a date; None when neither reading fits (serial)."""
    den, suffix = fm.group("den"), fm.group("suf")
    if (idiom := SLASH_IDIOMS.get(f"{num}/{den}")) is not None and not suffix:
        return idiom
    if not den.strip("0"):
        return f"{nums.cardinal(num)} divided by zero"
    a, b = int(num[-3:]) if len(num) <= 3 else 999, int(den[-3:]) if len(den) <= 3 else 999
    if suffix:
        if suffix.lower() == "s":
            return nums.plural_words(nums.fraction(num, den)) if num == "1" else nums.fraction(num, den)
        return nums.fraction(num, den)
    nxt = _next_word(text, fm.end()).lower()
    plausible_date = 1 <= a <= 12 and 1 <= b <= 31 and len(num) <= 2 and len(den) <= 2
    if plausible_date and nxt != "of" and nxt not in UNITS:
        prev = _prev_token(text, start).lower()
        enclosed = prev.endswith("(") or (start > 0 and text[start - 1] == "(")
        if prev in _DATE_PREPOSITIONS or enclosed or b not in (2, 3, 4, 8, 16, 32, 64):
            if b <= 12:  # day-of-month phrasing where the order could be read either way
                return f"the {nums.ordinal(str(b))} of {MONTH_NAMES[a]}"
            return f"{MONTH_NAMES[a]} {nums.ordinal(str(b))}"
    return nums.fraction(num, den)


def _plain_number(token: str) -> str:
    whole, _, frac = token.partition(".")
    return nums.decimal(whole, frac) if frac else nums.cardinal(whole)


def _dash_word(text: str, start: int, a_int: str, a_frac: str, op: re.Match) -> str:
    """'-' between numbers: 'to' for a range, 'minus' in arithmetic, else a plain hyphen."""
    b = _NEXT_NUMBER.match(text, op.end())
    b_int, b_frac = b.group("int") or "", b.group("frac") or ""
    after = text[b.end() : b.end() + 3]
    if "=" in after or (start > 0 and text[start - 1] == "=") or _prev_token(text, start).endswith("="):
        return "minus"
    if (len(a_int) > 1 and a_int[0] == "0") or (len(b_int) > 1 and b_int[0] == "0") or not b_int:
        return "-"
    a_digits, b_digits = a_int.replace(",", ""), b_int.replace(",", "")
    if len(a_digits) > 15 or len(b_digits) > 15:
        return "-"
    a_val, b_val = float(f"{a_digits}.{a_frac or 0}"), float(f"{b_digits}.{b_frac or 0}")
    year_shorthand = len(a_digits) == 4 and len(b_digits) == 2 and int(b_digits) > int(a_digits) % 100
    if (a_val < b_val and len(b_digits) <= len(a_digits) + 1) or year_shorthand:
        return "to"
    return "minus" if a_val >= b_val and (op.group("pre") or op.group("post")) else "-"


_INERT = frozenset(("", ",", ";", ":", "!", "?", ")", "]", ".", "\n", "\t", "\r"))  # end a number's reading
_OPERATORS = "-+*=/×÷–"


def _number(text: str, m: re.Match) -> tuple[str, int]:
    start = m.start()
    body = _NUMBER.match(text, start)
    sign, whole, frac = body.group("sign", "int", "frac")
    end = body.end()
    c = text[end : end + 1]
    if c in _INERT and not sign and frac is None and whole and len(whole) <= 3 and whole[0] != "0":
        return _pad(text, start, end, nums.cardinal(whole)), end  # the common case: "7," "12."
    whole = whole or ""
    digits = whole.replace(",", "")
    if not digits and frac is None:  # a lone sign: leave it to the text
        return text[start], start + 1
    if c in "-/" and not sign and frac is None:
        if (ident := _ID_PAIR.match(text, start)) is not None:
            words = " - ".join(_identifier_digits(group) for group in ident.group().split("-"))
            return _pad(text, start, ident.end(), words), ident.end()
        chain = _CHAIN.match(text, start)
        if chain is not None and _is_serial(chain.group()):
            return _pad(text, start, chain.end(), _serial(chain.group())), chain.end()
    prefix = {"-": "minus ", "+": "plus "}.get(sign or "", "")
    if frac is not None and len(digits) <= nums.MAX_CARDINAL_DIGITS:
        words = prefix + nums.decimal(digits, frac)
        singular = False
    elif frac is not None:
        words = prefix + nums.spell_digits(digits) + " point " + nums.spell_digits(frac)
        singular = False
    else:
        special = _integer_suffix(text, start, end, digits, whole)
        if special is not None:
            words, end = special
            if text[end : end + 1] in "-–" and (op := _OPERATOR.match(text, end)) is not None:
                if _dash_word(text, start, whole, "", op) == "to":
                    words, end = words + " to ", op.end()  # "1960s-80s", "5th-7th"
            return _pad(text, start, end, prefix + words), end
        words, end = _integer(text, start, end, digits, "," in whole)
        words = prefix + words
        singular = digits == "1"
    tail = _after_number(text, start, end, words, singular, whole, frac or "")
    if tail is not None:
        words, end = tail
    return _pad(text, start, end, words), end


def _integer_suffix(text: str, start: int, end: int, digits: str, whole: str) -> tuple[str, int] | None:
    """Integer followed by something that changes its reading: ordinals, decades, fractions, quarters."""
    c, c2 = text[end : end + 1] or "\0", text[end + 1 : end + 2] or "\0"
    if c == "(" and (paren := _PAREN_LETTER.match(text, end)) is not None:  # "401(k)", "Section 3(a)"
        if len(digits) == 3 and digits[0] != "0":
            tail = f"oh {nums.DIGIT_WORDS[digits[2]]}" if digits[1] == "0" else nums.cardinal(digits[1:])
            number = f"{nums.DIGIT_WORDS[digits[0]]} {tail}"
        else:
            number = nums.cardinal(digits)
        return f"{number} {paren.group(1).upper()}", paren.end()
    if c == "Q" and (q := _QUARTER.match(text, start)) is not None:
        return f"the {nums.ordinal(q.group(1))} quarter of {nums.cardinal(q.group(2))}", q.end()
    if c == "/" and (fm := _SLASH.match(text, end)) is not None:
        reading = _fraction_or_date(text, start, end, digits, fm)
        stop = fm.end()
        units = _units_after(text, stop, digits.lstrip("0") == "1")
        return (f"{reading} {units[0]}", units[1]) if units is not None else (reading, stop)
    if len(digits) > nums.MAX_CARDINAL_DIGITS:
        return None
    if c in "sSnNrRtT" and (om := _ORDINAL_SUFFIX.match(text, end)) is not None:
        suffix = om.group(1).lower()
        last2 = digits[-2:].rjust(2, "0")
        expected = "th" if last2[0] == "1" else {"1": "st", "2": "nd", "3": "rd"}.get(last2[1], "th")
        if suffix == expected:
            return nums.ordinal(digits), om.end()
        return f"{nums.cardinal(digits)} {_spell(om.group(1)) if om.group(1).isupper() else om.group(1)}", om.end()
    if c in "'s" or (c == " " and c2 == "s"):
        pm = _PLURAL.match(text, end) or (
            _SPACED_S.match(text, end) if len(digits) == 4 and digits.endswith("0") else None
        )
        if pm is not None:
            decade = len(digits) == 4 and "1000" <= digits <= "2099"
            return nums.plural_words(nums.year(digits) if decade else nums.cardinal(digits)), pm.end()
    if c == " " and c2.isdigit() and (mf := _MIXED_FRACTION.match(text, end)) is not None:
        part = nums.fraction(mf.group(1), mf.group(2))
        if mf.group(1).lstrip("0") == "1":
            part = "a " + part[4:]
        words = f"{nums.cardinal(digits)} and {part}"
        units = _units_after(text, mf.end(), False)
        return (f"{words} {units[0]}", units[1]) if units else (words, mf.end())
    return None


def _after_number(
    text: str, start: int, end: int, words: str, singular: bool, whole: str, frac: str
) -> tuple[str, int] | None:
    """What follows a number: percent, degrees, units, eras, inches, operators, glued letters.
    Each check runs only when the next character (or the one after a space) can start it."""
    c = text[end : end + 1]
    c2 = text[end + 1 : end + 2] if c == " " else "\0"
    if c == "." and (version := _VERSION.match(text, end)) is not None:  # "2.0.1"
        parts = version.group()[1:].split(".")
        return words + "".join(" point " + nums.spell_digits(part) for part in parts), version.end()
    if c in _INERT or c2 in _INERT:
        return None
    if c == "%" or c2 == "%":
        return words + " percent", _PERCENT.match(text, end).end()
    if c == "¢" or c2 == "¢":
        return words + (" cent" if singular else " cents"), text.index("¢", end) + 1
    if c == "k" and not text[end + 1 : end + 2].isalnum():  # "3.5k people"
        return words + " thousand", end + 1
    if c == "'" and (fi := _FEET_INCHES.match(text, end)) is not None:  # 5' 10"
        inches = fi.group(1)
        return f"{words} {'foot' if singular else 'feet'} {_plain_number(inches)} inch{'' if inches == '1' else 'es'}", fi.end()
    if (c in "°CF" or c2 == "°") and (dm := _DEGREES.match(text, end)) is not None:
        scale = dm.group("scale") or dm.group("bare")
        unit = UNITS["°c" if scale == "C" else "°f" if scale == "F" else "°"]
        return f"{words} {unit[0] if singular else unit[1]}", dm.end()
    if c in "x×" and (tm := _TIMES.match(text, end)) is not None:
        return words + (" by " if tm.end() < len(text) and text[tm.end()].isdigit() else " times"), tm.end()
    if c2 in "x×" and (tm := _SPACED_TIMES.match(text, end)) is not None:
        return words + " times ", tm.end()
    if c.isalpha() or c in "°-" or c2.isalpha() or c2 == "°":
        if (units := _units_after(text, end, singular)) is not None:
            return f"{words} {units[0]}", units[1]
    if c == "/" and (per := _PER.match(text, end)) is not None and (unit := PER_UNITS.get(per.group("u"))):
        return f"{words} per {unit}", per.end()
    if (c in "ABC" or c2 in "ABC") and not frac and len(whole) <= 4 and (era := _ERA.match(text, end)) is not None:
        return f"{nums.year(whole)} {_spell(era.group('era').replace('.', ''))}", era.end()
    if c == '"' and text.count('"', max(0, start - 200), start) % 2 == 0:
        return f"{words} {'inch' if singular else 'inches'}", end + 1
    if (c in _OPERATORS or c2 in _OPERATORS) and (op := _OPERATOR.match(text, end)) is not None:
        symbol = op.group("op")
        if symbol in "-–":
            word = _dash_word(text, start, whole, frac, op)
            if word == "-":  # leave the hyphen (and its spacing) in the text
                return words, end
        elif symbol == "/":
            if not (op.group("pre") and op.group("post")):
                return None
            b = _NEXT_NUMBER.match(text, op.end())
            if frac or not b.group("int") or b.group("frac") or "," in whole:
                return None
            return nums.fraction(whole.replace(",", ""), b.group("int").replace(",", "")), b.end()
        else:
            word = {"+": "plus", "*": "times", "×": "times", "=": "equals", "÷": "divided by"}[symbol]
        return f"{words} {word} ", op.end()
    if c.isalpha():
        letters = _LETTERS.match(text, end)
        return f"{words} {_word_piece(letters.group())}", letters.end()
    return None


# --------------------------------------------------------------------------------------------
# Handlers: (text, match) -> (spoken words, where the scan resumes).


def _time(text: str, m: re.Match) -> tuple[str, int]:
    hours = m.group("hh") or m.group("hh2")
    minutes = m.group("mm") or m.group("mm2")
    seconds = m.group("ss")
    end = m.end()
    h = nums.cardinal(hours)
    if seconds is not None:
        parts = [(h, hours, "hour"), (nums.cardinal(minutes), minutes, "minute")]
        s_words = nums.cardinal(seconds)
        words = " ".join(f"{w} {unit}{'' if int(v) == 1 else 's'}" for w, v, unit in parts)
        words += f" and {s_words} second{'' if int(seconds) == 1 else 's'}"
    elif minutes is None or minutes == "00":
        words = h
    elif minutes[0] == "0":
        words = f"{h} o {nums.DIGIT_WORDS[minutes[1]]}"
    else:
        words = f"{h} {nums.cardinal(minutes)}"
    if m.group("tsign"):
        words = ("minus " if m.group("tsign") == "-" else "plus ") + words
    ampm = _AMPM.match(text, end)
    if ampm is not None:
        words += f" {ampm.group('ap').upper()} M"
        end = ampm.end()
        if ampm.group("dot") and _sentence_ends_after(text, end):
            words += "."
    elif seconds is None and (minutes == "00"):
        words += " o'clock"
    tz = _TZ.match(text, end)
    if tz is not None and tz.group("tz").replace(".", "").lower() in TIMEZONES:
        words += " " + _spell(tz.group("tz").replace(".", ""))
        end = tz.end()
    if (dash := _RANGE_DASH.match(text, end)) is not None:
        words += " to "
        end = dash.end()
    return _pad(text, m.start(), end, words), end


def _money(text: str, m: re.Match) -> tuple[str, int]:
    symbol, country = m.group("cur"), m.group("cc")
    one, many, minor_one, minor_many = CURRENCIES[symbol]
    if country and symbol == "$":
        region = DOLLAR_PREFIXES[country]
        one, many = f"{region} {one}", f"{region} {many}"
    amount = _AMOUNT.match(text, m.end())
    words, end = _amount_words(amount, one, many, minor_one, minor_many)
    if (dash := _RANGE_DASH.match(text, end)) is not None:
        nxt = text[dash.end()]
        if nxt.isdigit() or nxt == ".":  # "$5-10": the currency is said once, after the range
            second = _AMOUNT.match(text, dash.end())
            second_words, end = _amount_words(second, one, many, minor_one, minor_many)
            first = _AMOUNT.match(text, m.end())
            bare = nums.decimal(first.group("int") or "", first.group("frac") or "") if first.group("frac") else nums.cardinal((first.group("int") or "0").replace(",", ""))
            words = f"{bare} to {second_words}"
        else:
            words += " to "
            end = dash.end()
    return _pad(text, m.start(), end, words), end


def _amount_words(amount: re.Match, one: str, many: str, minor_one: str, minor_many: str) -> tuple[str, int]:
    whole = (amount.group("int") or "").replace(",", "")
    frac = amount.group("frac") or ""
    scale, per = amount.group("scale"), amount.group("per")
    end = amount.end()
    if per is not None and per not in PER_UNITS and per.lower() not in PER_UNITS:
        end = amount.start("per") - 1
        per = None
    if scale is not None:
        value = nums.decimal(whole, frac) if frac else nums.cardinal(whole or "0")
        words = f"{value} {SCALES[scale.lower()]} {many}"
    else:
        cents_digits = frac.rstrip("0")
        if len(whole) > nums.MAX_CARDINAL_DIGITS:
            words = f"{nums.spell_digits(whole)} {many}"
        elif len(cents_digits) > 2 or (cents_digits and not minor_one):
            words = f"{nums.decimal(whole, frac)} {many}"
        else:
            cents = int(cents_digits.ljust(2, "0")) if cents_digits else 0
            parts = []
            if whole.strip("0") or not cents:
                parts.append(f"{nums.cardinal(whole or '0')} {one if whole.lstrip('0') == '1' else many}")
            if cents:
                parts.append(f"{nums.cardinal(str(cents))} {minor_one if cents == 1 else minor_many}")
            words = " ".join(parts)
    if per is not None:
        words += " per " + (PER_UNITS.get(per) or PER_UNITS[per.lower()])
    return words, end


def _year_words(digits: str) -> str:
    if len(digits) == 2:
        return nums.spell_digits(digits) if digits[0] == "0" else nums.cardinal(digits)
    return nums.year(digits)


def _month(name: str) -> str:
    return MONTHS[name[:3].lower()]


def _date_numeric(text: str, m: re.Match) -> tuple[str, int]:
    if m.group("iy"):
        words = f"{MONTH_NAMES[int(m.group('im'))]} {nums.ordinal(m.group('id'))} {nums.year(m.group('iy'))}"
        return _pad(text, m.start(), m.end(), words), m.end()
    a, b, y = int(m.group("na")), int(m.group("nb")), m.group("ny")
    if 1 <= a <= 12 and 1 <= b <= 31:
        words = f"{MONTH_NAMES[a]} {nums.ordinal(str(b))} {_year_words(y)}"
    elif 1 <= b <= 12 and 1 <= a <= 31:
        words = f"the {nums.ordinal(str(a))} of {MONTH_NAMES[b]} {_year_words(y)}"
    else:
        words = _serial(m.group())
    return _pad(text, m.start(), m.end(), words), m.end()


def _date_month_first(text: str, m: re.Match) -> tuple[str, int]:
    month = _month(m.group("mon"))
    end = m.end()
    if m.group("day"):
        words = f"{month} {nums.ordinal(m.group('day'))}"
        if m.group("yr"):
            words += ("," if m.group("ycomma") else "") + " " + nums.year(m.group("yr"))
        elif (rng := _DAY_RANGE.match(text, end)) is not None:
            words += f" to {nums.ordinal(rng.group('d'))}"
            end = rng.end()
    else:
        words = f"{month}{',' if m.group('ycomma2') else ''} {nums.year(m.group('yr2'))}"
    return _pad(text, m.start(), end, words), end


def _date_day_first(text: str, m: re.Match) -> tuple[str, int]:
    day = nums.ordinal(m.group("day2"))
    month = _month(m.group("mon2"))
    if m.group("of") or _prev_word(text, m.start()).lower() == "the":
        words = f"{day} of {month}"
    else:
        words = f"the {day} of {month}"
    if m.group("yr3"):
        words += ("," if m.group("ycomma3") else "") + " " + nums.year(m.group("yr3"))
    return _pad(text, m.start(), m.end(), words), m.end()


def _phone(text: str, m: re.Match) -> tuple[str, int]:
    token = m.group()
    groups = []
    if token.startswith("+"):
        code = re.match(r"\+(\d+)", token)
        groups.append("plus " + nums.spell_digits(code.group(1)))
        token = token[code.end() :]
    for part in re.findall(r"[A-Za-z0-9]+", token):
        if part.isdigit():
            groups.append(
                nums.cardinal(part) if len(part) == 3 and part.endswith("00") else nums.spell_digits(part)
            )
        else:
            groups.append(_word_piece(part))
    return _pad(text, m.start(), m.end(), ", ".join(groups)), m.end()


def _ip(text: str, m: re.Match) -> tuple[str, int]:
    words = " dot ".join(nums.spell_digits(part) for part in m.group().split("."))
    return _pad(text, m.start(), m.end(), words), m.end()


def _electronic(text: str, m: re.Match) -> tuple[str, int]:
    token = m.group()
    end = m.end()
    trailing = _URL_TRAILING.search(token)
    if trailing is not None:
        token = token[: trailing.start()]
        end -= len(trailing.group())
    lead = ""
    if token.startswith("."):
        lead, token = ". ", token[1:]
    words = []
    pieces = _URL_PARTS.findall(token)
    for i, piece in enumerate(pieces):
        if piece[0].isalpha():
            low = piece.lower()
            if low in URL_WORDS:
                words.append(URL_WORDS[low])
            elif len(piece) == 1:
                words.append(piece.upper())
            elif low in ("http", "https", "www", "ftp") or not re.search("[aeiouy]", low):
                words.append(_spell(piece))
            elif len(piece) == 2 and i > 0 and pieces[i - 1] == "." and (i + 1 == len(pieces) or pieces[i + 1] == "/"):
                words.append(_spell(piece))  # two-letter country domains are spelled
            else:
                words.append(piece)
        elif piece.isdigit():
            words.append(nums.cardinal(piece) if piece.endswith("000") else nums.spell_digits(piece))
        elif piece == "://":
            words.append("colon slash slash")
        else:
            name = _URL_SYMBOLS.get(piece)
            if name:
                words.append(name)
    return _pad(text, m.start(), end, lead + " ".join(words)), end


_URL_SYMBOLS = {
    ".": "dot", "/": "slash", "-": "dash", "_": "underscore", "@": "at", ":": "colon", "&": "ampersand",
    "?": "question mark", "=": "equals", "#": "hash", "~": "tilde", "%": "percent", "+": "plus",
}  # fmt: skip


def _mixed(text: str, m: re.Match) -> tuple[str, int]:
    return _pad(text, m.start(), m.end(), _serial(m.group())), m.end()


def _abbreviation(text: str, m: re.Match) -> tuple[str, int]:
    token = m.group()
    dotted = token.endswith(".")
    key = token.rstrip(".").lower()
    start, end = m.start(), m.end()
    nxt = _next_word(text, end)
    if key in BEFORE_NUMBER:
        after = text[end : end + 3].lstrip()
        if after[:1].isdigit() or after[:1] == "#" or (key.startswith("vol") and _ROMAN.fullmatch(nxt or "-")):
            return BEFORE_NUMBER[key], end
        label = _prev_word(text, start)
        if dotted and label[:1].isupper() and not _sentence_start(text, start - len(label) - 1):
            words = BEFORE_NUMBER[key]  # "Case No." at the end of a reference
            return words + ("." if _sentence_ends_after(text, end) else ""), end
        return _not_abbreviation(text, m)
    if key in ALWAYS:
        words = ALWAYS[key]
        if dotted and key not in ("mr", "mrs", "ms", "messrs") and _sentence_ends_after(text, end):
            words += "."
        return _pad(text, start, end, words), end
    if key in WITH_DOT and key not in TITLE_OR_PLACE and key not in STREET_TYPES:
        if (key in MONTHS or key in WEEKDAYS or key == "sept") and not token[0].isupper():
            return _not_abbreviation(text, m)
        words = WITH_DOT[key]
        if _sentence_ends_after(text, end) and key not in ("gen", "maj", "lt", "col", "capt", "sgt", "rev", "prof"):
            words += "."
        return words, end
    if token.isupper() and len(key) > 1 and not _shouting(text, start, end):
        return _not_abbreviation(text, m)
    title_next = bool(nxt) and nxt[0].isupper() and nxt.lower() not in SENTENCE_STARTERS
    prev = _prev_token(text, start)
    after_name = bool(prev) and prev[-1].isalnum() and (prev[0].isupper() or prev[0].isdigit())
    if key in TITLE_OR_PLACE:
        title, place = TITLE_OR_PLACE[key]
        if title_next:
            return title, end
        if after_name or not nxt:
            words = place + ("." if dotted and _sentence_ends_after(text, end) else "")
            return words, end
        return _not_abbreviation(text, m)
    if key in TITLE_ONLY:
        return (TITLE_ONLY[key], end) if title_next else _not_abbreviation(text, m)
    if after_name and key in STREET_TYPES:
        words = STREET_TYPES[key] + ("." if dotted and _sentence_ends_after(text, end) else "")
        return words, end
    return _not_abbreviation(text, m)


def _weekday(text: str, m: re.Match) -> tuple[str, int]:
    return WEEKDAYS[m.group().rstrip(".").lower()], m.end()


def _not_abbreviation(text: str, m: re.Match) -> tuple[str, int]:
    """An abbreviation-shaped token that is not one here: capitals go through the acronym rule."""
    token = m.group()
    word = token.rstrip(".")
    if word.isupper() and len(word) > 1:
        return _caps_word(text, m.start(), m.start() + len(word), word)
    return word, m.start() + len(word)


def _caps(text: str, m: re.Match) -> tuple[str, int]:
    token = m.group()
    start, end = m.start(), m.end()
    if "." in token:
        letters = token.replace(".", "")
        if len(letters) == 1:  # an initial before a name: "C. S. Lewis"
            return letters, end
        state = _state(text, start, end, letters)
        if state is not None:
            return state
        words = _spell(letters)
        if token.endswith(".") and _sentence_ends_after(text, end):
            words += "."
        return _pad(text, start, end, words), end
    if token == "A":
        return ("a" if _sentence_start(text, start) else "A"), end
    if not token.isupper():  # "PhD", "iOS": capitals inside a short word mark an initialism
        return _pad(text, start, end, _spell(token)), end
    return _caps_word(text, start, end, token)


def _caps_word(text: str, start: int, end: int, token: str) -> tuple[str, int]:
    roman = _roman(text, start, end, token)
    if roman is not None:
        return roman, end
    if len(token) == 1:
        return token, end
    state = _state(text, start, end, token)
    if state is not None:
        return state
    shouting = _shouting(text, start, end)
    return _pad(text, start, end, _caps_token(token, shouting)), end


def _state(text: str, start: int, end: int, letters: str) -> tuple[str, int] | None:
    """Two-letter state codes after 'City,' ('Kansas City, MO.', 'Santa Clara, CA 95051')."""
    name = STATES.get(letters)
    if name is None:
        return None
    prev = _prev_token(text, start)
    if not (prev.endswith(",") and len(prev) > 1 and prev[0].isupper()):
        return None
    rest = text[end : end + 8]
    if rest and not re.match(r"\.?(?:$|[,.;:)\s]|\s\d{5})", rest):
        return None
    if rest.startswith(" ") and not re.match(r" (?:\d{5}|$)", rest) and rest.strip()[:1].isalpha():
        return None
    dot_end = end + 1 if rest.startswith(".") and not text[end - 1] == "." else end
    words = name + ("." if dot_end > end and _sentence_ends_after(text, dot_end) else "")
    return words, dot_end


def _roman(text: str, start: int, end: int, token: str) -> str | None:
    """Roman numerals where the context says so: 'Chapter XV' -> fifteen, 'Henry VIII' -> the eighth."""
    suffix = ""
    if token.endswith("'s"):
        token, suffix = token[:-2], "'s"
    if not token or not _ROMAN.fullmatch(token):
        return None
    prev = _prev_word(text, start)
    if not prev:
        return None
    value = str(_roman_value(token))
    if prev.lower() in ROMAN_CARDINAL_NOUNS:
        return nums.cardinal(value) + suffix
    regnal = prev[0].isupper() and prev[1:].islower() and prev.lower() not in FUNCTION_WORDS
    if not regnal or not set(token) <= set("IVX") or token == "X":
        return None
    if token in ("I", "V"):
        nxt = _next_word(text, end)
        if prev not in REGNAL_NAMES or (nxt[:1].islower() and nxt not in ("of", "and")):
            return None
    return f"the {nums.ordinal(value)}{suffix}"


def _consonants(text: str, m: re.Match) -> tuple[str, int]:
    """Lowercase tokens without vowels: words if CMUdict says so ('hmm', 'nth'), else letters ('tv');
    a unit named on its own ('in lbs', 'per km') is read out."""
    token = m.group()
    if token in UNITS and _prev_word(text, m.start()).lower() in ("in", "per", "into", "to"):
        return UNITS[token][1], m.end()
    return _vowelless(token), m.end()


@lru_cache(maxsize=4096)
def _vowelless(token: str) -> str:
    prons = cmudict.lookup(token)
    if prons and not _is_spelled(token, prons[0]):
        return token
    return _spell(token)


def _symbols(text: str, m: re.Match) -> tuple[str, int]:
    run = m.group()
    start, end = m.start(), m.end()
    words = []
    for i, c in enumerate(run):
        after = text[end : end + 2].lstrip() if i == len(run) - 1 else ""
        if c == "#":
            words.append("number" if after[:1].isdigit() else "hash")
        elif c == "/":
            before, nxt = _prev_token(text, start).lower(), _next_word(text, end - 1).lower()
            if len(run) == 1 and text[start - 1 : start].isalpha() and text[end : end + 2] == "or" and before.endswith("and"):
                words.append("")  # "and/or"
            else:
                words.append("slash")
        elif c in "~<>^" and after[:1].isdigit() or (c in "<>" and len(run) == 1 and text[start - 1 : start] == " " == text[end : end + 1]):
            words.append(_COMPARISONS[c])
        elif c in SILENT_SYMBOLS:
            continue
        else:
            words.append(SYMBOL_NAMES.get(c, ""))
    spoken = " ".join(w for w in words if w)
    return (f" {spoken} " if spoken else " "), end


_COMPARISONS = {"~": "approximately", "<": "less than", ">": "greater than", "^": "to the power of"}

def _simple(text: str, m: re.Match) -> tuple[str, int]:
    return nums.cardinal(m.group()), m.end()


_HANDLERS = {
    "simple": _simple,
    "url": _electronic,
    "email": _electronic,
    "domain": _electronic,
    "phone": _phone,
    "ip": _ip,
    "dnum": _date_numeric,
    "dmf": _date_month_first,
    "ddm": _date_day_first,
    "time": _time,
    "money": _money,
    "num": _number,
    "mixed": _mixed,
    "wday": _weekday,
    "abbr": _abbreviation,
    "caps": _caps,
    "cons": _consonants,
    "sym": _symbols,
    "digits": _number,
}


def _finish(text: str) -> str:
    """Drop what the model cannot say, collapse whitespace; '' when no word is left."""
    text = " ".join(text.translate(_FINAL).split())
    return text if _HAS_LETTER.search(text) else ""


def normalize(text: str) -> str:
    """Spoken form of English `text`: numbers, dates, times, money, units, abbreviations, acronyms,
    symbols and addresses in words; Unicode folded to ASCII. Returns '' when nothing is speakable."""
    if not text.isascii():
        text = fold(text)
    search = (_MASTER_FULL if _address_like(text) else _MASTER_PLAIN).search
    m = search(text)
    if m is None:
        return _finish(text)
    out = []
    pos = 0
    while m is not None:
        out.append(text[pos : m.start()])
        words, pos = _HANDLERS[m.lastgroup](text, m)
        out.append(words)
        m = search(text, pos)
    out.append(text[pos:])
    return _finish("".join(out))
