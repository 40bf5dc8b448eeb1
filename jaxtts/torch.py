"""`jaxtts.torch`: NVIDIA's FastPitch and HiFi-GAN module interfaces, computed by the JAX models.

Inference code written for NVIDIA DeepLearningExamples' models runs unchanged on these:

    fastpitch = FastPitch.from_checkpoint("nvidia_fastpitch_210824+cfg.pt").eval()
    generator = HiFiGAN.from_checkpoint("hifigan_gen_checkpoint_10000_ft.pt").eval()
    denoiser = Denoiser(generator)
    with torch.no_grad():
        mel, mel_lens, dur_pred, pitch_pred, energy_pred = fastpitch.infer(text_padded, pace=1.0)
        audio = denoiser(generator(mel).squeeze(1), 0.01).squeeze(1)

The modules hold no torch parameters: the weights are the JAX model's. `state_dict()` and
`load_state_dict()` speak NVIDIA's key names through the converters' rename tables (HiFi-GAN's
weight-normed and legacy layouts load too; FastPitch's training-only `attention.*` is ignored), with
torch's own plumbing: `strict`, the returned missing/unexpected keys, nesting in a parent module.
Tensors cross through DLPack, without copies where torch and JAX share the device (the CPU, or one
CUDA GPU), else through host memory; outputs land on the device of the input. `.to()`, `.half()`
and the like leave the JAX model as it is: pick its dtype with `from_checkpoint(..., dtype=)`.
Each utterance of a padded batch gets exactly its batch-1 output (NVIDIA's drifts with padding).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import torch  # the real torch: imports are absolute, so this module (jaxtts.torch) does not shadow it

from converters import fastpitch as fp_converter
from converters import hifigan as hg_converter
from converters.load import to_numpy
from jaxtts import checkpoint
from jaxtts.errors import InputError, JaxTTSError
from jaxtts.models import denoiser as jax_denoiser
from jaxtts.models import fastpitch as jax_fastpitch
from jaxtts.models import hifigan as jax_hifigan
from jaxtts.text.encoder import TextEncoder

PitchTransform = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
M = TypeVar("M", bound="_JaxModule")


def to_jax(t: torch.Tensor) -> jax.Array:
    """A torch tensor as a JAX array: zero-copy on the CPU and between torch and JAX on one GPU."""
    t = t.detach()
    if t.device.type == "cpu" or (t.device.type == "cuda" and jax.default_backend() == "gpu"):
        return jnp.from_dlpack(t.contiguous())
    return jnp.asarray(t.cpu().numpy())


def to_torch(x: jax.Array, device: torch.device | str = "cpu") -> torch.Tensor:
    """A JAX array as a torch tensor on `device`: zero-copy where DLPack reaches (CPU, CUDA)."""
    if jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)  # a no-op for float32; NVIDIA-style code expects float outputs
    platform = next(iter(x.devices())).platform
    if platform == "cpu" or (platform == "gpu" and torch.cuda.is_available()):
        t = torch.from_dlpack(x)
    else:  # TPU and other devices torch cannot address: through the host
        t = torch.from_numpy(np.asarray(x))
    return t.to(device)


def _host(x: Any) -> Any:
    """Tensors → numpy (on the host, where the JAX models validate their inputs); anything else as is."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _pad_last(t: torch.Tensor, n: int) -> torch.Tensor:
    return torch.nn.functional.pad(t, (0, n - t.shape[-1]))


def _zeros(shapes: Any) -> Any:
    """Placeholder weights for NVIDIA's construct-then-load pattern: nothing to initialise or compile."""
    return jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)


