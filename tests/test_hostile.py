"""Hostile and careless input: nothing outside the target is deleted or written, failures are one line.

The CLI runs in-process through `jaxtts.cli.main`; small generated checkpoints in NVIDIA's formats.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jaxtts import checkpoint
from jaxtts.cli import main
from jaxtts.errors import CheckpointError


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("jaxtts: error: ") and err.count("\n") == 1, err
    return err


def test_force_refuses_a_directory_that_is_not_a_converted_model(small_checkpoints, tmp_path, capsys):
    """The reported data loss: `convert SRC DIR --force` with the source and other files inside DIR."""
    home = tmp_path / "home"
    home.mkdir()
    src = home / "hifigan.pt"
    src.write_bytes(small_checkpoints["hifigan"].read_bytes())
    (home / "notes.txt").write_text("mine")
    (home / "sub").mkdir()
    (home / "sub" / "more.txt").write_text("also mine")
    before = _tree(home)

    assert main(["convert", str(src), str(home), "--force"]) == 2
    err = _one_error_line(capsys)
    assert "not a converted jaxtts model" in err and "new destination" in err
    assert _tree(home) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no temporaries beside it either


def test_force_refuses_a_file_and_a_foreign_jaxtts_json(small_checkpoints, tmp_path, capsys):
    target = tmp_path / "model"
    target.write_text("a file")
    assert main(["convert", str(small_checkpoints["hifigan"]), str(target), "--force"]) == 2
    assert "not a directory" in _one_error_line(capsys) and target.read_text() == "a file"

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / checkpoint.META).write_text('{"format": "someone else"}')
    assert main(["convert", str(small_checkpoints["hifigan"]), str(foreign), "--force"]) == 2
    _one_error_line(capsys)
    assert _tree(foreign) == {checkpoint.META: b'{"format": "someone else"}'}


def test_force_replaces_a_converted_model_whole(small_checkpoints, tmp_path, capsys):
    dst = tmp_path / "model"
    assert main(["convert", str(small_checkpoints["hifigan"]), str(dst)]) == 0
    assert checkpoint.read_meta(dst)["model"] == "hifigan"
    assert main(["convert", str(small_checkpoints["fastpitch"]), str(dst), "--force"]) == 0
    assert checkpoint.read_meta(dst)["model"] == "fastpitch"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # the old model and the temporary are gone


def test_save_refuses_user_files_even_when_called_directly(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not a converted jaxtts model"):
        checkpoint.save(tmp_path, model="hifigan", config={}, params={"w": [1.0]}, overwrite=True)
    assert _tree(tmp_path) == {"keep.txt": b"mine"}


def test_stale_temporaries_of_a_killed_conversion_are_removed(small_checkpoints, tmp_path):
    dead_pid = 2**22 + 12345  # above Linux's pid_max: never a live process
    stale = tmp_path / f".model.jaxtts-tmp-{dead_pid}-abcd"
    (stale / "params").mkdir(parents=True)
    unrelated = tmp_path / ".model.something-else"
    unrelated.mkdir()
    assert main(["convert", str(small_checkpoints["hifigan"]), str(tmp_path / "model")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.something-else", "model"]


def test_a_converted_model_respects_the_umask(small_checkpoints, tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["convert", str(small_checkpoints["hifigan"]), str(tmp_path / "model")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o755
