"""Normalized text -> `english_basic` ids: CMUdict ARPAbet per word, letters for unknown words.

Input is the normalizer's output: lowercase words, spelled acronyms as single capitals ("F B I"),
punctuation. Policies (NVIDIA's choices differ where noted):

- A single capital letter is a spelled letter and is read by its name ("F" -> EH1 F). Two or more
  in a row are an acronym and get dots between and after the letters, as NVIDIA's cleaners wrote
  every acronym in training ("G.P.U." -> {JH IY1}.{P IY1}.{Y UW1}.); NVIDIA reads the letter A
  there as the word "a" and a possessive as the letter S, we read "ay" and Z.
- A word gets phones when CMUdict has exactly one pronunciation, as the published model was
  trained (NVIDIA's `handle_arpabet_ambiguous='ignore'`). A word with several stays lowercase
  letters, as in training: the model learned those words (the, a, and, for, to, ... — reduced or
  stressed by the sentence) from their spelling, and CMUdict's citation forms ("for" F AO1 R)
  would over-stress them. A model trained with `ambiguous="first"` (NVIDIA's 'first') reads such
  a word with CMUdict's first pronunciation instead: a model trained on little speech learns
  phones far sooner than spelling, and the commonest words are ambiguous.
- Heteronyms (`_HETERONYMS`) get the phones of the reading a cheap, reliable cue in the
  neighbouring word picks (determiner before -> noun, "to"/modal/pronoun before or an object
  after -> verb); without a cue they stay letters too (CMUdict's first reading with "first").
  Cues are only read across a plain space, never across punctuation.
- A hyphenated word is read whole when CMUdict has it ("avant-garde"), else part by part.
- An unknown word ending in 's or s whose stem has one pronunciation is read as stem + IH0 Z / S / Z
  by the stem's last phone (NVIDIA always adds Z). Other unknown words stay lowercase letters
  (ids 38-63), as in training.
- Characters outside the symbol table are dropped; runs of spaces collapse, no space is kept
  before , . ! ? : ; ) or after (, and two words never touch.

A model can bring its own `Lexicon` (NeMo archives ship their dictionary and heteronym list): its
words are then read by the rules that model was trained with instead (see `Lexicon`).

Word ids are memoized (bounded); `clear_cache()` empties the memo for cold-start measurements.
"""
from __future__ import annotations

import re

from collections.abc import Iterable, Mapping
from typing import Any

from jaxtts.errors import ConfigError
from jaxtts.text import cmudict
from jaxtts.text.symbols import PHONE_TO_ID, PUNCTUATION, SPACE_ID, SYMBOL_TO_ID

Ids = tuple[int, ...]

_PARTS = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*|[^A-Za-z]+")  # words (with ' and -) and what lies between
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_KEPT = frozenset(PUNCTUATION + "-")
_HYPHEN_ID = SYMBOL_TO_ID["-"]
_DOT = (SYMBOL_TO_ID["."],)
_SPACE = (SPACE_ID,)
_SPACES = re.compile(" {2,}")
_NO_SPACE = re.compile(r" (?=[,.!?:;)])|(?<=\() ")
_MEMO_LIMIT = 50_000  # entries; cleared when full so adversarial input cannot grow it without bound
_MEMO_MAX_WORD = 40  # longer words are not memoized

_LETTER_NAMES = {
    "A": "EY1", "B": "B IY1", "C": "S IY1", "D": "D IY1", "E": "IY1", "F": "EH1 F", "G": "JH IY1",
    "H": "EY1 CH", "I": "AY1", "J": "JH EY1", "K": "K EY1", "L": "EH1 L", "M": "EH1 M", "N": "EH1 N",
    "O": "OW1", "P": "P IY1", "Q": "K Y UW1", "R": "AA1 R", "S": "EH1 S", "T": "T IY1", "U": "Y UW1",
    "V": "V IY1", "W": "D AH1 B AH0 L Y UW0", "X": "EH1 K S", "Y": "W AY1", "Z": "Z IY1",
}  # fmt: skip

_NOUN_CUES = frozenset(
    "a an the this these those my your his her its our their no every each any some of in on for with by from".split()
)
_MODAL_CUES = frozenset(
    "to will would shall should can could may might must do does did don't doesn't didn't won't wouldn't "
    "can't cannot couldn't shouldn't please let's".split()
)
_VERB_CUES = _MODAL_CUES | frozenset("i we you they not never also often always".split())
_OBJECT_CUES = frozenset("the a an this that these those my your his her its our their me us him them it".split())
_BE = frozenset("is was am are were be been being".split())

