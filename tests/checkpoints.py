"""Checkpoints in upstream on-disk formats, made on the fly from seeded weights. One section per model.

Writers produce exactly what the upstream trainers save (key names, nesting, weight-norm form,
top-level dict), so converter tests need no downloaded files.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from jaxtts.models.hifigan import HiFiGANConfig

# ---------------------------------------------------------------------------------------------
# HiFi-GAN
# ---------------------------------------------------------------------------------------------

HIFIGAN_TRAIN_SETUP = {  # what NVIDIA's trainer stores beside the generator config
    "segment_size": 8192, "filter_length": 1024, "num_mels": 80, "hop_length": 256, "win_length": 1024,
    "sampling_rate": 22050, "mel_fmin": 0.0, "mel_fmax": 8000.0, "mel_fmax_loss": None,
    "max_wav_value": 32768.0, "seed": 1234, "base_lr": 0.0003, "lr_decay": 0.9998, "epochs_all": 10000,
}


_WEIGHT_NORM_NAMES = {
    "weight_g": ("weight_g", "weight_v"),  # torch.nn.utils.weight_norm (what NVIDIA and jik876 write)
    "parametrizations": ("parametrizations.weight.original0", "parametrizations.weight.original1"),
}


def hifigan_state_dict(model: torch.nn.Module, *, weight_norm: str | None = "weight_g", layout: str = "nested",
                       seed: int = 1) -> dict[str, torch.Tensor]:
    """`model`'s weights as a trainer saves them.

    weight_norm: None (folded `weight`), "weight_g" or "parametrizations" (original0 = g,
    original1 = v). g = ‖w‖ over all dims but 0 while ‖v‖ is random, so a converter that ignores g
    or takes the norm over other dims gets the weights wrong.
    layout: "nested" (resblocks.i.j), "flat" (resblocks.{i·K+j}, K kernels per stage) or "nhwc"
    (flat, every conv tensor with a trailing singleton dim, as the channels-last export).
    """
    gen = torch.Generator().manual_seed(seed)
    num_kernels = len(model.resblocks[0])
    out: dict[str, torch.Tensor] = {}
    for key, w in model.state_dict().items():
        parts = key.split(".")
        if layout in ("flat", "nhwc") and parts[0] == "resblocks":
            parts[1:3] = [str(int(parts[1]) * num_kernels + int(parts[2]))]
        if parts[-1] != "weight" or weight_norm is None:
            tensors = {parts[-1]: w.clone()}
        else:
            norm = w.norm(dim=(1, 2), keepdim=True)
            g_name, v_name = _WEIGHT_NORM_NAMES[weight_norm]
            tensors = {g_name: norm, v_name: w / norm * (torch.rand(norm.shape, generator=gen) * 3 + 0.1)}
        for name, t in tensors.items():
            out[".".join(parts[:-1] + [name])] = t[..., None] if layout == "nhwc" and t.ndim == 3 else t
    return out


def nvidia_hifigan_config(config: HiFiGANConfig) -> dict:
    """`ckpt['config']` as NVIDIA's trainer writes it (resblock as a string)."""
    d = config.to_dict()
    d.pop("num_mels"), d.pop("sampling_rate")  # NVIDIA keeps these in train_setup
    d["resblock"] = str(d["resblock"])
    return d


def write_nvidia_hifigan(path: Path, state_dict: dict, config: HiFiGANConfig) -> Path:
    """`hifigan_gen_checkpoint_<epoch>.pt` as DeepLearningExamples' Checkpointer saves it."""
    torch.save({
        "generator": state_dict, "gen_ema": None, "config": nvidia_hifigan_config(config),
        "train_setup": HIFIGAN_TRAIN_SETUP | {"hop_length": config.hop_length, "num_mels": config.num_mels,
                                              "sampling_rate": config.sampling_rate},
        "train_state": {"epoch": 10000, "iters_all": 820000},
    }, path)
    return path


def write_jik876_hifigan(path: Path, state_dict: dict, config: HiFiGANConfig, *, config_json: bool = True) -> Path:
    """`g_XXXXXXXX` as jik876/hifi-gan's train.py saves it, with its config.json beside (unless told not)."""
    torch.save({"generator": state_dict}, path)
    if config_json:
        cfg = nvidia_hifigan_config(config) | {"num_mels": config.num_mels, "hop_size": config.hop_length,
                                               "batch_size": 16, "learning_rate": 0.0002,
                                               "sampling_rate": config.sampling_rate}
        (path.parent / "config.json").write_text(json.dumps(cfg, indent=4))
    return path


