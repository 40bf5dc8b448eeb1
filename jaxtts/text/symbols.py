"""The published `english_basic` symbol table: 148 symbols whose positions are the model's input ids.

The order is fixed by NVIDIA's trained embedding tables, so it is spelled out here rather than
derived from an installed package. `@`-prefixed entries are ARPAbet phones (some are also letters).
"""
from __future__ import annotations

from collections.abc import Iterable

PAD = "_"
PUNCTUATION = "!'(),.:;? "  # ids 2..11; space is 11
ARPABET = tuple(
    "AA AA0 AA1 AA2 AE AE0 AE1 AE2 AH AH0 AH1 AH2 AO AO0 AO1 AO2 AW AW0 AW1 AW2 AY AY0 AY1 AY2 "
    "B CH D DH EH EH0 EH1 EH2 ER ER0 ER1 ER2 EY EY0 EY1 EY2 F G HH IH IH0 IH1 IH2 IY IY0 IY1 IY2 "
    "JH K L M N NG OW OW0 OW1 OW2 OY OY0 OY1 OY2 P R S SH T TH UH UH0 UH1 UH2 UW UW0 UW1 UW2 "
    "V W Y Z ZH".split()
)  # cmudict's valid_symbols order
SYMBOLS: tuple[str, ...] = (
    PAD,
    "-",
    *PUNCTUATION,
    *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    *"abcdefghijklmnopqrstuvwxyz",
    *("@" + phone for phone in ARPABET),
)
# NVIDIA's other English table (DeepLearningExamples' `--symbol-set`, stored in a checkpoint's
# train_setup): lowercase letters only, and '"' among the punctuation, so every id from the space on
# differs from english_basic's. Its models get english_basic ids mapped by symbol name.
SYMBOL_SETS: dict[str, tuple[str, ...]] = {
    "english_basic": SYMBOLS,
    "english_basic_lowercase": (PAD, "-", *"!'\"(),.:;? ", *"abcdefghijklmnopqrstuvwxyz", *("@" + p for p in ARPABET)),
}
SYMBOL_TO_ID: dict[str, int] = {symbol: i for i, symbol in enumerate(SYMBOLS)}
PHONE_TO_ID: dict[str, int] = {phone: SYMBOL_TO_ID["@" + phone] for phone in ARPABET}
SPACE_ID = SYMBOL_TO_ID[" "]


def decode(ids: Iterable[int]) -> str:
    """Ids as NVIDIA's debug text: characters as themselves, each run of phones as `{HH AH0 L OW1}`."""
    out: list[str] = []
    phones: list[str] = []
    for i in ids:
        symbol = SYMBOLS[i]
        if symbol[0] == "@":
            phones.append(symbol[1:])
            continue
        if phones:
            out.append("{" + " ".join(phones) + "}")
            phones.clear()
        out.append(symbol)
    if phones:
        out.append("{" + " ".join(phones) + "}")
    return "".join(out)
