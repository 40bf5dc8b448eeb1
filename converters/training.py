"""A HiFi-GAN generator state_dict → the weight-norm (training) form of `jaxtts.train.hifigan`.

Training keeps torch's `weight_g`/`weight_v` as they are, so resuming or fine-tuning a checkpoint
continues NVIDIA's/jik876's parametrisation exactly (Adam is not invariant to rescaling v). A
checkpoint holding folded `weight`s is wrapped as `torch.nn.utils.weight_norm` wraps a plain conv:
g = ‖W‖, v = W.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from jaxtts.errors import CheckpointError
from jaxtts.models.hifigan import HiFiGANConfig
from jaxtts.train import hifigan as train_hifigan

from .discriminator import key_to_path
from .hifigan import param_shapes
from .load import put, strip_prefix, to_numpy

_FLAT_RESBLOCK = re.compile(r"^resblocks\.(\d+)\.(?!\d+\.)(.+)$")
_PARAMETRIZATIONS = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}


def generator_train_params(sd: Mapping[str, Any], config: HiFiGANConfig, *, what: str = "checkpoint") -> dict:
    """Any generator layout jaxtts reads (nested/flat resblocks, `module.`, parametrizations,
    channels-last 4-D) → {path: {"weight_g", "weight_v", "bias"}} in torch layout, float32 numpy."""
    sd = strip_prefix(sd, "module.")
    k = len(config.resblock_kernel_sizes)
    convs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in sd.items():
        for old, new in _PARAMETRIZATIONS.items():
            if key.endswith("." + old):
                key = key[: -len(old)] + new
        flat = _FLAT_RESBLOCK.match(key)
        if flat:
            n = int(flat.group(1))
            key = f"resblocks.{n // k}.{n % k}.{flat.group(2)}"
        value = to_numpy(value)
        if value.ndim == 4 and value.shape[-1] == 1:
            value = value[..., 0]
        base, _, leaf = key.rpartition(".")
        convs.setdefault(base, {})[leaf] = value
    out: dict = {}
    for base, parts in convs.items():
        path = key_to_path(base)
        if "weight" in parts and not {"weight_g", "weight_v"} & set(parts):
            v = parts.pop("weight")
            parts = {**parts, "weight_v": v, "weight_g": np.sqrt(np.sum(np.square(v, dtype=np.float64), axis=(1, 2), keepdims=True)).astype(np.float32)}
        for leaf, value in parts.items():
            put(out, (*path, leaf), value)
    _check(out, config, what)
    return out


def _check(params: dict, config: HiFiGANConfig, what: str) -> None:
    want = {}
    for path, conv in train_hifigan._convs(param_shapes(config)):
        shape = tuple(np.array(conv["kernel"].shape)[list(np.argsort(train_hifigan._to_flax(path)))])
        want[path] = {"weight_g": (shape[0], 1, 1), "weight_v": shape, "bias": tuple(conv["bias"].shape)}
    got = {path: {k: tuple(np.shape(v)) for k, v in conv.items()} for path, conv in train_hifigan._convs(params)}
    if got != want:
        missing = sorted("/".join(p) for p in set(want) - set(got))
        unexpected = sorted("/".join(p) for p in set(got) - set(want))
        wrong = sorted(f"{'/'.join(p)}: {got[p]} vs {want[p]}" for p in set(got) & set(want) if got[p] != want[p])
        raise CheckpointError(
            f"{what} is not a weight-norm generator of this config — missing {missing[:6]}, unexpected "
            f"{unexpected[:6]}, wrong shape {wrong[:4]}. Is this the generator file with its own config?")
