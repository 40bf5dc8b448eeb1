"""Fold arbitrary Unicode to the ASCII the rules expect, in one `str.translate` pass.

Each distinct character is classified once (then cached in the translation table), so the cost
per character is a C-level dict lookup. Symbols with a spoken meaning (°, currency, ×, §) are kept
for the rules; emoji and other pictographs, controls and combining marks are dropped; letters lose
their accents (NFKD), other scripts are transliterated with `anyascii`, and vulgar fractions
become "1/2" with spaces around, so "2½" reads as a mixed number.

Letters of scripts that do not write every vowel are dropped instead: abjads (Hebrew, Arabic,
Syriac, Thaana) and the Brahmic abugidas (Devanagari ... Khmer) transliterate to consonant skeletons
("שלום" -> "slvm", "नमस्ते" -> "nmste") that an English reader can only spell letter by letter,
which is worse than silence. Their digits and punctuation are kept ("٣٤٥" -> "345").

Text from the web and from terminals is written with markup, character references and escape
sequences, which say how to show the text, not what it says: `strip_markup` (which also drops
what is never shown: the bodies of <script> and <style>, comments, terminal escapes) and
`decode_references` undo them before folding.
"""
from __future__ import annotations

import html
import re
import unicodedata

from anyascii import anyascii

from jaxtts.text._tables import MARKUP_BLOCK, MARKUP_INLINE

KEPT = "°§×÷±$£€¥₹₩₽¢"  # spoken by the rules, so they survive folding (none is a letter)

_SPECIAL = {
    **dict.fromkeys("‘’‚‛′ʼ`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–−", "-"),
    **dict.fromkeys("—―", " - "),
    "…": "...",
    "º": "°",  # a masculine ordinal mark after a number is nearly always a mistyped degree sign
    **dict.fromkeys("µμ", "u"),  # the micro sign: "µg" -> "ug", a unit the rules know
    "π": "pi",
    "≈": " approximately ",
    "≠": " not equal to ",
    "≤": " less than or equal to ",
    "≥": " greater than or equal to ",
    "∞": " infinity ",
    **dict.fromkeys("→⇒", " to "),  # "Paris → London"
    "‰": " per mille",
    "℃": "°C",
    "℉": "°F",
    "№": "No. ",
    **dict.fromkeys("ΩΩ", "ohm"),  # the ohm sign, and capital omega, which English text uses for it: "10 kΩ"
    **dict.fromkeys("⁄∕", "/"),
    "·": " ",
    "•": " ",
    "™": "",
    "®": "",
    "©": " copyright ",
    "¶": "",
    **{c: c for c in KEPT},
}
_DROPPED_CATEGORIES = frozenset(("Mn", "Me", "Cf", "Cs", "Co", "Cn", "So", "Sk", "Sm"))
# Scripts whose letters are dropped (see the module docstring), by the first word of the
# character's Unicode name.
_UNSPOKEN_SCRIPTS = frozenset(
    "HEBREW ARABIC SYRIAC THAANA NKO SAMARITAN MANDAIC DEVANAGARI BENGALI GURMUKHI GUJARATI ORIYA "
    "TAMIL TELUGU KANNADA MALAYALAM SINHALA THAI LAO TIBETAN MYANMAR KHMER".split()
)


def _fold_char(c: str) -> str:
    special = _SPECIAL.get(c)
    if special is not None:
        return special
    if c.isspace() or unicodedata.category(c) == "Cc":
        return " "
    category = unicodedata.category(c)
    if category in _DROPPED_CATEGORIES:
        return ""
    if category[0] in "LM" and unicodedata.name(c, "").partition(" ")[0] in _UNSPOKEN_SCRIPTS:
        return ""
    decomposed = unicodedata.normalize("NFKD", c)
    if "⁄" in decomposed:  # vulgar fractions: "2½" -> "2 1/2 "
        return " " + decomposed.replace("⁄", "/") + " "
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if stripped.isascii():
        return stripped
    return anyascii(stripped)


class _FoldTable(dict):
    """Code point -> replacement, filled on first sight of each character (up to a bound, so text
    made of a million distinct characters cannot grow it without limit)."""

    def __missing__(self, code: int) -> str | int:
        value: str | int = code if code < 128 else _fold_char(chr(code))
        if len(self) < 65536:
            self[code] = value
        return value


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """ASCII (plus the KEPT symbols) for any Unicode text; never raises."""
    return text.translate(_TABLE)


# Tag names are known HTML and SSML ones; attributes need a value, so "if a<b and b>c" is no tag.
_MARKUP = re.compile(
    r"<(/?)(" + "|".join(sorted(MARKUP_BLOCK | MARKUP_INLINE, key=len, reverse=True)) + r")"
    r"""((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=]+))*)\s*/?>""",
    re.IGNORECASE,
)
_LETTER_TAG = re.compile(r"<(/?)([A-Za-z])(?=[\s/>])")
_CHAR_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")  # with the ';' only


# Terminal escape sequences: CSI ("ESC[31m", colours and cursor moves), OSC ("ESC]0;title BEL",
# window titles and links), and the two-character ones ("ESC c", "ESC 7").
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_78=>c]?)|\x9b[0-?]*[ -/]*[@-~]?")
# Elements whose content is never shown, and comments; up to their end tag.
_HIDDEN = re.compile(r"<(?:(script|style)(?=[\s/>])[^<>]*>|!--)", re.IGNORECASE)
_HIDDEN_END = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
    "": re.compile("-->"),
}


def _drop_hidden(text: str) -> str:
    """Text without <script> and <style> bodies and <!-- comments -->. An element nobody closes is
    left to the tag rule ("the <script> tag" is prose), and once one kind has no end tag no later
    one can have it, so each kind is searched to the end at most once: linear time."""
    out = []
    pos = 0
    unclosed: set[str] = set()
    m = _HIDDEN.search(text)
    while m is not None:
        kind = (m.group(1) or "").lower()
        end = None if kind in unclosed else _HIDDEN_END[kind].search(text, m.end())
        if end is None:
            unclosed.add(kind)
            m = _HIDDEN.search(text, m.end())
            continue
        out += [text[pos : m.start()], " "]
        pos = end.end()
        m = _HIDDEN.search(text, pos)
    return "".join(out) + text[pos:] if out else text


def strip_markup(text: str) -> str:
    """Text without its HTML/SSML tags ("<b>here</b>"), hidden elements and comments, and terminal
    escape sequences ("ESC[31m"); a block tag ("<p>", "<li>", "<br>", SSML's "<break/>") leaves a
    blank line, which ends a sentence, so a reader pauses there.

    A one-letter tag without attributes is markup only when the text also closes it (or opens
    it): "Press <A> to jump" names a button.
    """
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPE.sub("", text)
    if "<" not in text:
        return text
    text = _drop_hidden(text)
    seen = {(slash, name.lower()) for slash, name in _LETTER_TAG.findall(text)}

    def replace(m: re.Match[str]) -> str:
        slash, name, attributes = m.group(1), m.group(2).lower(), m.group(3)
        if len(name) == 1 and not attributes and ("" if slash else "/", name) not in seen:
            return m.group()
        return "\n\n" if name in MARKUP_BLOCK else ""

    return _MARKUP.sub(replace, text)


def decode_references(text: str) -> str:
    """HTML character references decoded ("Tom &amp; Jerry"); only after `strip_markup`, since
    "&lt;b&gt;" is a written "<b>", not a tag."""
    if "&" not in text:
        return text
    return _CHAR_REF.sub(lambda m: html.unescape(m.group()), text)
