"""SSML drives the engine: each element's effect on the ids, the per-token controls and the audio,
with the small random-weight models of test_engine (a token lasts a few frames)."""
import time

import numpy as np
import pytest
from test_engine import BUCKETS, small_models

from jaxtts import engine
from jaxtts.errors import InputError, TextError


@pytest.fixture(scope="module")
def synth():
    return engine.Synthesizer(*small_models(), **BUCKETS, compilation_cache=False)


def rows(synth, doc):
    return list(synth._utterances(doc, None))


def only(synth, doc):
    (row,) = rows(synth, doc)
    return row


def samples(synth, ms):
    return round(ms * synth.sample_rate / 1000)


# --- reading ---------------------------------------------------------------------------------------


def test_a_document_of_plain_sentences_sounds_like_its_text(synth):
    text = "The quick brown fox jumps. Was it worth it? The end."
    doc = f"<speak>{text}</speak>"
    assert [r.ids for r in rows(synth, doc)] == list(synth._sentence_ids(text))
    np.testing.assert_allclose(synth.synthesize(doc), synth.synthesize(text), atol=1e-5, rtol=0)
    assert len(synth.synthesize(doc)) == len(synth.synthesize(text))


def test_speak_documents_are_detected_and_the_argument_forces_either_reading(synth):
    doc = '<speak>Hi <break time="1s"/>there.</speak>'
    read = synth.synthesize(doc)
    assert len(read) == len(synth.synthesize(doc, ssml=True))
    stripped = synth.synthesize(doc, ssml=False)  # plain text: tags dropped, a <break/> only ends a sentence
    assert len(read) - len(stripped) == samples(synth, 1000) - len(synth.silence)
    with pytest.raises(InputError, match="<speak>"):
        synth.synthesize("<p>Hi</p>", ssml=True)


def test_paragraphs_and_sentences_are_separate_rows_with_the_pause_between(synth):
    doc = "<speak><p><s>One cat</s><s>Two dogs</s></p><p>Three birds</p></speak>"
    got = rows(synth, doc)
    assert [r.ids for r in got] == [synth.text.encode(t) for t in ("One cat", "Two dogs", "Three birds")]
    assert [r.before for r in got] == [0, len(synth.silence), len(synth.silence)]


@pytest.mark.parametrize("element, text", [
    ('<say-as interpret-as="characters">abc</say-as>', "A B C"),
    ('<say-as interpret-as="spell-out">NASA</say-as>', "N A S A"),
    ('<say-as interpret-as="cardinal">1204</say-as>', "one thousand two hundred four"),
    ('<say-as interpret-as="ordinal">3</say-as>', "third"),
    ('<say-as interpret-as="digits">1204</say-as>', "one two zero four"),
    ('<say-as interpret-as="date" format="dmy">5.1.2024</say-as>', "the fifth of January twenty twenty four"),
    ('<say-as interpret-as="telephone">555-0199</say-as>', "five five five, zero one nine nine"),
    ('<say-as interpret-as="time">7:30pm</say-as>', "7:30pm"),
    ('<sub alias="World Wide Web">WWW</sub>', "World Wide Web"),
    ('<phoneme alphabet="arpabet" ph="T AH0 M EY1 T OW2">tomato</phoneme>', "{T AH0 M EY1 T OW2}"),
    ('<phoneme alphabet="ipa" ph="ˈhɛloʊ">hello</phoneme>', "{HH EH1 L OW0}"),
])
def test_elements_that_say_words_give_the_ids_of_those_words(synth, element, text):
    assert only(synth, f"<speak>Say {element} now.</speak>").ids == synth.text.encode(f"Say {text} now.")


def test_whitespace_between_elements_still_separates_words(synth):
    doc = '<speak><prosody rate="slow">big</prosody> <emphasis>dog</emphasis>.</speak>'
    assert only(synth, doc).ids == synth.text.encode("big dog.")


# --- <break> ---------------------------------------------------------------------------------------


