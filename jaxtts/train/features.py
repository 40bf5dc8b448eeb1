"""Per-utterance training features, computed as NVIDIA's FastPitch and HiFi-GAN trainers compute them.

- `fastpitch_mel`: FastPitch's `TacotronSTFT.mel_spectrogram` (centred frames, reflect padding of
  half a filter, 1 + n // hop frames). `hifigan_mel`: HiFi-GAN's own `mel_spectrogram`, whose
  padding of (n_fft - hop) / 2 gives n // hop frames, each half a hop later. Both use librosa's
  Slaney filterbank and log(clamp(x, 1e-5)); both run on NumPy or on `jax.numpy` (`xp=jnp`), so a
  trainer can take the mel of generated audio inside its loss.
- `estimate_pitch`: NVIDIA's `estimate_pitch` (librosa's pYIN, C2-C7, frame 1024; its Viterbi
  decoding swapped for `sparse_viterbi`, the same result in a fraction of the time), or Praat's
  autocorrelation tracker (`method="praat"`), faster still; `benchmarks/bench_prepare.py` measures
  how far the two agree.
- `energy`, `normalize_pitch`, `attention_prior` (the beta-binomial prior as DLE's dataset returns it).

The spectra are computed in float64 and the result rounded to float32: NVIDIA's float32
convolution-DFT differs from the exact value by float32 rounding only.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from jaxtts.errors import DataError

PitchMethod = Literal["pyin", "praat"]
PITCH_METHODS: tuple[str, ...] = ("pyin", "praat")
PITCH_FMIN = 65.40639132514966  # librosa.note_to_hz("C2"), NVIDIA's pYIN range
PITCH_FMAX = 2093.004522404789  # librosa.note_to_hz("C7")
PRAAT_CEILING = 600.0  # Praat's own default for speech: up to C7 it takes fricative noise for pitch
LOG_CLAMP = 1e-5  # dynamic_range_compression's clip_val


@dataclass(frozen=True)
class AudioConfig:
    """Signal settings; field names and defaults are those of DLE's `prepare_dataset.py` / `train.py`."""

    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float | None = 8000.0  # None: sr / 2, HiFi-GAN's loss mel (`--mel_fmax_loss`)


def load_audio(path: str | Path, config: AudioConfig = AudioConfig(), *, resample: bool = False) -> np.ndarray:
    """Mono float32 samples in [-1, 1] of a sound file at `config.sampling_rate`.

    16-bit PCM reads as int16 / 32768, bit for bit what NVIDIA's loaders give. A file at another rate
    is refused unless `resample` (librosa's soxr_hq, which NVIDIA's own `librosa.load` would use).
    """
    import soundfile

    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if audio.shape[1] != 1:
        raise DataError(f"{path} has {audio.shape[1]} channels; training takes mono audio: mix it down "
                        "(e.g. `sox in.wav -c 1 out.wav`)")
    audio = audio[:, 0]
    if audio.size == 0:
        raise DataError(f"{path} holds no samples")
    peak = float(np.max(np.abs(audio)))
    if not np.isfinite(peak) or peak > 1.0:
        raise DataError(f"{path} has samples outside [-1, 1] (peak {peak:.3g}); write it as PCM or rescale it")
    if rate != config.sampling_rate:
        if not resample:
            raise DataError(f"{path} is at {rate} Hz, the model's audio is at {config.sampling_rate} Hz: resample "
                            "the dataset, or let jaxtts do it (`jaxtts prepare --resample`)")
        import librosa

        audio = librosa.resample(audio, orig_sr=rate, target_sr=config.sampling_rate, res_type="soxr_hq")
        audio = np.clip(audio, -1.0, 1.0)  # the resampler's overshoot; NVIDIA's STFT asserts [-1, 1]
    return np.ascontiguousarray(audio, dtype=np.float32)


