"""Money: '$12.50', 'US$76.3 trillion', 'USD 100', '100 USD', '£10/wk', '$50-$100', '$5-10'."""
from __future__ import annotations

import re

from jaxtts.text import numbers as nums
from jaxtts.text._context import RANGE_DASH, pad
from jaxtts.text._tables import CURRENCIES, CURRENCY_CODES, CURRENCY_SYMBOLS, DOLLAR_PREFIXES, SCALES
from jaxtts.text._units import per_unit

Match = re.Match
Result = tuple[str, int]

_ISO_AFTER = re.compile(rf"\s(?P<iso>{'|'.join(CURRENCY_CODES)})(?!\w)")  # "100 USD"
_AMOUNT = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(?P<frac>\d+))?"
    r"(?:\s?(?P<scale>(?i:thousand|million|billion|trillion|bn|mn|tn|[kmbt]))(?![A-Za-z]))?"
    r"(?:/(?P<per>[A-Za-z]{1,5})(?![A-Za-z]))?"
)


def _amount_words(amount: Match, names: tuple[str, str, str, str]) -> Result:
    """An amount of money: '12.50' -> twelve dollars fifty cents, '2.5 million' -> two point five
    million dollars, '20.506' -> twenty point five zero six dollars, '/mo' -> per month."""
    one, many, minor_one, minor_many = names
    whole = (amount.group("int") or "").replace(",", "")
    frac = amount.group("frac") or ""
    scale, per = amount.group("scale"), amount.group("per")
    end = amount.end()
    per_name = per_unit(per)
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
    if (dash := RANGE_DASH.match(text, end)) is not None:
        if text[dash.end()] in CURRENCY_SYMBOLS:
            words, end = words + " to ", dash.end()
        else:
            second_words, end = _amount_words(_AMOUNT.match(text, dash.end()), names)
            whole, frac = (first.group("int") or "0").replace(",", ""), first.group("frac")
            words = f"{nums.decimal(whole, frac) if frac else nums.cardinal(whole)} to {second_words}"
    return pad(text, m.start(), end, words), end


def code_after(text: str, start: int, end: int) -> Result | None:
    """An amount followed by its ISO code: '100 USD' -> one hundred U S dollars."""
    if (iso := _ISO_AFTER.match(text, end)) is None or (amount := _AMOUNT.match(text, start)).end() != end:
        return None
    return _amount_words(amount, _currency_names(*CURRENCY_CODES[iso.group("iso")]))[0], iso.end()
