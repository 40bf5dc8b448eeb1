"""Safe loading of PyTorch checkpoints and the steps every converter shares.

Checkpoints come from the internet, so they are only ever read with `weights_only=True`: a file
whose pickle would import and call Python code is refused, never executed.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, BinaryIO, Mapping

import numpy as np
import torch

from jaxtts.errors import CheckpointError

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def load_torch(path: str | Path, *, stream: BinaryIO | None = None) -> dict:
    """Read a `.pt` file on the CPU without executing code; every failure is a `CheckpointError`.

    `stream` reads an archive's member in place instead (seekable), `path` then naming it in messages."""
    if stream is None:
        path = Path(path)
        if not path.exists():
            raise CheckpointError(f"{path}: no such file; check the path to the checkpoint")
        if path.is_dir():
            raise CheckpointError(f"{path} is a directory; expected a PyTorch checkpoint file (.pt)")
        if path.stat().st_size == 0:
            raise CheckpointError(f"{path} is empty (0 bytes); download or copy it again")
    try:
        obj = torch.load(path if stream is None else stream, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises half a dozen types for bad files; sort them by message.
        msg = str(e)
        code = _GLOBAL.search(msg)
        if code:
            raise CheckpointError(
                f"{path} refused: its pickle would import and run `{code.group(1)}`. jaxtts only loads "
                "plain tensor checkpoints. If you trust the file, re-save just its tensors with "
                "torch.save({'state_dict': model.state_dict(), 'config': ...}) and convert that"
            ) from None
        if "central directory" in msg or "EOF" in msg or isinstance(e, (EOFError, OSError)):
            raise CheckpointError(f"{path} is truncated or corrupt ({type(e).__name__}); download it again") from None
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint (neither a torch zip archive nor a tensor pickle: "
            f"{type(e).__name__}); check that this is the .pt file you meant"
        ) from None
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{path} holds a {type(obj).__name__}, not a dict of tensors; expected an NVIDIA/jik876 checkpoint"
        )
    return obj


def strip_prefix(sd: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Drop `prefix` from every key that has it (DDP's `module.`, NeMo's `generator.`)."""
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in sd.items()}


_WN = (("weight_g", "weight_v"), ("parametrizations.weight.original0", "parametrizations.weight.original1"))


def fold_weight_norm(sd: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fold weight norm into plain `weight`s and return float32 numpy arrays.

    W = g * v / ||v||, the norm over every dim but 0 — torch's own `_weight_norm`, so the fold
    matches `remove_weight_norm()` bit for bit. Dim 0 is out-channels for Conv1d but in-channels
    for ConvTranspose1d (weight (in, out, k)); the formula is the same either way.
    """
    out: dict[str, np.ndarray] = {}
    for key, value in sd.items():
        for g_name, v_name in _WN:
            if key.endswith("." + g_name):
                base = key[: -len(g_name)]
                v = sd.get(base + v_name)
                if v is None:
                    raise CheckpointError(f"weight norm: {key} has no matching {base + v_name}")
                w = torch._weight_norm(_tensor(v), _tensor(value), 0)
                out[base + "weight"] = w.numpy()
                break
            if key.endswith("." + v_name):
                if (key[: -len(v_name)] + g_name) not in sd:
                    raise CheckpointError(f"weight norm: {key} has no matching {key[: -len(v_name)] + g_name}")
                break
        else:
            out[key] = to_numpy(value)
    return out


def _tensor(value: Any) -> torch.Tensor:
    """float32 tensor from a tensor or a (possibly read-only) numpy array, which torch won't wrap."""
    return value.float() if isinstance(value, torch.Tensor) else torch.tensor(np.asarray(value), dtype=torch.float32)


def to_numpy(value: Any) -> np.ndarray:
    """Tensor → numpy; floating tensors (fp16/bf16 from AMP runs too) become float32."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float32) if np.issubdtype(value.dtype, np.floating) else value
    t = value.detach().cpu()
    return t.float().numpy() if t.is_floating_point() else t.numpy()


def put(tree: dict, path: tuple[str, ...], value: Any) -> None:
    """tree[path[0]][path[1]]... = value, making the inner dicts on the way (a rename table's target)."""
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def get(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """tree[path[0]][path[1]]...: a rename table read backwards."""
    for part in path:
        tree = tree[part]
    return tree


def check_finite(key: str, value: np.ndarray, *, what: str) -> None:
    """Refuse a NaN or infinite weight now: the model would load, and only its audio would show it."""
    if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
        bad = int(np.size(value) - np.isfinite(value).sum())
        raise CheckpointError(f"{what}: tensor {key} holds {bad} NaN/infinite value(s) of {np.size(value)}; "
                              "the checkpoint is corrupt or its training diverged, so use another one")
