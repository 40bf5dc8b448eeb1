"""`jaxtts synthesize -o` stopped mid-run leaves nothing half-written: SIGTERM and SIGINT unwind and
remove the temporary WAV; after a SIGKILL the next run removes the dead process's temporary."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jaxtts.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models(small_checkpoints, tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("converted")
    for kind, src in small_checkpoints.items():
        assert main(["convert", str(src), str(root / kind)]) == 0
    return ["--fastpitch", str(root / "fastpitch"), "--hifigan", str(root / "hifigan")]


def _as_from_a_terminal() -> None:
    """Ctrl-C's default disposition: a background job of a shell script (CI's pytest can be one)
    inherits SIGINT ignored, and a run that never sees the signal would just finish."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(models: list[str], out: Path, text: Path) -> subprocess.Popen:
    """A long `-o` run, returned once it has started writing (its temporary exists)."""
    proc = subprocess.Popen([sys.executable, "-m", "jaxtts", "synthesize", "--text-file", str(text), "-o", str(out),
                             *models], env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=_as_from_a_terminal)
    deadline = time.monotonic() + 900
    while not _temporaries(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None and _temporaries(out), "the run ended before it could be stopped"
    return proc


def _temporaries(out: Path) -> list[str]:
    return [p.name for p in out.parent.iterdir() if p.name != out.name and not p.name.endswith(".txt")]


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)])
def test_a_signal_mid_run_leaves_no_temporary(models, tmp_path, sig, code):
    text = tmp_path / "book.txt"
    text.write_text("This is one of many sentences that keep the run busy.\n" * 400)
    proc = _start(models, tmp_path / "out.wav", text)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code, err[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.txt"]  # no WAV, no temporary
    assert b"Traceback" not in err


def test_the_next_run_removes_what_a_sigkill_left(models, tmp_path):
    text = tmp_path / "book.txt"
    text.write_text("This is one of many sentences that keep the run busy.\n" * 400)
    out = tmp_path / "out.wav"
    proc = _start(models, out, text)
    proc.kill()
    proc.wait(timeout=60)
    assert _temporaries(out)  # SIGKILL cannot be caught: the temporary stays
    assert main(["synthesize", "Hello.", "-o", str(out), *models]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.txt", "out.wav"]
