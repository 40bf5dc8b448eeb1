"""HiFi-GAN discriminator checkpoints (NVIDIA's `hifigan_discrim_checkpoint_<epoch>.pt`, jik876's
`do_XXXXXXXX`) ↔ jaxtts (params, spectral state).

The Flax modules keep torch's names and layouts (`jaxtts.models.discriminator`), so a key maps to a
path by turning `name.<i>` into `name_<i>`; spectral norm's buffers `weight_u`/`weight_v` go to the
`spectral` collection. The result is checked against a freshly initialised tree.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import jax
import numpy as np

from jaxtts.errors import CheckpointError
from jaxtts.models import discriminator as D

from jaxtts.limits import check_tree

from .load import put, strip_prefix, to_numpy

_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
_BUFFERS = ("weight_u", "weight_v")


def key_to_path(key: str) -> tuple[str, ...]:
    """`discriminators.0.convs.1.weight_v` → ("discriminators_0", "convs_1", "weight_v")."""
    return tuple(_INDEX.sub(r"_\1", key).split("."))


def path_to_key(path: tuple[str, ...]) -> str:
    return ".".join(re.sub(r"_(\d+)(?=_|$)", r".\1", p) for p in path)


def _is_buffer(sd: Mapping[str, Any], key: str) -> bool:
    base, _, leaf = key.rpartition(".")
    return leaf in _BUFFERS and f"{base}.weight_orig" in sd


def shapes(config: D.DiscriminatorConfig) -> tuple[dict, dict]:
    """(params, spectral) of `config` as ShapeDtypeStructs, without allocating them."""
    return jax.eval_shape(lambda k: D.init(config, k), jax.random.key(0))


def from_state_dicts(mpd: Mapping[str, Any], msd: Mapping[str, Any], config: D.DiscriminatorConfig = D.NVIDIA, *,
                     what: str = "discriminator checkpoint") -> tuple[dict, dict]:
    """MPD and MSD state_dicts (DDP's `module.` allowed) → (params, spectral) as float32 numpy trees."""
    params: dict = {}
    spectral: dict = {}
    for name, sd in (("mpd", mpd), ("msd", msd)):
        if not isinstance(sd, Mapping):
            raise CheckpointError(f"{what}: '{name}' holds a {type(sd).__name__}, not a state_dict")
        sd = strip_prefix(sd, "module.")
        for key, value in sd.items():
            value = to_numpy(value)
            if _is_buffer(sd, key):
                put(spectral, (name, *key_to_path(key)), value)
            else:
                put(params, (name, *key_to_path(key)), value)
    want_p, want_s = shapes(config)
    check_tree(params, want_p, what=what)
    check_tree(spectral, want_s, what=what)
    return params, spectral


def to_state_dicts(params: Mapping[str, Any], spectral: Mapping[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """(params, spectral) → {"mpd": state_dict, "msd": state_dict}, keys in upstream's order."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in ("mpd", "msd"):
        flat = {path: v for path, v in _leaves(params[name])}
        flat.update({path: v for path, v in _leaves(spectral.get(name, {}))})
        # Upstream order: module by module; within a conv bias, then weight_g/v or weight_orig, u, v.
        rank = {"bias": 0, "weight_g": 1, "weight_orig": 1, "weight_u": 2, "weight_v": 3}
        order = sorted(flat, key=lambda p: (tuple(_sort_key(x) for x in p[:-1]), rank[p[-1]]))
        out[name] = {path_to_key(p): np.asarray(flat[p], np.float32) for p in order}
    return out


def _sort_key(part: str) -> tuple:
    m = re.match(r"^(.*?)_(\d+)$", part)
    # `convs_<i>` before `conv_post`, as the modules are registered.
    return (0, m.group(1), int(m.group(2))) if m else (1, part, 0)


def _leaves(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()):
    for k, v in tree.items():
        if isinstance(v, Mapping):
            yield from _leaves(v, (*prefix, k))
        else:
            yield (*prefix, k), v


def from_checkpoint(ckpt: Mapping[str, Any], path: str | Path) -> tuple[D.DiscriminatorConfig, dict, dict, dict]:
    """(config, params, spectral, train_state) from a loaded discriminator file.

    NVIDIA's file carries `train_state` (and grad-scaler states); jik876's `do_` file carries only
    `steps` and `epoch`, and trains MSD with jik876's pooling padding. `train_state` is NVIDIA's dict
    or {"steps", "epoch"}; the torch optimizer states are not converted.
    """
    path = Path(path)
    keys = set(map(str, ckpt))
    if not {"mpd", "msd"} <= keys:
        hint = (" (a generator file: pass the matching hifigan_discrim_checkpoint_*.pt / do_XXXXXXXX)"
                if "generator" in keys or any(k.startswith("conv_pre") for k in keys) else "")
        raise CheckpointError(f"{path} holds no HiFi-GAN discriminators (top-level keys: "
                              f"{', '.join(sorted(keys)[:8])}); expected 'mpd' and 'msd'{hint}")
    nvidia = "train_state" in keys or "scaler_d" in keys
    config = D.NVIDIA if nvidia else D.JIK876
    params, spectral = from_state_dicts(ckpt["mpd"], ckpt["msd"], config, what=str(path))
    state = dict(ckpt["train_state"]) if nvidia and isinstance(ckpt.get("train_state"), Mapping) else {
        k: ckpt[k] for k in ("steps", "epoch") if k in ckpt}
    return config, params, spectral, state
