"""Synthesis engine: text → audio (at the vocoder's rate) from a bounded set of compiled programs.

Per group of sentences:

    host    split sentences → ids → pad into a (batch, token) bucket      worker thread, one group ahead
            (an SSML document: its pieces, a pace factor and pitch change per token)
    device  `encode`: FastPitch up to the rounded durations                 one program per (batch, token) bucket
    host    read the frame counts, pick the frame bucket                    sync 1
    device  `decode`: FastPitch decoder → mel                                one program per (batch, frame) bucket
    host    cut each mel into overlapping vocoder windows                   sync 2 (`hifigan.cut_windows`)
    device  `vocode`: HiFi-GAN (→ denoiser) on a batch of windows           one program per (batch, window size)
    host    join each item's windows' exact centres; silence between sentences

`encode` pads its output to the largest token bucket, so `decode` depends on (batch, frames)
only; the vocoder is convolutional, so a few window sizes serve every length
(`buckets.VOCODER_WINDOWS`) and the expensive vocoder programs do not grow with the frame
buckets. Both models mask every padded position, so an utterance sounds the same alone, in any
batch and in any bucket. While the host collects group n, group n+1 already runs on the device,
and the worker thread turns the text of group n+2 into ids (JAX releases the GIL while it computes).

Programs are compiled ahead of time and kept in a dict, so `compile_count` is exact and a shape
outside the bucket tables never compiles behind the caller's back. JAX's persistent compilation cache is on
by default (in the jaxtts cache directory), and beside it the program store (`jaxtts.programs`), so a
second process starts warm without tracing the models again.

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
import concurrent.futures
import dataclasses
import functools
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxtts import files, programs
from jaxtts.errors import ConfigError, InputError, JaxTTSError, TextError
from jaxtts.models import buckets, denoiser
from jaxtts.models import fastpitch as fp
from jaxtts.models import hifigan as hg
from jaxtts.models.buckets import BATCH_BUCKETS, FRAME_BUCKETS, MAX_BATCH_SLOTS, MAX_SENTENCE_FRAMES, TOKEN_BUCKETS
from jaxtts.models.controls import PACE, Controls, PitchTransform
from jaxtts.text import ssml as ssml_parser
from jaxtts.text.encoder import TextEncoder


def _encode(fp_params: Any, ids: jax.Array, lengths: jax.Array, controls: Controls, *, config: fp.FastPitchConfig,
            dtype: Any, n_out: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """FastPitch stage 1, its outputs padded from the token bucket to `n_out` tokens (zero durations)."""
    e = fp.encode(fp_params, ids, lengths, controls, config=config, dtype=dtype)
    pad = n_out - ids.shape[1]
    return jnp.pad(e.enc, ((0, 0), (0, pad), (0, 0))), jnp.pad(e.reps, ((0, 0), (0, pad))), e.mel_lens


def _decode(fp_params: Any, enc: jax.Array, reps: jax.Array, *, config: fp.FastPitchConfig, dtype: Any,
            n_frames: int) -> jax.Array:
    """FastPitch decode into `n_frames`: mel (B, n_mel, n_frames)."""
    return fp.decode(fp_params, enc, reps, n_frames, config=config, dtype=dtype)[0]


def _vocode(hg_params: Any, mel: jax.Array, lengths: jax.Array, strength: jax.Array, bias: jax.Array | None = None, *,
            config: hg.HiFiGANConfig, dtype: Any) -> jax.Array:
    """HiFi-GAN on a batch of windows with their valid `lengths` (+ the denoiser, given its bias): (B, T·hop)."""
    audio = hg.generate(hg_params, mel, lengths, config=config, dtype=dtype)
    if bias is None:
        return audio
    # Every item is followed by zeros, however full its window: the denoiser's STFT then sees the
    # same tail in any batch (NVIDIA's, run on one exact-length item, reflects its last 512 samples).
    n = audio.shape[1]
    audio = jnp.where(jnp.arange(n)[None, :] < lengths[:, None] * config.hop_length, audio, 0.0)
    audio = jnp.pad(audio, ((0, 0), (0, denoiser.N_FFT)))
    return denoiser.denoise(audio, bias, strength)[:, :n]


class _Utterance(NamedTuple):
    """One row of a device batch: ids, each token's factor on the call's pace, Hz added to its
    pitch shift and volume gain (SSML's spans; None: 1, 0 and 1 everywhere), and the samples of
    silence before and after it."""

    ids: list[int]
    rate: np.ndarray | None = None
    pitch_hz: np.ndarray | None = None
    gain: np.ndarray | None = None
    before: int = 0
    after: int = 0


class _Group(NamedTuple):
    """One device batch: `keys` name its real rows; rows past them are empty (length 0)."""

    keys: list[Any]
    ids: np.ndarray  # (B, N) int32
    lengths: np.ndarray  # (B,) int32
    rate: np.ndarray  # (B, N) float32 factors on the pace
    pitch_hz: np.ndarray  # (B, N) float32 added to the pitch shift
    utterances: list[_Utterance]  # of the real rows: gain and silences


class _Launched(NamedTuple):
    keys: list[Any]
    windowed: hg.Windowed  # the rows' mels cut into vocoder windows
    audio: dict[int, list[tuple[int, jax.Array]]]  # their audio per window size, still computing
    utterances: list[_Utterance]
    reps: np.ndarray | None  # (len(keys), N) frames per token, where a row has a volume gain


class DirResult(NamedTuple):
    """What `synthesize_to_dir` did: files written, the line numbers with nothing to speak, and the
    lines left alone because their WAV was already there (`skip_existing`)."""

    written: int
    skipped: list[int]
    existing: int = 0


class Synthesizer:
    """FastPitch + HiFi-GAN with bucketed, compiled-once programs. Use from one thread at a time.

    Every synthesis method takes the voice controls of `Controls` as keywords (pace=1.1,
    pitch_shift=20.0, speaker=0, denoise=0.005, ...), and `ssml` (see `synthesize`). New values,
    and SSML's per-token ones, never recompile; a new pitch_transform function, or denoise
    switched on, compiles its own programs once.

    token_buckets, frame_buckets, batch_buckets, vocoder_windows: the static shapes; the number of
    programs is at most |batch|·|token| encodes (per pitch transform) + |batch|·|frame| decodes +
    |batch|·|windows| vocoders (per denoise on-off); `program_bound` computes it.
    An utterance longer than the largest frame bucket gets a multiple of it. All bucket tables
    default per kind of device (see `buckets.TOKEN_BUCKETS`, `FRAME_BUCKETS`, `BATCH_BUCKETS`).
    denoise: default denoiser strength. dtype: compute dtype for both models (default: each
    model's own; jnp.bfloat16 for speed on TPU/GPU). silence_s: pause between sentences.
    devices: where batches are sharded (default: all local devices).
    compilation_cache: JAX's persistent cache directory; True = `<jaxtts cache>/xla`, False =
    leave JAX's setting alone. A directory set through JAX itself always wins.

    `stats` counts batches, sentences, frames, padded_frames decoded, vocoded_frames (the windows'
    frames), programs compiled (`compiles`) and how many of them came whole from the program store
    (`loaded`, see `jaxtts.programs`) (for tests and benchmarks).
    """

    def __init__(self, fastpitch: fp.FastPitch, hifigan: hg.HiFiGAN, *, token_buckets: Sequence[int] | None = None,
                 frame_buckets: Sequence[int] | None = None, batch_buckets: Sequence[int] | None = None,
                 vocoder_windows: Sequence[int] = buckets.VOCODER_WINDOWS, denoise: float = 0.0, dtype: Any = None,
                 silence_s: float = 0.2,
                 devices: Sequence[jax.Device] | None = None, compilation_cache: bool | str | Path = True) -> None:
        fc, hc = fastpitch.config, hifigan.config
        self.text = (fastpitch.text or TextEncoder()).check(fc.n_symbols, speakable=True)  # how to write its ids
        if fc.n_mel_channels != hc.num_mels:
            raise ConfigError(f"FastPitch makes {fc.n_mel_channels}-band mels but HiFi-GAN takes {hc.num_mels}")
        devices = list(devices or jax.local_devices())
        kind = buckets.kind(devices[0].platform)
        token_buckets = TOKEN_BUCKETS[kind] if token_buckets is None else token_buckets
        frame_buckets = FRAME_BUCKETS[kind] if frame_buckets is None else frame_buckets
        batch_buckets = BATCH_BUCKETS[kind] if batch_buckets is None else batch_buckets
        for name, sizes in (("token_buckets", token_buckets), ("frame_buckets", frame_buckets),
                            ("batch_buckets", batch_buckets), ("vocoder_windows", vocoder_windows)):
            if not sizes or any(int(s) < 1 for s in sizes):
                raise InputError(f"{name} must be positive sizes, got {list(sizes)}")
        if not np.isfinite(silence_s) or silence_s < 0:
            raise InputError(f"silence_s must be >= 0 seconds, got {silence_s!r}")
        self.fastpitch, self.hifigan = fastpitch, hifigan
        self.defaults = Controls(denoise=denoise).check(fc.n_speakers)
        self.sample_rate = hifigan.config.sampling_rate  # Hz of every array this returns
        self.silence = np.zeros(round(silence_s * self.sample_rate), np.float32)
        self.hop = hc.hop_length
        # SSML's semitones become Hz at the speaker's mean pitch (the model shifts pitch in Hz).
        std, mean = (float(np.asarray(fastpitch.params[k]).reshape(-1)[0]) for k in ("pitch_std", "pitch_mean"))
        self.pitch_mean_hz = fp.FALLBACK_PITCH_MEAN if std == 0 else mean
        self.fp_dtype = dtype or fastpitch.dtype
        self.hg_dtype = dtype or hifigan.dtype

        self.mesh = Mesh(np.array(devices), ("batch",))
        self._batched = NamedSharding(self.mesh, PartitionSpec("batch"))
        self._replicated = NamedSharding(self.mesh, PartitionSpec())
        self.token_buckets = tuple(sorted({int(s) for s in token_buckets}))
        self.frame_buckets = tuple(sorted({int(s) for s in frame_buckets}))
        self.batch_buckets = tuple(sorted({-(-int(s) // len(devices)) * len(devices) for s in batch_buckets}))
        # Denoising reaches N_FFT samples further and needs windows on its STFT's hop grid.
        r = hc.receptive_field_frames
        self._reach = {False: (r, 1), True: (r + -(-denoiser.N_FFT // self.hop),
                                             denoiser.HOP // np.gcd(self.hop, denoiser.HOP))}
        self.vocoder_windows = buckets.vocoder_windows(vocoder_windows, r)
        self.denoise_windows = buckets.vocoder_windows(self.vocoder_windows, *self._reach[True])
        self._fp_params = jax.device_put(fastpitch.inference_params, self._replicated)
        self._hg_params = jax.device_put(hifigan.inference_params, self._replicated)
        self._programs: dict[tuple, concurrent.futures.Future] = {}
        self._compile_lock = threading.Lock()
        self._compiler: concurrent.futures.ThreadPoolExecutor | None = None  # compiles ahead of need
        self._bias_spectrum: jax.Array | None = None
        self.stats = collections.Counter()
        if compilation_cache:
            enable_compilation_cache(None if compilation_cache is True else compilation_cache)

    # ---- public API ---------------------------------------------------------------------------

    @property
    def compile_count(self) -> int:
        """Programs compiled so far (a persistent-cache hit counts: it is a program this process built)."""
        return len(self._programs)

    @property
    def program_bound(self) -> int:
        """The most programs this synthesizer can compile for one pitch transform and both denoise
        settings: the size of its bucket tables' product, as the class docstring counts it."""
        b = len(self.batch_buckets)
        vocoders = len(self.vocoder_windows) + len(self.denoise_windows)
        return b * (len(self.token_buckets) + len(self.frame_buckets) + vocoders)

    def synthesize(self, text: str, *, ssml: bool | None = None, **controls: Any) -> np.ndarray:
        """Audio for `text` (float32 at `sample_rate` Hz): sentences with `silence_s` between them.

        `ssml`: read `text` as an SSML document (True), as plain text (False), or as SSML when it
        is a `<speak>` document (None); see `jaxtts.text.ssml` and the README's SSML section.
        Raises TextError when nothing in `text` can be spoken, InputError for malformed SSML.
        Equals `np.concatenate(stream(text))`.
        """
        return np.concatenate(list(self.stream(text, ssml=ssml, **controls)))

    def stream(self, text: str, *, ssml: bool | None = None, **controls: Any) -> Iterator[np.ndarray]:
        """Audio one sentence at a time, in order (each after the first starts with the silence,
        or with the silence of the SSML `<break>` before it).

        The first chunk costs the first sentence's work only; later sentences go in growing
        batches while the caller consumes earlier chunks. Memory stays bounded however long
        `text` is. Raises TextError (before any chunk) when nothing in `text` can be spoken;
        malformed SSML is an InputError at the call.
        """
        c = self._controls(controls)
        if not isinstance(text, str):
            raise InputError(f"text must be a str, got {type(text).__name__}")
        utterances = self._utterances(text, ssml)

        def chunks() -> Iterator[np.ndarray]:
            spoken = 0
            for _, audio in self._run(self._stream_groups(utterances), c):
                yield audio
                spoken += 1
            if spoken == 0:
                raise TextError(_nothing_to_speak(text))

        return chunks()

    def synthesize_batch(self, texts: Sequence[str], *, ssml: bool | None = None, **controls: Any) -> list[np.ndarray]:
        """Audio for each text, as `synthesize` gives it; sentences of all texts are sorted by length
        into buckets and batched. Raises TextError naming a text with nothing to speak."""
        c = self._controls(controls)
        texts = list(texts)
        out: list[np.ndarray | None] = [None] * len(texts)
        for i, audio in self._texts(enumerate(texts), c, ssml):
            if audio is None:
                raise TextError(f"text {i}: {_nothing_to_speak(texts[i])}")
            out[i] = audio
        return out  # type: ignore[return-value]

    def synthesize_to_dir(self, lines: Iterable[str], out_dir: str | Path, *, progress: bool = False,
                          subtype: str = "PCM_16", process_index: int | None = None,
                          process_count: int | None = None, skip_existing: bool = False, ssml: bool | None = None,
                          **controls: Any) -> DirResult:
        """One WAV per line, `out_dir/NNNNNN.wav` numbered from 1 like the lines; each written to a
        temporary file and renamed, so a file that exists is complete. Lines with nothing to speak
        (blank, punctuation only) are skipped and reported. `lines` is read lazily, a window at a
        time: memory stays bounded for any number of lines.

        `ssml` as `synthesize`, for each line. `skip_existing` leaves a line alone when its WAV is
        there, so a killed run resumes where it stopped (a WAV that exists is complete, as above).

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
            for n, audio in self._texts(mine, c, ssml):
                if audio is None:
                    skipped.append(n)
                else:
                    with files.atomic_write(out / f"{n:06d}.wav") as tmp, tmp.open("wb") as f:
                        soundfile.write(f, audio, self.sample_rate, subtype=subtype, format="WAV")
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
                self._decode_program(b, t)
            for w in self.denoise_windows if c.denoise > 0 else self.vocoder_windows:
                self._vocode_program(b, w, c.denoise > 0)
        return self.compile_count - before

    # ---- host side: text → groups --------------------------------------------------------------

    def _controls(self, overrides: dict[str, Any]) -> Controls:
        unknown = set(overrides) - {f.name for f in dataclasses.fields(Controls)}
        if unknown:
            raise InputError(f"unknown control(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(f.name for f in dataclasses.fields(Controls))}")
        return dataclasses.replace(self.defaults, **overrides).check(self.fastpitch.config.n_speakers)

    def _sentence_ids(self, text: str) -> Iterator[list[int]]:
        """Ids of each speakable sentence, in pieces that fit the largest token bucket."""
        return self.text.sentences(text, self.token_buckets[-1])

    def _utterances(self, text: str, ssml: bool | None) -> Iterator[_Utterance]:
        """The rows of `text`: its sentences, or an SSML document's (parsed now, so that a malformed
        one fails here), `silence_s` between them."""
        if ssml or (ssml is None and ssml_parser.is_ssml(text)):
            return self._ssml_utterances(ssml_parser.parse(text))
        silence = len(self.silence)
        return (_Utterance(ids, before=silence if i else 0) for i, ids in enumerate(self._sentence_ids(text)))

    def _ssml_utterances(self, sentences: list[list[ssml_parser.Span]]) -> Iterator[_Utterance]:
        """One row per piece of a sentence between `<break>`s (cut as `_sentence_ids` cuts), each token
        with its span's prosody. A break's silence replaces the pause between sentences; breaks
        in a row add up; a break at the end of the document is silence after it."""
        rate_of = self.sample_rate / 1000
        pause: int | None = None  # samples of <break> since the last row; None: none
        held: _Utterance | None = None  # the last row, yielded once the next one (or the end) is known
        for spans in sentences:
            for piece in _pieces(spans):
                try:
                    rows = list(self.text.pieces([s.phonemes or s.text for s in piece], self.token_buckets[-1]))
                except TextError:
                    rows = []
                for k, (ids, owners) in enumerate(rows):
                    prosody = [piece[o].prosody for o in owners]
                    gain = np.array([10 ** (p.volume_db / 20) for p in prosody], np.float32)
                    before = len(self.silence) if held is not None else 0
                    if k == 0 and pause is not None:
                        before = pause
                    if held is not None:
                        yield held
                    rate = np.array([p.rate for p in prosody], np.float32)
                    hz = np.array([p.pitch_hz + self.pitch_mean_hz * (2 ** (p.pitch_semitones / 12) - 1)
                                   for p in prosody], np.float32)
                    held = _Utterance(ids, rate, hz, None if (gain == 1).all() else gain, before)
                    pause = None
                if piece[-1].break_ms:
                    pause = (pause or 0) + round(piece[-1].break_ms * rate_of)
        if held is not None:
            yield held._replace(after=pause or 0)

    def _group(self, rows: list[tuple[Any, _Utterance]]) -> _Group:
        b = buckets.pick(len(rows), self.batch_buckets)
        n = buckets.pick(max(len(u.ids) for _, u in rows), self.token_buckets)
        ids = np.full((b, n), self.fastpitch.config.padding_idx, np.int32)
        lengths = np.zeros(b, np.int32)
        rate, pitch_hz = np.ones((b, n), np.float32), np.zeros((b, n), np.float32)
        for i, (_, u) in enumerate(rows):
            ids[i, : len(u.ids)] = u.ids
            lengths[i] = len(u.ids)
            if u.rate is not None:
                rate[i, : len(u.ids)], pitch_hz[i, : len(u.ids)] = u.rate, u.pitch_hz
        return _Group([key for key, _ in rows], ids, lengths, rate, pitch_hz, [u for _, u in rows])

    def _stream_groups(self, utterances: Iterable[_Utterance]) -> Iterator[_Group]:
        """Sentences in order, in groups of 1, 2, 4, ... up to the largest batch bucket."""
        size, rows = 1, []
        for i, utterance in enumerate(utterances):
            rows.append((i, utterance))
            if len(rows) == size:
                yield self._group(rows)
                size, rows = min(2 * size, self.batch_buckets[-1]), []
        if rows:
            yield self._group(rows)

    def _window_groups(self, numbered: Iterable[tuple[int, str]], ssml: bool | None) -> Iterator[_Group]:
        """Windows of texts (enough sentences for 8 of the largest batches), their sentences sorted
        by length and cut into the batches that pad least (`buckets.partition`). Row keys are (text number,
        sentence index, sentence count); a text with nothing to speak is one empty row (n, 0, 0)."""
        biggest = self.batch_buckets[-1]
        numbered = iter(numbered)
        while True:
            rows: list[tuple[tuple[int, int, int], _Utterance]] = []
            for n, text in numbered:
                sentences = list(self._utterances(text, ssml))
                rows += [((n, j, len(sentences)), u) for j, u in enumerate(sentences)] or [((n, 0, 0), _Utterance([]))]
                if len(rows) >= 8 * biggest:
                    break
            if not rows:
                return
            rows.sort(key=lambda row: len(row[1].ids))
            ends = buckets.partition([len(u.ids) for _, u in rows], self.batch_buckets, self.token_buckets,
                              MAX_BATCH_SLOTS * self.mesh.devices.size)
            yield from (self._group(rows[i:j]) for i, j in zip([0, *ends], ends))

    # ---- device side ---------------------------------------------------------------------------

    def _texts(self, numbered: Iterable[tuple[int, str]], c: Controls,
               ssml: bool | None = None) -> Iterator[tuple[int, np.ndarray | None]]:
        """(number, audio) per text as soon as all its sentences are done; None if it has none."""
        pending: dict[int, list[np.ndarray | None]] = {}
        for (n, j, count), audio in self._run(self._window_groups(numbered, ssml), c):
            if count == 0:
                yield n, None
                continue
            parts = pending.setdefault(n, [None] * count)
            parts[j] = audio
            if all(p is not None for p in parts):
                del pending[n]
                yield n, np.concatenate(parts)

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
        controls = jax.device_put(c.arrays(), self._replicated)
        per_token = self._per_token(group, c)
        enc, reps, frames = self._encode_program(b, n, c.pitch_transform)(
            self._fp_params, jax.device_put(group.ids, self._batched), jax.device_put(group.lengths, self._batched),
            dataclasses.replace(controls, **per_token))
        frames = np.asarray(frames)[: len(group.keys)]  # waits for encode only
        if frames.max() > MAX_SENTENCE_FRAMES:
            raise InputError(
                f"a sentence would last {frames.max() / self.sample_rate * self.hop:.0f} s ({frames.max()} mel frames) "
                f"at pace {c.pace}, more than the limit of {MAX_SENTENCE_FRAMES} frames "
                f"({MAX_SENTENCE_FRAMES / self.sample_rate * self.hop:.0f} s) for one sentence; raise pace or "
                "lower max_duration")
        t = buckets.pick(int(frames.max()), self.frame_buckets)
        denoise = c.denoise > 0
        reach, align = self._reach[denoise]
        sizes = self.denoise_windows if denoise else self.vocoder_windows
        extra = (controls.denoise, self._bias()) if denoise else (controls.denoise,)
        self._vocode_ahead(frames, sizes, reach, align, denoise)
        mel = np.asarray(self._decode_program(b, t)(self._fp_params, enc, reps), np.float32)  # waits for decode
        windowed = hg.cut_windows(mel, frames, sizes, reach, align)

        def vocode(m: np.ndarray, n: np.ndarray) -> jax.Array:
            program = self._vocode_program(len(m), m.shape[2], denoise)
            return program(self._hg_params, jax.device_put(m, self._batched), jax.device_put(n, self._batched), *extra)

        audio = hg.run_windows(windowed, self.batch_buckets, vocode)
        self.stats.update(batches=1, sentences=len(group.keys), frames=int(frames.sum()), padded_frames=b * t,
                          vocoded_frames=sum(m.shape[0] * m.shape[2] for m in windowed.mels.values()))
        gains = any(u.gain is not None for u in group.utterances)  # then the frames of each token are needed
        return _Launched(group.keys, windowed, audio, group.utterances,
                         np.asarray(reps)[: len(group.keys)] if gains else None)

    def _vocode_ahead(self, frames: np.ndarray, sizes: Sequence[int], reach: int, align: int, denoise: bool) -> None:
        """Start building, on a worker thread, the vocoder programs that mels of `frames` will need
        and that are not built yet: known from the durations alone, they compile (XLA releases the
        GIL) while the decoder is built and runs."""
        windows = collections.Counter(w.size for n in frames for w in hg.plan_windows(int(n), sizes, reach, align))
        keys = [(b, size) for size, rows in sorted(windows.items()) for b in set(buckets.split_rows(rows, self.batch_buckets))]
        with self._compile_lock:
            keys = [(b, size) for b, size in keys if ("vocode", b, size, denoise) not in self._programs]
            if keys and self._compiler is None:
                self._compiler = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jaxtts-compile")
        for b, size in keys:
            self._compiler.submit(self._vocode_program, b, size, denoise)

    def _per_token(self, group: _Group, c: Controls) -> dict[str, jax.Array]:
        """The call's pace and pitch shift for every token of `group`, changed by its SSML spans
        (a text without SSML gets the call's values exactly), on the devices."""
        pace = np.asarray(c.pace, np.float32) * group.rate
        real = group.lengths[:, None] > np.arange(pace.shape[1])
        if ((pace < PACE[0]) | (pace > PACE[1]))[real].any():
            worst = pace[real][np.argmax(np.abs(np.log(pace[real])))]
            raise InputError(f"SSML prosody makes the pace {worst:.3g} (pace {c.pace} times the spans' rates); "
                             f"it must stay between {PACE[0]} and {PACE[1]}: use milder rates")
        shift = np.asarray(c.pitch_shift, np.float32) + group.pitch_hz
        return {"pace": jax.device_put(pace, self._batched), "pitch_shift": jax.device_put(shift, self._batched)}

    def _collect(self, launched: _Launched) -> Iterator[tuple[Any, np.ndarray]]:
        clips = hg.join_windows(launched.windowed, launched.audio, self.hop)
        for row, (key, clip) in enumerate(zip(launched.keys, clips)):
            if not np.isfinite(clip).all():
                raise JaxTTSError("the models produced non-finite audio (NaN/Inf); the checkpoint's weights are broken "
                                  "or the dtype overflows: try dtype=jnp.float32")
            u = launched.utterances[row]
            if u.gain is not None:
                clip *= _gain_curve(u.gain, launched.reps[row, : len(u.gain)], self.hop, len(clip))
            if u.before or u.after:
                clip = np.concatenate([np.zeros(u.before, np.float32), clip, np.zeros(u.after, np.float32)])
            yield key, clip

    def _encode_program(self, b: int, n: int, transform: PitchTransform | None) -> Any:
        def build() -> Any:
            f = functools.partial(_encode, config=self.fastpitch.config, dtype=self.fp_dtype, n_out=self.token_buckets[-1])
            ids = jax.ShapeDtypeStruct((b, n), jnp.int32, sharding=self._batched)
            lengths = jax.ShapeDtypeStruct((b,), jnp.int32, sharding=self._batched)
            per_token = jax.ShapeDtypeStruct((b, n), jnp.float32, sharding=self._batched)  # pace and pitch shift
            controls = dataclasses.replace(self._abstract_controls(transform), pace=per_token, pitch_shift=per_token)
            return programs.compile(("encode", self.fastpitch.config, str(self.fp_dtype), self.token_buckets[-1]), f,
                                    self._fp_params, ids, lengths, controls, out_shardings=self._batched,
                                    store=transform is None)

        return self._program(("encode", b, n, transform), build)

    def _decode_program(self, b: int, t: int) -> Any:
        def build() -> Any:
            f = functools.partial(_decode, config=self.fastpitch.config, dtype=self.fp_dtype, n_frames=t)
            n, d = self.token_buckets[-1], self.fastpitch.config.symbols_embedding_dim
            enc = jax.ShapeDtypeStruct((b, n, d), self.fp_dtype, sharding=self._batched)
            reps = jax.ShapeDtypeStruct((b, n), jnp.int32, sharding=self._batched)
            return programs.compile(("decode", self.fastpitch.config, str(self.fp_dtype), t), f, self._fp_params, enc,
                                    reps, out_shardings=self._batched)

        return self._program(("decode", b, t), build)

    def _vocode_program(self, b: int, w: int, denoise: bool) -> Any:
        def build() -> Any:
            f = functools.partial(_vocode, config=self.hifigan.config, dtype=self.hg_dtype)
            mel = jax.ShapeDtypeStruct((b, self.hifigan.config.num_mels, w), jnp.float32, sharding=self._batched)
            lengths = jax.ShapeDtypeStruct((b,), jnp.int32, sharding=self._batched)
            strength = jax.ShapeDtypeStruct((), jnp.float32, sharding=self._replicated)
            bias = (self._bias(),) if denoise else ()
            return programs.compile(("vocode", self.hifigan.config, str(self.hg_dtype)), f, self._hg_params, mel,
                                    lengths, strength, *bias, out_shardings=self._batched)

        return self._program(("vocode", b, w, denoise), build)

    def _abstract_controls(self, transform: PitchTransform | None) -> Controls:
        """The shape of the controls a program takes: traced scalars, replicated; the transform static."""
        return jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=self._replicated),
                            Controls(pitch_transform=transform).arrays())

    def _program(self, key: tuple, build: Callable[[], Any]) -> Any:
        # Threads that need a program another one is building wait for it, never build it too; other
        # programs build meanwhile.
        with self._compile_lock:
            future = self._programs.get(key)
            mine = future is None
            if mine:
                future = self._programs[key] = concurrent.futures.Future()
        if mine:
            try:
                program, loaded = build()
            except BaseException as e:
                with self._compile_lock:
                    del self._programs[key]  # the next caller tries again
                future.set_exception(e)
                raise
            with self._compile_lock:
                self.stats.update(compiles=1, loaded=int(loaded))
            future.set_result(program)
        return future.result()

    def _bias(self) -> jax.Array:
        """The denoiser's bias spectrum, replicated (computed on first use)."""
        if self._bias_spectrum is None:
            self._bias_spectrum = jax.device_put(self.hifigan.bias_spectrum, self._replicated)
        return self._bias_spectrum


