"""What a checkpoint may ask of the machine, checked before anything is built, read or allocated.

A config read from a file decides how many layers are traced, how large every tensor is and how
much an archive may inflate, and a converted directory's params are read as its metadata declares
them. A hostile or corrupt file must be refused while that is still cheap: every config field has a
range (several times any published model's value, so they only ever stop nonsense), a model has a
parameter budget, and params are compared with the tree their config implies before they are read.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxtts.errors import CheckpointError, ConfigError

MAX_PARAMS = 1 << 30  # elements in one model: 4 GiB of float32


def check_ranges(what: str, config: Any, ranges: Mapping[str, tuple[float, float]]) -> None:
    """Every field named in `ranges` (a number or nested tuples of numbers; None is skipped) lies in [lo, hi]."""
    for name, (lo, hi) in ranges.items():
        value = getattr(config, name)
        if value is None:
            continue
        numbers = _numbers(value)
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in numbers):
            raise ConfigError(f"{what}: {name} must be a number or a list of numbers, got {_show(value)}")
        if not all(lo <= v <= hi for v in numbers):  # NaN fails too
            raise ConfigError(f"{what}: {name} {_show(value)} is outside [{lo:,}, {hi:,}]; the checkpoint's "
                              "config is corrupt or was not written for this model")


def _numbers(value: Any) -> list[float]:
    return [x for v in value for x in _numbers(v)] if isinstance(value, tuple) else [value]


def _show(value: Any) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def n_params(shapes: Mapping[str, Any]) -> int:
    """Number of elements in a (nested) tree of arrays or shape structs."""
    return sum(math.prod(np.shape(v)) for v in flatten(shapes).values())


def check_budget(shapes: Mapping[str, Any], *, what: str) -> None:
    n = n_params(shapes)
    if n > MAX_PARAMS:
        raise ConfigError(f"{what}: its config describes {n:,} parameters, more than jaxtts's limit of "
                          f"{MAX_PARAMS:,}; the config is corrupt or not a FastPitch/HiFi-GAN of a usable size")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a/b/c": leaf} of a nested mapping."""
    flat: dict[str, Any] = {}
    for k, v in tree.items():
        path = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            flat.update(flatten(v, path))
        else:
            flat[path] = v
    return flat


def check_tree(got: Mapping[str, Any], expected: Mapping[str, Any], *, what: str) -> None:
    """Compare a params tree (arrays or anything with a shape) with the one its config implies;
    report every missing, unexpected or mis-shaped entry at once."""
    have, want = flatten(got), flatten(expected)
    missing = sorted(set(want) - set(have))
    unexpected = sorted(set(have) - set(want))
    mismatched = [f"{k}: checkpoint {tuple(np.shape(have[k]))} vs model {tuple(np.shape(want[k]))}"
                  for k in sorted(set(have) & set(want)) if tuple(np.shape(have[k])) != tuple(np.shape(want[k]))]
    if missing or unexpected or mismatched:
        parts = []
        for title, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mismatched)):
            if items:
                shown = ", ".join(items[:8]) + (f", … ({len(items) - 8} more)" if len(items) > 8 else "")
                parts.append(f"{title} ({len(items)}): {shown}")
        raise CheckpointError(
            f"{what} does not match the model its config describes — {'; '.join(parts)}. "
            "Is this the right file for this model, with its own config?"
        )
