"""jaxtts: FastPitch + HiFi-GAN text-to-speech in JAX, with parity to NVIDIA's published checkpoints.

The public API is below. Attributes are imported on first use (PEP 562) so that `jaxtts.text` and
the CLI's text commands start without paying for JAX and Flax.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaxtts.engine import Synthesizer, synthesize
    from jaxtts.models.fastpitch import FastPitch
    from jaxtts.models.hifigan import HiFiGAN

__all__ = ["load_fastpitch", "load_hifigan", "Synthesizer", "synthesize", "FastPitch", "HiFiGAN"]

_LAZY = {
    "Synthesizer": "jaxtts.engine",
    "synthesize": "jaxtts.engine",
    "FastPitch": "jaxtts.models.fastpitch",
    "HiFiGAN": "jaxtts.models.hifigan",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'jaxtts' has no attribute {name!r}")


def load_fastpitch(path: str | Path, *, dtype: Any = None, ema: bool = False) -> "FastPitch":
    """FastPitch from an NVIDIA `.pt`, a NeMo `.nemo` or a converted directory.

    `ema=True` takes the checkpoint's `ema_state_dict` (an error if it has none).
    """
    import jax.numpy as jnp

    from jaxtts import checkpoint
    from jaxtts.models.fastpitch import FastPitch, FastPitchConfig

    options = {"ema": True} if ema else {}
    config, params = checkpoint.load_any(path, "fastpitch", **options)
    return FastPitch(FastPitchConfig.from_dict(config), params, dtype=dtype or jnp.float32)


def load_hifigan(path: str | Path, *, dtype: Any = None, config: str | Path | None = None) -> "HiFiGAN":
    """HiFi-GAN generator from an NVIDIA/jik876 `.pt`, a NeMo `.nemo` or a converted directory.

    `config` is the `config.json` of a jik876 `g_XXXXXXXX` file when it is not beside the file.
    """
    import jax.numpy as jnp

    from jaxtts import checkpoint
    from jaxtts.models.hifigan import HiFiGAN, HiFiGANConfig

    options = {"config": config} if config is not None else {}
    cfg, params = checkpoint.load_any(path, "hifigan", **options)
    return HiFiGAN(HiFiGANConfig.from_dict(cfg), params, dtype=dtype or jnp.float32)
