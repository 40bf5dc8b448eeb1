"""One checkpoint, one way to write its ids: the engine, `jaxtts.parity` and `jaxtts.torch` all
encode text with the checkpoint's own `TextEncoder` and so give it the same ids; over the golden
FastPitch files (both layouts), a NeMo archive (its vocabulary, dictionary and added spaces) and a
checkpoint trained on letters only (p_arpabet 0) with spaces around every text."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from jaxtts import checkpoint, engine, parity
from jaxtts import torch as jaxtts_torch
from jaxtts.text import to_ids
from jaxtts.text.symbols import SPACE_ID

TEXTS = ("Dr. Smith paid $3.50 on Jan. 5, 2024.", "Nvidia's record: read it to me, GPU.")


@pytest.fixture(scope="module")
def letters_checkpoint(small_checkpoints, tmp_path_factory) -> Path:
    """The small NVIDIA FastPitch file, its train_setup saying: letters only, a space before and after."""
    ckpt = torch.load(small_checkpoints["fastpitch"], weights_only=True)
    ckpt["train_setup"] = {**ckpt.get("train_setup", {}), "p_arpabet": 0.0, "prepend_space_to_text": True,
                           "append_space_to_text": True}
    path = tmp_path_factory.mktemp("letters") / "FastPitch_checkpoint_1.pt"
    torch.save(ckpt, path)
    return path


def _cases(golden: Path, small_checkpoints: dict[str, Path], letters: Path) -> dict[str, tuple[Path, Path]]:
    small = golden / "fastpitch_small"
    return {
        "golden current layout": (small / "FastPitch_checkpoint_10.pt", small_checkpoints["hifigan"]),
        "golden 2021 layout": (small / "fastpitch_legacy2021_layout.pt", small_checkpoints["hifigan"]),
        "NeMo": (golden / "nemo" / "fastpitch_small.nemo", golden / "nemo" / "hifigan_small.nemo"),
        "p_arpabet 0": (letters, small_checkpoints["hifigan"]),
    }


def test_engine_parity_and_torch_api_write_the_same_ids(golden, small_checkpoints, letters_checkpoint, tmp_path):
    for name, (acoustic_path, vocoder_path) in _cases(golden, small_checkpoints, letters_checkpoint).items():
        converted = checkpoint.convert(acoustic_path, tmp_path / name.replace(" ", "_"))
        vocoder = checkpoint.load_hifigan(vocoder_path)
        for source in (acoustic_path, converted):  # the original file and its converted directory alike
            synth = engine.Synthesizer(checkpoint.load_fastpitch(source), vocoder, compilation_cache=False)
            from_engine = [list(synth._sentence_ids(t)) for t in TEXTS]
            text = jaxtts_torch.FastPitch.from_checkpoint(source).text
            assert from_engine == [[text.encode(t)] for t in TEXTS], (name, source)
        report = parity.run(converted, vocoder_path, TEXTS)  # its text section, read back
        assert [[list(t.ids)] for t in report.texts] == from_engine and report.passed, (name, str(report))


def test_a_letters_only_checkpoint_gets_letters_and_its_spaces(letters_checkpoint):
    text = jaxtts_torch.FastPitch.from_checkpoint(letters_checkpoint).text
    assert text.encode(TEXTS[0]) == [SPACE_ID, *to_ids(TEXTS[0], arpabet=False), SPACE_ID]
    assert text.encode(TEXTS[0]) != [SPACE_ID, *to_ids(TEXTS[0]), SPACE_ID]  # ARPAbet would differ


def test_a_format_1_directory_with_the_text_setup_in_its_config_reads_the_same(letters_checkpoint, tmp_path):
    """Directories converted before the text setup had its own section keep loading as they were."""
    import json

    directory = checkpoint.convert(letters_checkpoint, tmp_path / "model")
    meta = json.loads((directory / checkpoint.META).read_text())
    meta["config"] |= meta.pop("text")
    meta["version"] = 1
    (directory / checkpoint.META).write_text(json.dumps(meta))
    old = checkpoint.load_fastpitch(directory)
    assert old.text == checkpoint.load_fastpitch(letters_checkpoint).text and old.text.p_arpabet == 0.0
    assert old.config == checkpoint.load_fastpitch(letters_checkpoint).config
