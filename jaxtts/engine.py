"""Synthesis engine: text → audio (at the vocoder's rate) from a bounded set of compiled programs.

Per group of sentences:

    host    split sentences → ids → pad into a (batch, token) bucket      worker thread, one group ahead
    device  `encode`: FastPitch up to the rounded durations                 one program per (batch, token) bucket
    host    read the frame counts, pick the frame bucket                    the one sync per group
    device  `render`: FastPitch decode → HiFi-GAN (→ denoiser)              one program per (batch, frame) bucket
    host    trim every item to its true length; silence between sentences

`encode` pads its output to the largest token bucket, so `render` depends on (batch, frames)
only: the expensive vocoder programs are shared by all token buckets. Both models mask every
padded position, so an utterance sounds the same alone, in any batch and in any bucket. While
the host collects group n, group n+1 already runs on the device, and the worker thread turns the
text of group n+2 into ids (JAX releases the GIL while it computes).

Programs are compiled ahead of time and kept in a dict, so `compile_count` is exact and a shape
outside the bucket tables never compiles behind the caller's back. JAX's persistent compilation cache is on
by default (in the jaxtts cache directory), so a second process starts warm.

Devices: batches are sharded over all local devices (a 1-D `Mesh` on the batch axis; parameters
replicated); batch buckets are rounded up to a multiple of the device count.

Multi-host (TPU pods, GPU clusters): call `jax.distributed.initialize()` first in every process,
then `synthesize_to_dir(lines, shared_dir)` in every process. Each process takes the lines whose
number n satisfies n % jax.process_count() == jax.process_index() and shards them over its own
local devices; no collective crosses hosts, and file names carry the global line number, so the
processes fill one directory together.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxtts import text as frontend
from jaxtts.errors import ConfigError, InputError, JaxTTSError, TextError
from jaxtts.models import denoiser
from jaxtts.models import fastpitch as fp
from jaxtts.models import hifigan as hg
from jaxtts.text.symbols import ARPABET, SPACE_ID, SYMBOLS


def geometric_buckets(lo: int, hi: int, per_octave: int = 4) -> tuple[int, ...]:
    """lo, then `per_octave` evenly spaced sizes per doubling up to hi: at most 1/per_octave padding."""
    sizes, size = [], lo
    while size < hi:
        sizes.append(size)
        size += max(1 << (size.bit_length() - 1), per_octave) // per_octave
    return (*sizes, hi)


TOKEN_BUCKETS = geometric_buckets(16, 512, 4)  # 16, 20, 24, 28, 32, 40, ... 512: at most 25 % padding
# Default frame and batch buckets per kind of device. A CPU is as busy with one sentence as with
# eight, so batching would only add padding, and padded frames cost it real time: fine frame
# buckets (at most 6.25 % padding; ~4 s to compile each with the Winograd vocoder, once per
# machine with the persistent cache). Accelerators gain from batches, and compile more slowly than
# they compute: coarser frame buckets (at most 25 %), so fewer programs. 4096 frames = 47 s.
FRAME_BUCKETS = {"cpu": geometric_buckets(64, 4096, 16), "accelerator": geometric_buckets(64, 4096, 4)}
BATCH_BUCKETS = {"cpu": (1,), "accelerator": (1, 2, 4, 8, 16, 32)}


# Bounds that keep one request from exhausting the machine (a server may expose "speed"): slower than
# PACE[0] is no longer speech and multiplies every duration; MAX_SENTENCE_FRAMES caps what any one
# sentence may become (twice the largest frame bucket), checked between the two programs, before the
# vocoder allocates anything for it.
PACE = (0.1, 10.0)
MAX_DURATION = 1000.0
MAX_SENTENCE_FRAMES = 8192


@dataclasses.dataclass(frozen=True)
class Controls:
    """Voice controls with NVIDIA's semantics (see `jaxtts.models.fastpitch.encode`).

    pace > 1 speaks faster; pitch_shift in Hz; pitch_amplify scales the contour around the mean;
    flatten/invert as NVIDIA's inference.py; pitch_transform(pitch, n_tokens, mean, std) is a jax
    function (each distinct function compiles its own encode programs); denoise is the strength
    of NVIDIA's denoiser (0 = off; their scripts use 0.005-0.01).
    """

    pace: float = 1.0
    pitch_shift: float = 0.0
    pitch_amplify: float = 1.0
    pitch_flatten: bool = False
    pitch_invert: bool = False
    pitch_transform: fp.PitchTransform | None = None
    speaker: int = 0
    denoise: float = 0.0
    max_duration: float = 75.0

    def check(self, config: fp.FastPitchConfig) -> Controls:
        for name in ("pace", "pitch_shift", "pitch_amplify", "denoise", "max_duration"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
                raise InputError(f"{name} must be a finite number, got {value!r}")
        for name in ("pitch_flatten", "pitch_invert"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InputError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not PACE[0] <= self.pace <= PACE[1]:
            raise InputError(f"pace must be between {PACE[0]} and {PACE[1]} (1.0 = normal, 2.0 = twice as fast), "
                             f"got {self.pace!r}")
        if not 0 < self.max_duration <= MAX_DURATION:
            raise InputError(f"max_duration must be > 0 and at most {MAX_DURATION} frames per token, got {self.max_duration!r}")
        if self.denoise < 0:
            raise InputError(f"denoise must be >= 0 (0 = off, 0.01 = NVIDIA's scripts), got {self.denoise!r}")
        if not isinstance(self.speaker, (int, np.integer)) or not 0 <= self.speaker < config.n_speakers:
            raise InputError(f"speaker {self.speaker!r} is out of range: this model has speakers 0..{config.n_speakers - 1}")
        if self.pitch_transform is not None and not callable(self.pitch_transform):
            raise InputError(f"pitch_transform must be a function (pitch, n_tokens, mean, std) -> pitch, got {self.pitch_transform!r}")
        return self

    def vector(self) -> np.ndarray:
        """The traced controls as one float32 vector: changing them never recompiles."""
        return np.array([self.pace, self.pitch_shift, self.pitch_amplify, self.pitch_flatten, self.pitch_invert,
                         self.max_duration, self.speaker, self.denoise], np.float32)


def _encode(fp_params: Any, ids: jax.Array, lengths: jax.Array, controls: jax.Array, *, config: fp.FastPitchConfig,
            dtype: Any, transform: fp.PitchTransform | None, n_out: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """FastPitch stage 1, its outputs padded from the token bucket to `n_out` tokens (zero durations)."""
    pace, shift, amplify, flatten, invert, max_duration, speaker, _ = controls
    e = fp.encode(fp_params, ids, lengths, config=config, dtype=dtype, pace=pace, pitch_shift=shift,
                  pitch_amplify=amplify, pitch_flatten=flatten > 0, pitch_invert=invert > 0, max_duration=max_duration,
                  speaker=speaker.astype(jnp.int32), pitch_transform=transform)
    pad = n_out - ids.shape[1]
    return jnp.pad(e.enc, ((0, 0), (0, pad), (0, 0))), jnp.pad(e.reps, ((0, 0), (0, pad))), e.mel_lens


def _render(fp_params: Any, hg_params: Any, enc: jax.Array, reps: jax.Array, controls: jax.Array,
            bias: jax.Array | None = None, *, fp_config: fp.FastPitchConfig, hg_config: hg.HiFiGANConfig,
            fp_dtype: Any, hg_dtype: Any, n_frames: int) -> jax.Array:
    """FastPitch decode into `n_frames` + HiFi-GAN (+ the denoiser, given its bias): (B, n_frames·hop)."""
    mel, mel_lens = fp.decode(fp_params, enc, reps, n_frames, config=fp_config, dtype=fp_dtype)
    audio = hg.generate(hg_params, mel, mel_lens, config=hg_config, dtype=hg_dtype)
    if bias is None:
        return audio
    # Every item is followed by zeros, however full its bucket: the denoiser's STFT then sees the
    # same tail in any batch (NVIDIA's, run on one exact-length item, reflects its last 512 samples).
    n = audio.shape[1]
    audio = jnp.where(jnp.arange(n)[None, :] < mel_lens[:, None] * hg_config.hop_length, audio, 0.0)
    audio = jnp.pad(audio, ((0, 0), (0, denoiser.N_FFT)))
    return denoiser.denoise(audio, bias, controls[7])[:, :n]


class _Group(NamedTuple):
    """One device batch: `keys` name its real rows; rows past them are empty (length 0)."""

    keys: list[Any]
    ids: np.ndarray  # (B, N) int32
    lengths: np.ndarray  # (B,) int32


class _Launched(NamedTuple):
    keys: list[Any]
    frames: np.ndarray  # (len(keys),) true mel lengths
    audio: jax.Array  # (B, T·hop), still computing


class DirResult(NamedTuple):
    """What `synthesize_to_dir` did: files written, the line numbers with nothing to speak, and the
    lines left alone because their WAV was already there (`skip_existing`)."""

    written: int
    skipped: list[int]
    existing: int = 0


class Synthesizer:
    """FastPitch + HiFi-GAN with bucketed, compiled-once programs. Use from one thread at a time.

    Every synthesis method takes the voice controls of `Controls` as keywords (pace=1.1,
    pitch_shift=20.0, speaker=0, denoise=0.005, ...). New values never recompile; a new
    pitch_transform function, or denoise switched on, compiles its own programs once.

    token_buckets, frame_buckets, batch_buckets: the static shapes; the number of programs is at
    most |batch|·|token| encodes + |batch|·|frame| renders (per pitch transform / denoise on-off).
    An utterance longer than the largest frame bucket gets a multiple of it. Frame and batch
    buckets default per kind of device (see `FRAME_BUCKETS`, `BATCH_BUCKETS`).
    denoise: default denoiser strength. dtype: compute dtype for both models (default: each
    model's own; jnp.bfloat16 for speed on TPU/GPU). silence_s: pause between sentences.
    devices: where batches are sharded (default: all local devices).
    compilation_cache: JAX's persistent cache directory; True = `<jaxtts cache>/xla`, False =
    leave JAX's setting alone. A directory set through JAX itself always wins.

    `stats` counts batches, sentences, frames and padded_frames rendered, and programs compiled
    (for tests and benchmarks).
    """

    def __init__(self, fastpitch: fp.FastPitch, hifigan: hg.HiFiGAN, *, token_buckets: Sequence[int] = TOKEN_BUCKETS,
                 frame_buckets: Sequence[int] | None = None, batch_buckets: Sequence[int] | None = None,
                 denoise: float = 0.0, dtype: Any = None, silence_s: float = 0.2,
                 devices: Sequence[jax.Device] | None = None, compilation_cache: bool | str | Path = True) -> None:
        fc, hc = fastpitch.config, hifigan.config
        self.vocabulary = _vocabulary(fc)
        if fc.n_mel_channels != hc.num_mels:
            raise ConfigError(f"FastPitch makes {fc.n_mel_channels}-band mels but HiFi-GAN takes {hc.num_mels}")
        devices = list(devices or jax.local_devices())
        kind = "cpu" if devices[0].platform == "cpu" else "accelerator"
        frame_buckets = FRAME_BUCKETS[kind] if frame_buckets is None else frame_buckets
        batch_buckets = BATCH_BUCKETS[kind] if batch_buckets is None else batch_buckets
        for name, sizes in (("token_buckets", token_buckets), ("frame_buckets", frame_buckets), ("batch_buckets", batch_buckets)):
            if not sizes or any(int(s) < 1 for s in sizes):
                raise InputError(f"{name} must be positive sizes, got {list(sizes)}")
        if not np.isfinite(silence_s) or silence_s < 0:
            raise InputError(f"silence_s must be >= 0 seconds, got {silence_s!r}")
        self.fastpitch, self.hifigan = fastpitch, hifigan
        self.defaults = Controls(denoise=denoise).check(fc)
        self.sample_rate = hifigan.config.sampling_rate  # Hz of every array this returns
        self.silence = np.zeros(round(silence_s * self.sample_rate), np.float32)
        self.hop = hc.hop_length
        self.fp_dtype = dtype or fastpitch.dtype
        self.hg_dtype = dtype or hifigan.dtype

        self.mesh = Mesh(np.array(devices), ("batch",))
        self._batched = NamedSharding(self.mesh, PartitionSpec("batch"))
        self._replicated = NamedSharding(self.mesh, PartitionSpec())
        self.token_buckets = tuple(sorted({int(s) for s in token_buckets}))
        self.frame_buckets = tuple(sorted({int(s) for s in frame_buckets}))
        self.batch_buckets = tuple(sorted({-(-int(s) // len(devices)) * len(devices) for s in batch_buckets}))
        self._fp_params = jax.device_put(fastpitch.inference_params, self._replicated)
        self._hg_params = jax.device_put(hifigan.inference_params, self._replicated)
        self._programs: dict[tuple, Any] = {}
        self._compile_lock = threading.Lock()
        self._bias_spectrum: jax.Array | None = None
        self.stats = collections.Counter()
        if compilation_cache:
            enable_compilation_cache(None if compilation_cache is True else compilation_cache)

    # ---- public API ---------------------------------------------------------------------------

    @property
    def compile_count(self) -> int:
        """Programs compiled so far (a persistent-cache hit counts: it is a program this process built)."""
        return len(self._programs)

    def synthesize(self, text: str, **controls: Any) -> np.ndarray:
        """Audio for `text` (float32 at `sample_rate` Hz): sentences with `silence_s` between them.

        Raises TextError when nothing in `text` can be spoken. Equals `np.concatenate(stream(text))`.
        """
        return np.concatenate(list(self.stream(text, **controls)))

    def stream(self, text: str, **controls: Any) -> Iterator[np.ndarray]:
        """Audio one sentence at a time, in order (each after the first starts with the silence).

        The first chunk costs the first sentence's work only; later sentences go in growing
        batches while the caller consumes earlier chunks. Memory stays bounded however long
        `text` is. Raises TextError (before any chunk) when nothing in `text` can be spoken.
        """
        c = self._controls(controls)
        if not isinstance(text, str):
            raise InputError(f"text must be a str, got {type(text).__name__}")

        def chunks() -> Iterator[np.ndarray]:
            spoken = 0
            for _, audio in self._run(self._stream_groups(text), c):
                yield audio if spoken == 0 else np.concatenate([self.silence, audio])
                spoken += 1
            if spoken == 0:
                raise TextError(_nothing_to_speak(text))

        return chunks()

    def synthesize_batch(self, texts: Sequence[str], **controls: Any) -> list[np.ndarray]:
        """Audio for each text, as `synthesize` gives it; sentences of all texts are sorted by length
        into buckets and batched. Raises TextError naming a text with nothing to speak."""
        c = self._controls(controls)
        texts = list(texts)
        out: list[np.ndarray | None] = [None] * len(texts)
        for i, audio in self._texts(enumerate(texts), c):
            if audio is None:
                raise TextError(f"text {i}: {_nothing_to_speak(texts[i])}")
            out[i] = audio
        return out  # type: ignore[return-value]

    def synthesize_to_dir(self, lines: Iterable[str], out_dir: str | Path, *, progress: bool = False,
                          subtype: str = "PCM_16", process_index: int | None = None,
                          process_count: int | None = None, skip_existing: bool = False, **controls: Any) -> DirResult:
        """One WAV per line, `out_dir/NNNNNN.wav` numbered from 1 like the lines; each written to a
        temporary file and renamed, so a file that exists is complete. Lines with nothing to speak
        (blank, punctuation only) are skipped and reported. `lines` is read lazily, a window at a
        time: memory stays bounded for any number of lines.

        `skip_existing` leaves a line alone when its WAV is there, so a killed run resumes where it
        stopped (a WAV that exists is complete, as above).

        Multi-host: this process takes the lines n with n % process_count == process_index
        (default: `jax.process_index()` / `jax.process_count()`); see the module docstring.
        """
        import soundfile
        import tqdm

        c = self._controls(controls)
        index = jax.process_index() if process_index is None else process_index
        count = jax.process_count() if process_count is None else process_count
        if not 0 <= index < count:
            raise InputError(f"process_index {index} must be in 0..{count - 1}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        existing = 0

        def wanted(n: int) -> bool:
            nonlocal existing
            if skip_existing and (out / f"{n:06d}.wav").is_file():
                existing += 1
                return False
            return True

        mine = ((n, line) for n, line in enumerate(lines, 1) if n % count == index and wanted(n))
        total = len(range(index or count, len(lines) + 1, count)) if isinstance(lines, Sized) else None
        written, skipped, shown = 0, [], 0  # shown: existing WAVs the bar has counted
        with tqdm.tqdm(total=total, unit="line", disable=not progress) as bar:
            for n, audio in self._texts(mine, c):
                if audio is None:
                    skipped.append(n)
                else:
                    path = out / f"{n:06d}.wav"
                    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav", dir=out)
                    try:
                        with os.fdopen(fd, "wb") as f:
                            soundfile.write(f, audio, self.sample_rate, subtype=subtype, format="WAV")
                        os.replace(tmp, path)
                    except BaseException:
                        Path(tmp).unlink(missing_ok=True)
                        raise
                    written += 1
                bar.update(1 + existing - shown)
                shown = existing
            bar.update(existing - shown)
        return DirResult(written, sorted(skipped), existing)

    def warmup(self, **controls: Any) -> int:
        """Compile every bucket's programs for these controls now (a server's start-up; with the
        persistent cache, a later process loads them instead). Returns how many were new."""
        c = self._controls(controls)
        before = self.compile_count
        for b in self.batch_buckets:
            for n in self.token_buckets:
                self._encode_program(b, n, c.pitch_transform)
            for t in self.frame_buckets:
                self._render_program(b, t, c.denoise > 0)
        return self.compile_count - before

    # ---- host side: text → groups --------------------------------------------------------------

    def _controls(self, overrides: dict[str, Any]) -> Controls:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(Controls)}
        if unknown:
            raise InputError(f"unknown control(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(f.name for f in dataclasses.fields(Controls))}")
        return dataclasses.replace(self.defaults, **overrides).check(self.fastpitch.config)

    def _sentence_ids(self, text: str) -> Iterator[list[int]]:
        """Ids of each speakable sentence, cut at spaces to fit the largest token bucket, encoded as
        the checkpoint's text was in training (ARPAbet or letters, its own dictionary, spaces around)."""
        c = self.fastpitch.config
        arpabet = c.p_arpabet > 0  # 0 < p < 1 was a random mix in training: every word as ARPAbet here
        head, tail = [SPACE_ID] * c.prepend_space_to_text, [SPACE_ID] * c.append_space_to_text
        limit = self.token_buckets[-1] - len(head) - len(tail)
        for sentence in frontend.split_sentences(text):
            try:
                ids = frontend.to_ids(sentence, arpabet=arpabet, lexicon=c.lexicon)
            except TextError:
                continue  # "..." between sentences, an emoji line: nothing to say here
            while len(ids) > limit:
                space = _last_space(ids, limit)
                yield self._model_ids(head + (ids[:space] if space else ids[:limit]) + tail)
                ids = ids[space + 1 :] if space else ids[limit:]
            yield self._model_ids(head + ids + tail)

    def _model_ids(self, ids: list[int]) -> list[int]:
        """english_basic ids in the model's own vocabulary, if it has one."""
        if self.vocabulary is None:
            return ids
        out = self.vocabulary[ids].tolist()
        if min(out) < 0:
            missing = sorted({SYMBOLS[i].lstrip("@") for i, o in zip(ids, out) if o < 0})
            raise InputError(f"this FastPitch's vocabulary has no {', '.join(missing)} (from braces in the text); "
                             "use the phones it knows, e.g. vowels with stress digits")
        return out

    def _group(self, rows: list[tuple[Any, list[int]]]) -> _Group:
        b = _bucket(len(rows), self.batch_buckets)
        n = _bucket(max(len(ids) for _, ids in rows), self.token_buckets)
        ids = np.full((b, n), self.fastpitch.config.padding_idx, np.int32)
        lengths = np.zeros(b, np.int32)
        for i, (_, row) in enumerate(rows):
            ids[i, : len(row)] = row
            lengths[i] = len(row)
        return _Group([key for key, _ in rows], ids, lengths)

    def _stream_groups(self, text: str) -> Iterator[_Group]:
        """Sentences in order, in groups of 1, 2, 4, ... up to the largest batch bucket."""
        size, rows = 1, []
        for i, ids in enumerate(self._sentence_ids(text)):
            rows.append((i, ids))
            if len(rows) == size:
                yield self._group(rows)
                size, rows = min(2 * size, self.batch_buckets[-1]), []
        if rows:
            yield self._group(rows)

    def _window_groups(self, numbered: Iterable[tuple[int, str]]) -> Iterator[_Group]:
        """Windows of texts (enough sentences for 8 of the largest batches), their sentences sorted
        by length and cut into the batches that pad least (`_partition`). Row keys are (text number,
        sentence index, sentence count); a text with nothing to speak is one empty row (n, 0, 0)."""
        biggest = self.batch_buckets[-1]
        numbered = iter(numbered)
        while True:
            rows: list[tuple[tuple[int, int, int], list[int]]] = []
            for n, text in numbered:
                sentences = list(self._sentence_ids(text))
                rows += [((n, j, len(sentences)), ids) for j, ids in enumerate(sentences)] or [((n, 0, 0), [])]
                if len(rows) >= 8 * biggest:
                    break
            if not rows:
                return
            rows.sort(key=lambda row: len(row[1]))
            ends = _partition([len(ids) for _, ids in rows], self.batch_buckets, self.token_buckets,
                              MAX_BATCH_SLOTS * self.mesh.devices.size)
            yield from (self._group(rows[i:j]) for i, j in zip([0, *ends], ends))

    # ---- device side ---------------------------------------------------------------------------

    def _texts(self, numbered: Iterable[tuple[int, str]], c: Controls) -> Iterator[tuple[int, np.ndarray | None]]:
        """(number, audio) per text as soon as all its sentences are done; None if it has none."""
        pending: dict[int, list[np.ndarray | None]] = {}
        for (n, j, count), audio in self._run(self._window_groups(numbered), c):
            if count == 0:
                yield n, None
                continue
            parts = pending.setdefault(n, [None] * count)
            parts[j] = audio
            if all(p is not None for p in parts):
                del pending[n]
                yield n, _join(parts, self.silence)

    def _run(self, groups: Iterable[_Group], c: Controls) -> Iterator[tuple[Any, np.ndarray]]:
        """(key, audio) per real row of each group, in group order. The first group is collected at
        once (streaming latency); after it, one group computes while the previous is collected."""
        in_flight: collections.deque[_Launched] = collections.deque()
        first = True
        for group in _prefetch(groups, depth=2):
            in_flight.append(self._launch(group, c))
            if first or len(in_flight) > 1:
                yield from self._collect(in_flight.popleft())
            first = False
        while in_flight:
            yield from self._collect(in_flight.popleft())

    def _launch(self, group: _Group, c: Controls) -> _Launched:
        b, n = group.ids.shape
        controls = jax.device_put(c.vector(), self._replicated)
        enc, reps, frames = self._encode_program(b, n, c.pitch_transform)(
            self._fp_params, jax.device_put(group.ids, self._batched), jax.device_put(group.lengths, self._batched), controls)
        frames = np.asarray(frames)[: len(group.keys)]  # waits for encode only
        if frames.max() > MAX_SENTENCE_FRAMES:
            raise InputError(
                f"a sentence would last {frames.max() / self.sample_rate * self.hop:.0f} s ({frames.max()} mel frames) "
                f"at pace {c.pace}, more than the limit of {MAX_SENTENCE_FRAMES} frames "
                f"({MAX_SENTENCE_FRAMES / self.sample_rate * self.hop:.0f} s) for one sentence; raise pace or "
                "lower max_duration")
        t = _bucket(int(frames.max()), self.frame_buckets)
        bias = (self._bias(),) if c.denoise > 0 else ()
        audio = self._render_program(b, t, c.denoise > 0)(self._fp_params, self._hg_params, enc, reps, controls, *bias)
        self.stats.update(batches=1, sentences=len(group.keys), frames=int(frames.sum()), padded_frames=b * t)
        return _Launched(group.keys, frames, audio)

    def _collect(self, launched: _Launched) -> Iterator[tuple[Any, np.ndarray]]:
        audio = np.asarray(launched.audio)
        for row, (key, frames) in enumerate(zip(launched.keys, launched.frames)):
            clip = audio[row, : frames * self.hop].copy()  # a copy frees the batch buffer
            if not np.isfinite(clip).all():
                raise JaxTTSError("the models produced non-finite audio (NaN/Inf); the checkpoint's weights are broken "
                                  "or the dtype overflows: try dtype=jnp.float32")
            yield key, clip

    def _encode_program(self, b: int, n: int, transform: fp.PitchTransform | None) -> Any:
        def build() -> Any:
            f = functools.partial(_encode, config=self.fastpitch.config, dtype=self.fp_dtype, transform=transform,
                                  n_out=self.token_buckets[-1])
            ids = jax.ShapeDtypeStruct((b, n), jnp.int32, sharding=self._batched)
            lengths = jax.ShapeDtypeStruct((b,), jnp.int32, sharding=self._batched)
            controls = jax.ShapeDtypeStruct((8,), jnp.float32, sharding=self._replicated)
            return jax.jit(f, out_shardings=self._batched).lower(self._fp_params, ids, lengths, controls).compile()

        return self._program(("encode", b, n, transform), build)

    def _render_program(self, b: int, t: int, denoise: bool) -> Any:
        def build() -> Any:
            f = functools.partial(_render, fp_config=self.fastpitch.config, hg_config=self.hifigan.config,
                                  fp_dtype=self.fp_dtype, hg_dtype=self.hg_dtype, n_frames=t)
            n, d = self.token_buckets[-1], self.fastpitch.config.symbols_embedding_dim
            enc = jax.ShapeDtypeStruct((b, n, d), self.fp_dtype, sharding=self._batched)
            reps = jax.ShapeDtypeStruct((b, n), jnp.int32, sharding=self._batched)
            controls = jax.ShapeDtypeStruct((8,), jnp.float32, sharding=self._replicated)
            bias = (self._bias(),) if denoise else ()
            return jax.jit(f, out_shardings=self._batched).lower(
                self._fp_params, self._hg_params, enc, reps, controls, *bias).compile()

        return self._program(("render", b, t, denoise), build)

    def _program(self, key: tuple, build: Callable[[], Any]) -> Any:
        # Under a lock: threads sharing a cold Synthesizer wait for the one compiling, never compile it too.
        with self._compile_lock:
            if key not in self._programs:
                self._programs[key] = build()
                self.stats.update(compiles=1)
            return self._programs[key]

    def _bias(self) -> jax.Array:
        """The denoiser's bias spectrum, replicated (computed on first use)."""
        if self._bias_spectrum is None:
            self._bias_spectrum = jax.device_put(self.hifigan.bias_spectrum, self._replicated)
        return self._bias_spectrum


