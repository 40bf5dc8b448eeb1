"""HiFi-GAN generator checkpoints (NVIDIA DeepLearningExamples, jik876/hifi-gan) → jaxtts params.

Every layout reaches one canonical form first — NVIDIA's nested keys, weight norm folded, 3-D conv
weights — and one table then renames it: `rename_table(config)` maps each torch key to its Flax
path and the transpose between the two weight layouts. `to_state_dict` reads the same table
backwards. The result is checked against a freshly initialised Flax tree, so every missing,
unexpected or mis-shaped tensor is reported at once.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from jaxtts.errors import CheckpointError, ConfigError
from jaxtts.models.hifigan import HiFiGANConfig, param_shapes

from jaxtts.limits import check_budget, check_tree

from .load import check_finite, fold_weight_norm, get, put, strip_prefix

# torch → Flax axis order per tensor kind; Flax kernels are (k, in, out).
_TO_FLAX = {
    "conv": (2, 1, 0),  # Conv1d (out, in, k)
    "convT": (2, 0, 1),  # ConvTranspose1d (in, out, k)
    "bias": (0,),
}
_FLAT_RESBLOCK = re.compile(r"^resblocks\.(\d+)\.(?!\d+\.)(.+)$")


def rename_table(config: HiFiGANConfig) -> dict[str, tuple[tuple[str, ...], str]]:
    """torch key (nested, folded) → (Flax param path, tensor kind), in state_dict order."""
    table: dict[str, tuple[tuple[str, ...], str]] = {}

    def conv(torch_name: str, flax_path: tuple[str, ...], kind: str = "conv") -> None:
        table[f"{torch_name}.weight"] = ((*flax_path, "kernel"), kind)
        table[f"{torch_name}.bias"] = ((*flax_path, "bias"), "bias")

    conv("conv_pre", ("conv_pre",))
    for i in range(len(config.upsample_rates)):
        conv(f"ups.{i}", (f"ups_{i}",), "convT")
    for i in range(len(config.upsample_rates)):
        for j, dilations in enumerate(config.resblock_dilation_sizes):
            block = (f"resblocks_{i}_{j}",)
            for convs in ("convs1", "convs2") if config.resblock == "1" else ("convs",):
                for n in range(len(dilations)):
                    conv(f"resblocks.{i}.{j}.{convs}.{n}", (*block, f"{convs}_{n}"))
    conv("conv_post", ("conv_post",))
    return table


def canonical_state_dict(sd: Mapping[str, Any], config: HiFiGANConfig) -> dict[str, np.ndarray]:
    """Any known layout → nested keys, weight norm folded, 3-D conv weights, float32 numpy."""
    sd = fold_weight_norm(strip_prefix(sd, "module."))
    k = len(config.resblock_kernel_sizes)  # flat index = stage·k + kernel (NVIDIA hard-codes 3)
    out = {}
    for key, value in sd.items():
        flat = _FLAT_RESBLOCK.match(key)
        if flat:
            n = int(flat.group(1))
            key = f"resblocks.{n // k}.{n % k}.{flat.group(2)}"
        if value.ndim == 4 and value.shape[-1] == 1:  # channels-last Conv2d (k, 1) export
            value = value[..., 0]
        out[key] = value
    return out


def from_state_dict(sd: Mapping[str, Any], config: HiFiGANConfig, *, what: str = "checkpoint") -> dict:
    """A generator state_dict in any known layout → Flax params (nested dict of float32 numpy),
    with no NaN or infinity."""
    expected = param_shapes(config)
    check_budget(expected, what=what)
    table = rename_table(config)
    params: dict = {}
    for key, value in canonical_state_dict(sd, config).items():
        check_finite(key, value, what=what)
        path, kind = table.get(key, ((key,), None))  # unknown keys stay visible to the shape check
        if kind is not None and value.ndim == len(_TO_FLAX[kind]):
            value = np.ascontiguousarray(value.transpose(_TO_FLAX[kind]))
        put(params, path, value)
    check_tree(params, expected, what=what)
    return params


def to_state_dict(params: Mapping[str, Any], config: HiFiGANConfig) -> dict[str, np.ndarray]:
    """Flax params → NVIDIA nested state_dict with folded `weight`s (the table read backwards)."""
    out = {}
    for key, (path, kind) in rename_table(config).items():
        value = np.asarray(get(params, path), np.float32)
        out[key] = np.ascontiguousarray(value.transpose(np.argsort(_TO_FLAX[kind])))
    return out


def _read_config_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"HiFi-GAN config {path} does not exist; pass the config.json that came with the checkpoint") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"HiFi-GAN config {path} is not readable JSON ({e})") from None


def _foreign(ckpt: Mapping[str, Any], path: Path) -> str | None:
    """Why `ckpt` is not a generator file, or None."""
    keys = set(map(str, ckpt))
    if keys & {"state_dict", "ema_state_dict"} or any(k.removeprefix("module.").startswith("encoder.") for k in keys):
        return (f"{path} is a FastPitch checkpoint, not a HiFi-GAN vocoder; load it with jaxtts.load_fastpitch "
                "and pass the hifigan_gen_checkpoint_*.pt / g_XXXXXXXX file as the vocoder")
    if keys & {"mpd", "msd"}:
        return (f"{path} is a HiFi-GAN discriminator/optimizer checkpoint; the vocoder is the generator file "
                "(hifigan_gen_checkpoint_*.pt or g_XXXXXXXX)")
    if "generator" not in keys and not any(k.removeprefix("module.").startswith("conv_pre.") for k in keys):
        shown = ", ".join(sorted(keys)[:8])
        return f"{path} holds no HiFi-GAN generator (top-level keys: {shown}); expected {{'generator': state_dict, ...}}"
    return None


def from_checkpoint(ckpt: dict, path: Path, *, config: dict | str | Path | None = None) -> tuple[HiFiGANConfig, dict]:
    """(config, params) from a loaded generator file.

    The config is, in order: `config` (a dict or a config.json path), the file's own `config`
    (NVIDIA), or `config.json` beside the file (jik876 keeps it there).
    """
    path = Path(path)
    reason = _foreign(ckpt, path)
    if reason:
        raise CheckpointError(reason)
    sd = ckpt["generator"] if "generator" in ckpt else ckpt
    if not isinstance(sd, Mapping):
        raise CheckpointError(f"{path}: 'generator' holds a {type(sd).__name__}, not a state_dict")
    if isinstance(config, (str, Path)):
        raw = _read_config_json(Path(config).expanduser())
    elif config is not None:
        raw = dict(config)
    elif isinstance(ckpt.get("config"), Mapping):
        # train_setup carries hop_length/num_mels: from_dict checks them against the rates.
        raw = {**(ckpt.get("train_setup") or {}), **ckpt["config"]}
    elif (path.parent / "config.json").is_file():
        raw = _read_config_json(path.parent / "config.json")
    else:
        raise CheckpointError(
            f"{path} has no HiFi-GAN config: jik876 g_XXXXXXXX files keep it in a separate config.json. "
            "Put that config.json beside the checkpoint or pass it explicitly (config=PATH)"
        )
    try:
        cfg = HiFiGANConfig.from_dict(raw)
    except ConfigError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return cfg, from_state_dict(sd, cfg, what=str(path))
