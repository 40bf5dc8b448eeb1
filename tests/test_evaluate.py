"""`jaxtts evaluate`: an offline recognizer (pocketsphinx) hears real LJSpeech speech, and its words
are scored against the jaxtts-normalised transcript."""
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pocketsphinx", reason="the eval extra is not installed")
pytest.importorskip("jiwer", reason="the eval extra is not installed")

from jaxtts import cli, evaluate  # noqa: E402
from jaxtts.errors import InputError  # noqa: E402

CLIPS = ["LJ001-0002", "LJ001-0008"]  # the two shortest real clips ("in being comparatively modern.", ...)


@pytest.fixture(scope="module")
def ljspeech(shared: Path) -> Path:
    return shared / "data" / "ljspeech"


@pytest.fixture
def corpus(ljspeech: Path, tmp_path: Path) -> Path:
    """Two real clips in LJSpeech layout."""
    rows = {line.split("|", 1)[0]: line for line in (ljspeech / "metadata.csv").read_text().splitlines()}
    (tmp_path / "wavs").mkdir()
    for clip in CLIPS:
        (tmp_path / "wavs" / f"{clip}.wav").symlink_to(ljspeech / "wavs" / f"{clip}.wav")
    (tmp_path / "metadata.csv").write_text("".join(rows[c] + "\n" for c in CLIPS))
    return tmp_path


def test_words_are_compared_as_jaxtts_normalises_them():
    assert evaluate.words("Dr. Smith paid $5.") == "doctor smith paid five dollars"
    assert evaluate.words("In 1469, it's 'Roman' type-founding!") == "in fourteen sixty nine it's roman type founding"


def test_resampling_to_16k_keeps_duration_and_tone():
    t = np.arange(22_050) / 22_050
    out = evaluate.to_16k(np.sin(2 * np.pi * 440 * t), 22_050)
    assert out.shape == (16_000,)
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over one second


def test_recognizer_hears_most_words_of_real_speech(corpus, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert cli.main(["evaluate", "--corpus", str(corpus), "--json", str(out)]) == 0
    assert capsys.readouterr().out.startswith("WER ")
    report = json.loads(out.read_text())
    assert [u["id"] for u in report["utterances"]] == CLIPS
    assert report["utterances"][0]["reference"] == "in being comparatively modern"
    assert report["wer"] <= 0.5, report


def test_a_transcript_of_other_words_scores_badly(corpus):
    (_, _, audio, rate), (_, other_text, _, _) = evaluate.read_corpus(corpus)
    report = evaluate.score([("LJ001-0002", other_text, audio, rate)])
    assert report.wer > 0.7


def test_corpus_without_metadata_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="LJSpeech layout"):
        list(evaluate.read_corpus(tmp_path))
    (tmp_path / "metadata.csv").write_text("LJ999-0001|a missing recording\n")
    with pytest.raises(InputError, match="LJ999-0001.wav is missing"):
        list(evaluate.read_corpus(tmp_path))


def test_text_file_lines_are_synthesized_then_scored(small_checkpoints, tmp_path, monkeypatch):
    monkeypatch.setenv("JAXTTS_HUB_URL", "http://127.0.0.1:9")  # the models are given: nothing is fetched
    lines = tmp_path / "lines.txt"
    lines.write_text("Dr. Smith paid $5.\n\nIt is 1469.\n")
    out = tmp_path / "report.json"
    models = ["--fastpitch", str(small_checkpoints["fastpitch"]), "--hifigan", str(small_checkpoints["hifigan"])]
    assert cli.main(["evaluate", "--text-file", str(lines), "--json", str(out), *models]) == 0
    report = json.loads(out.read_text())
    assert [(u["id"], u["reference"]) for u in report["utterances"]] == [
        ("1", "doctor smith paid five dollars"), ("3", "it is fourteen sixty nine")]
    assert report["words"] == 10 and report["wer"] >= 0.0  # random weights: any score, but every line scored