# word: (noun or adjective reading, verb reading)
_NOUN_VERB = {
    "record": ("R EH1 K ER0 D", "R IH0 K AO1 R D"),
    "present": ("P R EH1 Z AH0 N T", "P R IY0 Z EH1 N T"),
    "object": ("AA1 B JH EH0 K T", "AH0 B JH EH1 K T"),
    "project": ("P R AA1 JH EH0 K T", "P R AH0 JH EH1 K T"),
    "permit": ("P ER1 M IH2 T", "P ER0 M IH1 T"),
    "conduct": ("K AA1 N D AH0 K T", "K AH0 N D AH1 K T"),
    "contract": ("K AA1 N T R AE2 K T", "K AH0 N T R AE1 K T"),
    "conflict": ("K AA1 N F L IH0 K T", "K AH0 N F L IH1 K T"),
    "contest": ("K AA1 N T EH0 S T", "K AH0 N T EH1 S T"),
    "convert": ("K AA1 N V ER0 T", "K AH0 N V ER1 T"),
    "combine": ("K AA1 M B AY0 N", "K AH0 M B AY1 N"),
    "desert": ("D EH1 Z ER0 T", "D IH0 Z ER1 T"),
    "escort": ("EH1 S K AO0 R T", "EH0 S K AO1 R T"),
    "extract": ("EH1 K S T R AE2 K T", "IH0 K S T R AE1 K T"),
    "import": ("IH1 M P AO2 R T", "IH2 M P AO1 R T"),
    "increase": ("IH1 N K R IY2 S", "IH2 N K R IY1 S"),
    "decrease": ("D IY1 K R IY2 S", "D IH0 K R IY1 S"),
    "insult": ("IH1 N S AH2 L T", "IH2 N S AH1 L T"),
    "insert": ("IH1 N S ER2 T", "IH2 N S ER1 T"),
    "produce": ("P R OW1 D UW0 S", "P R AH0 D UW1 S"),
    "progress": ("P R AA1 G R EH2 S", "P R AH0 G R EH1 S"),
    "protest": ("P R OW1 T EH2 S T", "P R AH0 T EH1 S T"),
    "rebel": ("R EH1 B AH0 L", "R IH0 B EH1 L"),
    "refuse": ("R EH1 F Y UW2 Z", "R IH0 F Y UW1 Z"),
    "reject": ("R IY1 JH EH0 K T", "R IH0 JH EH1 K T"),
    "subject": ("S AH1 B JH IH0 K T", "S AH0 B JH EH1 K T"),
    "suspect": ("S AH1 S P EH2 K T", "S AH0 S P EH1 K T"),
    "survey": ("S ER1 V EY2", "S ER0 V EY1"),
    "torment": ("T AO1 R M EH2 N T", "T AO0 R M EH1 N T"),
    "transfer": ("T R AE1 N S F ER0", "T R AE0 N S F ER1"),
    "transport": ("T R AE1 N S P AO0 R T", "T R AE0 N S P AO1 R T"),
    "upset": ("AH1 P S EH2 T", "AH0 P S EH1 T"),
    "perfect": ("P ER1 F IH2 K T", "P ER0 F EH1 K T"),
    "address": ("AE1 D R EH2 S", "AH0 D R EH1 S"),
    "console": ("K AA1 N S OW0 L", "K AH0 N S OW1 L"),
    "use": ("Y UW1 S", "Y UW1 Z"),
    "close": ("K L OW1 S", "K L OW1 Z"),
    "excuse": ("IH0 K S K Y UW1 S", "IH0 K S K Y UW1 Z"),
    "abuse": ("AH0 B Y UW1 S", "AH0 B Y UW1 Z"),
    "advocate": ("AE1 D V AH0 K AH0 T", "AE1 D V AH0 K EY2 T"),
    "alternate": ("AO1 L T ER0 N AH0 T", "AO1 L T ER0 N EY2 T"),
    "appropriate": ("AH0 P R OW1 P R IY0 AH0 T", "AH0 P R OW1 P R IY0 EY2 T"),
    "approximate": ("AH0 P R AA1 K S AH0 M AH0 T", "AH0 P R AA1 K S AH0 M EY2 T"),
    "associate": ("AH0 S OW1 S IY0 AH0 T", "AH0 S OW1 S IY0 EY2 T"),
    "delegate": ("D EH1 L AH0 G AH0 T", "D EH1 L AH0 G EY2 T"),
    "deliberate": ("D IH0 L IH1 B ER0 AH0 T", "D IH0 L IH1 B ER0 EY2 T"),
    "duplicate": ("D UW1 P L AH0 K AH0 T", "D UW1 P L AH0 K EY2 T"),
    "elaborate": ("IH0 L AE1 B R AH0 T", "IH0 L AE1 B ER0 EY2 T"),
    "estimate": ("EH1 S T AH0 M AH0 T", "EH1 S T AH0 M EY2 T"),
    "graduate": ("G R AE1 JH AH0 W AH0 T", "G R AE1 JH AH0 W EY2 T"),
    "intimate": ("IH1 N T AH0 M AH0 T", "IH1 N T AH0 M EY2 T"),
    "moderate": ("M AA1 D ER0 AH0 T", "M AA1 D ER0 EY2 T"),
    "separate": ("S EH1 P R AH0 T", "S EH1 P ER0 EY2 T"),
}