def test_a_break_inserts_exactly_its_silence(synth):
    """"Wait<break time="700ms"/>now." is "Wait", 700 ms of zeros, then "now."."""
    wait, now = synth.synthesize("<speak>Wait</speak>"), synth.synthesize("<speak>now.</speak>")
    audio = synth.synthesize('<speak>Wait<break time="700ms"/>now.</speak>')
    gap = samples(synth, 700)
    assert len(audio) == len(wait) + gap + len(now)
    assert not audio[len(wait) : len(wait) + gap].any()
    np.testing.assert_allclose(audio[: len(wait)], wait, atol=1e-5, rtol=0)
    np.testing.assert_allclose(audio[len(wait) + gap :], now, atol=1e-5, rtol=0)


def test_break_strengths_breaks_between_sentences_and_at_the_ends(synth):
    got = rows(synth, '<speak><break time="250ms"/><s>One</s><break strength="strong"/><break time="100ms"/>'
                      '<s>Two</s><s>Three</s><break time="2s"/></speak>')
    assert [r.before for r in got] == [samples(synth, 250), samples(synth, 850), len(synth.silence)]
    assert [r.after for r in got] == [0, 0, samples(synth, 2000)]
    assert len(synth.synthesize('<speak>One<break time="2s"/></speak>')) == (
        len(synth.synthesize("<speak>One</speak>")) + samples(synth, 2000))


def test_a_document_of_breaks_only_has_nothing_to_speak(synth):
    with pytest.raises(TextError):
        synth.synthesize('<speak><break time="1s"/></speak>')


# --- <prosody> and <emphasis> ------------------------------------------------------------------------


def _span(synth, doc, word):
    """The row of `doc` and a mask of the tokens its `word` gave (found by its ids)."""
    row = only(synth, doc)
    ids = synth.text.encode(word)
    start = next(i for i in range(len(row.ids)) if row.ids[i : i + len(ids)] == ids)
    return row, (np.arange(len(row.ids)) >= start) & (np.arange(len(row.ids)) < start + len(ids))


def test_a_slow_span_lasts_longer_and_the_rest_keeps_its_durations(synth):
    row, span = _span(synth, '<speak>The quick <prosody rate="slow">brown</prosody> fox jumps.</speak>', "brown")
    assert row.ids == synth.text.encode("The quick brown fox jumps.")
    np.testing.assert_array_equal(row.rate, np.where(span, 0.75, 1.0))
    model = synth.fastpitch
    slow = np.asarray(model.infer(np.array([row.ids]), pace=row.rate[None]).durations)[0]
    plain = np.asarray(model.infer(np.array([row.ids])).durations)[0]
    np.testing.assert_array_equal(slow[~span], plain[~span])
    assert (slow[span] >= plain[span]).all() and slow[span].sum() > plain[span].sum()
    # the engine speaks those durations: one row, no silence, so its audio is exactly them
    audio = synth.synthesize('<speak>The quick <prosody rate="slow">brown</prosody> fox jumps.</speak>')
    assert len(audio) == slow.sum() * synth.hop
    assert len(synth.synthesize("The quick brown fox jumps.")) == plain.sum() * synth.hop


def test_rates_compose_with_the_pace_of_the_call(synth):
    doc = '<speak>The quick <prosody rate="x-slow">brown</prosody> fox.</speak>'
    row = only(synth, doc)
    durations = np.asarray(synth.fastpitch.infer(np.array([row.ids]), pace=2.0 * row.rate[None]).durations)[0]
    assert len(synth.synthesize(doc, pace=2.0)) == durations.sum() * synth.hop
    with pytest.raises(InputError, match="SSML prosody makes the pace"):
        synth.synthesize('<speak><prosody rate="5%">Too slow.</prosody></speak>')


