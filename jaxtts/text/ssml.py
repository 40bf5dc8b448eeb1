"""SSML documents -> sentences of spans, each with its text or phones, prosody and pause.

    parse('<speak>Hi <break time="500ms"/><prosody rate="slow">there</prosody>.</speak>')
    # [[Span('Hi ', break_ms=500), Span('there', prosody=Prosody(rate=0.75)), Span('.')]]

The result is plain data for the engine to consume; nothing here runs a model:
- `parse(text) -> list[list[Span]]`: sentences (from `<p>`, `<s>` and the sentence ends inside a
  span's text), each a list of spans in reading order.
- `Span.text` is raw text for `normalize`/`to_ids` (`<say-as>` and `<sub>` already expanded into
  words); `Span.phonemes` is set for `<phoneme>`: ARPAbet in braces ("{T AH0 M EY1 T OW2}"),
  which `to_ids` passes through; IPA is mapped to ARPAbet for the common English phones.
- `Span.prosody` holds the controls of the `<prosody>`/`<emphasis>` elements around the span:
  `rate` multiplies the speaking rate (FastPitch's pace; 2.0 is twice as fast), `pitch_semitones`
  and `pitch_hz` shift the pitch (relative; percentages become semitones), `volume_db` scales the
  loudness (-inf for "silent"). Nested elements compose: rates multiply, shifts add.
- `Span.break_ms` is the silence after the span (`<break>`; a break before any text gives an empty
  span). A blank span between two elements is kept: it keeps their words apart.

`<emphasis>` is a prosody change: strong = rate 0.85 and +2 semitones, moderate (the default) =
rate 0.92 and +1 semitone, reduced = rate 1.1 and -1 semitone, none = no change. `<break>`
strengths: none 0, x-weak 100, weak 250, medium 400 (the default), strong 750, x-strong 1200 ms.

Documents are parsed with defusedxml and no DTD is allowed, so entity expansion (billion laughs)
and external entities are refused before anything is expanded. Malformed SSML is an InputError
naming the line and column. Elements this module does not know (`<voice>`, `<lang>`, `<mark>`,
`<audio>` with its fallback text) are read for their text.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jaxtts.errors import InputError
from jaxtts.text import numbers as nums
from jaxtts.text._codes import phone_words
from jaxtts.text._tables import MONTH_NAMES
from jaxtts.text.sentences import split_sentences
from jaxtts.text.symbols import PHONE_TO_ID

__all__ = ["Prosody", "Span", "is_ssml", "parse"]

MAX_CHARS = 1_000_000  # a document larger than this is refused before parsing
MAX_DEPTH = 64  # nested elements
MAX_BREAK_MS = 10_000  # one <break>


@dataclass(frozen=True)
class Prosody:
    """The controls of a span, relative to the voice's own (see the module docstring)."""

    rate: float = 1.0
    pitch_semitones: float = 0.0
    pitch_hz: float = 0.0
    volume_db: float = 0.0


@dataclass(frozen=True)
class Span:
    """A piece of a sentence read with one prosody, then `break_ms` of silence."""

    text: str
    phonemes: str | None = None
    prosody: Prosody = field(default_factory=Prosody)
    break_ms: int = 0


def is_ssml(text: str) -> bool:
    """Whether `text` is an SSML document: it starts with `<speak`, after an XML declaration, or it
    starts with a `<!DOCTYPE` and holds a `<speak` element (so that `parse` refuses its DTD, rather
    than the text being read aloud)."""
    head = text.lstrip()
    if head.startswith("<?xml"):
        head = head[head.find("?>") + 2 :].lstrip()
    if head.startswith("<!DOCTYPE"):
        return _SPEAK.search(head) is not None
    return _SPEAK.match(head) is not None


_SPEAK = re.compile(r"<speak[\s>/]")


# --- attribute values --------------------------------------------------------------------------

_RATES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.75}
_PITCHES = {"x-low": -6.0, "low": -3.0, "medium": 0.0, "default": 0.0, "high": 3.0, "x-high": 6.0}  # semitones
_VOLUMES = {"silent": -math.inf, "x-soft": -12.0, "soft": -6.0, "medium": 0.0, "default": 0.0, "loud": 6.0,
            "x-loud": 12.0}  # fmt: skip
_STRENGTHS = {"none": 0, "x-weak": 100, "weak": 250, "medium": 400, "strong": 750, "x-strong": 1200}
_EMPHASIS = {"strong": (0.85, 2.0), "moderate": (0.92, 1.0), "reduced": (1.1, -1.0), "none": (1.0, 0.0)}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_TIME = re.compile(rf"({_NUMBER})\s*(ms|s)")
_RELATIVE = re.compile(rf"({_NUMBER})\s*(%|st|Hz|dB)?")


