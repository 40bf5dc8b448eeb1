"""HiFi-GAN generator (Kong et al., 2020) in Flax, numerically equal to NVIDIA's and jik876's.

Activations are channels-last (B, T, C) from `conv_pre` to `conv_post`. Module and parameter names
mirror the PyTorch state_dict (`conv_pre`, `ups_0`, `resblocks_0_1/convs1_2`, `conv_post`), so the
converter's rename table reads like a table. Weight norm is folded into plain kernels: inference
never needs g and v apart.

The generator is convolution-bound: XLA fuses the leaky ReLUs, masks, biases, residual adds and
branch means into about one elementwise pass per convolution, so speed comes from the
convolutions themselves: see `layers.conv_as_image` and `ConvTranspose1d`. On CPU, where
those run at the FMA peak already, `prepare` moves the resblock kernels of the wide stages into the
Winograd domain once, which about halves their multiplies (`winograd`).
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxtts import limits
from jaxtts.errors import ConfigError, InputError
from jaxtts.models import buckets, denoiser, layers, winograd
from jaxtts.models.layers import Conv1d, conv_as_image

LRELU_SLOPE = 0.1
FINAL_SLOPE = 0.01  # upstream calls F.leaky_relu(x) with torch's default slope before conv_post.
_DILATIONS_PER_BLOCK = {"1": 3, "2": 2}
# Narrower resblocks lose more to the Winograd transforms' memory traffic than they save in
# multiplies (the README gives the measurements).
WINOGRAD_MIN_CHANNELS = 128
# Sane ranges of every size and rate a config sets (limits.check_ranges), checked before anything is built;
# at most _MAX_BLOCKS upsampling stages and resblocks per stage.
_RANGES = {"upsample_rates": (1, 64), "upsample_kernel_sizes": (1, 256), "upsample_initial_channel": (1, 1 << 14),
           "resblock_kernel_sizes": (1, 63), "resblock_dilation_sizes": (1, 64), "num_mels": (1, 1024),
           "sampling_rate": (1000, 400_000)}
_MAX_BLOCKS = 16


@dataclasses.dataclass(frozen=True)
class HiFiGANConfig:
    """Generator hyper-parameters, exactly the keys NVIDIA and jik876 store, plus the audio rate the
    checkpoint was trained at (`sampling_rate`: NVIDIA's train_setup, jik876's config.json, NeMo's
    `sample_rate`), which is the rate of the audio it makes."""

    upsample_rates: tuple[int, ...]
    upsample_kernel_sizes: tuple[int, ...]
    upsample_initial_channel: int
    resblock: str
    resblock_kernel_sizes: tuple[int, ...]
    resblock_dilation_sizes: tuple[tuple[int, ...], ...]
    num_mels: int = 80
    sampling_rate: int = 22_050

    def __post_init__(self) -> None:
        def ints(name: str, v: Any) -> tuple[int, ...]:
            try:
                return tuple(int(x) for x in v)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(f"HiFi-GAN config: {name} must be a list of integers, got {v!r}") from None

        fix = functools.partial(object.__setattr__, self)
        fix("upsample_rates", ints("upsample_rates", self.upsample_rates))
        fix("upsample_kernel_sizes", ints("upsample_kernel_sizes", self.upsample_kernel_sizes))
        fix("resblock_kernel_sizes", ints("resblock_kernel_sizes", self.resblock_kernel_sizes))
        if not isinstance(self.resblock_dilation_sizes, Sequence):
            raise ConfigError(f"HiFi-GAN config: resblock_dilation_sizes must be a list of lists, got {self.resblock_dilation_sizes!r}")
        fix("resblock_dilation_sizes", tuple(ints("resblock_dilation_sizes", d) for d in self.resblock_dilation_sizes))
        fix("resblock", str(self.resblock))
        self._validate()

    def _validate(self) -> None:
        def bad(msg: str) -> ConfigError:
            return ConfigError(f"HiFi-GAN config: {msg}")

        limits.check_ranges("HiFi-GAN config", self, _RANGES)
        if max(len(self.upsample_rates), len(self.resblock_kernel_sizes)) > _MAX_BLOCKS:
            raise bad(f"{len(self.upsample_rates)} upsampling stages and {len(self.resblock_kernel_sizes)} resblocks "
                      f"per stage: at most {_MAX_BLOCKS} each")
        rates, kernels = self.upsample_rates, self.upsample_kernel_sizes
        if not rates or len(rates) != len(kernels):
            raise bad(f"upsample_rates {list(rates)} and upsample_kernel_sizes {list(kernels)} must be non-empty and equally long")
        for u, k in zip(rates, kernels):
            # padding (k - u) // 2 gives exactly u·T outputs only when k - u is even and non-negative.
            if u < 1 or k < u or (k - u) % 2:
                raise bad(f"upsample kernel {k} with rate {u}: need kernel >= rate and kernel - rate even")
        if self.resblock not in _DILATIONS_PER_BLOCK:
            raise bad(f"resblock must be '1' or '2', got {self.resblock!r}")
        if not self.resblock_kernel_sizes or len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            raise bad(
                f"resblock_kernel_sizes {list(self.resblock_kernel_sizes)} and resblock_dilation_sizes "
                f"{[list(d) for d in self.resblock_dilation_sizes]} must be non-empty and equally long"
            )
        n = _DILATIONS_PER_BLOCK[self.resblock]
        for k, d in zip(self.resblock_kernel_sizes, self.resblock_dilation_sizes):
            if k < 1 or k % 2 == 0 or len(d) != n or min(d) < 1:
                raise bad(f"resblock type {self.resblock} needs odd kernels and {n} positive dilations each; got kernel {k}, dilations {list(d)}")
        c0, stages = self.upsample_initial_channel, len(rates)
        if c0 < 1 or c0 % (1 << stages):
            raise bad(f"upsample_initial_channel {c0} must be divisible by 2**{stages} (channels halve every stage)")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "HiFiGANConfig":
        """Read a checkpoint's config (NVIDIA `ckpt['config']`, jik876 `config.json`); extra keys are ignored.

        A hop length stored beside it (`hop_length`/`hop_size`) must equal the product of the rates.
        Without a `sampling_rate` (or `sample_rate`) the audio is taken to be 22,050 Hz, NVIDIA's.
        """
        optional = {"num_mels", "sampling_rate"}
        fields = [f.name for f in dataclasses.fields(cls) if f.name not in optional]
        missing = [f for f in fields if f not in d]
        if missing:
            raise ConfigError(f"HiFi-GAN config is missing {', '.join(missing)}; have {', '.join(sorted(map(str, d)))}")
        rate = d.get("sampling_rate", d.get("sample_rate", cls.sampling_rate))
        try:
            rate = int(rate)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"HiFi-GAN config: sampling_rate must be an integer in Hz, got {rate!r}") from None
        try:
            num_mels = int(d.get("num_mels", 80))
            hops = {key: int(d[key]) for key in ("hop_length", "hop_size") if key in d}
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"HiFi-GAN config: num_mels and hop_length must be integers, got "
                              f"{d.get('num_mels')!r}, {d.get('hop_length', d.get('hop_size'))!r}") from None
        cfg = cls(**{f: d[f] for f in fields}, num_mels=num_mels, sampling_rate=rate)
        for key, hop in hops.items():
            if hop != cfg.hop_length:
                raise ConfigError(
                    f"HiFi-GAN config: {key} {d[key]} differs from the product of upsample_rates "
                    f"{list(cfg.upsample_rates)} = {cfg.hop_length}; the config does not describe this generator"
                )
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict that `from_dict` reads back."""
        d = dataclasses.asdict(self)
        return {k: [list(x) for x in v] if k == "resblock_dilation_sizes" else list(v) if isinstance(v, tuple) else v
                for k, v in d.items()}

    @property
    def hop_length(self) -> int:
        """Audio samples per mel frame."""
        return math.prod(self.upsample_rates)

    @property
    def receptive_field_frames(self) -> int:
        """Mel frames on either side of its own frame that an audio sample depends on.

        Audio of frames [0, n - R) is exactly the same whatever follows frame n-1 (and vice versa at
        the start), so chunked or padded vocoding must overlap or trim R frames. Computed by
        mapping each sample's dependency interval back through every layer.
        """
        reach = max(  # one-sided reach of the widest resblock, in samples at its stage's rate
            sum(d * (k - 1) // 2 for d in ds) + (len(ds) * (k - 1) // 2 if self.resblock == "1" else 0)
            for k, ds in zip(self.resblock_kernel_sizes, self.resblock_dilation_sizes)
        )
        worst = 0
        for s in range(self.hop_length):  # each sample position in frame 0
            lo, hi = s - 3, s + 3  # conv_post, k = 7
            for u, k in reversed(list(zip(self.upsample_rates, self.upsample_kernel_sizes))):
                lo, hi = lo - reach, hi + reach
                p = (k - u) // 2  # y[n·u + m - p] += x[n]·w[m] for m in [0, k)
                lo, hi = -(-(lo + p - k + 1) // u), (hi + p) // u
            worst = max(worst, 3 - lo, hi + 3)  # conv_pre, k = 7
        return worst


PUBLISHED = {
    # NVIDIA ships v1; the kernel order is the one of its torch.hub config and jik876's (see README).
    "v1": HiFiGANConfig((8, 8, 2, 2), (16, 16, 4, 4), 512, "1", (3, 7, 11), ((1, 3, 5),) * 3),
    "v2": HiFiGANConfig((8, 8, 2, 2), (16, 16, 4, 4), 128, "1", (3, 7, 11), ((1, 3, 5),) * 3),
    "v3": HiFiGANConfig((8, 8, 4), (16, 16, 8), 256, "2", (3, 5, 7), ((1, 2), (2, 6), (3, 12))),
}


def _phase_runs(k: int, u: int, p: int) -> list[tuple[int, int, int, int]]:
    """Group the u output phases of a transposed conv into runs that one dense conv computes.

    y[q·u + r] = Σ_{j<J} x[q + c - j] · w[(r+p) mod u + j·u] with c = (r + p) // u and
    J = ceil((k - (r+p) mod u) / u); phases with equal (c, J) are contiguous in r.
    Returns (first r, end r, c, J) per run.
    """
    runs: list[tuple[int, int, int, int]] = []
    for r in range(u):
        c, rr = divmod(r + p, u)
        taps = -(-(k - rr) // u)
        if runs and runs[-1][2:] == (c, taps):
            runs[-1] = (runs[-1][0], r + 1, c, taps)
        else:
            runs.append((r, r + 1, c, taps))
    return runs


class ConvTranspose1d(nn.Module):
    """torch.nn.ConvTranspose1d(in, out, k, stride=u, padding=(k-u)/2) on (B, T, C) → (B, u·T, out).

    kernel (k, in, out) keeps torch's tap order: y[n·u + m - p] += x[n] · kernel[m]. Computed
    polyphase: each run of output phases (`_phase_runs`) is one dense conv over the low-rate input
    with the phases as extra output features, then the phases interleave. No zero-stuffed input:
    that would multiply u times as many zeros as samples (slower on CPU, see the README).
    """

    features: int
    kernel_size: int
    stride: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k, u, p = self.kernel_size, self.stride, (self.kernel_size - self.stride) // 2
        kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        x, kernel = x.astype(self.dtype), kernel.astype(self.dtype)
        phases = []
        for r0, r1, c, taps in _phase_runs(k, u, p):
            # Correlation window x[q + c - taps + 1 .. q + c]: taps in reverse, phases as features.
            m = (np.arange(r0, r1) + p)[None, :] % u + u * np.arange(taps - 1, -1, -1)[:, None]
            w = kernel[m].transpose(0, 2, 1, 3).reshape(taps, x.shape[-1], (r1 - r0) * self.features)
            phases.append(conv_as_image(x, w, (taps - 1 - c, c)))
        y = jnp.concatenate(phases, axis=-1)
        return y.reshape(x.shape[0], x.shape[1] * u, self.features) + bias.astype(x.dtype)


def _lrelu(x: jax.Array, slope: float) -> jax.Array:
    return jnp.where(x >= 0, x, x * jnp.asarray(slope, x.dtype))


class ResBlock1(nn.Module):
    kernel_size: int
    dilations: tuple[int, ...]
    form: str = layers.CHECKPOINT
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        ch, k, f, dt = x.shape[-1], self.kernel_size, self.form, self.dtype
        for n, d in enumerate(self.dilations):
            t = Conv1d(ch, k, d, f, as_image=True, dtype=dt, name=f"convs1_{n}")(_lrelu(x, LRELU_SLOPE) * mask)
            x = x + Conv1d(ch, k, 1, f, as_image=True, dtype=dt, name=f"convs2_{n}")(_lrelu(t, LRELU_SLOPE) * mask)
        return x


class ResBlock2(nn.Module):
    kernel_size: int
    dilations: tuple[int, ...]
    form: str = layers.CHECKPOINT
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array) -> jax.Array:
        for n, d in enumerate(self.dilations):
            conv = Conv1d(x.shape[-1], self.kernel_size, d, self.form, as_image=True, dtype=self.dtype, name=f"convs_{n}")
            x = x + conv(_lrelu(x, LRELU_SLOPE) * mask)
        return x


def _valid(lengths: jax.Array | None, steps: int, rate: int, dtype: Any) -> jax.Array:
    """(B, steps, 1) mask of the samples inside each item at `rate` samples per frame (1 without lengths)."""
    if lengths is None:
        return jnp.ones((), dtype)
    return (jnp.arange(steps)[None, :, None] < lengths[:, None, None] * rate).astype(dtype)


class Generator(nn.Module):
    """mel (B, T, num_mels) channels-last → audio (B, T·hop), NVIDIA's `Generator.forward`.

    With `lengths` (B,) every convolution sees zeros past its item's end, exactly as if each item
    had been run alone at its own length, so a padded batch gives each item's unpadded audio (to
    float rounding). Outputs past an item's end are undefined. With `winograd` the resblock kernels
    of stages at least `WINOGRAD_MIN_CHANNELS` wide are held in the Winograd form (the inference form
    `prepare` makes on CPU); without it every kernel is in the checkpoint form.
    """

    config: HiFiGANConfig
    winograd: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, mel: jax.Array, lengths: jax.Array | None = None) -> jax.Array:
        cfg, dt = self.config, self.dtype
        rate = 1  # audio samples per frame at the current stage
        x = Conv1d(cfg.upsample_initial_channel, 7, as_image=True, dtype=dt, name="conv_pre")(mel * _valid(lengths, mel.shape[1], rate, mel.dtype))
        self.sow("intermediates", "hifigan_conv_pre", x)
        block = ResBlock1 if cfg.resblock == "1" else ResBlock2
        for i, (u, k) in enumerate(zip(cfg.upsample_rates, cfg.upsample_kernel_sizes)):
            x = _lrelu(x, LRELU_SLOPE) * _valid(lengths, x.shape[1], rate, x.dtype)
            x = ConvTranspose1d(x.shape[-1] // 2, k, u, dt, name=f"ups_{i}")(x)
            self.sow("intermediates", f"hifigan_up{i}", x)
            rate *= u
            mask = _valid(lengths, x.shape[1], rate, x.dtype)
            wide = self.winograd and x.shape[-1] >= WINOGRAD_MIN_CHANNELS
            form = layers.WINOGRAD_POINTS if wide else layers.CHECKPOINT
            x = sum(
                block(kj, dj, form, dt, name=f"resblocks_{i}_{j}")(x, mask)
                for j, (kj, dj) in enumerate(zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes))
            ) / len(cfg.resblock_kernel_sizes)
        x = Conv1d(1, 7, as_image=True, dtype=dt, name="conv_post")(_lrelu(x, FINAL_SLOPE) * _valid(lengths, x.shape[1], rate, x.dtype))
        return jnp.tanh(x[..., 0])


def param_shapes(config: HiFiGANConfig) -> dict:
    """The parameter tree of `config` as ShapeDtypeStructs, without allocating it."""
    mel = jax.ShapeDtypeStruct((1, 1, config.num_mels), jnp.float32)
    return jax.eval_shape(lambda m: Generator(config).init(jax.random.key(0), m), mel)["params"]


def prepare(params: Any, use_winograd: bool | None = None) -> Any:
    """The inference form of checkpoint-form `params`: on CPU a `layers.Prepared` tree whose
    resblocks at least `WINOGRAD_MIN_CHANNELS` wide hold their kernels in the Winograd domain
    (`winograd.transform`, a tuple of per-point kernels), which about halves their multiplies and
    equals the plain convolutions to float rounding. Elsewhere (GPUs and TPUs run the plain
    convolution at full rate) `params` as they are. `generate` takes either form.

    `use_winograd` overrides the choice of the backend.
    """
    if not layers.wants_winograd(params, use_winograd):
        return params

    def wide(name: str, block: dict) -> bool:  # the rule `Generator` applies, read from the kernels' channels
        channels = next(iter(block.values()))["kernel"].shape[1] if name.startswith("resblocks_") else 0
        return channels >= WINOGRAD_MIN_CHANNELS

    return layers.Prepared({name: {conv: {**p, "kernel": tuple(jnp.asarray(u) for u in winograd.transform(np.asarray(p["kernel"])))}
                                   for conv, p in block.items()} if wide(name, block) else block
                            for name, block in params.items()}, winograd=True)


def generate(params: Any, mel: jax.Array, lengths: jax.Array | None = None, *, config: HiFiGANConfig,
             dtype: Any = jnp.float32) -> jax.Array:
    """mel (B, num_mels, T) → float32 audio (B, T·hop); pure and jittable (config, dtype static).
    `params` in the checkpoint form or `prepare`d.

    `lengths` (B,) in frames makes a padded bucket exact: each item's audio [0, lengths·hop) equals
    what it would be alone (see `Generator`). Without it, padding frames leak into the last
    `config.receptive_field_frames` frames of each item.
    """
    mel = jnp.swapaxes(mel, 1, 2).astype(dtype)
    generator = Generator(config, layers.winograd_of(params, False), dtype)
    return generator.apply({"params": dict(params)}, mel, lengths).astype(jnp.float32)


class Window(NamedTuple):
    """One vocoder window of an utterance: it reads mel frames [start, start + size), those past the
    utterance's end masked, and gives the audio of frames [keep_from, keep_to) exactly."""

    start: int
    size: int
    keep_from: int
    keep_to: int


@functools.lru_cache(maxsize=1 << 14)
def _cover(frames: int, sizes: tuple[int, ...], overlap: int) -> tuple[int, ...]:
    """Window sizes of least total length whose kept parts span `frames`: a lone window keeps its
    size, each junction costs `overlap` (every size exceeds it)."""
    big = sizes[-1]
    if frames > 3 * big:  # long: whole largest windows, then the exact choice for what is left
        n = -(-(frames - 3 * big) // (big - overlap))
        return (big,) * n + _cover(frames - n * (big - overlap), sizes, overlap)
    best: tuple[int, ...] | None = None
    for w in sizes:
        plan = (w,) if w >= frames else (w, *_cover(frames - w + overlap, sizes, overlap))
        if best is None or (sum(plan), len(plan)) < (sum(best), len(best)):
            best = plan
    assert best is not None
    return best


def plan_windows(frames: int, sizes: Sequence[int], reach: int, align: int = 1) -> list[Window]:
    """Windows of `sizes` (each > 2·reach + align) whose kept audio tiles frames [0, frames).

    Audio of a frame at least `reach` frames from a window's cut edges is what the whole utterance
    gives, since nothing further reaches it; at the utterance's own edges the window sees the same
    zeros as whole-utterance vocoding (its start at 0, its end masked). So the first window starts
    at frame 0, each later one `reach` frames before the audio still missing (at a multiple of
    `align`), the last one ends at the utterance's end where it can.
    """
    sizes = tuple(sorted(sizes))
    if not sizes or sizes[0] <= 2 * reach + align - 1:
        raise ConfigError(f"vocoder windows {list(sizes)} must each exceed twice the reach {reach} (+ {align - 1})")
    queue = sorted(_cover(max(int(frames), 1), sizes, 2 * reach), reverse=True)
    out: list[Window] = []
    done = 0
    while done < frames:
        size = queue.pop(0) if queue else sizes[-1]
        start = 0 if not out else max(0, min(done - reach, frames - size)) // align * align
        end = frames if start + size >= frames else start + size - reach
        out.append(Window(start, size, done, end))
        done = end
    return out


class Windowed(NamedTuple):
    """A batch of utterances cut into vocoder windows, stacked per window size."""

    mels: dict[int, np.ndarray]  # size → (k, num_mels, size) windows
    lengths: dict[int, np.ndarray]  # size → (k,) frames of each window inside its utterance
    pieces: list[list[tuple[int, int, Window]]]  # per utterance, in order: (size, row, window)


def cut_windows(mel: np.ndarray, lengths: Sequence[int], sizes: Sequence[int], reach: int, align: int = 1) -> Windowed:
    """mel (B, num_mels, T) with true `lengths` → its windows (`plan_windows`), grouped by size."""
    rows: dict[int, list[np.ndarray]] = {}
    lens: dict[int, list[int]] = {}
    pieces = []
    for item, n in enumerate(lengths):
        mine = []
        for w in plan_windows(int(n), sizes, reach, align):
            window = np.zeros((mel.shape[1], w.size), mel.dtype)
            valid = min(w.size, int(n) - w.start)
            window[:, :valid] = mel[item, :, w.start : w.start + valid]
            mine.append((w.size, len(rows.setdefault(w.size, [])), w))
            rows[w.size].append(window)
            lens.setdefault(w.size, []).append(valid)
        pieces.append(mine)
    return Windowed({s: np.stack(r) for s, r in rows.items()}, {s: np.asarray(v, np.int32) for s, v in lens.items()},
                    pieces)


def run_windows(windowed: Windowed, batch_buckets: Sequence[int],
                vocode: Callable[[np.ndarray, np.ndarray], Any]) -> dict[int, list[tuple[int, Any]]]:
    """`vocode(mels (b, num_mels, size), lengths (b,))` over every window, b from `batch_buckets`
    (`buckets.split_rows`; padded rows have length 0): size → [(first row, audio (b, size·hop))],
    still computing."""
    out: dict[int, list[tuple[int, Any]]] = {}
    for size, mels in windowed.mels.items():
        row = 0
        for b in buckets.split_rows(len(mels), batch_buckets):
            part, lens = mels[row : row + b], windowed.lengths[size][row : row + b]
            pad = b - len(part)
            if pad:
                part = np.concatenate([part, np.zeros((pad, *part.shape[1:]), part.dtype)])
                lens = np.concatenate([lens, np.zeros(pad, np.int32)])
            out.setdefault(size, []).append((row, vocode(part, lens)))
            row += b
    return out


def join_windows(windowed: Windowed, audio: Mapping[int, list[tuple[int, Any]]], hop: int) -> list[np.ndarray]:
    """Each utterance's audio from its windows' kept parts (`run_windows`' results, waited for here)."""
    stacked = {size: np.concatenate([np.asarray(a) for _, a in parts])[: len(windowed.mels[size])]
               for size, parts in audio.items()}
    return [np.concatenate([stacked[size][row, (w.keep_from - w.start) * hop : (w.keep_to - w.start) * hop]
                            for size, row, w in item]) if item else np.zeros(0, np.float32) for item in windowed.pieces]


class HiFiGAN:
    """A loaded vocoder: config, `params` (the checkpoint's form), `inference_params` (`prepare`d for
    this backend) and compiled functions. mel (B, num_mels, T) → audio (B, T·hop).

    `dtype=jnp.bfloat16` computes in bf16 (for TPU/GPU; params are cast once, audio is float32).
    Every length runs as overlapping windows of `buckets.VOCODER_WINDOWS` frames (`plan_windows`),
    batched by `buckets.BATCH_BUCKETS`, so a few programs serve any mel (`windows` overrides the
    sizes); the result is whole-utterance vocoding to float rounding.
    """

    def __init__(self, config: HiFiGANConfig, params: Any, *, dtype: Any = jnp.float32,
                 windows: Sequence[int] = buckets.VOCODER_WINDOWS):
        self.config = config
        self.dtype = jnp.dtype(dtype)
        self.params = jax.tree.map(lambda p: jnp.asarray(p, self.dtype), params)
        self.inference_params = prepare(self.params)
        self._generate = jax.jit(functools.partial(generate, config=config, dtype=self.dtype))
        self.windows = buckets.vocoder_windows(windows, config.receptive_field_frames)
        self._denoise = jax.jit(denoiser.denoise)
        self._bias: jax.Array | None = None

    @property
    def bias_spectrum(self) -> jax.Array:
        """The denoiser's bias: this generator's output for an all-zero mel, STFT frame 0."""
        if self._bias is None:
            zeros = np.zeros((1, self.config.num_mels, denoiser.BIAS_MEL_FRAMES), np.float32)
            self._bias = jax.jit(denoiser.bias_spectrum)(self(zeros))
        return self._bias

    def __call__(self, mel: Any, denoise: float = 0.0, lengths: Any = None) -> jax.Array:
        """Audio for `mel`; `denoise` > 0 applies NVIDIA's denoiser with that strength (scripts use 0.01).

        `lengths` (B,) frames: exact per-item audio in a padded batch, zeros past each item's end.
        Denoising looks n_fft/2 samples ahead, so trim padded items before denoising them for exact tails.
        """
        mel = np.asarray(mel, np.float32)
        if mel.ndim != 3 or mel.shape[1] != self.config.num_mels or mel.shape[2] < 1:
            raise InputError(f"mel must be (batch, {self.config.num_mels}, frames) with frames >= 1, got {tuple(mel.shape)}")
        b, _, t = mel.shape
        lengths = np.full(b, t) if lengths is None else np.clip(np.asarray(lengths, np.int64).reshape(b), 0, t)
        windowed = cut_windows(mel, lengths, self.windows, self.config.receptive_field_frames)
        parts = run_windows(windowed, buckets.BATCH_BUCKETS[buckets.kind(jax.default_backend())], lambda m, n: self._generate(self.inference_params, m, n))
        audio = np.zeros((b, t * self.config.hop_length), np.float32)
        for item, clip in enumerate(join_windows(windowed, parts, self.config.hop_length)):
            audio[item, : len(clip)] = clip
        audio = jax.device_put(audio)  # not jnp.asarray: that compiles a copy per shape
        if denoise:
            audio = self._denoise(audio, self.bias_spectrum, denoise)
        return audio