@functools.lru_cache(maxsize=8)
def mel_basis(config: AudioConfig) -> np.ndarray:
    """librosa's Slaney-normalised filterbank (n_mel_channels, n_fft // 2 + 1), float32 as NVIDIA keeps it."""
    import librosa

    basis = librosa.filters.mel(sr=config.sampling_rate, n_fft=config.filter_length, n_mels=config.n_mel_channels,
                                fmin=config.mel_fmin, fmax=config.mel_fmax)
    return basis.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _window(config: AudioConfig) -> np.ndarray:
    """Periodic Hann window of win_length, zero-padded to filter_length in the middle (torch/scipy's)."""
    import librosa
    from scipy.signal import get_window

    return librosa.util.pad_center(get_window("hann", config.win_length, fftbins=True), size=config.filter_length)


def _log_mel(audio: Any, config: AudioConfig, pad: int, eps: float, xp: Any) -> Any:
    """log(clamp(basis @ |STFT|, 1e-5)) of frames hop_length apart over the reflect-padded signal."""
    n_fft, hop = config.filter_length, config.hop_length
    audio = xp.asarray(audio)
    if xp is np:
        audio = audio.astype(np.float64)  # exact spectra, rounded once at the end
    padded = xp.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(pad, pad)], mode="reflect")
    n_frames = 1 + (padded.shape[-1] - n_fft) // hop
    index = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None, :]
    frames = padded[..., index] * xp.asarray(_window(config), dtype=padded.dtype)
    spectrum = xp.fft.rfft(frames, axis=-1)
    magnitude = xp.sqrt(spectrum.real ** 2 + spectrum.imag ** 2 + eps)  # (..., frames, bins)
    mel = xp.matmul(xp.asarray(mel_basis(config), dtype=magnitude.dtype), xp.swapaxes(magnitude, -1, -2))
    return xp.log(xp.maximum(mel, LOG_CLAMP)).astype(xp.float32)


