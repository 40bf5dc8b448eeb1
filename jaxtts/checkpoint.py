"""Converted models on disk: Orbax params plus a JSON file with the model kind and its config.

Loading a converted directory never imports torch; only an original `.pt`/`.nemo` file pulls in
the converters. Saving is atomic: everything is written into a temporary sibling directory that is
renamed into place, so an interrupted or failed conversion leaves nothing behind.
"""
from __future__ import annotations

import json
import shutil
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
    """Write `params` and `config` to `directory` atomically and return its resolved path."""
    import orbax.checkpoint as ocp

    dst = Path(directory).expanduser().resolve()
    if dst.exists() and any(dst.iterdir()) and not overwrite:
        raise CheckpointError(f"{dst} already exists and is not empty; choose a new directory or pass overwrite")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", dir=dst.parent))
    try:
        meta = {"format": FORMAT, "version": VERSION, "model": model, "config": config, "source": source or {}}
        (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        arrays = jax.tree.map(np.asarray, params)
        with ocp.StandardCheckpointer() as ckptr:
            ckptr.save(tmp / PARAMS, arrays)
            ckptr.wait_until_finished()
        if dst.exists():
            shutil.rmtree(dst)
        tmp.rename(dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dst


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

    directory = Path(directory).expanduser().resolve()
    meta = read_meta(directory)
    try:
        with ocp.StandardCheckpointer() as ckptr:
            params = ckptr.restore(directory / PARAMS)
    except Exception as e:
        raise CheckpointError(
            f"{directory / PARAMS} could not be read ({type(e).__name__}); convert the original checkpoint again"
        ) from None
    return meta["model"], meta["config"], jax.tree.map(np.asarray, params)


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