def _bad(element: str, name: str, value: str, expected: str) -> InputError:
    return InputError(f"SSML <{element} {name}={value!r}>: expected {expected}")


def _break_ms(attrib: dict[str, str]) -> int:
    if (time := attrib.get("time")) is not None:
        m = _TIME.fullmatch(time.strip())
        if m is None or float(m.group(1)) < 0:
            raise _bad("break", "time", time, 'a duration such as "500ms" or "1.5s"')
        ms = float(m.group(1)) * (1000 if m.group(2) == "s" else 1)
        if ms > MAX_BREAK_MS:
            raise InputError(f"SSML <break time={time!r}>: at most {MAX_BREAK_MS} ms per break; use several breaks")
        return round(ms)
    strength = attrib.get("strength", "medium")
    if strength not in _STRENGTHS:
        raise _bad("break", "strength", strength, " | ".join(_STRENGTHS))
    return _STRENGTHS[strength]


def _prosody(current: Prosody, attrib: dict[str, str]) -> Prosody:
    """`current` changed by a <prosody>'s rate, pitch and volume."""
    rate, st, hz, db = current.rate, current.pitch_semitones, current.pitch_hz, current.volume_db
    if (value := attrib.get("rate")) is not None:
        m = _RELATIVE.fullmatch(value.strip())
        if value in _RATES:
            rate *= _RATES[value]
        elif m is not None and m.group(2) in (None, "%"):
            number = float(m.group(1))
            factor = (1 + number / 100 if m.group(1)[0] in "+-" else number / 100) if m.group(2) else number
            if factor <= 0:
                raise _bad("prosody", "rate", value, "a positive rate")
            rate *= factor
        else:
            raise _bad("prosody", "rate", value, f'{" | ".join(_RATES)}, a percentage ("80%", "+10%") or a factor')
    if (value := attrib.get("pitch")) is not None:
        m = _RELATIVE.fullmatch(value.strip())
        if value in _PITCHES:
            st += _PITCHES[value]
        elif m is not None and m.group(1)[0] in "+-" and m.group(2) in ("%", "st", "Hz"):
            number = float(m.group(1))
            if m.group(2) == "Hz":
                hz += number
            elif m.group(2) == "st":
                st += number
            elif number <= -100:
                raise _bad("prosody", "pitch", value, "a change above -100%")
            else:
                st += 12 * math.log2(1 + number / 100)
        else:
            raise _bad("prosody", "pitch", value, f'{" | ".join(_PITCHES)} or a change ("+2st", "-10%", "+20Hz")')
    if (value := attrib.get("volume")) is not None:
        m = _RELATIVE.fullmatch(value.strip())
        if value in _VOLUMES:
            db += _VOLUMES[value]
        elif m is not None and m.group(1)[0] in "+-" and m.group(2) == "dB":
            db += float(m.group(1))
        else:
            raise _bad("prosody", "volume", value, f'{" | ".join(_VOLUMES)} or a change in dB ("+6dB")')
    return Prosody(rate, st, hz, db)


# --- <say-as> and <phoneme> --------------------------------------------------------------------

_DATE_PARTS = re.compile(r"\d+")


def _date(text: str, fmt: str) -> str:
    """A date in `format` order (mdy, dmy, ymd, md, dm, ym, my, y, m, d) in words: 'January fifth
    twenty twenty four' with the month first, 'the fifth of January ...' with the day first."""
    parts = _DATE_PARTS.findall(text)
    if not fmt or len(fmt) != len(parts) or set(fmt) - set("ymd") or len(set(fmt)) != len(fmt):
        return text  # the normalizer reads it as written
    value = dict(zip(fmt, parts))
    if "m" in value and not 1 <= int(value["m"]) <= 12:
        return text
    words = []
    for i, key in enumerate(fmt):
        if key == "m":
            words.append(("of " if fmt[i - 1 : i] == "d" else "") + MONTH_NAMES[int(value["m"])])
        elif key == "d":
            words.append(("" if words else "the ") + nums.ordinal(value["d"].lstrip("0") or "0"))
        else:
            words.append(nums.year(value["y"]) if len(value["y"]) == 4 else nums.cardinal(value["y"]))
    return " ".join(words)


def _characters(text: str) -> str:
    return " ".join(nums.spell_digits(c) if c.isdigit() else c.upper() for c in text if c.isalnum())


def _say_as(text: str, attrib: dict[str, str]) -> str:
    kind = attrib.get("interpret-as", "")
    digits = re.sub(r"[^\d]", "", text)
    if kind in ("characters", "spell-out", "verbatim"):
        return _characters(text)
    if kind in ("cardinal", "number") and digits:
        return nums.cardinal(digits)
    if kind == "ordinal" and digits:
        return nums.ordinal(digits)
    if kind == "digits" and digits:
        return nums.spell_digits(digits)
    if kind == "date":
        return _date(text, attrib.get("format", ""))
    if kind == "telephone" and text.strip():
        return phone_words(text.strip())
    if kind == "time":
        return _time(text, attrib.get("format", ""))
    return text  # other kinds: the normalizer's own rules read them


