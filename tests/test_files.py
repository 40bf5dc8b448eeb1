"""`files.atomic_write`: a path holds a complete result or what it held before, and nothing else is left."""
from __future__ import annotations

import os
import stat

import pytest

from jaxtts import files


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    dst = tmp_path / "out.wav"
    dst.write_text("old")
    with pytest.raises(RuntimeError), files.atomic_write(dst) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed halfway")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"] and dst.read_text() == "old"


def test_a_written_file_replaces_the_old_one_with_ordinary_permissions(tmp_path):
    dst = tmp_path / "out.wav"
    dst.write_text("old")
    old = os.umask(0o022)
    try:
        with files.atomic_write(dst) as tmp:
            tmp.write_text("new")
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"] and dst.read_text() == "new"
    assert stat.S_IMODE(dst.stat().st_mode) == 0o644


def test_a_directory_that_fails_its_last_check_keeps_the_old_one(tmp_path):
    dst = tmp_path / "model"
    dst.mkdir()
    (dst / "a").write_text("old")

    def refuse() -> None:
        raise ValueError("changed while we wrote")

    with pytest.raises(ValueError), files.atomic_write(dst, directory=True, before_rename=refuse) as tmp:
        (tmp / "a").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"] and (dst / "a").read_text() == "old"
    with files.atomic_write(dst, directory=True) as tmp:
        (tmp / "b").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"] and sorted(os.listdir(dst)) == ["b"]


def test_only_the_temporaries_of_dead_processes_are_removed(tmp_path):
    dst = tmp_path / "out.wav"
    dead, alive = 2**22 + 12345, os.getpid()  # above Linux's pid_max: never a live process
    for pid in (dead, alive):
        (tmp_path / f".out.wav.jaxtts-tmp-{pid}-x").write_text("partial")
    (tmp_path / ".out.wav.other").write_text("not ours")
    files.remove_stale_temporaries(dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.wav.jaxtts-tmp-{alive}-x", ".out.wav.other"]