@pytest.mark.parametrize("attributes, hz", [
    ('pitch="+2st"', 214.7 * (2 ** (2 / 12) - 1)),
    ('pitch="-20Hz"', -20.0),
    ('pitch="+10%"', 214.7 * 0.1),
    ('pitch="high" rate="fast"', 214.7 * (2 ** (3 / 12) - 1)),
])
def test_pitch_changes_the_span_by_hz_at_the_speakers_mean(synth, attributes, hz):
    row, span = _span(synth, f"<speak>The quick <prosody {attributes}>brown</prosody> fox.</speak>", "brown")
    np.testing.assert_allclose(row.pitch_hz, np.where(span, hz, 0.0), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("level, rate, semitones", [
    ("strong", 0.85, 2.0), ("moderate", 0.92, 1.0), ("reduced", 1.1, -1.0), ("none", 1.0, 0.0)])
def test_emphasis_is_a_slower_higher_span(synth, level, rate, semitones):
    row, span = _span(synth, f'<speak>The quick <emphasis level="{level}">brown</emphasis> fox.</speak>', "brown")
    np.testing.assert_allclose(row.rate, np.where(span, rate, 1.0))
    np.testing.assert_allclose(row.pitch_hz, np.where(span, 214.7 * (2 ** (semitones / 12) - 1), 0.0), rtol=1e-5)


def test_volume_scales_only_the_frames_of_its_span(synth):
    """The audio of a span at -6 dB (silent) is the plain audio times 0.5 (0) over its frames, ramping
    over one hop at its edges; the rest is untouched."""
    plain = synth.synthesize("<speak>The quick brown fox.</speak>")
    row, span = _span(synth, '<speak>The quick <prosody volume="-6dB">brown</prosody> fox.</speak>', "brown")
    durations = np.asarray(synth.fastpitch.infer(np.array([row.ids])).durations)[0]
    ends = np.cumsum(durations) * synth.hop
    first, last = int(np.argmax(span)), len(span) - 1 - int(np.argmax(span[::-1]))
    start, stop = (ends[first - 1] if first else 0), ends[last]
    for volume, gain in (("-6dB", 10 ** (-6 / 20)), ("silent", 0.0)):
        audio = synth.synthesize(f'<speak>The quick <prosody volume="{volume}">brown</prosody> fox.</speak>')
        inside = slice(start + synth.hop, stop - synth.hop)
        outside = np.r_[: start - synth.hop, stop + synth.hop : len(plain)]
        np.testing.assert_allclose(audio[inside], plain[inside] * gain, atol=1e-6, rtol=1e-5)
        np.testing.assert_array_equal(audio[outside], plain[outside])


def test_batches_and_directories_read_ssml_as_one_text_does(synth, tmp_path):
    docs = ['<speak>One <prosody rate="slow" volume="-6dB">two</prosody>.<break time="300ms"/>Three.</speak>',
            "Plain text. Two sentences.", '<speak><s>Four</s><s><emphasis>five</emphasis></s></speak>']
    for doc, audio in zip(docs, synth.synthesize_batch(docs)):
        alone = synth.synthesize(doc)
        assert len(audio) == len(alone)
        np.testing.assert_allclose(audio, alone, atol=1e-5, rtol=0)
    assert synth.synthesize_to_dir(docs, tmp_path).written == 3


# --- compilations and hostile documents -------------------------------------------------------------


def test_no_prosody_value_compiles_a_program(synth):
    synth.synthesize('<speak>Warm <prosody rate="slow" pitch="+1st" volume="-3dB">up</prosody>.</speak>')
    compiled = synth.compile_count
    for rate, pitch in (("x-fast", "-4st"), ("63%", "+35Hz"), ("x-slow", "x-high"), ("1.3", "-10%")):
        synth.synthesize(f'<speak>Warm <prosody rate="{rate}" pitch="{pitch}">up</prosody> <emphasis>now</emphasis>.'
                         '</speak>')
    assert synth.compile_count == compiled


_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
           + "]><speak>&lol9;</speak>")
_EXTERNAL = '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>'


@pytest.mark.parametrize("doc", [_LAUGHS, _EXTERNAL], ids=["billion laughs", "external entity"])
def test_entity_attacks_are_refused_at_the_call(synth, doc):
    start = time.process_time()
    with pytest.raises(InputError, match="DTD"):
        synth.stream(doc)
    assert time.process_time() - start < 0.5


def test_malformed_ssml_is_one_error_naming_line_and_column(synth):
    with pytest.raises(InputError, match="line 2, column"):
        synth.stream("<speak>\n  <s>Hi</p></speak>")
