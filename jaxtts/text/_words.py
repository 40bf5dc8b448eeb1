"""Letters and acronyms: whether an all-caps token is said as a word ("NASA") or spelled ("F B I").

The rule, in order:
1. a short list of acronyms that collide with common words is always spelled ("US", "IT", "WHO");
2. if CMUdict knows the lowercase form, its first pronunciation decides: just the letter names
   ("fbi" -> EH F B IY AY) means spell; anything else means a word, for three or more letters (two-
   letter ones are spelled unless they are a short shouted word such as "NO", or the text around is
   in capitals);
3. otherwise a token of four or more letters that English phonotactics allow (legal onset and coda,
   short vowel and consonant runs) is read as a word ("CUDA"), and the rest are spelled ("NVDA").
"""
from __future__ import annotations

import re
from functools import cache, lru_cache

from jaxtts.text import cmudict
from jaxtts.text._tables import SHORT_CAPS_WORDS, SPELLED_ACRONYMS

ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_CLUSTERS = re.compile(r"[AEIOU]+|Y(?![AEIOU])|[^AEIOUY]+|Y")
_ONSETS = frozenset(
    "B BL BR C CH CHR CL CR D DR DW F FL FR G GL GR GW H J K KL KN KR KW L M N P PH PHR PL PR PS QU R "
    "S SC SCH SCR SH SHR SK SKR SL SM SN SP SPH SPL SPR SQU ST STR SW T TH THR TR TW V W WH WR Y Z".split()
)
_CODAS = frozenset(
    "B CH CK CT D DS F FT G GS GHT K KS L LD LF LK LL LM LP LS LT M MP MPS MS N NCH ND NDS NG NGS NK NKS NS "
    "NT NTS P PS PT R RB RC RD RF RG RK RL RM RN RP RS RSH RT RTH S SH SK SP SS ST T TCH TH TS TZ V W X Z".split()
)


def spell(letters: str) -> str:
    """'fbi' -> 'F B I': spelled letters are single capitals, which the G2P reads by name."""
    return " ".join(letters.upper())


def roman_value(numeral: str) -> int:
    """Value of a valid Roman numeral ('XIV' -> 14)."""
    total = 0
    for a, b in zip(numeral, numeral[1:] + " "):
        value = _ROMAN_VALUES[a]
        total += -value if b != " " and _ROMAN_VALUES[b] > value else value
    return total


@cache
def _letter_phones() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Stress-free pronunciations of each letter's name, from CMUdict itself."""
    return {
        letter: tuple(tuple(p.rstrip("012") for p in pron.split()) for pron in cmudict.lookup(letter) or ())
        for letter in "abcdefghijklmnopqrstuvwxyz"
    }


def is_spelled(word: str, pron: str) -> bool:
    """Whether a CMUdict pronunciation of `word` is just its letter names ("fbi" -> EH F B IY AY)."""
    phones = tuple(p.rstrip("012") for p in pron.split())
    names = _letter_phones()
    reach = {0}
    for letter in word:
        reach = {i + len(name) for i in reach for name in names.get(letter, ()) if phones[i : i + len(name)] == name}
        if not reach:
            return False
    return len(phones) in reach


def pronounceable(word: str) -> bool:
    """Rough English phonotactics on capitals: a legal onset and coda, vowel runs of at most two
    letters, and medial consonant runs that split into a coda plus an onset."""
    clusters = _CLUSTERS.findall(word)
    if not any(c[0] in "AEIOU" or (c == "Y" and i > 0) for i, c in enumerate(clusters)):
        return False
    last = len(clusters) - 1
    for i, c in enumerate(clusters):
        if c[0] in "AEIOU" or (c == "Y" and i > 0):
            if len(c) > 2:
                return False
        elif i == 0:
            if c not in _ONSETS:
                return False
        elif i == last:
            if c not in _CODAS and not (c[-1] == "S" and c[:-1] in _CODAS):
                return False
        elif len(c) > 3 or not any(
            (k == 0 or c[:k] in _CODAS) and (k == len(c) or c[k:] in _ONSETS) for k in range(len(c) + 1)
        ):
            return False
    return True


@lru_cache(maxsize=8192)
def acronym(letters: str, shouting: bool = False) -> str:
    """An all-caps run of letters: itself when said as a word, else spelled (see the module rule)."""
    if not shouting and letters in SPELLED_ACRONYMS:
        return spell(letters)
    lower = letters.lower()
    prons = cmudict.lookup(lower)
    if prons:
        if is_spelled(lower, prons[0]):
            return spell(letters)
        return letters if len(letters) >= 3 or shouting or letters in SHORT_CAPS_WORDS else spell(letters)
    if letters in SHORT_CAPS_WORDS or (len(letters) >= 4 and pronounceable(letters)):
        return letters
    return spell(letters)


def caps_token(token: str, shouting: bool) -> str:
    """An all-caps token with an optional plural or possessive and ampersands: "FBI's" -> "F B I's",
    'CEOs' -> "C E O's" (so the letter keeps its name: "O's", not the word "Os"), 'AT&T' -> 'A T and T'."""
    suffix = ""
    if token[-2:] in ("'s", "'S"):
        token, suffix = token[:-2], "'s"
    elif token[-1] == "s" and len(token) > 2:
        token, suffix = token[:-1], "s"
    parts = [acronym(part, shouting) if len(part) > 1 else part for part in token.split("&") if part]
    words = " and ".join(parts)
    if suffix == "s" and words[-2:-1] == " ":  # ends in a spelled letter
        suffix = "'s"
    return words + suffix


def word_piece(piece: str) -> str:
    """Letters inside a code or address: capitals runs by the acronym rule, single letters as
    capitals (so "d" in "25d08" is the letter, not a word)."""
    if len(piece) == 1:
        return piece.upper()
    return acronym(piece) if piece.isupper() else piece


@lru_cache(maxsize=4096)
def vowelless(token: str) -> str:
    """A lowercase token without vowels: a word when CMUdict says so ("hmm", "nth"), else spelled ("tv")."""
    prons = cmudict.lookup(token)
    return token if prons and not is_spelled(token, prons[0]) else spell(token)