# ---------------------------------------------------------------------------------------------
# FastPitch (NVIDIA DeepLearningExamples trainers)
# ---------------------------------------------------------------------------------------------


def fastpitch_1_0_config() -> dict:
    """A small FastPitch 1.0 config as the 2021-04 train.py stored it: no energy, `max_seq_len`."""
    return {
        "n_mel_channels": 80, "max_seq_len": 2048, "n_symbols": 148, "padding_idx": 0, "symbols_embedding_dim": 32,
        "in_fft_n_layers": 2, "in_fft_n_heads": 2, "in_fft_d_head": 8, "in_fft_conv1d_kernel_size": 3,
        "in_fft_conv1d_filter_size": 64, "in_fft_output_size": 32, "p_in_fft_dropout": 0.1, "p_in_fft_dropatt": 0.1,
        "p_in_fft_dropemb": 0.0, "out_fft_n_layers": 2, "out_fft_n_heads": 2, "out_fft_d_head": 8,
        "out_fft_conv1d_kernel_size": 3, "out_fft_conv1d_filter_size": 64, "out_fft_output_size": 32,
        "p_out_fft_dropout": 0.1, "p_out_fft_dropatt": 0.1, "p_out_fft_dropemb": 0.0, "dur_predictor_kernel_size": 3,
        "dur_predictor_filter_size": 16, "p_dur_predictor_dropout": 0.1, "dur_predictor_n_layers": 2,
        "pitch_predictor_kernel_size": 3, "pitch_predictor_filter_size": 16, "p_pitch_predictor_dropout": 0.1,
        "pitch_predictor_n_layers": 2, "pitch_embedding_kernel_size": 3, "n_speakers": 1, "speaker_emb_weight": 1.0,
    }


def fastpitch_aligner(config: dict, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random `attention.*` tensors shaped like FastPitch 1.1's training-only aligner."""
    g = torch.Generator().manual_seed(seed)
    d, m = config["symbols_embedding_dim"], config["n_mel_channels"]
    shapes = {
        "query_proj.0.conv": (2 * m, m, 3), "query_proj.2.conv": (m, 2 * m, 1), "query_proj.4.conv": (m, m, 1),
        "attn_proj": (1, m, 1, 1), "key_proj.0.conv": (2 * d, d, 3), "key_proj.2.conv": (m, 2 * d, 1),
    }
    out = {}
    for name, shape in shapes.items():
        out[f"attention.{name}.weight"] = 0.1 * torch.randn(shape, generator=g)
        out[f"attention.{name}.bias"] = 0.1 * torch.randn(shape[0], generator=g)
    return out


def fastpitch_checkpoint(path: Path, config: dict, state_dict: dict, *, ema_state_dict: dict | None = None,
                         train_setup: dict | None = None) -> Path:
    """NVIDIA's current trainer file (`Checkpointer.maybe_save`): unprefixed keys, `train_setup`,
    LAMB optimizer state, an empty fp32 `scaler`, and `ema_state_dict` only for `--ema-decay > 0`."""
    ckpt = {
        "epoch": 10, "iteration": 470, "config": dict(config),
        "train_setup": {"sampling_rate": 22050, "hop_length": 256, "p_arpabet": 1.0, "symbol_set": "english_basic",
                        "text_cleaners": ["english_cleaners_v2"], "pitch_mean": 214.72203, "pitch_std": 65.72038,
                        "prepend_space_to_text": False, "append_space_to_text": False} | (train_setup or {}),
        "state_dict": dict(state_dict),
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.98), "eps": 1e-9, "params": []}]},
        "scaler": {},
    }
    if ema_state_dict is not None:
        ckpt["ema_state_dict"] = dict(ema_state_dict)
    torch.save(ckpt, path)
    return path


def fastpitch_legacy2021_checkpoint(path: Path, config: dict, state_dict: dict) -> Path:
    """The 2021 train.py file (FastPitch 1.0 and the published 1.1): keys of the DDP-wrapped model
    (`module.` prefix), `ema_state_dict: None`, no `train_setup`, no `scaler` in fp32 runs."""
    torch.save({
        "epoch": 10, "iteration": 470, "config": dict(config),
        "state_dict": {f"module.{k}": v for k, v in state_dict.items()}, "ema_state_dict": None,
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": []}]},
    }, path)
    return path
