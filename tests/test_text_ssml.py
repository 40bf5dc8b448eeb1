"""SSML parsing (text only): each element's effect on the spans the engine will read, and hostile
or malformed documents refused with one clear error."""
import math
import time

import pytest

from jaxtts.errors import InputError
from jaxtts.text import to_ids
from jaxtts.text.ssml import Prosody, Span, is_ssml, parse


def _spans(doc: str) -> list[Span]:
    return [span for sentence in parse(doc) for span in sentence]


def test_speak_detection():
    assert is_ssml('  <speak>Hi</speak>') and is_ssml('<?xml version="1.0"?>\n<speak version="1.1">Hi</speak>')
    assert not is_ssml("<speaker>Hi</speaker>") and not is_ssml("speak <b>up</b>")
    # a DTD before <speak> is still SSML, so that parse refuses it instead of the text being read aloud
    assert is_ssml('<!DOCTYPE speak [<!ENTITY a "b">]><speak>&a;</speak>') and not is_ssml("<!DOCTYPE html><p>Hi</p>")


@pytest.mark.parametrize(
    "attribute, ms",
    [('time="500ms"', 500), ('time="1.5s"', 1500), ('strength="strong"', 750), ("", 400)],
)
def test_break_is_the_silence_after_the_span_before_it(attribute, ms):
    spans = _spans(f"<speak>Wait<break {attribute}/> now.</speak>")
    assert spans[0] == Span("Wait", break_ms=ms) and spans[-1].text.strip() == "now."


def test_a_break_of_strength_none_is_no_pause():
    assert _spans('<speak>Wait<break strength="none"/> now.</speak>') == [Span("Wait now.")]


def test_a_break_before_any_text_is_an_empty_span():
    assert parse('<speak><break time="700ms"/>Go.</speak>') == [[Span("", break_ms=700), Span("Go.")]]


def test_paragraphs_and_sentences_are_sentences():
    doc = "<speak><p><s>One</s><s>Two</s></p><p>Three. Four.</p></speak>"
    assert [[s.text.strip() for s in sentence] for sentence in parse(doc)] == [["One"], ["Two"], ["Three."], ["Four."]]


@pytest.mark.parametrize(
    "kind, text, spoken",
    [
        ('interpret-as="characters"', "abc1", "A B C one"),
        ('interpret-as="spell-out"', "NASA", "N A S A"),
        ('interpret-as="cardinal"', "1,204", "one thousand two hundred four"),
        ('interpret-as="ordinal"', "3", "third"),
        ('interpret-as="digits"', "1204", "one two zero four"),
        ('interpret-as="date" format="mdy"', "01/05/2024", "January fifth twenty twenty four"),
        ('interpret-as="date" format="dmy"', "5.1.2024", "the fifth of January twenty twenty four"),
        ('interpret-as="telephone"', "555-0199", "five five five, zero one nine nine"),
        ('interpret-as="time"', "7:30pm", "7:30pm"),  # no format: left to the normalizer's time rule
        ('interpret-as="time" format="hms12"', "14:30", "two thirty P M"),
        ('interpret-as="time" format="hms12"', "0:05", "twelve o five A M"),
        ('interpret-as="time" format="hms24"', "2:30 p.m.", "fourteen thirty"),
        ('interpret-as="time" format="hms24"', "1400", "fourteen hundred"),
        ('interpret-as="time" format="hms24"', "09:15:01", "nine fifteen and one second"),
        ('interpret-as="time" format="hms24"', "25:00", "25:00"),  # no time: the normalizer reads it as written
    ],
)
def test_say_as(kind, text, spoken):
    assert _spans(f"<speak><say-as {kind}>{text}</say-as></speak>") == [Span(spoken)]


def test_sub_reads_its_alias():
    assert _spans('<speak><sub alias="World Wide Web">WWW</sub></speak>') == [Span("World Wide Web")]


def test_phoneme_in_arpabet_and_ipa_gives_phones_the_encoder_passes_through():
    arpabet, ipa = _spans(
        '<speak><phoneme alphabet="arpabet" ph="T AH0 M EY1 T OW2">tomato</phoneme>'
        '<phoneme alphabet="ipa" ph="ˈhɛloʊ">hello</phoneme></speak>'
    )
    assert (arpabet.text, arpabet.phonemes) == ("tomato", "{T AH0 M EY1 T OW2}")
    assert ipa.phonemes == "{HH EH1 L OW0}"
    assert to_ids(ipa.phonemes) == to_ids("{HH EH1 L OW0}")


@pytest.mark.parametrize("ph, alphabet", [("T AH0 Q", "arpabet"), ("ʘa", "ipa"), ("x", "klingon")])
def test_phones_nobody_can_say_are_named(ph, alphabet):
    with pytest.raises(InputError, match="phoneme"):
        parse(f'<speak><phoneme alphabet="{alphabet}" ph="{ph}">x</phoneme></speak>')


@pytest.mark.parametrize(
    "attributes, prosody",
    [
        ('rate="slow"', Prosody(rate=0.75)),
        ('rate="80%"', Prosody(rate=0.8)),
        ('rate="+25%"', Prosody(rate=1.25)),
        ('pitch="+2st"', Prosody(pitch_semitones=2.0)),
        ('pitch="-20Hz"', Prosody(pitch_hz=-20.0)),
        ('pitch="x-high"', Prosody(pitch_semitones=6.0)),
        ('volume="+6dB"', Prosody(volume_db=6.0)),
        ('volume="silent"', Prosody(volume_db=-math.inf)),
    ],
)
def test_prosody_values(attributes, prosody):
    assert _spans(f"<speak>a <prosody {attributes}>b</prosody> c</speak>")[1] == Span("b", prosody=prosody)


def test_nested_prosody_composes_and_only_covers_its_span():
    before, inner, after = _spans(
        '<speak>Now <prosody rate="x-slow" pitch="+100%">very <emphasis level="strong">big</emphasis></prosody> news</speak>'
    )[:3]
    assert before == Span("Now ") and inner.prosody == Prosody(rate=0.5, pitch_semitones=12.0)
    assert after.prosody == Prosody(rate=0.5 * 0.85, pitch_semitones=14.0)
    assert _spans('<speak>Now <prosody rate="slow">x</prosody> news</speak>')[-1] == Span(" news")


@pytest.mark.parametrize(
    "doc, message",
    [
        ("<speak>Hi <b>there</speak>", "line 1, column 21"),  # columns count from 1
        ("<speak>\n  <break/>\n  <s>open\n</speak>", "line 4, column 3"),
        ("<speak>&nbsp;</speak>", "undefined entity"),
        ("<p>Hi</p>", "<speak>"),
        ('<speak><break time="fast"/></speak>', "duration"),
        ('<speak><break time="60s"/></speak>', "at most"),
        ('<speak><prosody rate="-50">x</prosody></speak>', "rate"),
        ('<speak><prosody pitch="200Hz">x</prosody></speak>', "pitch"),
        ("<speak>" + "<s>" * 100 + "x" + "</s>" * 100 + "</speak>", "deep"),
    ],
)
def test_malformed_or_out_of_range_ssml_is_one_clear_error(doc, message):
    with pytest.raises(InputError, match=message):
        parse(doc)


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + "]><speak>&lol9;</speak>"
)
_EXTERNAL = '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>'


@pytest.mark.parametrize("doc", [_LAUGHS, _EXTERNAL], ids=["billion laughs", "external entity"])
def test_entity_attacks_are_refused_before_anything_is_expanded(doc):
    start = time.process_time()
    with pytest.raises(InputError, match="DTD"):
        parse(doc)
    assert time.process_time() - start < 0.5
