"""FastPitch checkpoints (NVIDIA DeepLearningExamples) → jaxtts params, and back.

Two on-disk layouts: the current trainer's (`state_dict` unprefixed, optional `ema_state_dict`)
and the 2021 one (DDP `module.` prefix, `ema_state_dict: None`). Both reduce to one unprefixed
state_dict; `rename_table(config)` then maps each torch key to its Flax path and says whether the
weight's axes are reversed (Linear (out, in) → (in, out), Conv1d (out, in, k) → (k, in, out);
reversal is its own inverse, so `to_state_dict` reads the same table backwards). The training-only
aligner (`attention.*`), optimizer, scaler and train_setup are ignored. The result is checked
against a freshly initialised Flax tree: every missing, unexpected or mis-shaped tensor is
reported at once.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from jaxtts.errors import CheckpointError, ConfigError
from jaxtts.models.fastpitch import TEXT_SETUP, FastPitchConfig, param_shapes
from jaxtts.text.symbols import SYMBOL_SETS

from .load import check_shapes, get, put, strip_prefix, to_numpy

TRAINING_ONLY = "attention."


def rename_table(config: FastPitchConfig, aligner: bool = False) -> dict[str, tuple[tuple[str, ...], bool]]:
    """torch key → (Flax param path, reverse axes?), in NVIDIA's state_dict order; `aligner` adds
    the training-only `attention.*` keys (`jaxtts.models.aligner`)."""
    table: dict[str, tuple[tuple[str, ...], bool]] = {}

    def weight(torch_name: str, path: tuple[str, ...], flax_leaf: str, reverse: bool, bias: bool = True) -> None:
        table[f"{torch_name}.weight"] = ((*path, flax_leaf), reverse)
        if bias:
            table[f"{torch_name}.bias"] = ((*path, "bias"), False)

    def linear(t: str, p: tuple[str, ...], bias: bool = True) -> None:
        weight(t, p, "kernel", True, bias)

    conv = linear  # Conv1d weights reverse (out, in, k) → (k, in, out), like Linear's transpose.

    def norm(t: str, p: tuple[str, ...]) -> None:
        weight(t, p, "scale", False)

    def fft(name: str, n_layers: int) -> None:
        table[f"{name}.pos_emb.inv_freq"] = ((name, "pos_emb", "inv_freq"), False)
        for i in range(n_layers):
            t, p = f"{name}.layers.{i}", (name, f"layers_{i}")
            linear(f"{t}.dec_attn.qkv_net", (*p, "dec_attn", "qkv_net"))
            linear(f"{t}.dec_attn.o_net", (*p, "dec_attn", "o_net"), bias=False)
            norm(f"{t}.dec_attn.layer_norm", (*p, "dec_attn", "layer_norm"))
            conv(f"{t}.pos_ff.CoreNet.0", (*p, "pos_ff", "CoreNet_0"))  # .1 is ReLU, .3 Dropout
            conv(f"{t}.pos_ff.CoreNet.2", (*p, "pos_ff", "CoreNet_2"))
            norm(f"{t}.pos_ff.layer_norm", (*p, "pos_ff", "layer_norm"))

    def predictor(name: str, n_layers: int) -> None:
        for i in range(n_layers):
            conv(f"{name}.layers.{i}.conv", (name, f"layers_{i}", "conv"))
            norm(f"{name}.layers.{i}.norm", (name, f"layers_{i}", "norm"))
        linear(f"{name}.fc", (name, "fc"))

    c = config
    table["pitch_mean"] = (("pitch_mean",), False)
    table["pitch_std"] = (("pitch_std",), False)
    table["encoder.word_emb.weight"] = (("encoder", "word_emb", "embedding"), False)
    fft("encoder", c.in_fft_n_layers)
    if c.n_speakers > 1:
        table["speaker_emb.weight"] = (("speaker_emb", "embedding"), False)
    predictor("duration_predictor", c.dur_predictor_n_layers)
    fft("decoder", c.out_fft_n_layers)
    predictor("pitch_predictor", c.pitch_predictor_n_layers)
    conv("pitch_emb", ("pitch_emb",))
    if c.energy_conditioning:
        predictor("energy_predictor", c.energy_predictor_n_layers)
        conv("energy_emb", ("energy_emb",))
    linear("proj", ("proj",))
    if aligner:
        for i in (0, 2, 4):
            conv(f"attention.query_proj.{i}.conv", ("attention", f"query_proj_{i}", "conv"))
        conv("attention.attn_proj", ("attention", "attn_proj"))  # Conv2d (1, 80, 1, 1) reverses the same way
        for i in (0, 2):
            conv(f"attention.key_proj.{i}.conv", ("attention", f"key_proj_{i}", "conv"))
    return table


def _reverse(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.transpose(x))


def from_state_dict(sd: Mapping[str, Any], config: FastPitchConfig, *, what: str = "checkpoint") -> dict:
    """An NVIDIA FastPitch state_dict (either layout) → Flax params (nested dict of float32 numpy)."""
    table = rename_table(config)
    params: dict = {}
    for key, value in strip_prefix(sd, "module.").items():
        if key.startswith(TRAINING_ONLY):
            continue
        path, reverse = table.get(key, ((key,), False))  # unknown keys stay visible to the shape check
        value = to_numpy(value)
        put(params, path, _reverse(value) if reverse else value)
    check_shapes(params, param_shapes(config), what=what)
    return params


def to_state_dict(params: Mapping[str, Any], config: FastPitchConfig) -> dict[str, np.ndarray]:
    """Flax params → NVIDIA state_dict (current layout, without the training-only `attention.*`)."""
    out = {}
    for key, (path, reverse) in rename_table(config).items():
        value = np.asarray(get(params, path), np.float32)
        out[key] = _reverse(value) if reverse else value
    return out


def _foreign(ckpt: Mapping[str, Any], path: Path) -> str | None:
    """Why `ckpt` is not a FastPitch training checkpoint, or None."""
    keys = set(map(str, ckpt))
    if "generator" in keys or any(k.startswith(("conv_pre.", "ups.", "resblocks.")) for k in keys):
        return (f"{path} is a HiFi-GAN generator checkpoint, not FastPitch; load it with jaxtts.load_hifigan "
                "and pass a FastPitch_checkpoint_*.pt / nvidia_fastpitch_*.pt file as the acoustic model")
    if keys & {"mpd", "msd"}:
        return f"{path} is a HiFi-GAN discriminator checkpoint, not FastPitch"
    if "state_dict" not in keys:
        shown = ", ".join(sorted(keys)[:8])
        return (f"{path} holds no FastPitch state_dict (top-level keys: {shown}); expected NVIDIA's "
                "{'config': ..., 'state_dict': ..., ...} training checkpoint")
    return None


def from_checkpoint(ckpt: dict, path: Path, *, ema: bool = False) -> tuple[FastPitchConfig, dict]:
    """(config, params) from a loaded NVIDIA FastPitch checkpoint; `ema=True` takes `ema_state_dict`.

    The text setup (`TEXT_SETUP`) comes from `train_setup`, and so does the symbol table the ids
    index (`symbol_set`; english_basic_lowercase becomes the config's `symbols`); files without one
    (the 2021 layout, the published checkpoint) were trained on english_basic ARPAbet without added
    spaces, as NVIDIA's inference example assumes."""
    path = Path(path)
    reason = _foreign(ckpt, path)
    if reason:
        raise CheckpointError(reason)
    if not isinstance(ckpt.get("config"), Mapping):
        raise CheckpointError(
            f"{path} has no model config (ckpt['config']); NVIDIA's trainers always store it, so this file "
            "was re-saved without it. Re-save it with its config: torch.save({'config': ..., 'state_dict': ...})"
        )
    try:
        setup = ckpt.get("train_setup") if isinstance(ckpt.get("train_setup"), Mapping) else {}
        text = {k: setup[k] for k in TEXT_SETUP if setup.get(k) is not None}
        symbol_set = setup.get("symbol_set", "english_basic")
        if symbol_set != "english_basic" and symbol_set in SYMBOL_SETS:
            text["symbols"] = SYMBOL_SETS[symbol_set]
        elif symbol_set not in SYMBOL_SETS:
            warnings.warn(f"{path} was trained on symbol_set {symbol_set!r}; jaxtts's text front-end writes "
                          f"{' and '.join(SYMBOL_SETS)} only, so give this model ids (FastPitch.infer)", stacklevel=2)
        config = FastPitchConfig.from_dict({**ckpt["config"], **text})
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    key = "ema_state_dict" if ema else "state_dict"
    sd = ckpt.get(key)
    if sd is None and ema:
        raise CheckpointError(
            f"{path} has no EMA weights (ema_state_dict is {'None' if key in ckpt else 'absent'}: the run used no "
            "--ema-decay); load it without ema=True to use its state_dict"
        )
    if not isinstance(sd, Mapping):
        raise CheckpointError(f"{path}: '{key}' holds a {type(sd).__name__}, not a state_dict")
    return config, from_state_dict(sd, config, what=f"{path} ({key})")