def _ids(phones: str) -> Ids:
    return tuple(map(PHONE_TO_ID.__getitem__, phones.split()))


def _letters(word: str) -> Ids:
    return tuple(map(SYMBOL_TO_ID.__getitem__, word))


class _Heteronym:
    """Readings keyed by the previous word and by the next word; without a cue, the letters
    (`default`), or CMUdict's first reading for a model trained with "first" (`first`)."""

    __slots__ = ("after", "before", "default", "first", "word")

    def __init__(self, word: str, after: dict[str, str] | None = None, before: dict[str, str] | None = None):
        after, before = after or {}, before or {}
        readings = {p: _ids(p) for p in {*after.values(), *before.values()}}
        self.word, self.default = word, _letters(word)
        self.first: Ids | None = None  # looked up on first use: CMUdict loads lazily
        self.after = {w: readings[p] for w, p in after.items()}
        self.before = {w: readings[p] for w, p in before.items()}

    def resolve(self, prev: str | None, next_: str | None, first: bool = False) -> Ids:
        if prev is not None and (ids := self.after.get(prev.lower())):
            return ids
        if next_ is not None and (ids := self.before.get(next_.lower())):
            return ids
        if not first:
            return self.default
        if self.first is None:
            prons = cmudict.lookup(self.word)
            self.first = _ids(prons[0]) if prons else self.default
        return self.first


def _noun_verb(word: str, noun: str, verb: str, particles: str = "") -> _Heteronym:
    """Noun after a determiner; verb after "to"/modal/pronoun or before an object or a particle."""
    after = dict.fromkeys(_NOUN_CUES, noun) | dict.fromkeys(_VERB_CUES, verb)
    before = dict.fromkeys([*_OBJECT_CUES, *particles.split()], verb)
    return _Heteronym(word, after, before)


_HETERONYMS: dict[str, _Heteronym] = {
    **{w: _noun_verb(w, *readings) for w, readings in _NOUN_VERB.items()},
    "wind": _noun_verb("wind", "W IH1 N D", "W AY1 N D", "up down"),
    "tear": _noun_verb("tear", "T IH1 R", "T EH1 R", "up apart down off open out into through away"),
    "read": _Heteronym("read", dict.fromkeys("he she it had has have having".split() + [*_BE], "R EH1 D")
                       | dict.fromkeys([*_MODAL_CUES, "a", "the"], "R IY1 D")),
    "live": _Heteronym("live", dict.fromkeys(_VERB_CUES | {"who"}, "L IH1 V") | dict.fromkeys(_BE, "L AY1 V"),
                       dict.fromkeys("music broadcast performance show concert audience coverage".split(), "L AY1 V")),
    "lives": _Heteronym("lives", dict.fromkeys("he she it who that which still now".split(), "L IH1 V Z")
                        | dict.fromkeys(_NOUN_CUES - {"that"}, "L AY1 V Z")),
    "tears": _Heteronym("tears", dict.fromkeys("he she it".split(), "T EH1 R Z") | dict.fromkeys(_NOUN_CUES, "T IH1 R Z")),
    "wound": _Heteronym("wound", dict.fromkeys(_NOUN_CUES, "W UW1 N D"),
                        dict.fromkeys("up down around round".split(), "W AW1 N D")),
    "content": _Heteronym("content", dict.fromkeys([*_BE, "feel", "felt", "seem", "seemed"], "K AH0 N T EH1 N T")
                          | dict.fromkeys(_NOUN_CUES, "K AA1 N T EH0 N T")),
}  # fmt: skip

_SIBILANTS = frozenset("S Z SH ZH CH JH".split())
_VOICELESS = frozenset("P T K F TH".split())