_CLOCK = re.compile(r"(\d{1,2})(?::?(\d{2}))?(?::(\d{2}))?\s*(?:([AaPp])\.?\s*[Mm]\.?)?")


def _time(text: str, fmt: str) -> str:
    """A clock time as `format` asks: "hms12" on a 12-hour clock with A M / P M ("14:30" → two
    thirty P M), "hms24" on a 24-hour one ("2:30 pm" → fourteen thirty, "1400" → fourteen
    hundred). Without a format, or for what is no valid time, the normalizer's time rule reads it."""
    m = _CLOCK.fullmatch(text.strip())
    if not m or not fmt.startswith(("hms12", "hms24")):
        return text
    hour, minute, second = int(m[1]), int(m[2] or 0), int(m[3] or 0)
    if m[4]:
        if not 1 <= hour <= 12:
            return text
        hour = hour % 12 + 12 * (m[4] in "Pp")
    if hour > 23 or minute > 59 or second > 59:
        return text
    words = [nums.cardinal(str(hour % 12 or 12 if fmt.startswith("hms12") else hour))]
    if minute:
        words.append(("o " if minute < 10 else "") + nums.cardinal(str(minute)))
    elif fmt.startswith("hms24"):
        words.append("hundred")
    if second:
        words.append(f"and {nums.cardinal(str(second))} second{'s' * (second > 1)}")
    if fmt.startswith("hms12"):
        words.append("P M" if hour >= 12 else "A M")
    return " ".join(words)


# IPA -> ARPAbet for the phones of English; longest symbols first, stress marks go to the next vowel.
_IPA = {
    "tʃ": "CH", "dʒ": "JH", "eɪ": "EY", "aɪ": "AY", "aʊ": "AW", "ɔɪ": "OY", "oʊ": "OW", "əʊ": "OW",
    "ɪə": "IH R", "ɛə": "EH R", "ʊə": "UH R", "ɑː": "AA", "iː": "IY", "uː": "UW", "ɔː": "AO", "ɜː": "ER",
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "ɡ": "G", "f": "F", "v": "V", "θ": "TH",
    "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "h": "HH", "m": "M", "n": "N", "ŋ": "NG",
    "l": "L", "ɫ": "L", "r": "R", "ɹ": "R", "ɾ": "T", "j": "Y", "w": "W",
    "i": "IY", "ɪ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AA", "ɑ": "AA", "ɒ": "AA", "ɔ": "AO",
    "o": "OW", "ʊ": "UH", "u": "UW", "ʌ": "AH", "ə": "AH", "ɜ": "ER", "ɝ": "ER", "ɚ": "ER",
}  # fmt: skip
_IPA_TOKEN = re.compile("|".join(sorted(map(re.escape, _IPA), key=len, reverse=True)) + "|[ˈˌ]|.", re.S)
_VOWELS = frozenset(p for p in PHONE_TO_ID if p[-1].isdigit())
_IGNORED_IPA = frozenset(" .ːˑ‿/[]-")


def _ipa_to_arpabet(ph: str) -> list[str]:
    phones: list[str] = []
    stress = "0"
    for token in _IPA_TOKEN.findall(ph):
        if token in "ˈˌ":
            stress = "1" if token == "ˈ" else "2"
        elif token in _IPA:
            for phone in _IPA[token].split():
                if f"{phone}1" in PHONE_TO_ID:  # a vowel takes the pending stress
                    phone, stress = phone + stress, "0"
                phones.append(phone)
        elif token not in _IGNORED_IPA:
            raise InputError(f"SSML <phoneme alphabet=\"ipa\" ph={ph!r}>: no English phone for {token!r}")
    if phones and not any(p in _VOWELS for p in phones):
        raise InputError(f"SSML <phoneme ph={ph!r}>: no vowel")
    if not any(p[-1] in "12" for p in phones):  # one stress per word: the first vowel
        first = next(i for i, p in enumerate(phones) if p in _VOWELS)
        phones[first] = phones[first][:-1] + "1"
    return phones


