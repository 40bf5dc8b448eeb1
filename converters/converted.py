"""What every converter returns."""
from __future__ import annotations

from typing import NamedTuple

from jaxtts.models.fastpitch import FastPitchConfig
from jaxtts.models.hifigan import HiFiGANConfig
from jaxtts.text.encoder import TextEncoder


class Converted(NamedTuple):
    """One converted checkpoint: its model kind ("fastpitch" | "hifigan"), the config that shapes the
    model, its params in the checkpoint form, and (FastPitch) how its training text was encoded."""

    model: str
    config: FastPitchConfig | HiFiGANConfig
    params: dict
    text: TextEncoder | None = None