def _pronounce(word: str, first: bool = False) -> str | None:
    """Phones of a lowercase word that the model was trained to read as phones, else None (letters):
    CMUdict's pronunciation when it has exactly one (with `first`, its first of several); for a word
    it lacks, ending in 's or s, the stem's so read + IH0 Z / S / Z by the stem's last phone."""
    prons = cmudict.lookup(word)
    if prons is not None:
        return prons[0] if len(prons) == 1 or first else None
    for suffix in ("'s", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = cmudict.lookup(word[: -len(suffix)])
            if stem is not None:
                if len(stem) > 1 and not first:
                    return None
                last = stem[0].rsplit(" ", 1)[-1].rstrip("012")
                ending = "IH0 Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
                return f"{stem[0]} {ending}"
    return None


class Lexicon:
    """A model's own pronunciation dictionary (CMUdict layout) and heteronym list, read by the rules
    of NeMo's EnglishG2p that such a model was trained with: a listed heteronym is spelled, a word
    with one pronunciation gets it, a word the dictionary lacks that ends in 's or s gets its stem's
    single pronunciation + Z, anything else is spelled. Spelled letters, acronyms, hyphenated words
    and braces are handled as for every model. The dictionary is parsed on first use."""

    def __init__(self, dictionary: str, heteronyms: Iterable[str]) -> None:
        self.dictionary = dictionary  # the file's text, kept to save the model again
        self.heteronyms = frozenset(heteronyms)
        self.memo: dict[str, Ids] = {}
        self._entries: dict[str, list[str]] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Lexicon:
        """Read `to_dict()`'s form: {"dictionary": text, "heteronyms": [word, ...]}."""
        if not isinstance(d.get("dictionary"), str) or not isinstance(d.get("heteronyms"), (list, tuple)):
            raise ConfigError("a lexicon needs 'dictionary' (CMUdict text) and 'heteronyms' (a list of words)")
        return cls(d["dictionary"], map(str, d["heteronyms"]))

    def to_dict(self) -> dict[str, Any]:
        return {"dictionary": self.dictionary, "heteronyms": sorted(self.heteronyms)}

    @property
    def entries(self) -> dict[str, list[str]]:
        """lowercase word -> pronunciations in file order; lines that are not entries are skipped."""
        if self._entries is None:
            entries: dict[str, list[str]] = {}
            for n, line in enumerate(self.dictionary.splitlines(), 1):
                if not line or not ("A" <= line[0] <= "Z" or line[0] == "'"):
                    continue
                word, _, phones = line.partition("  ")
                phones = phones.strip()
                unknown = [p for p in phones.split() if p not in PHONE_TO_ID]
                if not phones or unknown:
                    raise ConfigError(f"the model's pronunciation dictionary, line {n} ({line[:60]!r}): "
                                      f"{'unknown phones ' + ', '.join(unknown) if unknown else 'no phones'}")
                if word.endswith(")") and "(" in word:
                    word = word[: word.rindex("(")]
                entries.setdefault(word.lower(), []).append(phones)
            self._entries = entries
        return self._entries

    def contains(self, word: str) -> bool:
        return word in self.entries

    def pronounce(self, word: str) -> str | None:
        """Phones of a lowercase word this model was trained to read as phones, else None."""
        if word in self.heteronyms:
            return None
        entries = self.entries
        if word not in entries:
            for suffix in ("'s", "s"):
                stem = word[: -len(suffix)]
                if word.endswith(suffix) and stem and len(entries.get(stem, ())) == 1:
                    return entries[stem][0] + " Z"
            return None
        return entries[word][0] if len(entries[word]) == 1 else None


def _remember(memo: dict, key: str, value: object) -> None:
    """Memoize short keys only, and start over when full, so adversarial input stays bounded."""
    if len(key) <= _MEMO_MAX_WORD:
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = value


_memo: dict[str, Ids | _Heteronym] = {}
_memo_first: dict[str, Ids | _Heteronym] = {}  # the same for models trained with ambiguous="first"
AMBIGUOUS = ("ignore", "first")  # NVIDIA's handle_arpabet_ambiguous choices a fixed reading can follow


def _memo_of(lexicon: Lexicon | None, first: bool) -> dict:
    return lexicon.memo if lexicon is not None else _memo_first if first else _memo


def _entry(word: str, lexicon: Lexicon | None = None, first: bool = False) -> Ids | _Heteronym:
    """Ids of a word token, or the rule that picks them from context."""
    memo = _memo_of(lexicon, first)
    entry = memo.get(word)
    if entry is not None:
        return entry
    lower = word.lower()
    if "-" in word and not (cmudict.contains(lower) if lexicon is None else lexicon.contains(lower)):
        entry = _compound(word, lexicon, first)
    elif len(word) == 1 and word.isupper():
        entry = _ids(_LETTER_NAMES[word])
    elif lexicon is not None:
        phones = lexicon.pronounce(lower)
        entry = _ids(phones) if phones is not None else _letters(lower)
    else:
        entry = _HETERONYMS.get(lower)
        if entry is None:
            phones = _pronounce(lower, first)
            entry = _ids(phones) if phones is not None else _letters(lower)
    _remember(memo, word, entry)
    return entry


def _compound(word: str, lexicon: Lexicon | None, first: bool) -> Ids:
    """A hyphenated word the dictionary lacks: its parts' context-free readings joined by "-"."""
    ids: list[int] = []
    for k, part in enumerate(word.split("-")):
        if k:
            ids.append(_HYPHEN_ID)
        entry = _entry(part, lexicon, first)
        ids += entry if entry.__class__ is tuple else entry.resolve(None, None, first)
    return tuple(ids)


_seps: dict[str, Ids] = {}


def _run(text: str) -> Ids:
    """Ids of what lies between words: kept punctuation, spaces collapsed, none before , . ! ? : ; )
    or after (."""
    ids = _seps.get(text)
    if ids is None:
        kept = "".join(" " if c.isspace() else c for c in text if c in _KEPT or c.isspace())
        ids = tuple(map(SYMBOL_TO_ID.__getitem__, _NO_SPACE.sub("", _SPACES.sub(" ", kept))))
        _remember(_seps, text, ids)
    return ids


def _between(text: str) -> Ids:
    """A run between two words, which always leaves them apart."""
    return _run(text) or _SPACE


def encode(text: str, arpabet: bool = True, lexicon: Lexicon | None = None, ambiguous: str = "ignore") -> list[int]:
    """Ids of normalized text; empty when it holds no word (nothing speakable). `arpabet=False`
    spells every word in lowercase letters, for checkpoints trained without ARPAbet (p_arpabet 0);
    `lexicon` reads words with a model's own dictionary; `ambiguous` is how the model was trained
    to read a word CMUdict has several pronunciations for (`AMBIGUOUS`)."""
    if ambiguous not in AMBIGUOUS:
        raise ConfigError(f"ambiguous words: {ambiguous!r} is not one of {', '.join(AMBIGUOUS)}")
    first = ambiguous == "first"
    parts = _PARTS.findall(text)
    n = len(parts)
    start = 0 if parts and parts[0][0] in _LETTERS else 1
    if start >= n:
        return []
    out: list[int] = []
    if start:  # text starts with punctuation: keep it, less a leading space
        lead = _run(parts[0])
        out += lead[1:] if lead[:1] == _SPACE else lead
    memo = _memo_of(lexicon, first)
    for i in range(start, n, 2):
        word = parts[i]
        entry = (memo.get(word) or _entry(word, lexicon, first)) if arpabet else _letters(word.lower())
        if entry.__class__ is tuple:
            out += entry
        else:
            prev = parts[i - 2] if i >= 2 and parts[i - 1] == " " else None
            next_ = parts[i + 2] if i + 2 < n and parts[i + 1] == " " else None
            out += entry.resolve(prev, next_, first)
        if len(word) == 1 and word.isupper():  # a spelled letter: dots if it is part of an acronym
            if i + 2 < n and parts[i + 1] == " " and _acronym_letter(parts[i + 2]):
                out += _DOT  # in place of the space
                continue
            if i >= 2 and parts[i - 1] == " " and len(parts[i - 2]) == 1 and parts[i - 2].isupper():
                if i + 1 == n or parts[i + 1][0] != ".":
                    out += _DOT
        if i + 2 < n:
            out += _seps.get(parts[i + 1]) or _between(parts[i + 1])
        elif i + 1 < n:  # the final run, less a trailing space
            tail = _run(parts[i + 1])
            out += tail[:-1] if tail[-1:] == _SPACE else tail
    return out


def _acronym_letter(word: str) -> bool:
    """A spelled letter, or the last one of an acronym with its possessive or plural ("U's")."""
    return word[0].isupper() and (len(word) == 1 or word[1:] == "'s")


def clear_cache() -> None:
    """Forget memoized words and separators (the dictionary itself stays loaded)."""
    _memo.clear()
    _memo_first.clear()
    _seps.clear()