def _join(parts: list[np.ndarray], silence: np.ndarray) -> np.ndarray:
    out = [parts[0]]
    for part in parts[1:]:
        out += [silence, part]
    return np.concatenate(out)


def _bucket(size: int, buckets: Sequence[int]) -> int:
    """The smallest bucket >= size; past the largest, a multiple of it."""
    for b in buckets:
        if b >= size:
            return b
    return -(-size // buckets[-1]) * buckets[-1]


# What one launch of the two programs costs beyond its work, in padded token slots (batch rows x
# token bucket). Measured on an H100 in fp32: ~4 ms fixed for HiFi-GAN (12.6 ms for one 4 s item,
# 8.2 ms each in a batch of 16) and ~4-6 ms for FastPitch, while a token slot (~5 frames) costs
# ~0.14 ms. On a CPU the batch buckets are (1,) and it does not matter.
LAUNCH_COST = 64
# The most token slots one device gets in a launch, unless a single sentence needs more: about
# 20,000 frames, whose FastPitch 1.1 + HiFi-GAN v1 program needs 5.6 GiB (XLA's memory analysis on
# CPU, b=16 x 1280 frames), so long sentences batch by 16 or 8, not 32, and fit a 16 GB accelerator.
MAX_BATCH_SLOTS = 4096


def _partition(lengths: Sequence[int], batch_buckets: Sequence[int], token_buckets: Sequence[int],
               max_slots: int = MAX_BATCH_SLOTS) -> list[int]:
    """Cut ascending `lengths` into consecutive groups with the least padded work: the end index of
    each group. A group of g rows costs bucket(g) · bucket(its longest) + LAUNCH_COST, so ten short
    sentences and two long ones become two batches instead of one that pads all twelve to the
    longest (dynamic programming over the cut points; the frames each group makes follow its tokens).
    A group of several rows holds at most `max_slots` token slots."""
    best, cut = [0] + [None] * len(lengths), [0] * (len(lengths) + 1)
    for j in range(1, len(lengths) + 1):
        width = _bucket(max(lengths[j - 1], 1), token_buckets)
        for i in range(max(0, j - batch_buckets[-1]), j):
            slots = _bucket(j - i, batch_buckets) * width
            if slots > max_slots and j - i > 1:
                continue
            cost = best[i] + slots + LAUNCH_COST
            if best[j] is None or cost < best[j]:
                best[j], cut[j] = cost, i
    ends, j = [], len(lengths)
    while j:
        ends.append(j)
        j = cut[j]
    return ends[::-1]


def _vocabulary(config: fp.FastPitchConfig) -> np.ndarray | None:
    """english_basic id -> the model's id (-1: none) for a model with its own vocabulary (NVIDIA's
    english_basic_lowercase, a NeMo phoneme tokenizer's); None for english_basic models. Refuses a
    model that lacks a symbol the front-end always uses."""
    if config.symbols is None:
        if config.n_symbols != len(SYMBOLS):
            raise ConfigError(f"this FastPitch has {config.n_symbols} input symbols and no vocabulary the text "
                              f"front-end knows (NVIDIA's english_basic has {len(SYMBOLS)}; english_basic_lowercase "
                              "is read from a checkpoint's train_setup, NeMo's English phoneme tokenizer from .nemo "
                              "archives); give it ids with FastPitch.infer instead")
        return None
    index = {s: i for i, s in enumerate(config.symbols)}
    # Phones are '@AA1' in NVIDIA's tables and 'AA1' in NeMo's; the front-end writes lowercase letters.
    names = [(s if s in index else s[1:]) if s[0] == "@" else s.lower() for s in SYMBOLS]
    table = np.array([index.get(name, -1) for name in names])
    used = [name for i, name in enumerate(names) if i and table[i] < 0 and name not in _BARE_VOWELS]
    if used:
        raise ConfigError(f"this FastPitch's vocabulary lacks {', '.join(used)}, which the text front-end uses")
    return table


_BARE_VOWELS = frozenset(p[:-1] for p in ARPABET if p[-1].isdigit())  # CMUdict always marks stress


def _last_space(ids: list[int], limit: int) -> int | None:
    """Index of the last space among ids[limit/2 : limit + 1], where a too-long sentence is cut."""
    for i in range(limit, limit // 2, -1):
        if ids[i] == SPACE_ID:
            return i
    return None


def _nothing_to_speak(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"nothing to speak in {shown!r}: it has no words, letters or numbers after normalization"


T = TypeVar("T")


def _prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Iterate `items` in a worker thread, at most `depth` items ahead; its errors re-raise here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((end, e))

    worker = threading.Thread(target=work, name="jaxtts-text", daemon=True)
    worker.start()
    try:
        while True:
            item, error = q.get()
            if error is not None:
                raise error
            if item is end:
                return
            yield item
    finally:
        stop.set()


def enable_compilation_cache(directory: str | Path | None = None) -> None:
    """Turn on JAX's persistent compilation cache (default `<jaxtts cache>/xla`) for every program,
    however small or quick to compile. A directory already set through JAX is kept."""
    if jax.config.jax_compilation_cache_dir:
        return
    if directory is None:
        from jaxtts import hub

        directory = hub.cache_dir() / "xla"
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


_SYNTHESIZERS: collections.OrderedDict[tuple, Synthesizer] = collections.OrderedDict()


def synthesize(text: str, *, fastpitch: fp.FastPitch | str | Path | None = None,
               hifigan: hg.HiFiGAN | str | Path | None = None, **controls: Any) -> np.ndarray:
    """Speak `text`: float32 audio at the vocoder's rate (22,050 Hz for NVIDIA's). The one-line entry point.

    Models are loaded objects or paths (`.pt`, `.nemo`, converted directories); without them,
    the published pair from the jaxtts cache (`jaxtts download`). Controls as `Synthesizer`.
    One Synthesizer per model pair is kept, so later calls reuse the compiled programs.
    """
    import jaxtts

    if fastpitch is None or hifigan is None:
        from jaxtts import hub

        models = hub.ensure_models()
        fastpitch = models["fastpitch"] if fastpitch is None else fastpitch
        hifigan = models["hifigan"] if hifigan is None else hifigan
    key = tuple(str(Path(m).expanduser().resolve()) if isinstance(m, (str, Path)) else m for m in (fastpitch, hifigan))
    if key not in _SYNTHESIZERS:
        fp_model = jaxtts.load_fastpitch(fastpitch) if isinstance(fastpitch, (str, Path)) else fastpitch
        hg_model = jaxtts.load_hifigan(hifigan) if isinstance(hifigan, (str, Path)) else hifigan
        _SYNTHESIZERS[key] = Synthesizer(fp_model, hg_model)
        while len(_SYNTHESIZERS) > 4:
            _SYNTHESIZERS.popitem(last=False)
    _SYNTHESIZERS.move_to_end(key)
    return _SYNTHESIZERS[key].synthesize(text, **controls)
