"""NVIDIA's HiFi-GAN denoiser in JAX: subtract the vocoder's own bias spectrum, on any backend.

The bias is the magnitude of frame 0 of the STFT of what the generator makes from an all-zero mel
(1, 80, 88). Denoising subtracts `strength · bias` from every frame's magnitude, clamps at zero,
and resynthesises with the original phases. The STFT is NVIDIA's `common/stft.py` (after
Seetharaman's pytorch-stft): reflect padding n_fft/2, periodic Hann, forward and inverse bases
applied as matrices (the inverse one being the pseudo-inverse of the scaled forward one, here in
closed form) and window-sum-square normalisation, so the output matches NVIDIA's to float rounding.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

N_FFT = 1024
HOP = 256
BIAS_MEL_FRAMES = 88  # the all-zero mel NVIDIA feeds the generator


@functools.lru_cache(maxsize=None)
def _bases(n_fft: int, hop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windowed forward basis (n_fft, 2·bins), inverse basis (2·bins, n_fft), squared window.

    NVIDIA takes `pinv(n_fft/hop · basis)`. For the real DFT basis that is closed-form (its Gram
    matrix is n_fft/2 · I plus two rank-one terms): the basis itself × 2·hop/n_fft², with the
    DC and Nyquist rows halved. Same numbers, without a 1024² pseudo-inverse at start-up.
    """
    bins = n_fft // 2 + 1
    fourier = np.fft.fft(np.eye(n_fft))[:bins]
    fourier = np.vstack([fourier.real, fourier.imag])  # (2·bins, n_fft)
    inverse = fourier * (2 * hop / n_fft**2)
    inverse[[0, bins - 1]] *= 0.5
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    forward = (fourier * window).astype(np.float32).T
    return forward, (inverse * window).astype(np.float32), (window**2).astype(np.float32)


def _dot(a: jax.Array, b: np.ndarray) -> jax.Array:
    return jnp.matmul(a, jnp.asarray(b), precision=jax.lax.Precision.HIGHEST)


def stft(audio: jax.Array, n_fft: int = N_FFT, hop: int = HOP) -> tuple[jax.Array, jax.Array]:
    """(B, N) with N a multiple of hop → magnitude and phase, each (B, N/hop + 1, n_fft/2 + 1)."""
    forward, _, _ = _bases(n_fft, hop)
    x = jnp.pad(audio, ((0, 0), (n_fft // 2, n_fft // 2)), mode="reflect")
    blocks = x.reshape(x.shape[0], -1, hop)  # frame f = blocks f .. f + n_fft/hop - 1
    per = n_fft // hop
    n_frames = blocks.shape[1] - per + 1
    frames = jnp.concatenate([blocks[:, j : j + n_frames] for j in range(per)], axis=-1)
    spec = _dot(frames, forward)
    re, im = jnp.split(spec, 2, axis=-1)
    return jnp.sqrt(re**2 + im**2), jnp.arctan2(im, re)


def _overlap_add(frames: jax.Array, hop: int) -> jax.Array:
    """(B, F, n_fft) frames hop apart → (B, (F - 1)·hop + n_fft) sum."""
    b, n_frames, n_fft = frames.shape
    per = n_fft // hop
    parts = frames.reshape(b, n_frames, per, hop)
    blocks = sum(jnp.pad(parts[:, :, j], ((0, 0), (j, per - 1 - j), (0, 0))) for j in range(per))
    return blocks.reshape(b, -1)


def istft(magnitude: jax.Array, phase: jax.Array, n_fft: int = N_FFT, hop: int = HOP) -> jax.Array:
    """Inverse of `stft`: overlap-add, window-sum normalisation, trim → (B, (frames - 1)·hop)."""
    _, inverse, window_sq = _bases(n_fft, hop)
    spec = jnp.concatenate([magnitude * jnp.cos(phase), magnitude * jnp.sin(phase)], axis=-1)
    audio = _overlap_add(_dot(spec, inverse), hop)
    # Divide by the window's squared envelope only where it is not ~0 (librosa's `tiny`), as NVIDIA does.
    envelope = _overlap_add(jnp.broadcast_to(window_sq, (1, magnitude.shape[1], n_fft)), hop)
    nonzero = envelope > np.finfo(np.float32).tiny
    audio = jnp.where(nonzero, audio / jnp.where(nonzero, envelope, 1.0), audio) * (n_fft / hop)
    return audio[:, n_fft // 2 : audio.shape[1] - n_fft // 2]


def bias_spectrum(zero_mel_audio: jax.Array) -> jax.Array:
    """Frame-0 magnitude (bins,) of the generator's output for an all-zero mel."""
    magnitude, _ = stft(zero_mel_audio.reshape(1, -1).astype(jnp.float32))
    return magnitude[0, 0]


def denoise(audio: jax.Array, bias: jax.Array, strength: float) -> jax.Array:
    """(B, N) float audio minus `strength` × the bias spectrum; same shape out.

    N need not be a multiple of the hop: the tail is zero-padded for the STFT and trimmed after.
    """
    n = audio.shape[1]
    audio = jnp.pad(audio.astype(jnp.float32), ((0, 0), (0, -n % HOP)))
    magnitude, phase = stft(audio)
    magnitude = jnp.maximum(magnitude - strength * bias, 0.0)
    return istft(magnitude, phase)[:, :n]
