"""jaxtts: FastPitch + HiFi-GAN text-to-speech in JAX, with parity to NVIDIA's published checkpoints.

The public API, re-exported from the modules that own it. Attributes are imported on first use
(PEP 562) so that `jaxtts.text` and the CLI's text commands start without paying for JAX and Flax.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaxtts.checkpoint import load_fastpitch, load_hifigan
    from jaxtts.engine import Synthesizer, synthesize
    from jaxtts.models.fastpitch import FastPitch
    from jaxtts.models.hifigan import HiFiGAN

__all__ = ["load_fastpitch", "load_hifigan", "Synthesizer", "synthesize", "FastPitch", "HiFiGAN"]

_OWNERS = {
    "load_fastpitch": "jaxtts.checkpoint",
    "load_hifigan": "jaxtts.checkpoint",
    "Synthesizer": "jaxtts.engine",
    "synthesize": "jaxtts.engine",
    "FastPitch": "jaxtts.models.fastpitch",
    "HiFiGAN": "jaxtts.models.hifigan",
}


def __getattr__(name: str) -> Any:
    if name in _OWNERS:
        return getattr(importlib.import_module(_OWNERS[name]), name)
    raise AttributeError(f"module 'jaxtts' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
