"""Voice controls with NVIDIA's semantics: one dataclass from the command line to the compiled programs.

`Controls` is a pytree: its values are traced (new values never recompile), `pitch_transform` is
static (each distinct function compiles its own programs). Every caller validates it with `check`,
and the programs read its fields by name. The CLI's flags are its fields that carry a `help`.

`pace` and `pitch_shift` (`PER_TOKEN`) are (B, N) arrays inside the programs, one value per token,
so that a span of a sentence (SSML's `<prosody>`) can be slower or higher than the rest: a number
or a per-text value is broadcast to every token, which computes exactly what one value per text
computes, and a per-token value is data like any other, so no value ever recompiles.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxtts.errors import InputError

PitchTransform = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array]
# Bounds that keep one request from exhausting the machine (a server may expose "speed"): slower than
# PACE[0] is no longer speech, and pace and max_duration multiply every duration.
PACE = (0.1, 10.0)
MAX_DURATION = 1000.0
PER_TOKEN = ("pace", "pitch_shift")  # the controls that may also be one value per token


def _control(default: Any, help: str | None = None, metavar: str | None = None) -> Any:
    return dataclasses.field(default=default, metadata={"help": help, "metavar": metavar} if help else {})


@dataclasses.dataclass(frozen=True)
class Controls:
    """How to speak. Each value is a number (or flag) for every text, or one per text ((B,) arrays,
    where a model's own `infer` takes a batch); `pace` and `pitch_shift` also one per token ((B, N)
    arrays like the ids).

    pace > 1 speaks faster; pitch_shift in Hz; pitch_amplify scales the contour around the mean;
    flatten/invert as NVIDIA's inference.py; pitch_transform(pitch, n_tokens, mean, std) is a jax
    function (see `jaxtts.models.fastpitch.encode`); speaker selects a speaker of a multi-speaker
    model; denoise is the strength of NVIDIA's denoiser (0 = off); max_duration caps a token's
    predicted frames.
    """

    pace: Any = _control(1.0, "speaking rate; 1.2 is 20% faster (default 1.0)")
    pitch_shift: Any = _control(0.0, "raise (or lower) the pitch by HZ", "HZ")
    pitch_amplify: Any = _control(1.0, "scale the pitch contour around the speaker's mean (default 1.0)", "FACTOR")
    pitch_flatten: Any = _control(False, "speak on one pitch, the speaker's mean")
    pitch_invert: Any = _control(False, "mirror the pitch contour around the speaker's mean")
    pitch_transform: PitchTransform | None = None
    speaker: Any = _control(0, "speaker id of a multi-speaker model (default 0)")
    denoise: Any = _control(0.0, "NVIDIA's vocoder denoiser; their scripts use 0.01 (default 0: off)", "STRENGTH")
    max_duration: Any = _control(75.0, "the most mel frames one symbol may last (default 75)", "FRAMES")

    def check(self, n_speakers: int, batch: int | None = None, tokens: int | None = None) -> Controls:
        """`self` if every value is valid for a model with `n_speakers` speakers, else an InputError
        naming the control. With `batch`, values may also be one per text ((batch,) arrays); with
        `tokens` too, `PER_TOKEN` values one per token ((batch, tokens) arrays)."""
        def values(name: str, kind: str) -> np.ndarray:
            value = getattr(self, name)
            v = np.asarray(value)
            shapes = [()] + [(batch,)] * (batch is not None)
            shapes += [(batch, tokens)] * (batch is not None and tokens is not None and name in PER_TOKEN)
            if v.shape not in shapes:
                per_text = f" or one per text ({batch})" if batch is not None else ""
                per_token = f" or one per token ({batch}, {tokens})" if len(shapes) == 3 else ""
                raise InputError(f"{name} must be a {kind}{per_text}{per_token}, got shape {v.shape}")
            if kind == "flag":
                if v.dtype != bool:
                    raise InputError(f"{name} must be True or False, got {value!r}")
                return v
            if v.dtype == bool or not np.issubdtype(v.dtype, np.number):
                raise InputError(f"{name} must be a number, got {value!r}")
            if not np.isfinite(v.astype(np.float64)).all():
                raise InputError(f"{name} must be finite, got {value!r}")
            return v

        spk = values("speaker", "number")
        if not np.issubdtype(spk.dtype, np.integer) or (spk < 0).any() or (spk >= n_speakers).any():
            raise InputError(f"speaker {self.speaker!r} is out of range: this model has speakers 0..{n_speakers - 1}")
        pace = values("pace", "number")
        if ((pace < PACE[0]) | (pace > PACE[1])).any():
            raise InputError(f"pace must be between {PACE[0]} and {PACE[1]} (1.0 = normal, 2.0 = twice as fast), "
                             f"got {self.pace!r}")
        max_duration = values("max_duration", "number")
        if ((max_duration <= 0) | (max_duration > MAX_DURATION)).any():
            raise InputError(f"max_duration must be > 0 and at most {MAX_DURATION} frames per token, "
                             f"got {self.max_duration!r}")
        if (values("denoise", "number") < 0).any():
            raise InputError(f"denoise must be >= 0 (0 = off, 0.01 = NVIDIA's scripts), got {self.denoise!r}")
        values("pitch_shift", "number")
        values("pitch_amplify", "number")
        values("pitch_flatten", "flag")
        values("pitch_invert", "flag")
        if self.pitch_transform is not None and not callable(self.pitch_transform):
            raise InputError(f"pitch_transform must be a function (pitch, n_tokens, mean, std) -> pitch, "
                             f"got {self.pitch_transform!r}")
        return self

    def arrays(self) -> Controls:
        """The values as numpy arrays of the dtypes the programs compute with (to hand to a device)."""
        return dataclasses.replace(self, **{f: np.asarray(getattr(self, f), dtype) for f, dtype in _DTYPES.items()})

    def per_item(self, b: int, n: int) -> Controls:
        """The values as (b,) arrays, one per batch item, and `PER_TOKEN` ones as (b, n) arrays, one
        per token (traceable)."""
        def spread(name: str, dtype: Any) -> jax.Array:
            v = jnp.asarray(getattr(self, name), dtype)
            if name not in PER_TOKEN:
                return jnp.broadcast_to(v, (b,))
            return jnp.broadcast_to(v[:, None] if v.ndim == 1 else v, (b, n))

        return dataclasses.replace(self, **{f: spread(f, dtype) for f, dtype in _DTYPES.items()})


_DTYPES = {"pace": np.float32, "pitch_shift": np.float32, "pitch_amplify": np.float32, "pitch_flatten": np.bool_,
           "pitch_invert": np.bool_, "speaker": np.int32, "denoise": np.float32, "max_duration": np.float32}
jax.tree_util.register_dataclass(Controls, data_fields=list(_DTYPES), meta_fields=["pitch_transform"])
