"""The `jaxtts` model commands: convert, synthesize, download, bench, parity.

Small generated checkpoints in NVIDIA's formats, converted once with `jaxtts convert`. The CLI runs
in-process through `jaxtts.cli.main` (fast); one subprocess checks what a user sees on a mistake.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

import jaxtts
from jaxtts import text
from jaxtts.cli import main

HOP = 256


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch) -> Path:
    """A private jaxtts cache (downloads, compiled programs) and no network: a local port that refuses."""
    path = tmp_path_factory.getbasetemp() / "jaxtts-cache"
    monkeypatch.setenv("JAXTTS_CACHE", str(path))
    monkeypatch.setenv("JAXTTS_HUB_URL", "http://127.0.0.1:9")
    return path


@pytest.fixture(scope="module")
def models(small_checkpoints, tmp_path_factory) -> list[str]:
    """`--fastpitch DIR --hifigan DIR` of the small checkpoints, converted by `jaxtts convert`."""
    root = tmp_path_factory.mktemp("converted")
    for kind, src in small_checkpoints.items():
        assert main(["convert", str(src), str(root / kind)]) == 0
    return ["--fastpitch", str(root / "fastpitch"), "--hifigan", str(root / "hifigan")]


def frames(models: list[str], sentence: str) -> int:
    """Mel frames of one sentence at speaker 1, straight from the converted FastPitch."""
    acoustic = jaxtts.load_fastpitch(models[1])
    return int(acoustic.infer(np.array([text.to_ids(sentence)]), speaker=1).mel_lens[0])


def test_synthesize_writes_a_22050_hz_wav_as_long_as_the_mel(models, tmp_path, capsys):
    wav = tmp_path / "hello.wav"
    assert main(["synthesize", "Hello world.", "-o", str(wav), "--speaker", "1", *models]) == 0
    info = soundfile.info(wav)
    assert (info.samplerate, info.channels, info.frames) == (22050, 1, frames(models, "Hello world.") * HOP)
    assert capsys.readouterr().err.startswith(f"{wav}: ")


def test_output_dir_writes_one_wav_per_line(models, tmp_path):
    lines = [f"Line {n}." for n in range(1, 51)]
    (tmp_path / "lines.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "wavs"
    assert main(["synthesize", "--text-file", str(tmp_path / "lines.txt"), "--output-dir", str(out), *models]) == 0
    wavs = sorted(out.iterdir())
    assert [w.name for w in wavs] == [f"{n:06d}.wav" for n in range(1, 51)]
    assert {(soundfile.info(w).samplerate, soundfile.info(w).frames % HOP) for w in wavs} == {(22050, 0)}


def test_raw_streams_the_same_audio_as_pcm(models, tmp_path, capsysbinary):
    speech = "One sentence. And another one."
    assert main(["synthesize", speech, "-o", str(tmp_path / "a.wav"), *models]) == 0
    wav, _ = soundfile.read(tmp_path / "a.wav", dtype="int16")
    capsysbinary.readouterr()
    assert main(["synthesize", speech, "--raw", "s16", *models]) == 0
    raw = np.frombuffer(capsysbinary.readouterr().out, "<i2")
    np.testing.assert_array_equal(raw, wav)
    assert main(["synthesize", speech, "--raw", "f32", *models]) == 0
    f32 = np.frombuffer(capsysbinary.readouterr().out, "<f4")
    np.testing.assert_allclose(f32, wav / 32768, atol=1 / 32768)


def test_ssml_is_detected_or_forced_and_its_breaks_are_exact_silence(models, tmp_path, capsysbinary):
    """A <speak> document on the command line (or a multi-line one with --ssml) is read as SSML:
    "Hello", 500 ms of silence, "world."; --no-ssml reads the same input as text."""
    doc = '<speak>Hello<break time="500ms"/>world.</speak>'
    expected = (frames(models, "Hello") + frames(models, "world.")) * HOP + 11025
    assert main(["synthesize", doc, "-o", str(tmp_path / "a.wav"), "--speaker", "1", *models]) == 0
    assert soundfile.info(tmp_path / "a.wav").frames == expected
    assert main(["synthesize", doc, "-o", str(tmp_path / "b.wav"), "--speaker", "1", "--no-ssml", *models]) == 0
    assert soundfile.info(tmp_path / "b.wav").frames != expected
    capsysbinary.readouterr()
    assert main(["synthesize", doc.replace("<break", "\n<break"), "--raw", "s16", "--ssml", "--speaker", "1",
                 *models]) == 0
    assert len(np.frombuffer(capsysbinary.readouterr().out, "<i2")) == expected


def test_parity_prints_pass(models, capsys):
    assert main(["parity", "--text", "Hello world.", "--speaker", "1", *models]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("PASS") and "durations" in out


@pytest.mark.parametrize("case", ["missing", "foreign", "existing"])
def test_convert_errors_are_one_line_and_leave_nothing_behind(small_checkpoints, tmp_path, capsys, case):
    src = {"missing": tmp_path / "nope.pt", "foreign": tmp_path / "notes.pt", "existing": small_checkpoints["hifigan"]}[case]
    (tmp_path / "notes.pt").write_bytes(b"not a checkpoint\n" * 100)
    dst = tmp_path / "out"
    if case == "existing":
        dst.mkdir()
        (dst / "keep.txt").write_text("mine")
    assert main(["convert", str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxtts: error: ") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("nope.pt", "notes.pt")) == (
        ["out"] if case == "existing" else [])
    if case == "existing":
        assert [p.name for p in dst.iterdir()] == ["keep.txt"] and "--force" in err


def test_an_option_for_the_other_model_is_an_error(small_checkpoints, tmp_path, capsys):
    assert main(["convert", str(small_checkpoints["hifigan"]), str(tmp_path / "x"), "--ema"]) == 2
    assert "is a hifigan checkpoint, not a fastpitch" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_download_offline_names_the_files_and_where_to_put_them(tmp_path, capsys):
    assert main(["download", "--dir", str(tmp_path / "models")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nvidia_fastpitch_210824+cfg.pt" in err and "hifigan_gen_checkpoint_10000_ft.pt" in err
    assert str(tmp_path / "models") in err


def test_bench_runs_the_benchmarks_entry_point(tmp_path):
    with pytest.raises(SystemExit, match="no benchmark named nothing"):  # benchmarks/run_all.py's own answer
        main(["bench", "--quick", "--only", "nothing", "--out", str(tmp_path)])


def test_user_mistakes_are_one_line_without_traceback(tmp_path):
    """As a user sees it: a separate process, real stderr."""
    def jaxtts_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "jaxtts", *args], capture_output=True, text=True, timeout=120,
                              cwd=Path(jaxtts.__file__).parents[1])

    for result in (jaxtts_cli("synthesize", "Hello.", "-o", str(tmp_path / "a.wav"), "--fastpitch", str(tmp_path / "no"),
                              "--hifigan", str(tmp_path / "no")),
                   jaxtts_cli("synthesize", "Hello.", "-o", str(tmp_path / "a.wav"), "--pace", "fast")):
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith("jaxtts: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "no such file" in result.stderr or "invalid float value: 'fast'" in result.stderr
