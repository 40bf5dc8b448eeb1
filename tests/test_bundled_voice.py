"""The voice that ships with jaxtts: a fresh install speaks offline, from an empty cache, and says
which voice spoke; NVIDIA's voice is one flag away and becomes the default once it is cached."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile

from jaxtts import checkpoint, hub, voices
from jaxtts.cli import main
from jaxtts.engine import find_voice
from jaxtts.errors import InputError

# The bundled voice's word error rate on these sentences is far from zero (pocketsphinx is weak, and
# the voice was trained for two CPU hours); the bound says the recognizer hears a good share of words,
# which random weights or a broken pipeline never reach (they score 1.0).
MAX_WER = 0.75
SENTENCES = ["The prisoner was taken to the jail.", "It was a very cold morning in London."]


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch) -> Path:
    """An empty jaxtts cache and no network (a local port that refuses)."""
    monkeypatch.setenv("JAXTTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("JAXTTS_HUB_URL", "http://127.0.0.1:9")
    return tmp_path / "cache"


def test_the_bundled_fastpitch_is_a_converted_model_with_its_licence():
    path = voices.fastpitch_path()
    meta = checkpoint.read_meta(path)
    assert meta["model"] == "fastpitch" and meta["source"]["recipe"] == "jaxtts.recipes.voice"
    assert "EST-2003" in (path / checkpoint.LICENSE).read_text()
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    assert size <= 40 * 2**20  # the budget for model files in git


def test_an_empty_cache_speaks_with_the_bundled_voice(offline):
    voice = find_voice()
    assert voice.name == "jaxtts" and voice.fastpitch == voices.fastpitch_path()
    assert voice.hifigan == voices.generator_path("lj")
    assert not offline.exists() or not any(offline.iterdir())  # nothing was downloaded


def test_nvidia_becomes_the_default_once_it_is_in_the_cache(offline):
    assert not hub.cached()
    offline.mkdir(parents=True)
    for entry in hub.REGISTRY.values():
        (offline / entry.filename).write_bytes(b"placed by hand")
    assert hub.cached()


def test_asking_for_nvidia_offline_says_what_to_fetch():
    with pytest.raises(hub.Unreachable, match="place them in"):
        find_voice("nvidia")


def test_an_unknown_voice_is_an_input_error():
    with pytest.raises(InputError, match="choose one of auto, jaxtts, nvidia"):
        find_voice("lessac")


def test_the_first_readme_command_speaks_offline_and_the_recognizer_hears_it(tmp_path, capsys):
    pytest.importorskip("pocketsphinx", reason="the eval extra is not installed")
    from jaxtts import evaluate

    wav = tmp_path / "hello.wav"
    assert main(["synthesize", " ".join(SENTENCES), "-o", str(wav)]) == 0
    err = capsys.readouterr().err
    assert "speaking with jaxtts's own voice" in err and "--voice nvidia" in err
    audio, rate = soundfile.read(wav, dtype="float32")
    assert rate == 22050 and len(audio) > rate  # seconds of speech, not a click
    report = evaluate.score([("hello", " ".join(SENTENCES), audio, rate)])
    assert report.wer <= MAX_WER, json.dumps(report.to_dict(), indent=1)
