"""Properties of raw text -> ids over arbitrary input: the only failures are TextError (nothing
to speak) and InputError for a malformed {ARPAbet} group, ids are always valid model input, and
time is linear in the input's length."""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxtts.errors import InputError, TextError
from jaxtts.text import SYMBOLS, g2p, to_ids

SPACE = SYMBOLS.index(" ")

unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)  # all but lone surrogates
pieces = [*"aAzZ .,;:!?'\"-()[]{}$%&@#/0123456789\n\t", "é", "ß", "😀", "\u0301", "\u202e", "שלום", "Ⅻ", "the",
          "AH0", "HH", "OK", "Q1"]
textlike = st.lists(st.sampled_from([*pieces, "FBI"]), max_size=100).map("".join)  # dense in special cases


def check(text: str) -> None:
    try:
        ids = to_ids(text)
    except TextError:
        return
    except InputError:
        assert "{" in text  # only phone markup can be malformed
        return
    assert ids, "to_ids returned nothing instead of raising TextError"
    assert all(type(i) is int and 0 < i < len(SYMBOLS) for i in ids)  # never the pad id 0
    assert ids[0] != SPACE and ids[-1] != SPACE
    assert not any(a == b == SPACE for a, b in zip(ids, ids[1:]))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unicode_text)
def test_any_unicode_gives_valid_ids_or_text_error(text):
    check(text)


@settings(max_examples=400, deadline=None)
@given(textlike)
def test_text_like_input_gives_valid_ids_or_text_error(text):
    check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=200))
def test_g2p_accepts_any_string(text):
    assert all(0 < i < len(SYMBOLS) for i in g2p.encode(text))


PROSE = "The quick brown fox, 12 jumps; over 3.5 lazy dogs! "


@pytest.mark.parametrize("unit", [PROSE, "a", "1", "1,", "-", ". ", "$1.", "😀", "\u0301", "F.B.I. ", "a-"])
def test_a_megabyte_of_adversarial_text_takes_linear_time(unit):
    """Four times the text costs about four times the CPU (quadratic would be sixteen): a complexity
    bound that holds on a loaded machine too, where an absolute time limit does not."""
    def cost(n_bytes: int) -> float:
        text = unit * (n_bytes // len(unit))
        start = time.process_time()
        check(text)
        return time.process_time() - start

    small, large = cost(250_000), cost(1_000_000)
    assert large < 8 * max(small, 0.05) and large < 20.0, (small, large)
