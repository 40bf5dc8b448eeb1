"""Port published PyTorch checkpoints (NVIDIA DLE, jik876, NeMo) into jaxtts models, once.

`convert(src, dst)` detects what `src` is, converts it with the model's own converter (one rename
table + a shape check against a freshly initialised Flax tree) and saves an Orbax directory.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from jaxtts import checkpoint, hub
from jaxtts.errors import CheckpointError

from .load import load_torch

def detect(ckpt: dict, path: Path) -> str:
    """Which model a loaded checkpoint dict holds, from its structure alone."""
    if "generator" in ckpt:
        return "hifigan"
    if "state_dict" in ckpt or "ema_state_dict" in ckpt:
        return "fastpitch"
    keys = [k for k in ckpt if isinstance(k, str)]
    if any(k.removeprefix("module.").startswith("encoder.word_emb") for k in keys):
        return "fastpitch"
    if any(k.removeprefix("module.").startswith("conv_pre.") for k in keys):
        return "hifigan"
    shown = ", ".join(map(str, list(ckpt)[:8]))
    raise CheckpointError(
        f"{path} is neither a FastPitch nor a HiFi-GAN generator checkpoint (top-level keys: {shown}); "
        "expected NVIDIA DeepLearningExamples, jik876/hifi-gan or NeMo files"
    )


def convert_in_memory(path: str | Path, *, expect: str | None = None, **options: Any) -> tuple[str, dict, dict]:
    """(model kind, config dict, params) converted from an original checkpoint file."""
    path = Path(path).expanduser()
    if path.suffix == ".nemo":
        from . import nemo

        model, config, params = nemo.from_archive(path, **options)
        _expect(model, expect, path)
        return model, config, params
    ckpt = load_torch(path)
    model = detect(ckpt, path)
    _expect(model, expect, path)  # before converting: a wrong model needs no conversion to be refused
    from_checkpoint = importlib.import_module(f"converters.{model}").from_checkpoint
    unknown = set(options) - set(inspect.signature(from_checkpoint).parameters)
    if unknown:
        raise CheckpointError(f"{path} is a {model} checkpoint; option(s) {', '.join(sorted(unknown))} do not apply to it")
    cfg, params = from_checkpoint(ckpt, path, **options)
    return model, cfg.to_dict(), params


def _expect(model: str, expect: str | None, path: Path) -> None:
    if expect is not None and model != expect:
        raise CheckpointError(f"{path} is a {model} checkpoint, not a {expect}; pass it where a {model} is expected")


def convert(src: str | Path, dst: str | Path, *, expect: str | None = None, overwrite: bool = False,
            **options: Any) -> Path:
    """Convert `src` (.pt or .nemo) into the jaxtts directory `dst`; nothing is written on failure."""
    src = Path(src).expanduser()
    model, config, params = convert_in_memory(src, expect=expect, **options)
    plain_options = {k: v if isinstance(v, (bool, int, float, str)) else str(v) for k, v in options.items()}
    source = {"file": src.name, "bytes": src.stat().st_size, "sha256": hub.sha256(src), "options": plain_options}
    return checkpoint.save(dst, model=model, config=config, params=params, source=source, overwrite=overwrite)
