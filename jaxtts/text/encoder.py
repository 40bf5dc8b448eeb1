"""How a checkpoint's training text was encoded, as one object: text in, that model's ids out.

A FastPitch learned ids written one particular way: NVIDIA's `train_setup` says what share of
words was ARPAbet (`p_arpabet`), whether a space id went before/after every text and which
symbol table the ids index; a NeMo archive brings its tokenizer's vocabulary and its own
pronunciation dictionary. `TextEncoder` holds all of that. The converters build it from the
checkpoint, `jaxtts.checkpoint` stores it in its own section of a converted model, and the
engine, `jaxtts.parity` and `jaxtts.torch` encode text with it alone, so they give one
checkpoint the same ids.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from jaxtts import text as frontend
from jaxtts.errors import ConfigError, InputError, TextError
from jaxtts.text.g2p import AMBIGUOUS, Lexicon
from jaxtts.text.symbols import ARPABET, SPACE_ID, SYMBOLS

# The fields, named as NVIDIA's train_setup names them (`lexicon`: a NeMo archive's dictionary).
TEXT_SETUP = ("p_arpabet", "handle_arpabet_ambiguous", "prepend_space_to_text", "append_space_to_text", "symbols",
              "lexicon")
_BARE_VOWELS = frozenset(p[:-1] for p in ARPABET if p[-1].isdigit())  # CMUdict always marks stress


@dataclasses.dataclass(frozen=True)
class TextEncoder:
    """`p_arpabet`: the share of words read as ARPAbet in training (1.0 as published, 0 = letters
    only); `handle_arpabet_ambiguous`: how a word with several CMUdict pronunciations was written
    ('ignore': spelled, as published; 'first': its first pronunciation); `prepend/append_space_to_text`: a space id before/after every text; `symbols`: the
    model's vocabulary (id = index) when it is not NVIDIA's english_basic (NVIDIA's
    english_basic_lowercase, a NeMo phoneme tokenizer's tokens); `lexicon`: the model's own
    pronunciation dictionary when it shipped one (NeMo), else CMUdict reads the words. The default
    is how NVIDIA's published FastPitch was trained."""

    p_arpabet: float = 1.0
    handle_arpabet_ambiguous: str = "ignore"
    prepend_space_to_text: bool = False
    append_space_to_text: bool = False
    symbols: tuple[str, ...] | None = None
    lexicon: Lexicon | None = dataclasses.field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.symbols is not None:
            object.__setattr__(self, "symbols", tuple(map(str, self.symbols)))
        if isinstance(self.lexicon, Mapping):
            object.__setattr__(self, "lexicon", Lexicon.from_dict(self.lexicon))
        if isinstance(self.p_arpabet, bool) or not isinstance(self.p_arpabet, (int, float, np.integer, np.floating)):
            raise ConfigError(f"text setup: p_arpabet must be a number, got {self.p_arpabet!r}")
        object.__setattr__(self, "p_arpabet", float(self.p_arpabet))
        if not 0.0 <= self.p_arpabet <= 1.0:
            raise ConfigError(f"text setup: p_arpabet {self.p_arpabet} must be a share between 0 and 1")
        for name in ("prepend_space_to_text", "append_space_to_text"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        if self.handle_arpabet_ambiguous not in AMBIGUOUS:
            raise ConfigError(f"text setup: handle_arpabet_ambiguous {self.handle_arpabet_ambiguous!r} is not one of "
                              f"{', '.join(AMBIGUOUS)} (a model trained with 'random' has no fixed reading to follow)")
        if self.lexicon is not None and self.handle_arpabet_ambiguous != "ignore":
            raise ConfigError("text setup: a model with its own lexicon reads ambiguous words by that lexicon's rules; "
                              "handle_arpabet_ambiguous must be 'ignore'")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TextEncoder:
        """Read `to_dict()` (or train_setup's keys of the same names); unknown keys are an error."""
        unknown = sorted(set(map(str, d)) - set(TEXT_SETUP))
        if unknown:
            raise ConfigError(f"text setup: unknown {', '.join(unknown)}; known: {', '.join(TEXT_SETUP)}")
        return cls(**{k: v for k, v in d.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict that `from_dict` reads back."""
        d = {name: getattr(self, name) for name in TEXT_SETUP}
        d["symbols"] = None if self.symbols is None else list(self.symbols)
        d["lexicon"] = None if self.lexicon is None else self.lexicon.to_dict()
        return d

    def check(self, n_symbols: int, *, speakable: bool = False) -> TextEncoder:
        """`self` if it fits a model with `n_symbols` input ids, else a ConfigError. With
        `speakable`, also that the front-end can write every id it needs in this vocabulary (a
        model on a table it cannot write still runs on ids given to it)."""
        if self.symbols is not None and len(self.symbols) != n_symbols:
            raise ConfigError(f"text setup: {len(self.symbols)} symbols for a model with {n_symbols} input ids")
        if speakable and self.symbols is None and n_symbols != len(SYMBOLS):
            raise ConfigError(f"this FastPitch has {n_symbols} input symbols and no vocabulary the text "
                              f"front-end knows (NVIDIA's english_basic has {len(SYMBOLS)}; english_basic_lowercase "
                              "is read from a checkpoint's train_setup, NeMo's English phoneme tokenizer from .nemo "
                              "archives); give it ids with FastPitch.infer instead")
        if speakable and self._vocabulary is not None:
            names = self._names
            used = [name for i, name in enumerate(names) if i and self._vocabulary[i] < 0 and name not in _BARE_VOWELS]
            if used:
                raise ConfigError(f"this FastPitch's vocabulary lacks {', '.join(used)}, which the text front-end uses")
        return self

    def encode(self, text: str) -> list[int]:
        """The model's ids of `text` as one sequence (TextError when nothing in it is speakable)."""
        return self.model_ids(self.symbol_ids(text))

    def symbol_ids(self, text: str) -> list[int]:
        """The front-end's english_basic ids of `text`, read as in training: every word as ARPAbet
        when training used any (0 < p_arpabet < 1 was a random mix), letters for p_arpabet 0."""
        return frontend.to_ids(text, arpabet=self.p_arpabet > 0, lexicon=self.lexicon,
                               ambiguous=self.handle_arpabet_ambiguous)

    def model_ids(self, ids: list[int]) -> list[int]:
        """english_basic ids with the spaces training added around every text, in the model's own
        vocabulary if it has one."""
        ids = [SPACE_ID] * self.prepend_space_to_text + ids + [SPACE_ID] * self.append_space_to_text
        if self._vocabulary is None:
            return ids
        out = self._vocabulary[ids].tolist()
        if min(out) < 0:
            missing = sorted({SYMBOLS[i].lstrip("@") for i, o in zip(ids, out) if o < 0})
            raise InputError(f"this FastPitch's vocabulary has no {', '.join(missing)} (from braces in the text); "
                             "use the phones it knows, e.g. vowels with stress digits")
        return out

    def sentences(self, text: str, max_length: int) -> Iterator[list[int]]:
        """The model's ids of each speakable sentence of `text`, a sentence longer than `max_length`
        ids cut at spaces into pieces that fit (each with the added spaces)."""
        limit = max_length - self.prepend_space_to_text - self.append_space_to_text
        for sentence in frontend.split_sentences(text):
            try:
                ids = self.symbol_ids(sentence)
            except TextError:
                continue  # "..." between sentences, an emoji line: nothing to say here
            yield from (self.model_ids(ids[i:j]) for i, j in _cuts(ids, limit))

    def pieces(self, pieces: list[str], max_length: int) -> Iterator[tuple[list[int], list[int]]]:
        """The model's ids of one sentence written in pieces (SSML's spans), cut as `sentences` cuts,
        each with the index of the piece every id came from (an added space: its neighbour's).
        TextError when nothing in them is speakable."""
        ids, owners = frontend.pieces_to_ids(pieces, arpabet=self.p_arpabet > 0, lexicon=self.lexicon,
                                             ambiguous=self.handle_arpabet_ambiguous)
        limit = max_length - self.prepend_space_to_text - self.append_space_to_text
        for i, j in _cuts(ids, limit):
            own = owners[i:j]
            yield (self.model_ids(ids[i:j]),
                   own[:1] * self.prepend_space_to_text + own + own[-1:] * self.append_space_to_text)

    @functools.cached_property
    def _names(self) -> list[str]:
        """english_basic's symbols as the model's vocabulary names them: phones are '@AA1' in NVIDIA's
        tables and 'AA1' in NeMo's; the front-end writes lowercase letters."""
        index = set(self.symbols or ())
        return [(s if s in index else s[1:]) if s[0] == "@" else s.lower() for s in SYMBOLS]

    @functools.cached_property
    def _vocabulary(self) -> np.ndarray | None:
        """english_basic id -> the model's id (-1: none); None for an english_basic model."""
        if self.symbols is None:
            return None
        index = {s: i for i, s in enumerate(self.symbols)}
        return np.array([index.get(name, -1) for name in self._names])


def _cuts(ids: list[int], limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) of the pieces of `ids` that fit `limit`, cut at the last space that keeps a piece
    at least half full (the space dropped), else at `limit`."""
    start = 0
    while len(ids) - start > limit:
        space = _last_space(ids[start:], limit)
        yield start, start + (space or limit)
        start += space + 1 if space else limit
    yield start, len(ids)


def _last_space(ids: list[int], limit: int) -> int | None:
    """Index of the last space among ids[limit/2 : limit + 1], where a too-long sentence is cut."""
    for i in range(limit, limit // 2, -1):
        if ids[i] == SPACE_ID:
            return i
    return None
