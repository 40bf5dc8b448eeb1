"""The teacher-corpus recipe: festival reads jaxtts-normalised transcripts into LJSpeech layout."""
import json
import shutil

import pytest
import soundfile

from jaxtts.errors import InputError
from jaxtts.recipes import voice_corpus
from jaxtts.text import normalize


def test_transcripts_are_read_as_jaxtts_normalises_them(tmp_path):
    path = tmp_path / "transcripts.txt"
    path.write_text("LJ1|Dr. Smith paid $5.\nLJ2|   \nLJ3|In 1469, he said \"no\".\n")
    sentences = voice_corpus.read_transcripts(path)
    assert [s.id for s in sentences] == ["LJ1", "LJ3"]  # a line with nothing to say is dropped
    assert sentences[0].normalized == "doctor Smith paid five dollars."
    assert sentences[1].normalized == " ".join(normalize('In 1469, he said "no".').split())
    assert [s.id for s in voice_corpus.read_transcripts(path, start=1, limit=1)] == ["LJ3"]
    path.write_text("no separator here\n")
    with pytest.raises(InputError, match=r"transcripts.txt:1: expected 'id\|text'"):
        voice_corpus.read_transcripts(path)


def test_quotes_and_backslashes_reach_festival_as_one_string():
    assert voice_corpus._scheme_string('say "a\\b"') == '"say \\"a\\\\b\\""'


def test_festival_labels_become_names_with_end_times(tmp_path):
    (tmp_path / "a.segs").write_text("separator ;\nnfields 1\n#\n0.1750 100 pau\n0.2600 100 p\n")
    assert voice_corpus._xlabel(tmp_path / "a.segs") == [("pau", 0.175), ("p", 0.26)]


@pytest.mark.skipif(shutil.which("festival") is None, reason="festival is not installed (apt-get install festival "
                                                              "festvox-us-slt-hts)")
def test_corpus_is_written_in_ljspeech_layout_and_resumes(tmp_path):
    path = tmp_path / "transcripts.txt"
    path.write_text("LJ1|Hello there.\nLJ2|It costs $3.\n")
    out = tmp_path / "corpus"
    summary = voice_corpus.build(voice_corpus.read_transcripts(path), out, jobs=2, chunk=1, progress=False)
    assert summary["sentences"] == 2 and summary["failed"] == [] and summary["this_run"]["sentences"] == 2
    assert (out / "metadata.csv").read_text() == "LJ1|Hello there.|Hello there.\nLJ2|It costs $3.|It costs three dollars.\n"
    audio, rate = soundfile.read(out / "wavs" / "LJ2.wav")
    assert rate == 22_050
    labels = json.loads((out / "phones" / "LJ2.json").read_text())
    assert [w for w, _ in labels["words"]] == ["It", "costs", "three", "dollars"]
    phones = labels["phones"]
    assert phones[0][0] == "pau" and [end for _, end in phones] == sorted(end for _, end in phones)
    assert abs(phones[-1][1] - len(audio) / rate) < 0.01  # festival's times are the audio's times
    assert not [p for p in out.rglob(".*")]  # no temporaries left
    again = voice_corpus.build(voice_corpus.read_transcripts(path), out, progress=False)
    assert again["this_run"]["sentences"] == 0 and again["sentences"] == 2
