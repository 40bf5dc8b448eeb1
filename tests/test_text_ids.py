"""Text -> ids: the published symbol table, agreement with NVIDIA where both read a word alike,
and the reading policies where we deliberately differ (see jaxtts/text/g2p.py)."""
import json
import re

import pytest

from jaxtts.errors import InputError, TextError
from jaxtts.text import SYMBOLS, cmudict, g2p, to_ids, to_phonemes
from jaxtts.text.symbols import ARPABET, SYMBOL_TO_ID, decode


def phonemes(normalized: str) -> str:
    """g2p alone, on text as the normalizer writes it."""
    return decode(g2p.encode(normalized))


@pytest.fixture(scope="module")
def manifest(golden):
    return json.loads((golden / "reference_manifest.json").read_text())


def nvidia_ids(arpabet_text: str) -> list[int]:
    """NVIDIA's text_to_sequence: `{...}` groups are @-phones, other characters map one to one."""
    ids = []
    for group, chars in re.findall(r"\{([^}]*)\}|([^{]+)", arpabet_text):
        ids += [SYMBOL_TO_ID["@" + p] for p in group.split()] if group else [SYMBOL_TO_ID[c] for c in chars]
    return ids


# --- the id table -------------------------------------------------------------------------------


def test_symbol_table_is_english_basic():
    assert len(SYMBOLS) == 148 and len(ARPABET) == 84
    assert SYMBOLS[:12] == ("_", "-", "!", "'", "(", ")", ",", ".", ":", ";", "?", " ")
    assert SYMBOLS[12:38] == tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert SYMBOLS[38:64] == tuple("abcdefghijklmnopqrstuvwxyz")
    assert (SYMBOLS[64], SYMBOLS[65], SYMBOLS[147]) == ("@AA", "@AA0", "@ZH")
    assert ARPABET == tuple(sorted(ARPABET))  # cmudict's valid_symbols happen to be sorted


def test_symbol_table_reproduces_nvidia_ids(manifest):
    for entry in manifest["texts"]:
        ids = entry["ids_p_arpabet_1"]
        assert nvidia_ids(entry["arpabet_text"]) == ids
        assert decode(ids) == entry["decoded_p_arpabet_1"]
        letters = entry["ids_p_arpabet_0"]
        assert decode(letters) == "".join(c for c in entry["cleaned"] if c in SYMBOL_TO_ID)


# --- agreement with NVIDIA's reading ------------------------------------------------------------


def test_words_nvidia_reads_as_phonemes_read_the_same(manifest):
    """NVIDIA turns a word into phones only when CMUdict has exactly one pronunciation and it is no
    heteronym; for every such word in the manifest, our g2p gives the same ids."""
    compared = 0
    for entry in manifest["texts"]:
        cleaned = entry["cleaned"].split()
        converted = re.findall(r"(?:\{[^}]*\}|[^\s{])+", entry["arpabet_text"])
        assert len(cleaned) == len(converted)
        for word, theirs in zip(cleaned, converted):
            if re.fullmatch(r"[^A-Za-z{]*\{[^}]*\}[^A-Za-z{]*", theirs):
                assert g2p.encode(word) == nvidia_ids(theirs), word
                compared += 1
    assert compared >= 50


def test_unknown_words_stay_letters_like_nvidia(manifest):
    mixed = next(e for e in manifest["texts"] if e["name"] == "mixed")
    assert "vidia" in mixed["arpabet_text"]  # NVIDIA keeps the unknown "vidia" as letters
    assert g2p.encode("vidia") == [SYMBOL_TO_ID[c] for c in "vidia"]
    assert phonemes("xyzzyq and zorblat's") == "xyzzyq and zorblat's"


# NVIDIA's heteronym list (DeepLearningExamples cmudict/heteronyms) keeps these letters although
# CMUdict has one reading; we do not ship that list.
NVIDIA_HETERONYMS_WITH_ONE_READING = {"committee", "second"}


def test_words_read_exactly_as_nvidias_training_did(manifest):
    """On NVIDIA's own cleaned text every word gets NVIDIA's ids: phones for one pronunciation,
    letters for several or none; only words of NVIDIA's heteronym list differ."""
    differing, compared = set(), 0
    for entry in manifest["texts"]:
        cleaned = entry["cleaned"].split()
        converted = re.findall(r"(?:\{[^}]*\}|[^\s{])+", entry["arpabet_text"])
        for word, theirs in zip(cleaned, converted):
            if re.search("[a-z]", word):
                compared += 1
                if g2p.encode(word) != nvidia_ids(theirs):
                    differing.add(re.sub("[^a-z]", "", word))
    assert compared >= 100
    assert differing <= NVIDIA_HETERONYMS_WITH_ONE_READING


def test_spacing_and_punctuation_match_nvidia_layout():
    assert g2p.encode("hello world.") == nvidia_ids("hello {W ER1 L D}.")
    assert phonemes("wait... what?! (she said: 'no.') really -- yes!") == (
        "{W EY1 T}... what?! ({SH IY1} {S EH1 D}: '{N OW1}.') really -- {Y EH1 S}!"
    )
    assert phonemes("hello , world ( yes ) !") == "hello, {W ER1 L D} ({Y EH1 S})!"
    assert phonemes("forty-two well-known") == "{F AO1 R T IY0}-{T UW1} {W EH1 L N OW1 N}"


