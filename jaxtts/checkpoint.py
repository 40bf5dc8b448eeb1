"""Converted models on disk: Orbax params plus a JSON file with the model kind and its config.

Loading a converted directory never imports torch; only an original `.pt`/`.nemo` file pulls in
the converters. Saving is atomic: everything is written into a temporary sibling directory that is
renamed into place, so an interrupted or failed conversion leaves nothing behind.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxtts.errors import CheckpointError

FORMAT = "jaxtts"
VERSION = 1
META = "jaxtts.json"
PARAMS = "params"


def save(directory: str | Path, *, model: str, config: dict, params: Any, source: dict | None = None,
         overwrite: bool = False) -> Path:
    """Write `params` and `config` to `directory` atomically and return its resolved path.

    `overwrite` replaces only a converted jaxtts model (its own `jaxtts.json` and `params`, nothing
    else): any other directory is refused, so a mistyped destination can never delete user files.
    """
    import orbax.checkpoint as ocp

    dst = Path(directory).expanduser().resolve()
    check_destination(dst, overwrite)
    dst.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(dst)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(dst)}{os.getpid()}-", dir=dst.parent))
    old = None
    try:
        meta = {"format": FORMAT, "version": VERSION, "model": model, "config": config, "source": source or {}}
        (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        arrays = jax.tree.map(np.asarray, params)
        with ocp.StandardCheckpointer() as ckptr:
            ckptr.save(tmp / PARAMS, arrays)
            ckptr.wait_until_finished()
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; a converted model is an ordinary directory
        if dst.exists():
            check_destination(dst, overwrite)  # again: it may have changed while we wrote
            old = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(dst)}{os.getpid()}-old-", dir=dst.parent))
            dst.rename(old / dst.name)  # the old model steps aside whole, then the new one takes its name
        tmp.rename(dst)
    except BaseException:
        if old is not None and (old / dst.name).exists() and not dst.exists():
            (old / dst.name).rename(dst)  # put the old model back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return dst


def check_destination(dst: Path, overwrite: bool) -> None:
    """Refuse a destination that `save` may not write: a file, or a directory that is not ours."""
    if not dst.exists() and not dst.is_symlink():
        return
    if not dst.is_dir() or dst.is_symlink():
        raise CheckpointError(f"{dst} exists and is not a directory; choose a new destination directory")
    entries = {p.name for p in dst.iterdir()}
    if not entries:
        return
    if not overwrite:
        raise CheckpointError(f"{dst} already exists and is not empty; choose a new directory, or pass --force "
                              "(overwrite=True) to replace a converted jaxtts model there")
    foreign = sorted(entries - {META, PARAMS})
    if META not in entries or foreign:
        why = f"it holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}" if foreign else f"it has no {META}"
        raise CheckpointError(f"refusing to replace {dst}: it is not a converted jaxtts model ({why}); "
                              "--force only replaces a directory jaxtts wrote, so choose a new destination directory")
    read_meta(dst)  # a jaxtts.json that is not ours is refused like any foreign file


def _temp_prefix(dst: Path) -> str:
    return f".{dst.name}.jaxtts-tmp-"


def _remove_stale_temporaries(dst: Path) -> None:
    """Delete temporaries that an earlier save of `dst` left when its process was killed."""
    prefix = _temp_prefix(dst)
    for tmp in dst.parent.glob(f"{glob.escape(prefix)}*"):
        pid = tmp.name[len(prefix):].split("-", 1)[0]
        if tmp.is_dir() and not tmp.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)


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


def read_meta(directory: str | Path) -> dict:
    """The JSON side of a converted model, validated."""
    path = Path(directory) / META
    if not path.is_file():
        raise CheckpointError(
            f"{directory} is not a converted jaxtts model (no {META}); convert the original with "
            "`jaxtts convert SRC DST` or pass the original .pt/.nemo file"
        )
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path} is unreadable ({e}); convert the original checkpoint again") from None
    if meta.get("format") != FORMAT or not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{path} is not a jaxtts model description; convert the original checkpoint again")
    if meta.get("version", 0) > VERSION:
        raise CheckpointError(f"{directory} was written by a newer jaxtts (format {meta['version']}); upgrade jaxtts")
    return meta


def load(directory: str | Path) -> tuple[str, dict, Any]:
    """Return (model kind, config dict, params as numpy arrays) of a converted directory."""
    import orbax.checkpoint as ocp

    from jaxtts import limits

    directory = Path(directory).expanduser().resolve()
    meta = read_meta(directory)
    # The config is validated and the stored tree's declared shapes compared with the one it implies
    # before anything is read: a tampered directory is one CheckpointError, never a huge allocation.
    expected = limits.expected_params(meta["model"], meta["config"], what=str(directory))
    _drop_late_orbax_callbacks()
    try:
        stored = ocp.StandardCheckpointHandler().metadata(directory / PARAMS).tree
        limits.check_tree(stored, expected, what=str(directory))
        with ocp.StandardCheckpointer() as ckptr:
            params = ckptr.restore(directory / PARAMS)
    except CheckpointError:
        raise
    except Exception as e:
        raise CheckpointError(
            f"{directory / PARAMS} could not be read ({type(e).__name__}); convert the original checkpoint again"
        ) from None
    return meta["model"], meta["config"], jax.tree.map(np.asarray, params)


def _drop_late_orbax_callbacks() -> None:
    """Orbax reads params through tensorstore futures on an asyncio loop. When one read fails (a
    corrupt file) the loop closes with the other reads in flight, and each of their late callbacks
    reports "Event loop is closed" as an unraisable exception: dozens of tracebacks after the one-line
    error. Those alone are dropped; every other unraisable exception reaches the previous hook."""
    previous = sys.unraisablehook
    if getattr(previous, "jaxtts", False):
        return

    def hook(unraisable: Any) -> None:
        if not (isinstance(unraisable.exc_value, RuntimeError) and str(unraisable.exc_value) == "Event loop is closed"):
            previous(unraisable)

    hook.jaxtts = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def load_any(path: str | Path, expect: str, **options: Any) -> tuple[dict, Any]:
    """(config dict, params) of a `expect` model from a converted directory or an original file.

    `options` go to the converter (e.g. `ema=True` for FastPitch, `config=` for jik876 HiFi-GAN).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        model, config, params = load(path)
    elif path.exists():
        import converters

        model, config, params = converters.convert_in_memory(path, expect=expect, **options)
    else:
        raise CheckpointError(f"{path}: no such file or directory; pass a .pt/.nemo checkpoint or a converted directory")
    if model != expect:
        raise CheckpointError(f"{path} holds a {model} model, not a {expect}; load it with jaxtts.load_{model}")
    return config, params
