"""Port published PyTorch checkpoints (NVIDIA DLE, jik876, NeMo) to jaxtts models: upstream files in,
config objects and Flax params out.

`convert_in_memory(src)` detects what `src` is and converts it with the model's own converter
(one rename table + a shape check against a freshly initialised Flax tree). Writing the result to
disk is `jaxtts.checkpoint`'s: nothing here imports it. Importing this package imports no torch
(`jaxtts.checkpoint` reads converted models with it), only converting a file does.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

from jaxtts.errors import CheckpointError

from .converted import Converted

__all__ = ["Converted", "convert_in_memory", "detect"]


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


def convert_in_memory(path: str | Path, *, expect: str | None = None, **options: Any) -> Converted:
    """The converted model of an original checkpoint file (.pt or .nemo)."""
    path = Path(path).expanduser()
    if path.suffix == ".nemo":
        from . import nemo

        converted = nemo.from_archive(path, **options)
        _expect(converted.model, expect, path)
        return converted
    from .load import load_torch  # torch, only for an original file

    ckpt = load_torch(path)
    model = detect(ckpt, path)
    _expect(model, expect, path)  # before converting: a wrong model needs no conversion to be refused
    converter = importlib.import_module(f"converters.{model}")
    unknown = set(options) - set(inspect.signature(converter.from_checkpoint).parameters)
    if unknown:
        raise CheckpointError(f"{path} is a {model} checkpoint; option(s) {', '.join(sorted(unknown))} "
                              "do not apply to it")
    config, params = converter.from_checkpoint(ckpt, path, **options)
    text = converter.text_encoder(ckpt, path, config) if model == "fastpitch" else None
    return Converted(model, config, params, text)


def _expect(model: str, expect: str | None, path: Path) -> None:
    if expect is not None and model != expect:
        raise CheckpointError(f"{path} is a {model} checkpoint, not a {expect}; pass it where a {model} is expected")