# --- our reading policies ------------------------------------------------------------------------


def test_several_pronunciations_stay_letters_as_trained():
    """The published model learned these from their spelling; CMUdict's citation forms would
    over-stress them ("for" F AO1 R)."""
    assert phonemes("hello a doctor for the owl") == "hello a doctor for the {AW1 L}"
    assert phonemes("an apple") == "an {AE1 P AH0 L}"


def test_a_model_trained_with_first_reads_ambiguous_words_by_cmudicts_first_pronunciation():
    """NVIDIA's handle_arpabet_ambiguous='first': every dictionary word becomes phones; context cues
    still pick a heteronym's reading, and without one it takes CMUdict's first."""
    first = lambda text: decode(g2p.encode(text, ambiguous="first"))  # noqa: E731
    assert first("hello a doctor for the owl") == (
        "{HH AH0 L OW1} {AH0} {D AA1 K T ER0} {F AO1 R} {DH AH0} {AW1 L}")
    assert [cmudict.lookup(w)[0] for w in ("hello", "a", "for", "the")] == ["HH AH0 L OW1", "AH0", "F AO1 R", "DH AH0"]
    assert first("they record it") == "{DH EY1} {R IH0 K AO1 R D} {IH1 T}"  # the cue wins
    assert first("record") == "{" + cmudict.lookup("record")[0] + "}"
    assert first("the prisoners' forks") == "{DH AH0} {P R IH1 Z AH0 N ER0 Z}' {F AO1 R K S}"
    assert first("zorbs") == "zorbs"  # unknown words are spelled either way
    assert phonemes("hello a doctor for the owl") == "hello a doctor for the {AW1 L}"  # the default is unchanged


@pytest.mark.parametrize("setup, message", [
    ({"handle_arpabet_ambiguous": "random"}, "no fixed reading"),
    ({"handle_arpabet_ambiguous": "first", "lexicon": {"dictionary": "A  AH0\n", "heteronyms": []}}, "own lexicon"),
])
def test_a_reading_of_ambiguous_words_that_cannot_be_followed_is_refused(setup, message):
    from jaxtts.errors import ConfigError
    from jaxtts.text.encoder import TextEncoder

    with pytest.raises(ConfigError, match=message):
        TextEncoder.from_dict(setup)


def test_the_reading_of_ambiguous_words_is_part_of_the_text_setup():
    from jaxtts.text.encoder import TextEncoder

    encoder = TextEncoder.from_dict(TextEncoder(handle_arpabet_ambiguous="first").to_dict())
    assert encoder.handle_arpabet_ambiguous == "first"
    assert decode(encoder.encode("For the record.")) == "{F AO1 R} {DH AH0} {R EH1 K ER0 D}."
    assert TextEncoder.from_dict({"p_arpabet": 1.0}).handle_arpabet_ambiguous == "ignore"  # older files


@pytest.mark.parametrize(
    "text, reading",
    [
        ("they record it", "R IH0 K AO1 R D"),
        ("the record", "R EH1 K ER0 D"),
        ("record the song", "R IH0 K AO1 R D"),
        ("a record", "R EH1 K ER0 D"),
        ("to present", "P R IY0 Z EH1 N T"),
        ("a present", "P R EH1 Z AH0 N T"),
        ("we use it", "Y UW1 Z"),
        ("no use", "Y UW1 S"),
        ("close the door", "K L OW1 Z"),
        ("a close friend", "K L OW1 S"),
        ("a separate room", "S EH1 P R AH0 T"),
        ("to separate", "S EH1 P ER0 EY2 T"),
        ("you should read books", "R IY1 D"),
        ("he read it", "R EH1 D"),
        ("it was read", "R EH1 D"),
        ("we live here", "L IH1 V"),
        ("it is live", "L AY1 V"),
        ("their lives", "L AY1 V Z"),
        ("the wound", "W UW1 N D"),
        ("wound up", "W AW1 N D"),
        ("a tear", "T IH1 R"),
        ("tear it up", "T EH1 R"),
        ("she lives here", "L IH1 V Z"),
        ("in tears", "T IH1 R Z"),
        ("the content", "K AA1 N T EH0 N T"),
        ("we were content", "K AH0 N T EH1 N T"),
    ],
)
def test_heteronyms_follow_cheap_context_cues(text, reading):
    assert "{" + reading + "}" in phonemes(text)


@pytest.mark.parametrize("text, word", [("record", "record"), ("i read books", "read"), ("lead", "lead")])
def test_heteronyms_without_a_cue_stay_letters_as_trained(text, word):
    assert f" {word} " in f" {phonemes(text)} "


def test_cues_do_not_cross_punctuation():
    assert phonemes("they record") == "{DH EY1} {R IH0 K AO1 R D}"
    assert phonemes("they. record") == "{DH EY1}. record"