def _pieces(spans: list[ssml_parser.Span]) -> Iterator[list[ssml_parser.Span]]:
    """The spans of a sentence cut after each span followed by a `<break>`."""
    piece: list[ssml_parser.Span] = []
    for span in spans:
        piece.append(span)
        if span.break_ms:
            yield piece
            piece = []
    if piece:
        yield piece


def _gain_curve(gain: np.ndarray, reps: np.ndarray, hop: int, n: int) -> np.ndarray:
    """Per-sample gain of `n` samples from a gain per token lasting `reps` frames of `hop` samples:
    each frame's gain at its centre, linear between centres (no click where the volume changes)."""
    frames = np.repeat(gain, reps)
    return np.interp((np.arange(n) + 0.5) / hop - 0.5, np.arange(len(frames)), frames).astype(np.float32)


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


VOICES = ("auto", "jaxtts", "nvidia")


@dataclasses.dataclass(frozen=True)
class Voice:
    """A FastPitch + HiFi-GAN pair on disk, and how to tell a person which voice that is."""

    name: str  # "jaxtts" | "nvidia"
    fastpitch: Path
    hifigan: Path

    @property
    def about(self) -> str:
        if self.name == "jaxtts":
            return ("jaxtts's own voice (FastPitch trained by jaxtts on festival's CMU SLT voice; "
                    "jik876's LJSpeech HiFi-GAN); voice='nvidia' / --voice nvidia for NVIDIA's")
        return "NVIDIA's published FastPitch + HiFi-GAN (LJSpeech)"


