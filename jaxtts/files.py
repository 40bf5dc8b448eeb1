"""Writing files and directories atomically: a path either holds a complete result or what it held before.

Every writer in jaxtts (converted models, downloads and their records, synthesized WAVs) fills a
temporary sibling of its target and renames it into place only when it is complete, with
`atomic_write`. Temporaries are named after the target and the writing process, so a later
writer can remove those of a process that was killed (`remove_stale_temporaries`).
"""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(dst: Path, *, directory: bool = False,
                 before_rename: Callable[[], None] | None = None) -> Iterator[Path]:
    """A temporary sibling of `dst` (a file, or with `directory` an empty directory) to fill in the
    `with` block. When the block succeeds it takes `dst`'s name: a file in one rename, a directory
    after an existing `dst` has stepped aside whole (deleted after, put back if the rename fails).
    When the block raises, the temporary is deleted. `before_rename` runs just before the swap (a
    last check of the destination). The result has an ordinary file's or directory's permissions
    under the umask, not a temporary's private ones."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    prefix = f"{_prefix(dst)}{os.getpid()}-"
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=dst.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, dir=dst.parent)
        os.close(fd)
        tmp = Path(name)
    old = None
    try:
        yield tmp
        tmp.chmod((0o777 if directory else 0o666) & ~_umask())
        if before_rename is not None:
            before_rename()
        if directory and dst.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{prefix}old-", dir=dst.parent))
            dst.rename(old / dst.name)  # the old directory steps aside whole, then the new one takes its name
        os.replace(tmp, dst)
    except BaseException:
        if old is not None and (old / dst.name).exists() and not dst.exists():
            (old / dst.name).rename(dst)  # put the old one back
        _remove(tmp)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def remove_stale_temporaries(dst: Path) -> None:
    """Delete the temporaries that an `atomic_write` of `dst` left when its process was killed."""
    prefix = _prefix(dst)
    for tmp in dst.parent.glob(f"{glob.escape(prefix)}*"):
        pid = tmp.name[len(prefix):].split("-", 1)[0]
        if not tmp.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            _remove(tmp)


def sha256(path: Path) -> str:
    """Hex digest of a file, read in blocks so large checkpoints never sit in memory whole."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _prefix(dst: Path) -> str:
    return f".{dst.name}.jaxtts-tmp-"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
