"""Sentence splitting of raw text: split where a reader would stop, never inside abbreviations,
initials, decimals or quotes, and cut overlong sentences to a bounded length."""
import time

import pytest

from jaxtts.errors import InputError
from jaxtts.text import split_sentences


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("Hello world. How are you? Fine!", ["Hello world.", "How are you?", "Fine!"]),
        ("Dr. Smith met Mr. Jones on St. Mark's Place. They talked.",
         ["Dr. Smith met Mr. Jones on St. Mark's Place.", "They talked."]),
        ("Bring fruit, e.g. Apples, i.e. Red ones. Then go.", ["Bring fruit, e.g. Apples, i.e. Red ones.", "Then go."]),
        ("Pi is 3.14. It never ends.", ["Pi is 3.14.", "It never ends."]),
        ("J. R. R. Tolkien wrote it. It sold.", ["J. R. R. Tolkien wrote it.", "It sold."]),
        ("The U.S. Army came. They left.", ["The U.S. Army came.", "They left."]),
        ("Wait... what?! I waited... Then he came.", ["Wait... what?!", "I waited...", "Then he came."]),
        ('He said "Stop." She left.', ['He said "Stop."', "She left."]),
        ("(She said: 'No.') Really?", ["(She said: 'No.')", "Really?"]),
        ("He said &quot;Stop.&quot; She left.", ["He said &quot;Stop.&quot;", "She left."]),  # closer as a reference
        ("&ldquo;Why?&rdquo; he asked.", ["&ldquo;Why?&rdquo; he asked."]),
        ('"Why?" he asked.', ['"Why?" he asked.']),
        ("See No. 7 here. I said no. Then left.", ["See No. 7 here.", "I said no.", "Then left."]),
        ("It costs $3.50. Buy it.", ["It costs $3.50.", "Buy it."]),
        ("Go to x.com. Then stop.", ["Go to x.com.", "Then stop."]),
        ("Title without a stop\n\nNext paragraph", ["Title without a stop", "Next paragraph"]),
        ("one line\nwrapped here.", ["one line\nwrapped here."]),
        ("She said hi.<br>Next <b>line</b>.", ["She said hi.", "Next line."]),
        ("<ul><li>Milk</li><li>Eggs</li></ul>Then <break/> go", ["Milk", "Eggs", "Then", "go"]),  # block tags end one
        ("Buy:\n• Milk\n• Eggs and\nbread", ["Buy:", "• Milk", "• Eggs and\nbread"]),  # a bulleted line is an item
        ("  ", []),
    ],
)  # fmt: skip
def test_splits_where_a_reader_stops(text, sentences):
    assert split_sentences(text) == sentences


def test_long_sentences_are_cut_at_clause_marks_then_spaces():
    text = "alpha beta gamma, delta epsilon zeta eta theta iota kappa lambda mu"
    pieces = split_sentences(text, max_chars=30)
    assert pieces == ["alpha beta gamma,", "delta epsilon zeta eta theta", "iota kappa lambda mu"]
    assert split_sentences("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("max_chars", [1, 7, 50, 300])
def test_every_piece_respects_the_bound_and_no_text_is_lost(max_chars):
    text = ("Some words, then more words; and a very long run " * 40 + "end.") * 3
    pieces = split_sentences(text, max_chars=max_chars)
    assert all(0 < len(p) <= max_chars for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_bound_must_be_positive():
    with pytest.raises(InputError):
        split_sentences("text", max_chars=0)


@pytest.mark.parametrize("unit", ["a", ". ", ".", "a. ", "A. b ", "Dr. ", "x, "])
def test_linear_time_on_a_megabyte(unit):
    text = unit * (1_000_000 // len(unit))
    start = time.process_time()
    split_sentences(text)
    assert time.process_time() - start < 2.0


def test_every_title_and_rank_in_the_shared_tables_keeps_its_name():
    assert split_sentences("He shot at Maj. Gen. Edwin A. Walker. He missed.") == [
        "He shot at Maj. Gen. Edwin A. Walker.",
        "He missed.",
    ]
    assert split_sentences("Ask Fr. Brown. Then Pvt. Ryan.") == ["Ask Fr. Brown.", "Then Pvt. Ryan."]