@pytest.mark.parametrize(
    "word, reading",
    [
        ("podcasts", "P AO1 D K AE2 S T S"),  # voiceless end: S
        ("hashtags", "HH AE1 SH T AE2 G Z"),  # voiced end: Z
        ("box's", "B AA1 K S IH0 Z"),  # sibilant end: IH0 Z
        ("dish's", "D IH1 SH IH0 Z"),
        ("tweet's", "T W IY1 T S"),
        ("zorbs", None),  # stem unknown too: letters
    ],
)
def test_possessive_and_plural_fall_back_to_the_stem(word, reading):
    assert not cmudict.contains(word)
    assert phonemes(word) == ("{" + reading + "}" if reading else word)


def test_spelled_letters_are_read_by_name_with_dots_in_acronyms_as_trained():
    assert phonemes("the F B I") == "the {EH1 F}.{B IY1}.{AY1}."
    assert phonemes("A B C W Z") == "{EY1}.{B IY1}.{S IY1}.{D AH1 B AH0 L Y UW0}.{Z IY1}."
    assert phonemes("the F B I's files") == "the {EH1 F}.{B IY1}.{AY1 Z} {F AY1 L Z}"
    assert phonemes("the U S A, then the F B I.") == "the {Y UW1}.{EH1 S}.{EY1}., {DH EH1 N} the {EH1 F}.{B IY1}.{AY1}."
    assert phonemes("vitamin C is good") == "{V AY1 T AH0 M AH0 N} {S IY1} is good"  # one letter: no dot
    assert phonemes("a") == "a"  # the article, not the letter


def test_acronyms_get_nvidias_ids(manifest):
    """NVIDIA's cleaners wrote every acronym with dots ("G.P.U."); the model learned them so."""
    entry = next(e for e in manifest["texts"] if "GPU" in e["text"])
    gpu = nvidia_ids("{JH IY1}.{P IY1}.{Y UW1}. ")
    assert _holds(entry["ids_p_arpabet_1"], gpu) and _holds(to_ids("The GPU can run."), gpu)
    letters = nvidia_ids(" g.p.u. ")
    assert _holds(entry["ids_p_arpabet_0"], letters) and _holds(to_ids("The GPU can run.", arpabet=False), letters)


def _holds(ids: list[int], part: list[int]) -> bool:
    return any(ids[i : i + len(part)] == part for i in range(len(ids) - len(part) + 1))


# --- the public API, through the normalizer ------------------------------------------------------


def test_spelled_acronyms_vs_acronyms_read_as_words():
    assert "{EH1 F}.{B IY1}.{AY1}." in to_phonemes("The FBI arrived.")
    assert "{JH IY1}.{P IY1}.{Y UW1}." in to_phonemes("A GPU is fast.")
    assert "{N AE1 S AH0}" in to_phonemes("NASA launched it.")


def test_to_ids_of_plain_text():
    ids = to_ids("Hello world.")
    assert decode(ids) == "hello {W ER1 L D}."  # NVIDIA's ids for the same text
    assert all(0 < i < len(SYMBOLS) for i in ids)


@pytest.mark.parametrize("text", ["", "   \n\t", "😀🎉", "?!... ,;", "\u200b\u0301", "()[]{}"])
def test_nothing_speakable_raises_text_error(text):
    with pytest.raises(TextError, match="nothing speakable"):
        to_ids(text)


# ----------------------------------------------------------------------------------------------
# ARPAbet in braces, as NVIDIA's front-end accepts
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "phonemes"), [
    ("Say {T AH0 M EY1 T OW2} now.", "{S EY1} {T AH0 M EY1 T OW2} {N AW1}."),
    ("{HH AH0 L OW1}, {W ER1 L D}!", "{HH AH0 L OW1}, {W ER1 L D}!"),
    ("It costs $5 ({F AY1 V}).", "it costs {F AY1 V} dollars ({F AY1 V})."),
    ("Use {curly} braces", "use ({K ER1 L IY0}) braces"),  # not phones: plain text
    ("Press {Q} or {OK}.", "{P R EH1 S} ({K Y UW1}) or ({OW1}.{K EY1}.)."),
])
def test_braces_pass_arpabet_through(text, phonemes):
    assert to_phonemes(text) == phonemes


@pytest.mark.parametrize("text", ["Hello world.", "Dr. Smith paid $12.50 at 7:30 pm!", "Read it (twice), then stop."])
def test_phonemes_read_back_to_the_same_ids(text):
    assert to_ids(to_phonemes(text)) == to_ids(text)


def test_letters_only_for_checkpoints_trained_without_arpabet(manifest):
    """NVIDIA's p_arpabet=0 ids of its own cleaned text, exactly; braces still give phones."""
    for entry in manifest["texts"]:
        assert g2p.encode(entry["cleaned"], arpabet=False) == entry["ids_p_arpabet_0"]
    assert to_phonemes("Say {HH AY1} to the FBI.", arpabet=False) == "say {HH AY1} to the f.b.i."


def test_unknown_phone_in_braces_is_named():
    with pytest.raises(InputError, match=r"unknown ARPAbet phone AH9 in \{HH AH9 L OW1\}"):
        to_ids("Say {HH AH9 L OW1}.")