class _JaxModule(torch.nn.Module):
    """A torch module over a JAX model (`self.model`), with NVIDIA's state_dict.

    Subclasses say how params become an NVIDIA state_dict and back (`_to_state_dict`,
    `_canonical`, `_with_state_dict`); torch's load/save machinery calls the two hooks below.
    """

    model: Any

    @classmethod
    def wrap(cls: type[M], model: Any) -> M:
        """This interface around an already-loaded JAX model (sharing its weights)."""
        self = cls.__new__(cls)
        torch.nn.Module.__init__(self)
        self.model = model
        return self

    def _to_state_dict(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _canonical(self, sd: Mapping[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _with_state_dict(self, sd: dict[str, np.ndarray]) -> Any:
        raise NotImplementedError

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        for key, value in self._to_state_dict().items():
            destination[prefix + key] = torch.tensor(value)

    def _load_from_state_dict(self, state_dict: Mapping[str, Any], prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list, unexpected_keys: list, error_msgs: list) -> None:
        current = self._to_state_dict()
        try:
            incoming = self._canonical({k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)})
        except JaxTTSError as e:
            error_msgs.append(str(e))
            return
        missing_keys += [prefix + k for k in current if k not in incoming]
        unexpected_keys += [prefix + k for k in incoming if k not in current]
        mismatched = [k for k in incoming if k in current and incoming[k].shape != current[k].shape]
        error_msgs += [f"size mismatch for {prefix}{k}: copying a param with shape {incoming[k].shape} from "
                       f"checkpoint, the shape in current model is {current[k].shape}." for k in mismatched]
        if not mismatched:  # all or nothing: a half-replaced model is worse than the old one
            self.model = self._with_state_dict({**current, **{k: v for k, v in incoming.items() if k in current}})


class FastPitch(_JaxModule):
    """NVIDIA's FastPitch: `infer` (also `forward`, as inference.py sets it), NVIDIA's state_dict."""

    def __init__(self, **config: Any) -> None:
        """NVIDIA's constructor, `FastPitch(**ckpt['config'])`: zero weights until `load_state_dict`."""
        super().__init__()
        cfg = jax_fastpitch.FastPitchConfig.from_dict(config)
        self.model = jax_fastpitch.FastPitch(cfg, _zeros(jax_fastpitch.param_shapes(cfg)))

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, ema: bool = False, dtype: Any = None) -> "FastPitch":
        """From an NVIDIA `.pt`, a NeMo `.nemo` or a converted directory (see `jaxtts.load_fastpitch`)."""
        return cls.wrap(checkpoint.load_fastpitch(path, ema=ema, dtype=dtype))

    def infer(self, inputs: torch.Tensor, pace: float = 1.0, dur_tgt: torch.Tensor | None = None,
              pitch_tgt: torch.Tensor | None = None, energy_tgt: torch.Tensor | None = None,
              pitch_transform: PitchTransform | None = None, max_duration: float = 75,
              speaker: int | torch.Tensor = 0) -> tuple[torch.Tensor, ...]:
        """NVIDIA's `FastPitch.infer`: ids (B, N) right-padded with the padding id (0) →
        (mel (B, n_mel, T), mel_lens (B,) int64, dur_pred (B, N), pitch_pred (B, 1, N), energy_pred
        (B, N) or None), T = max(mel_lens). Targets: dur_tgt (B, N), pitch_tgt (B, 1, N), energy_tgt
        (B, 1, N). `pitch_transform(pitch, n_tokens, mean, std)` gets torch tensors, as NVIDIA's does.
        """
        n = inputs.shape[1]
        ids = _host(inputs)
        if energy_tgt is not None and energy_tgt.ndim == 3:
            energy_tgt = energy_tgt[:, 0]  # NVIDIA feeds it to its conv as (B, 1, N)
        controls = {"pace": _host(pace), "max_duration": _host(max_duration), "speaker": _host(speaker),
                    "dur_tgt": _host(dur_tgt), "energy_tgt": _host(energy_tgt)}
        out = self.model.infer(ids, pitch_tgt=_host(pitch_tgt), **controls)
        pitch = _pad_last(to_torch(out.pitch, inputs.device).reshape(inputs.shape[0], -1, out.pitch.shape[-1]), n)
        if pitch_transform is not None:
            # The transform is torch code: apply it to the prediction, then condition on its result.
            n_tokens = (inputs != self.model.config.padding_idx).sum(dim=1)
            pitch = pitch_transform(pitch, n_tokens, *self._pitch_stats(inputs.device))
            if pitch_tgt is None:
                out = self.model.infer(ids, pitch_tgt=_host(pitch), **controls)
        energy = None if out.energy is None else _pad_last(to_torch(out.energy, inputs.device), n)
        return (to_torch(out.mel, inputs.device), to_torch(out.mel_lens, inputs.device).long(),
                _pad_last(to_torch(out.dur_pred, inputs.device), n), pitch, energy)

    forward = infer

    @property
    def text(self) -> TextEncoder:
        """How this checkpoint's training text was encoded: `fastpitch.text.encode("Hello.")` gives the
        ids `infer` takes, as the engine writes them (NVIDIA's inference.py uses its TextProcessing)."""
        return self.model.text or TextEncoder()

    def _pitch_stats(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """NVIDIA's (mean, std) for pitch transforms: the model's buffers, or LJSpeech's if std is 0."""
        mean, std = (float(np.asarray(self.model.params[k])[0]) for k in ("pitch_mean", "pitch_std"))
        if std == 0:
            mean, std = jax_fastpitch.FALLBACK_PITCH_MEAN, jax_fastpitch.FALLBACK_PITCH_STD
        return torch.tensor(mean, device=device), torch.tensor(std, device=device)

    def _to_state_dict(self) -> dict[str, np.ndarray]:
        return fp_converter.to_state_dict(self.model.params, self.model.config)

    def _canonical(self, sd: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return {k: to_numpy(v) for k, v in sd.items() if not k.startswith(fp_converter.TRAINING_ONLY)}

    def _with_state_dict(self, sd: dict[str, np.ndarray]) -> jax_fastpitch.FastPitch:
        m = self.model
        return type(m)(m.config, fp_converter.from_state_dict(sd, m.config, what="state_dict"), m.text, dtype=m.dtype)


class HiFiGAN(_JaxModule):
    """NVIDIA's HiFi-GAN generator: mel (B, n_mel, T) → audio (B, 1, T·hop); NVIDIA's state_dict."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        """NVIDIA's constructor, `Generator(ckpt['config'])`: zero weights until `load_state_dict`."""
        super().__init__()
        cfg = jax_hifigan.HiFiGANConfig.from_dict(config)
        self.model = jax_hifigan.HiFiGAN(cfg, _zeros(hg_converter.param_shapes(cfg)))

    @classmethod
    def from_checkpoint(cls, path: str | Path, *, config: str | Path | None = None, dtype: Any = None) -> "HiFiGAN":
        """From an NVIDIA/jik876 `.pt`, a NeMo `.nemo` or a converted directory (see `jaxtts.load_hifigan`)."""
        return cls.wrap(checkpoint.load_hifigan(path, config=config, dtype=dtype))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """Audio of the whole mel of every item, exactly: the JAX model runs it in its vocoder
        windows (`hifigan.plan_windows`), so a new length compiles nothing."""
        return to_torch(self.model(_host(mel.float())), mel.device).unsqueeze(1)

    def remove_weight_norm(self) -> None:
        """NVIDIA's loader calls this; the weights are already folded."""

    def _to_state_dict(self) -> dict[str, np.ndarray]:
        return hg_converter.to_state_dict(self.model.params, self.model.config)

    def _canonical(self, sd: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return hg_converter.canonical_state_dict(sd, self.model.config)

    def _with_state_dict(self, sd: dict[str, np.ndarray]) -> jax_hifigan.HiFiGAN:
        m = self.model
        return type(m)(m.config, hg_converter.from_state_dict(sd, m.config, what="state_dict"), dtype=m.dtype)


_denoise = jax.jit(jax_denoiser.denoise)


class Denoiser(torch.nn.Module):
    """NVIDIA's `Denoiser(generator)`: subtracts `strength` × the generator's bias spectrum.

    `forward(audio (B, N) or (B, 1, N), strength)` → (B, 1, N), on every backend (NVIDIA's needs CUDA).
    """

    def __init__(self, hifigan: HiFiGAN, filter_length: int = 1024, n_overlap: int = 4, win_length: int = 1024,
                 mode: str = "zeros") -> None:
        super().__init__()
        if (filter_length, n_overlap, win_length, mode) != (1024, 4, 1024, "zeros"):
            raise InputError("Denoiser supports NVIDIA's defaults only: filter_length=win_length=1024, "
                              "n_overlap=4, mode='zeros'")
        self.bias = hifigan.model.bias_spectrum  # as NVIDIA's: fixed when the denoiser is built

    def forward(self, audio: torch.Tensor, strength: float = 0.1) -> torch.Tensor:
        x = to_jax(audio.float().reshape(audio.shape[0], -1))
        return to_torch(_denoise(x, self.bias, strength), audio.device).unsqueeze(1)