def fastpitch_mel(audio: Any, config: AudioConfig = AudioConfig(), *, xp: Any = np) -> Any:
    """FastPitch's training mel (..., n_mel_channels, 1 + n // hop) of float audio in [-1, 1]."""
    return _log_mel(audio, config, pad=config.filter_length // 2, eps=0.0, xp=xp)


def hifigan_mel(audio: Any, config: AudioConfig = AudioConfig(), *, xp: Any = np) -> Any:
    """HiFi-GAN's mel (..., n_mel_channels, n // hop): `center=False` after (n_fft - hop) / 2 of reflect
    padding, |STFT| as sqrt(re² + im² + 1e-9). Its loss mel is this with `mel_fmax=None`."""
    return _log_mel(audio, config, pad=(config.filter_length - config.hop_length) // 2, eps=1e-9, xp=xp)


def peak_normalize(audio: np.ndarray) -> np.ndarray:
    """HiFi-GAN's pre-training input, `librosa.util.normalize(audio) * 0.95` in float64, as float32."""
    import librosa

    return (librosa.util.normalize(np.asarray(audio, dtype=np.float64)) * 0.95).astype(np.float32)


def energy(mel: Any, *, xp: Any = np) -> Any:
    """FastPitch's energy target: the L2 norm over channels of each log-mel frame (not normalised)."""
    mel = xp.asarray(mel)
    if xp is np:
        mel = mel.astype(np.float64)
    return xp.sqrt(xp.sum(mel ** 2, axis=-2)).astype(xp.float32)


def estimate_pitch(audio: np.ndarray, n_frames: int, config: AudioConfig = AudioConfig(),
                   method: PitchMethod = "pyin") -> np.ndarray:
    """Pitch in Hz per mel frame (n_frames,), float32, 0 where unvoiced; frame t is centred on sample
    t * hop_length, as FastPitch's mel frames are.

    "pyin" is NVIDIA's `estimate_pitch`: librosa's pYIN over C2-C7 with frame_length 1024, padded or
    cut to the mel's length. "praat" is Praat's autocorrelation tracker from C2 to Praat's speech
    ceiling, read at the same frame centres.
    """
    if method == "pyin":
        import librosa

        with _sparse_viterbi_in_librosa():
            f0, _, _ = librosa.pyin(audio, fmin=PITCH_FMIN, fmax=PITCH_FMAX, sr=config.sampling_rate,
                                    frame_length=config.filter_length, hop_length=config.hop_length)
        f0 = np.where(np.isnan(f0), 0.0, f0)
    elif method == "praat":
        f0 = _praat_pitch(audio, n_frames, config)
    else:
        raise DataError(f"unknown pitch method {method!r}; choose one of {', '.join(PITCH_METHODS)}")
    f0 = f0[:n_frames]
    return np.pad(f0, (0, n_frames - f0.size)).astype(np.float32)


@contextlib.contextmanager
def _sparse_viterbi_in_librosa() -> Iterator[None]:
    """Within the block, librosa's `sequence.viterbi` (which pYIN calls) is `sparse_viterbi`: the same
    result, bit for bit, in a fraction of the time."""
    import librosa.sequence

    dense = librosa.sequence.viterbi
    librosa.sequence.viterbi = functools.partial(sparse_viterbi, dense=dense)
    try:
        yield
    finally:
        librosa.sequence.viterbi = dense


def sparse_viterbi(prob: np.ndarray, transition: np.ndarray, *, p_init: np.ndarray | None = None,
                   return_logp: bool = False, dense: Callable[..., Any] | None = None) -> np.ndarray:
    """`librosa.sequence.viterbi(prob, transition, p_init=p_init)`, exactly, for a sparse `transition`.

    pYIN's decoding is most of its time: 1,202 states, each reachable from only ~100 (its transition
    matrix is banded), yet librosa maximises over all of them at every frame. Here each state
    maximises over its nonzero predecessors, with librosa's float64 sums and first-index tie-break.
    A zero-probability predecessor scores log(tiny) below the best previous state, so it can win
    only where no nonzero one beats that bound; those states are recomputed over all predecessors,
    so the result is librosa's in every case. Anything else goes to librosa's own (`dense`).
    """
    import librosa

    dense = dense or librosa.sequence.viterbi
    if return_logp or prob.ndim < 2 or prob.dtype != np.float64 or transition.shape != (prob.shape[-2],) * 2:
        return dense(prob, transition, p_init=p_init, return_logp=return_logp)
    if prob.ndim > 2:
        return np.stack([sparse_viterbi(p, transition, p_init=p_init, dense=dense) for p in prob.reshape(
            -1, *prob.shape[-2:])]).reshape(*prob.shape[:-2], prob.shape[-1])
    if np.any(transition < 0) or not np.allclose(transition.sum(axis=1), 1) or np.any(prob < 0) or np.any(prob > 1):
        return dense(prob, transition, p_init=p_init)  # for librosa's own error message
    n_states, n_steps = prob.shape
    eps = np.finfo(np.float64).tiny  # librosa.util.tiny(prob)
    if p_init is None:
        p_init = np.full(n_states, 1.0 / n_states)
    log_trans = np.log(transition + eps)
    log_prob = np.log(prob + eps).T
    floor = np.log(eps)  # log_trans where transition is 0
    nonzero = [np.flatnonzero(transition[:, j]) for j in range(n_states)]
    if not all(len(k) for k in nonzero):  # a state nothing leads to: every predecessor ties at log(tiny)
        return dense(prob, transition, p_init=p_init)
    width = max(len(k) for k in nonzero)
    sources = np.stack([np.pad(k, (0, width - len(k)), mode="edge") for k in nonzero])  # (S, K), ascending
    rows = np.arange(n_states)[:, None]
    trans = log_trans[sources, rows]
    ptr = np.zeros((n_steps, n_states), dtype=np.uint16)
    value = log_prob[0] + np.log(p_init + eps)
    for t in range(1, n_steps):
        scores = value[sources] + trans
        best = np.argmax(scores, axis=1)
        ptr[t] = sources[rows[:, 0], best]
        top = scores[rows[:, 0], best]
        for j in np.flatnonzero(top <= value.max() + floor):
            scores_j = value + log_trans[:, j]
            ptr[t, j] = np.argmax(scores_j)
            top[j] = scores_j[ptr[t, j]]
        value = log_prob[t] + top
    state = np.zeros(n_steps, dtype=np.uint16)
    state[-1] = np.argmax(value)
    for t in range(n_steps - 2, -1, -1):
        state[t] = ptr[t + 1, state[t + 1]]
    return state


def _praat_pitch(audio: np.ndarray, n_frames: int, config: AudioConfig) -> np.ndarray:
    """Praat's `To Pitch (ac)` resampled onto the mel frame centres: linear between Praat's frames,
    voiced where the nearest Praat frame is."""
    import parselmouth

    rate = config.sampling_rate
    sound = parselmouth.Sound(np.asarray(audio, dtype=np.float64), sampling_frequency=rate)
    pitch = sound.to_pitch_ac(time_step=config.hop_length / rate, pitch_floor=PITCH_FMIN, pitch_ceiling=PRAAT_CEILING)
    f0, times = pitch.selected_array["frequency"], pitch.xs()
    centres = np.arange(n_frames) * config.hop_length / rate
    voiced = f0 > 0
    if not voiced.any():
        return np.zeros(n_frames)
    nearest = np.clip(np.rint((centres - times[0]) / pitch.time_step), 0, times.size - 1).astype(int)
    return np.where(voiced[nearest], np.interp(centres, times[voiced], f0[voiced]), 0.0)


def normalize_pitch(pitch_hz: np.ndarray, mean: float, std: float) -> np.ndarray:
    """(p - mean) / std on voiced frames in float32, as DLE's `normalize_pitch`; unvoiced stay exactly 0."""
    pitch_hz = np.asarray(pitch_hz, dtype=np.float32)
    normalized = (pitch_hz - np.float32(mean)) / np.float32(std)
    return np.where(pitch_hz == 0.0, np.float32(0.0), normalized).astype(np.float32)


def beta_binomial_prior(n_tokens: int, n_frames: int, scaling: float = 1.0) -> np.ndarray:
    """(n_frames, n_tokens): row i is the pmf of BetaBinomial(n_tokens, scaling·i, scaling·(n_frames + 1 - i))
    at 0..n_tokens - 1, i = 1..n_frames: DLE's `beta_binomial_prior_distribution` (the mass at n_tokens
    is dropped, as there)."""
    from scipy.stats import betabinom

    i = np.arange(1, n_frames + 1)[:, None]
    return betabinom(n_tokens, scaling * i, scaling * (n_frames + 1 - i)).pmf(np.arange(n_tokens)[None, :])


_PRIOR_ROUND = (100, 20)  # BetaBinomialInterpolator's round_mel_len_to, round_text_len_to


def _rounded(value: int, to: int) -> int:
    return max(1, int(np.round((value + 1) / to))) * to


_bank = functools.lru_cache(maxsize=512)(beta_binomial_prior)


def attention_prior(n_frames: int, n_tokens: int, *, interpolate: bool = True) -> np.ndarray:
    """The aligner's prior (n_frames, n_tokens), float64, as DLE's `TTSDataset.get_prior` returns it.

    `interpolate` (DLE's default, what its training uses) is `BetaBinomialInterpolator`: a cached
    prior at sizes rounded to (100 frames, 20 tokens), called with the two sizes swapped as DLE calls
    it, transposed and zoomed (linear) to the real size; its columns, not its rows, sum to about 1.
    Otherwise the exact prior, whose rows sum to at most 1.
    """
    if not interpolate:
        return beta_binomial_prior(n_tokens, n_frames)
    from scipy import ndimage

    frames, tokens = _rounded(n_frames, _PRIOR_ROUND[0]), _rounded(n_tokens, _PRIOR_ROUND[1])
    prior = ndimage.zoom(_bank(frames, tokens).T, zoom=(n_frames / frames, n_tokens / tokens), order=1)
    if prior.shape != (n_frames, n_tokens):  # zoom rounds the output size; DLE asserts the same
        raise DataError(f"prior zoom gave {prior.shape}, expected {(n_frames, n_tokens)}")
    return prior