def find_voice(voice: str = "auto", *, progress: bool = False) -> Voice:
    """The model pair of `voice`: 'jaxtts' (bundled, offline), 'nvidia' (published; downloaded and
    converted once), or 'auto': NVIDIA's when it is already in the jaxtts cache (the better voice, and
    no network needed), else the bundled one, so a fresh offline install speaks."""
    from jaxtts import hub, voices

    if voice not in VOICES:
        raise InputError(f"no voice {voice!r}; choose one of {', '.join(VOICES)}")
    if voice == "nvidia" or (voice == "auto" and hub.cached()):
        models = hub.ensure_models(progress=progress)
        return Voice("nvidia", models["fastpitch"], models["hifigan"])
    return Voice("jaxtts", voices.fastpitch_path(), voices.generator_path("lj"))


_SYNTHESIZERS: collections.OrderedDict[tuple, Synthesizer] = collections.OrderedDict()
_ANNOUNCED: set[str] = set()


def synthesize(text: str, *, fastpitch: fp.FastPitch | str | Path | None = None,
               hifigan: hg.HiFiGAN | str | Path | None = None, voice: str = "auto", ssml: bool | None = None,
               **controls: Any) -> np.ndarray:
    """Speak `text`: float32 audio at the vocoder's rate (22,050 Hz for both voices). The one-line entry point.

    Models are loaded objects or paths (`.pt`, `.nemo`, converted directories); the ones not given
    come from `find_voice(voice)`, and the first use of each voice says on stderr which one speaks.
    Controls and `ssml` (a `<speak>` document is read as SSML unless `ssml=False`) as
    `Synthesizer.synthesize`. One Synthesizer per model pair is kept, so later calls reuse the
    compiled programs.
    """
    from jaxtts import checkpoint

    if fastpitch is None or hifigan is None:
        chosen = find_voice(voice)
        fastpitch = chosen.fastpitch if fastpitch is None else fastpitch
        hifigan = chosen.hifigan if hifigan is None else hifigan
        if chosen.name not in _ANNOUNCED:
            _ANNOUNCED.add(chosen.name)
            print(f"jaxtts: speaking with {chosen.about}", file=sys.stderr)
    key = tuple(str(Path(m).expanduser().resolve()) if isinstance(m, (str, Path)) else m for m in (fastpitch, hifigan))
    if key not in _SYNTHESIZERS:
        fp_model = checkpoint.load_fastpitch(fastpitch) if isinstance(fastpitch, (str, Path)) else fastpitch
        hg_model = checkpoint.load_hifigan(hifigan) if isinstance(hifigan, (str, Path)) else hifigan
        _SYNTHESIZERS[key] = Synthesizer(fp_model, hg_model)
        while len(_SYNTHESIZERS) > 4:
            _SYNTHESIZERS.popitem(last=False)
    _SYNTHESIZERS.move_to_end(key)
    return _SYNTHESIZERS[key].synthesize(text, ssml=ssml, **controls)
