"""Converted models on disk (Orbax params plus a JSON file: the model kind, its config and how its
text is encoded), the conversion that writes them, and the loaders of every checkpoint form.

Loading a converted directory never imports torch; only an original `.pt`/`.nemo` file pulls in
the converters' torch side. Saving is atomic (`files.atomic_write`): everything is written into a
temporary sibling directory that is renamed into place, so an interrupted or failed conversion
leaves nothing behind.

Format 2 keeps the text setup in its own section, `text`; a format 1 directory kept it inside
`config`, and reads the same.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import jax
import numpy as np

from converters import Converted
from jaxtts import files, limits
from jaxtts.errors import CheckpointError, ConfigError
from jaxtts.models import fastpitch, hifigan
from jaxtts.models.fastpitch import FastPitch, FastPitchConfig
from jaxtts.models.hifigan import HiFiGAN, HiFiGANConfig
from jaxtts.text.encoder import TEXT_SETUP, TextEncoder

FORMAT = "jaxtts"
VERSION = 2
META = "jaxtts.json"
PARAMS = "params"
LICENSE = "LICENSE"  # optional: the licence notices of what the weights were learnt from
_CONFIGS = {"fastpitch": FastPitchConfig, "hifigan": HiFiGANConfig}


def load_fastpitch(path: str | Path, *, dtype: Any = None, ema: bool = False) -> FastPitch:
    """FastPitch from an NVIDIA `.pt`, a NeMo `.nemo` or a converted directory, with its text encoder.

    `ema=True` takes the checkpoint's `ema_state_dict` (an error if it has none).
    """
    import jax.numpy as jnp

    c = load_any(path, "fastpitch", **({"ema": True} if ema else {}))
    return FastPitch(c.config, c.params, c.text, dtype=dtype or jnp.float32)


def load_hifigan(path: str | Path, *, dtype: Any = None, config: str | Path | None = None) -> HiFiGAN:
    """HiFi-GAN generator from an NVIDIA/jik876 `.pt`, a NeMo `.nemo` or a converted directory.

    `config` is the `config.json` of a jik876 `g_XXXXXXXX` file when it is not beside the file.
    """
    import jax.numpy as jnp

    c = load_any(path, "hifigan", **({"config": config} if config is not None else {}))
    return HiFiGAN(c.config, c.params, dtype=dtype or jnp.float32)


def convert(src: str | Path, dst: str | Path, *, expect: str | None = None, overwrite: bool = False,
            **options: Any) -> Path:
    """Convert `src` (.pt or .nemo) into the jaxtts directory `dst`; nothing is written on failure."""
    import converters

    src = Path(src).expanduser()
    c = converters.convert_in_memory(src, expect=expect, **options)
    plain_options = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in options.items()}
    source = {"file": src.name, "bytes": src.stat().st_size, "sha256": files.sha256(src), "options": plain_options}
    return save(dst, model=c.model, config=c.config.to_dict(), params=c.params,
                text=None if c.text is None else c.text.to_dict(), source=source, overwrite=overwrite)


def save(directory: str | Path, *, model: str, config: dict, params: Any, text: dict | None = None,
         source: dict | None = None, license: str | None = None, overwrite: bool = False) -> Path:
    """Write `params`, `config`, `text` (the text setup) and `license` (notices kept beside the
    weights) to `directory` atomically and return its resolved path.

    `overwrite` replaces only a converted jaxtts model (its own `jaxtts.json` and `params`, nothing
    else): any other directory is refused, so a mistyped destination can never delete user files.
    """
    import orbax.checkpoint as ocp

    dst = Path(directory).expanduser().resolve()
    check_destination(dst, overwrite)
    dst.parent.mkdir(parents=True, exist_ok=True)
    files.remove_stale_temporaries(dst)
    # checked again just before the swap: the destination may have changed while we wrote
    with files.atomic_write(dst, directory=True, before_rename=lambda: check_destination(dst, overwrite)) as tmp:
        meta = {"format": FORMAT, "version": VERSION, "model": model, "config": config, "source": source or {}}
        if text is not None:
            meta["text"] = text
        (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
        if license is not None:
            (tmp / LICENSE).write_text(license, encoding="utf-8")
        arrays = jax.tree.map(np.asarray, params)
        with ocp.StandardCheckpointer() as ckptr:
            ckptr.save(tmp / PARAMS, arrays)
            ckptr.wait_until_finished()
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
    foreign = sorted(entries - {META, PARAMS, LICENSE})
    if META not in entries or foreign:
        why = f"it holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}" if foreign else f"it has no {META}"
        raise CheckpointError(f"refusing to replace {dst}: it is not a converted jaxtts model ({why}); "
                              "--force only replaces a directory jaxtts wrote, so choose a new destination directory")
    read_meta(dst)  # a jaxtts.json that is not ours is refused like any foreign file


def read_meta(directory: str | Path) -> dict:
    """The JSON side of a converted model, validated, in format 2's layout."""
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
    if meta.get("model") not in _CONFIGS:
        raise CheckpointError(f"{path} describes a {meta.get('model')!r} model, which jaxtts does not have; "
                              "convert the original checkpoint again")
    if meta["model"] == "fastpitch" and "text" not in meta:  # format 1: the text setup inside the config
        meta["text"] = {k: meta["config"].pop(k) for k in TEXT_SETUP if k in meta["config"]}
    return meta


