"""The voice recipe (jaxtts.recipes.voice): every stage on a tiny corpus, resumed; the aligner's
boundary error against festival's phone times."""
import json
import shutil

import numpy as np
import pytest

from jaxtts.recipes import voice
from jaxtts.text import to_ids

TINY = ("LJ001-0008", "LJ001-0002", "LJ001-0013")  # the shortest clips; the first is held out


def test_festival_phones_map_to_arpabet_without_pauses():
    labels = {"phones": [["pau", 0.2], ["hh", 0.3], ["ax", 0.35], ["l", 0.4], ["ow", 0.5], ["pau", 0.7]]}
    assert voice.festival_phones(labels) == [("HH", 0.3), ("AH", 0.35), ("L", 0.4), ("OW", 0.5)]


def test_boundary_error_is_the_distance_between_matched_phone_and_word_ends():
    ids = to_ids("hello world")  # letters h e l l o (ambiguous in CMUdict), space, {W ER1 L D}
    assert [p for _, p in voice.token_phones(ids)] == ["W", "ER", "L", "D"]
    assert voice.token_words(ids) == [[0, 1, 2, 3, 4], [6, 7, 8, 9]]
    durations = [2, 2, 2, 2, 2, 0, 10, 5, 5, 10]  # "hello" ends at frame 10; the phones at 20, 25, 30, 40
    labels = {"phones": [["pau", 0.05], ["hh", 0.07], ["ax", 0.08], ["l", 0.09], ["ow", 0.11],
                         ["w", 0.20], ["er", 0.26], ["l", 0.30], ["d", 0.41], ["pau", 0.5]],
              "words": [["hello", 0.11], ["world", 0.41]]}
    errors = voice.boundary_errors(ids, durations, labels, frames_per_s=100.0)
    np.testing.assert_allclose(errors, [1.0, 0.0, 1.0, 0.0, 1.0])


def test_a_phone_festival_pronounces_differently_is_left_out():
    ids = to_ids("world")
    labels = {"phones": [["w", 0.10], ["eh", 0.16], ["l", 0.20], ["d", 0.30]], "words": [["world", 0.30]]}
    errors = voice.boundary_errors(ids, [10, 5, 5, 10], labels, frames_per_s=100.0)
    np.testing.assert_allclose(errors, [0.0, 0.0, 0.0])  # W, L, D; D's end is also the word's


@pytest.fixture
def tiny_corpus(shared, tmp_path):
    """Three real LJSpeech clips in LJSpeech layout, with phone times for the held-out one."""
    source = shared / "data" / "ljspeech"
    rows = {line.split("|")[0]: line for line in (source / "metadata.csv").read_text().splitlines()}
    corpus = tmp_path / "corpus"
    (corpus / "wavs").mkdir(parents=True)
    (corpus / "phones").mkdir()
    for uid in TINY:
        shutil.copy(source / "wavs" / f"{uid}.wav", corpus / "wavs")
    (corpus / "metadata.csv").write_text("".join(rows[uid] + "\n" for uid in TINY))
    text = rows[TINY[0]].split("|")[-1]
    phones = [p for _, p in voice.token_phones(to_ids(text))]
    (corpus / "phones" / f"{TINY[0]}.json").write_text(json.dumps(
        {"text": text, "phones": [[p.lower(), 0.1 * (k + 1)] for k, p in enumerate(phones)]}))
    return corpus


def test_recipe_runs_every_stage_and_resumes(tiny_corpus, tmp_path):
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("jiwer")
    out = tmp_path / "run"
    recipe = voice.Recipe(out, corpus=tiny_corpus, held_out=1, config="small", steps=2, batch_size=2,
                          warmup_steps=1, checkpoint_every=1, log_every=1)
    voice.run(recipe, ["corpus", "split", "prepare", "train"])
    assert (out / "split" / "test" / "metadata.csv").read_text().startswith(TINY[0])
    assert len((out / "split" / "train" / "metadata.csv").read_text().splitlines()) == 2

    progress = voice.run(voice.Recipe(**{**vars(recipe), "steps": 3}))  # a later session asks for more
    stages = progress["stages"]
    assert all(stages[s]["done"] for s in voice.STAGES)
    assert stages["train"]["runs"] == 2 and stages["train"]["results"]["step"] == 3
    assert [m["step"] for m in map(json.loads, (out / "train" / "metrics.jsonl").read_text().splitlines())] == [1, 2, 3]
    assert stages["export"]["results"]["step"] == 3 and (out / "model" / "jaxtts.json").is_file()
    result = stages["evaluate"]["results"]
    assert result["sentences"] == 1 and 0.0 <= result["teacher_wer"] <= 1.0 and result["wer"] >= 0.0
    assert result["aligner"]["utterances"] == 1 and result["aligner"]["phones"] > 0
    assert 0.0 < result["aligner"]["diagonality"] <= 1.0
    lines = voice.evaluation_lines(result)
    assert "teacher" in lines[0] and "aligner boundary error" in lines[1]