def _phonemes(attrib: dict[str, str]) -> str:
    ph, alphabet = attrib.get("ph", ""), attrib.get("alphabet", "ipa").lower()
    if alphabet in ("arpabet", "x-arpabet", "cmu"):
        phones = ph.split()
        unknown = [p for p in phones if p not in PHONE_TO_ID]
        if not phones or unknown:
            raise InputError(f"SSML <phoneme ph={ph!r}>: unknown ARPAbet phones {unknown}; use CMUdict's, "
                             "with stress on vowels, e.g. ph=\"HH AH0 L OW1\"")
    elif alphabet == "ipa":
        phones = _ipa_to_arpabet(ph)
    else:
        raise _bad("phoneme", "alphabet", alphabet, '"arpabet" or "ipa"')
    return "{" + " ".join(phones) + "}"


# --- the walk ------------------------------------------------------------------------------------


def _name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


class _Reader:
    """Collects spans in document order, starting a new sentence where the document says so."""

    def __init__(self) -> None:
        self.sentences: list[list[Span]] = [[]]

    def end_sentence(self) -> None:
        if self.sentences[-1]:
            self.sentences.append([])

    def add(self, span: Span) -> None:
        spans = self.sentences[-1]
        last = spans[-1] if spans else None
        if last is not None and not last.phonemes and not span.phonemes and not last.break_ms and last.prosody == span.prosody:
            spans[-1] = replace(last, text=last.text + span.text, break_ms=span.break_ms)  # one run of text
        else:
            spans.append(span)

    def text(self, text: str | None, prosody: Prosody) -> None:
        """Plain text, split at the sentence ends inside it."""
        if not text or not text.strip():
            if text and self.sentences[-1]:
                self.add(Span(" ", prosody=prosody))
            return
        pieces = split_sentences(text, max_chars=len(text) + 1)
        for i, piece in enumerate(pieces):
            lead = " " if i == 0 and text[:1].isspace() else ""
            trail = " " if i == len(pieces) - 1 and text[-1:].isspace() else ""
            self.add(Span(lead + piece + trail, prosody=prosody))
            if i < len(pieces) - 1:
                self.end_sentence()

    def pause(self, ms: int, prosody: Prosody) -> None:
        spans = self.sentences[-1]
        if spans:
            spans[-1] = replace(spans[-1], break_ms=spans[-1].break_ms + ms)
        else:
            spans.append(Span("", prosody=prosody, break_ms=ms))

    def walk(self, element: Element, prosody: Prosody, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise InputError(f"SSML nests elements more than {MAX_DEPTH} deep; flatten the document")
        name = _name(element)
        attrib = element.attrib
        if name in ("p", "s", "paragraph", "sentence"):
            self.end_sentence()
        if name == "break":
            self.pause(_break_ms(attrib), prosody)
        elif name == "say-as":
            self.add(Span(_say_as("".join(element.itertext()), attrib), prosody=prosody))
        elif name == "sub":
            self.add(Span(attrib.get("alias", "".join(element.itertext())), prosody=prosody))
        elif name == "phoneme":
            self.add(Span("".join(element.itertext()), phonemes=_phonemes(attrib), prosody=prosody))
        else:
            if name == "prosody":
                prosody = _prosody(prosody, attrib)
            elif name == "emphasis":
                level = attrib.get("level", "moderate")
                if level not in _EMPHASIS:
                    raise _bad("emphasis", "level", level, " | ".join(_EMPHASIS))
                rate, st = _EMPHASIS[level]
                prosody = replace(prosody, rate=prosody.rate * rate, pitch_semitones=prosody.pitch_semitones + st)
            if name != "mark":
                self.text(element.text, prosody)
                for child in element:
                    self.walk(child, prosody, depth + 1)
                    self.text(child.tail, prosody)
        if name in ("p", "s", "paragraph", "sentence"):
            self.end_sentence()


def parse(text: str) -> list[list[Span]]:
    """Sentences of spans of an SSML document (see the module docstring); InputError when the
    document is malformed, uses a DTD or entities, or holds a value out of range."""
    if len(text) > MAX_CHARS:
        raise InputError(f"SSML document of {len(text):,} characters; at most {MAX_CHARS:,}: split it")
    try:
        root = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as e:
        raise InputError(f"SSML refused: {type(e).__name__} (DTDs, entities and external references are not "
                         "allowed); remove the <!DOCTYPE>") from None
    except ParseError as e:
        line, column = e.position
        reason = str(e).split(":")[0]
        raise InputError(f"malformed SSML at line {line}, column {column + 1}: {reason}") from None
    if _name(root) != "speak":
        raise InputError(f"SSML must have <speak> as its root element, not <{_name(root)}>")
    reader = _Reader()
    reader.walk(root, Prosody(), 0)
    return [spans for spans in map(_trim, reader.sentences) if spans]


def _trim(spans: list[Span]) -> list[Span]:
    """`spans` without the blank ones at either end; a blank span inside separates two words."""
    said = [i for i, s in enumerate(spans) if s.text.strip() or s.phonemes or s.break_ms]
    return spans[said[0] : said[-1] + 1] if said else []