def load(directory: str | Path) -> Converted:
    """The converted model of a directory, its params as numpy arrays."""
    import orbax.checkpoint as ocp

    directory = Path(directory).expanduser().resolve()
    meta = read_meta(directory)
    # The config is validated and the stored tree's declared shapes compared with the one it implies
    # before anything is read: a tampered directory is one CheckpointError, never a huge allocation.
    expected = _expected_params(meta, what=str(directory))
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
    config = _CONFIGS[meta["model"]].from_dict(meta["config"])
    text = TextEncoder.from_dict(meta["text"]).check(config.n_symbols) if "text" in meta else None
    return Converted(meta["model"], config, jax.tree.map(np.asarray, params), text)


def _expected_params(meta: dict, *, what: str) -> dict:
    """The params tree (shape structs) that the model `meta` describes has, its config validated and
    its size within the budget; every failure is a CheckpointError naming `what`."""
    shapes = {"fastpitch": fastpitch.param_shapes, "hifigan": hifigan.param_shapes}
    if meta["model"] not in shapes:
        raise CheckpointError(f"{what} holds an unknown model kind {meta['model']!r}; convert the original checkpoint again")
    try:
        expected = shapes[meta["model"]](_CONFIGS[meta["model"]].from_dict(meta["config"]))
        limits.check_budget(expected, what=what)
    except (ConfigError, TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(f"{what}: {e}") from None
    return expected


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
    logging.getLogger("asyncio").addFilter(_not_a_late_orbax_read)


def _not_a_late_orbax_read(record: logging.LogRecord) -> bool:
    """asyncio's "Task exception was never retrieved" for the same in-flight reads (the other form
    of the tracebacks above) is dropped when the task's exception was raised inside Orbax or tensorstore."""
    tb = record.exc_info[2] if record.exc_info else None
    while tb is not None:
        if any(name in tb.tb_frame.f_code.co_filename for name in ("orbax", "tensorstore")):
            return False
        tb = tb.tb_next
    return True


def load_any(path: str | Path, expect: str, **options: Any) -> Converted:
    """The converted `expect` model of a converted directory or an original file.

    `options` go to the converter (e.g. `ema=True` for FastPitch, `config=` for jik876 HiFi-GAN).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        converted = load(path)
    elif path.exists():
        import converters

        converted = converters.convert_in_memory(path, expect=expect, **options)
    else:
        raise CheckpointError(f"{path}: no such file or directory; pass a .pt/.nemo checkpoint or a converted directory")
    if converted.model != expect:
        raise CheckpointError(f"{path} holds a {converted.model} model, not a {expect}; load it with "
                              f"jaxtts.load_{converted.model}")
    return converted
