"""FastPitch 1.0/1.1 (NVIDIA DeepLearningExamples) in Flax: static shapes, padding-invariant.

Module and parameter names mirror NVIDIA's state_dict (`encoder/layers_0/dec_attn/qkv_net`,
`duration_predictor/layers_1/norm`, `pitch_emb`, `proj`), so the converter is a table. The
state_dict's buffers are kept in the same tree, 1:1: `pitch_mean`, `pitch_std` (the pitch
normalisation the transforms need) and `{encoder,decoder}/pos_emb/inv_freq` (taken from the
checkpoint, not recomputed: torch's `pow` and XLA's differ in the last bit for some widths, and
positions up to ~1000 amplify that). They are not trainable; `BUFFERS` names them for an
optimizer mask.

Inference runs in two pure, jittable stages so that every shape is static and the host picks the
buckets between them:

  `encode`  ids (B, N) + lengths → encoder, predictors, pitch/energy conditioning, rounded durations
  `decode`  conditioned encoding + durations → length regulator into `n_frames` (static) → decoder → mel

NVIDIA's model is not padding-invariant: the second convolution of each PositionwiseConvFF and
of each predictor reads padded positions that the first one turned into ReLU(bias)/LayerNorm
values, so an utterance's output depends on how far its batch was padded. Here every convolution
input is re-masked to the item's true length, so each item equals its batch-1 result (which is
NVIDIA's batch-1 result) whatever its bucket and batch.

The FFT blocks' kernel-3 convolutions are ~97 % of the FLOPs. On CPU `prepare` moves their
kernels into the Winograd F(4, 3) domain (`winograd`) once, which halves those multiplications
(same result to float rounding); `FastPitch` keeps both the checkpoint's params and this
inference form.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxtts import limits
from jaxtts.errors import ConfigError, InputError
from jaxtts.models import buckets, layers, winograd
from jaxtts.models.controls import PER_TOKEN, Controls, PitchTransform
from jaxtts.models.layers import Conv1d, dense, layer_norm

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's, as NVIDIA's modules use it
# inference.py's fallback normalisation (LJSpeech) for models whose pitch_std buffer is zero.
FALLBACK_PITCH_MEAN, FALLBACK_PITCH_STD = 218.14, 67.24
BUFFERS = ("pitch_mean", "pitch_std", "encoder/pos_emb/inv_freq", "decoder/pos_emb/inv_freq")

# Sane ranges of every size and rate a config sets (limits.check_ranges), checked before anything is built.
_LAYERS, _KERNEL, _WIDTH, _DROPOUT = (1, 64), (1, 63), (1, 16384), (0.0, 1.0)
_RANGES = {
    "n_mel_channels": (1, 1024), "n_symbols": (1, 1 << 16), "symbols_embedding_dim": (2, 8192),
    "n_speakers": (1, 1 << 20), "speaker_emb_weight": (-1e3, 1e3), "pitch_conditioning_formants": (1, 64),
    "pitch_embedding_kernel_size": _KERNEL, "energy_embedding_kernel_size": _KERNEL,
    **{f"{s}_fft_{k}": r for s in ("in", "out") for k, r in (
        ("n_layers", _LAYERS), ("n_heads", (1, 256)), ("d_head", (1, 2048)), ("conv1d_kernel_size", _KERNEL),
        ("conv1d_filter_size", _WIDTH), ("output_size", (2, 8192)))},
    **{f"p_{s}_fft_{k}": _DROPOUT for s in ("in", "out") for k in ("dropout", "dropatt", "dropemb")},
    **{f"{s}_predictor_{k}": r for s in ("dur", "pitch", "energy")
       for k, r in (("n_layers", _LAYERS), ("kernel_size", _KERNEL), ("filter_size", _WIDTH))},
    **{f"p_{s}_predictor_dropout": _DROPOUT for s in ("dur", "pitch", "energy")},
}


@dataclasses.dataclass(frozen=True)
class FastPitchConfig:
    """NVIDIA's FastPitch constructor arguments, read from the checkpoint's own `config`: what shapes
    the model. (How its training text was encoded is the checkpoint's `jaxtts.text.encoder.TextEncoder`.)

    Keys that older constructors lacked default to what those constructors hard-coded: FastPitch
    1.0 has no energy (`energy_conditioning` False, the `energy_*` keys unused), one speaker,
    padding id 0, a pitch embedding kernel of 3 and one pitch formant. Everything else is required.
    """

    n_mel_channels: int
    n_symbols: int
    symbols_embedding_dim: int
    in_fft_n_layers: int
    in_fft_n_heads: int
    in_fft_d_head: int
    in_fft_conv1d_kernel_size: int
    in_fft_conv1d_filter_size: int
    in_fft_output_size: int
    p_in_fft_dropout: float
    p_in_fft_dropatt: float
    p_in_fft_dropemb: float
    out_fft_n_layers: int
    out_fft_n_heads: int
    out_fft_d_head: int
    out_fft_conv1d_kernel_size: int
    out_fft_conv1d_filter_size: int
    out_fft_output_size: int
    p_out_fft_dropout: float
    p_out_fft_dropatt: float
    p_out_fft_dropemb: float
    dur_predictor_kernel_size: int
    dur_predictor_filter_size: int
    p_dur_predictor_dropout: float
    dur_predictor_n_layers: int
    pitch_predictor_kernel_size: int
    pitch_predictor_filter_size: int
    p_pitch_predictor_dropout: float
    pitch_predictor_n_layers: int
    padding_idx: int = 0
    pitch_embedding_kernel_size: int = 3
    energy_conditioning: bool = False
    energy_predictor_kernel_size: int | None = None
    energy_predictor_filter_size: int | None = None
    p_energy_predictor_dropout: float | None = None
    energy_predictor_n_layers: int | None = None
    energy_embedding_kernel_size: int | None = None
    n_speakers: int = 1
    speaker_emb_weight: float = 1.0
    pitch_conditioning_formants: int = 1

    def __post_init__(self) -> None:
        def bad(msg: str) -> ConfigError:
            return ConfigError(f"FastPitch config: {msg}")

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None or isinstance(v, bool):
                continue
            if not isinstance(v, (int, float, np.integer, np.floating)):
                raise bad(f"{f.name} must be a number, got {v!r}")
            real = f.name.startswith("p_") or f.name == "speaker_emb_weight"
            if not real and not isinstance(v, (int, np.integer)) and not float(v).is_integer():  # NaN, inf and 2.5 layers
                raise bad(f"{f.name} must be an integer, got {v!r}")
            object.__setattr__(self, f.name, float(v) if real else int(v))
        limits.check_ranges("FastPitch config", self, _RANGES)
        d = self.symbols_embedding_dim
        if self.in_fft_output_size != d or self.out_fft_output_size != d:
            raise bad(f"in/out_fft_output_size ({self.in_fft_output_size}, {self.out_fft_output_size}) must equal "
                      f"symbols_embedding_dim {d}: NVIDIA's model adds these streams together")
        if d % 2:
            raise bad(f"symbols_embedding_dim {d} must be even (sin/cos positional halves)")
        kernels = [self.in_fft_conv1d_kernel_size, self.out_fft_conv1d_kernel_size, self.dur_predictor_kernel_size,
                   self.pitch_predictor_kernel_size, self.pitch_embedding_kernel_size]
        if self.energy_conditioning:
            missing = [f.name for f in dataclasses.fields(self)
                       if f.name.startswith(("energy_", "p_energy_")) and getattr(self, f.name) is None]
            if missing:
                raise bad(f"energy_conditioning is on but {', '.join(missing)} missing")
            kernels += [self.energy_predictor_kernel_size, self.energy_embedding_kernel_size]
        if any(k < 1 or k % 2 == 0 for k in kernels):
            raise bad(f"convolution kernels must be odd (NVIDIA pads k // 2 on each side), got {kernels}")
        if not 0 <= self.padding_idx < self.n_symbols:
            raise bad(f"padding_idx {self.padding_idx} is outside the {self.n_symbols} symbols")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FastPitchConfig:
        """Read `ckpt['config']` (or `to_dict()`); names every missing or unknown key at once."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        required = [n for n, f in fields.items() if f.default is dataclasses.MISSING]
        missing = [n for n in required if n not in d]
        # max_seq_len: FastPitch 1.0 took it and deleted it unused.
        unknown = sorted(str(k) for k in d if k not in fields and k != "max_seq_len")
        if missing or unknown:
            parts = [f"missing {', '.join(missing)}"] if missing else []
            parts += [f"unknown {', '.join(unknown)}"] if unknown else []
            raise ConfigError(f"FastPitch config: {'; '.join(parts)}. Is this a FastPitch checkpoint's own config?")
        return cls(**{k: v for k, v in d.items() if k in fields})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field; `from_dict` reads it back."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def nvidia_config(self) -> dict[str, Any]:
        """`ckpt['config']` as NVIDIA's trainer writes it: the constructor arguments, every field."""
        return self.to_dict()


PUBLISHED = FastPitchConfig(
    n_mel_channels=80, n_symbols=148, symbols_embedding_dim=384,
    in_fft_n_layers=6, in_fft_n_heads=1, in_fft_d_head=64, in_fft_conv1d_kernel_size=3,
    in_fft_conv1d_filter_size=1536, in_fft_output_size=384, p_in_fft_dropout=0.1, p_in_fft_dropatt=0.1,
    p_in_fft_dropemb=0.0, out_fft_n_layers=6, out_fft_n_heads=1, out_fft_d_head=64, out_fft_conv1d_kernel_size=3,
    out_fft_conv1d_filter_size=1536, out_fft_output_size=384, p_out_fft_dropout=0.1, p_out_fft_dropatt=0.1,
    p_out_fft_dropemb=0.0, dur_predictor_kernel_size=3, dur_predictor_filter_size=256, p_dur_predictor_dropout=0.1,
    dur_predictor_n_layers=2, pitch_predictor_kernel_size=3, pitch_predictor_filter_size=256,
    p_pitch_predictor_dropout=0.1, pitch_predictor_n_layers=2,
    padding_idx=0, pitch_embedding_kernel_size=3, energy_conditioning=True, energy_predictor_kernel_size=3,
    energy_predictor_filter_size=256, p_energy_predictor_dropout=0.1, energy_predictor_n_layers=2,
    energy_embedding_kernel_size=3, n_speakers=1, speaker_emb_weight=1.0,
)
"""FastPitch 1.1 as published (`nvidia_fastpitch_210824.pt`): 46M parameters."""


# ---------------------------------------------------------------------------------------------
# Modules. Activations are (B, L, C); `valid` (B, L, 1) marks positions < the item's length.


class PositionalEmbedding(nn.Module):
    """[sin(p·f), cos(p·f)] concatenated (not interleaved), unscaled; f = the `inv_freq` buffer."""

    dim: int

    @nn.compact
    def __call__(self, length: int) -> jax.Array:
        inv_freq = self.param(
            "inv_freq", lambda _: 1.0 / 10000.0 ** (jnp.arange(0.0, self.dim, 2.0, dtype=jnp.float32) / self.dim))
        angles = jnp.arange(length, dtype=jnp.float32)[:, None] * inv_freq[None, :]
        return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class MultiHeadAttn(nn.Module):
    """Post-LN self-attention; `qkv_net` output is [q | k | v], each head-major (H, d_head)."""

    n_head: int
    d_head: int
    dropout: float
    dropatt: float
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, deterministic: bool = True) -> jax.Array:
        b, length, d = x.shape
        qkv = dense(3 * self.n_head * self.d_head, "qkv_net", self.dtype)(x)
        q, k, v = jnp.moveaxis(qkv.reshape(b, length, 3, self.n_head, self.d_head), 2, 0)
        scores = jnp.einsum("bqhd,bkhd->bhqk", q, k, precision=layers.precision(self.dtype)) * (1 / self.d_head ** 0.5)
        # A finite minimum, not -inf: an all-padding row (a dummy batch item) stays finite.
        scores = jnp.where(mask[:, None, None, :], scores, jnp.finfo(scores.dtype).min)
        probs = nn.Dropout(self.dropatt)(jax.nn.softmax(scores, axis=-1), deterministic=deterministic)
        out = jnp.einsum("bhqk,bkhd->bqhd", probs, v, precision=layers.precision(self.dtype))
        out = dense(d, "o_net", self.dtype, use_bias=False)(out.reshape(b, length, self.n_head * self.d_head))
        out = nn.Dropout(self.dropout)(out, deterministic=deterministic)
        return layer_norm("layer_norm", self.dtype, LAYER_NORM_EPS)(x + out)


class PositionwiseConvFF(nn.Module):
    """Conv1d → ReLU → Conv1d, residual, post-LN; the hidden layer is re-masked (NVIDIA's is not)."""

    d_inner: int
    kernel_size: int
    dropout: float
    winograd: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, valid: jax.Array, deterministic: bool = True) -> jax.Array:
        form = layers.WINOGRAD if self.winograd else layers.CHECKPOINT
        h = nn.relu(Conv1d(self.d_inner, self.kernel_size, form=form, dtype=self.dtype, name="CoreNet_0")(x)) * valid
        h = Conv1d(x.shape[-1], self.kernel_size, form=form, dtype=self.dtype, name="CoreNet_2")(h)
        h = nn.Dropout(self.dropout)(h, deterministic=deterministic)
        return layer_norm("layer_norm", self.dtype, LAYER_NORM_EPS)(x + h)


class TransformerLayer(nn.Module):
    n_head: int
    d_head: int
    d_inner: int
    kernel_size: int
    dropout: float
    dropatt: float
    winograd: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, valid: jax.Array, deterministic: bool = True) -> jax.Array:
        m = mask[..., None].astype(x.dtype)
        x = MultiHeadAttn(self.n_head, self.d_head, self.dropout, self.dropatt, self.dtype, name="dec_attn")(
            x, mask, deterministic) * m
        return PositionwiseConvFF(self.d_inner, self.kernel_size, self.dropout, self.winograd, self.dtype, name="pos_ff")(
            x, valid, deterministic) * m


class FFTransformer(nn.Module):
    """NVIDIA's FFTransformer: (embedding +) positional embedding + conditioning, then the layers.

    `mask` (B, L) is what NVIDIA masks (for the encoder: tokens that are not `padding_idx`),
    `valid` (B, L, 1) where the item still runs. They differ only at padding ids inside a text,
    which NVIDIA also treats as padding.
    """

    d_model: int
    n_layer: int
    n_head: int
    d_head: int
    d_inner: int
    kernel_size: int
    dropout: float
    dropatt: float
    dropemb: float
    n_embed: int | None = None  # the encoder embeds ids; the decoder takes features.
    winograd: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, valid: jax.Array, conditioning: jax.Array | float = 0.0,
                 deterministic: bool = True) -> jax.Array:
        if self.n_embed is not None:
            x = nn.Embed(self.n_embed, self.d_model, dtype=self.dtype, name="word_emb")(x)
        pos = PositionalEmbedding(self.d_model, name="pos_emb")(x.shape[1]).astype(self.dtype)
        x = x + pos[None] * mask[..., None].astype(self.dtype) + conditioning
        x = nn.Dropout(self.dropemb)(x, deterministic=deterministic)
        for i in range(self.n_layer):
            x = TransformerLayer(self.n_head, self.d_head, self.d_inner, self.kernel_size, self.dropout, self.dropatt,
                                 self.winograd, self.dtype, name=f"layers_{i}")(x, mask, valid, deterministic)
        return x


class ConvReLUNorm(nn.Module):
    features: int
    kernel_size: int
    dropout: float
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, deterministic: bool = True) -> jax.Array:
        x = nn.relu(Conv1d(self.features, self.kernel_size, dtype=self.dtype, name="conv")(x))
        x = layer_norm("norm", self.dtype, LAYER_NORM_EPS)(x)
        return nn.Dropout(self.dropout)(x, deterministic=deterministic)


class TemporalPredictor(nn.Module):
    """One value per token (duration, pitch formants, energy); outputs are 0 where `mask` is off."""

    filter_size: int
    kernel_size: int
    dropout: float
    n_layers: int
    n_predictions: int = 1
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, valid: jax.Array, deterministic: bool = True) -> jax.Array:
        m = mask[..., None].astype(x.dtype)
        x = x * m
        for i in range(self.n_layers):
            # Re-masking keeps the next convolution from reading LayerNorm values at padding.
            x = ConvReLUNorm(self.filter_size, self.kernel_size, self.dropout, self.dtype, name=f"layers_{i}")(
                x, deterministic) * valid
        return dense(self.n_predictions, "fc", self.dtype)(x) * m


class Encoded(NamedTuple):
    """Stage-1 output: everything `decode` needs plus the per-token predictions.

    enc (B, N, D) encoder output with pitch/energy (and speaker) conditioning; reps (B, N) int32
    frames per token after pace; mel_lens (B,) = Σ reps; dur_pred (B, N) float frames before pace
    (NVIDIA's `dur_pred`); pitch (B, F, N) normalised ((Hz − mean)/std) after the transforms
    (NVIDIA's `pitch_pred`); energy (B, N) or None (NVIDIA's `energy_pred`).
    """

    enc: jax.Array
    reps: jax.Array
    mel_lens: jax.Array
    dur_pred: jax.Array
    pitch: jax.Array
    energy: jax.Array | None


class FastPitchModule(nn.Module):
    """FastPitch with NVIDIA's parameter names; `encode` and `decode` are the two inference stages.

    `winograd`: whether the FFT convolution kernels are held in the Winograd domain (the inference
    form `prepare` makes on CPU) rather than in the checkpoint form.
    """

    config: FastPitchConfig
    dtype: Any = jnp.float32
    winograd: bool = False

    def setup(self) -> None:
        c, dt = self.config, self.dtype
        d = c.symbols_embedding_dim
        self.encoder = FFTransformer(d, c.in_fft_n_layers, c.in_fft_n_heads, c.in_fft_d_head,
                                     c.in_fft_conv1d_filter_size, c.in_fft_conv1d_kernel_size, c.p_in_fft_dropout,
                                     c.p_in_fft_dropatt, c.p_in_fft_dropemb, n_embed=c.n_symbols, winograd=self.winograd,
                                     dtype=dt)
        self.decoder = FFTransformer(d, c.out_fft_n_layers, c.out_fft_n_heads, c.out_fft_d_head,
                                     c.out_fft_conv1d_filter_size, c.out_fft_conv1d_kernel_size, c.p_out_fft_dropout,
                                     c.p_out_fft_dropatt, c.p_out_fft_dropemb, winograd=self.winograd, dtype=dt)
        self.speaker_emb = nn.Embed(c.n_speakers, d, dtype=dt) if c.n_speakers > 1 else None
        self.duration_predictor = TemporalPredictor(c.dur_predictor_filter_size, c.dur_predictor_kernel_size,
                                                    c.p_dur_predictor_dropout, c.dur_predictor_n_layers, dtype=dt)
        self.pitch_predictor = TemporalPredictor(c.pitch_predictor_filter_size, c.pitch_predictor_kernel_size,
                                                 c.p_pitch_predictor_dropout, c.pitch_predictor_n_layers,
                                                 c.pitch_conditioning_formants, dtype=dt)
        self.pitch_emb = Conv1d(d, c.pitch_embedding_kernel_size, dtype=dt)
        if c.energy_conditioning:
            self.energy_predictor = TemporalPredictor(c.energy_predictor_filter_size,
                                                      c.energy_predictor_kernel_size, c.p_energy_predictor_dropout,
                                                      c.energy_predictor_n_layers, dtype=dt)
            self.energy_emb = Conv1d(d, c.energy_embedding_kernel_size, dtype=dt)
        self.proj = dense(c.n_mel_channels, "proj", dt)
        self.pitch_mean = self.param("pitch_mean", nn.initializers.zeros, (1,))
        self.pitch_std = self.param("pitch_std", nn.initializers.zeros, (1,))

    def encode(self, ids: jax.Array, lengths: jax.Array, controls: Controls, dur_tgt: jax.Array | None = None,
               pitch_tgt: jax.Array | None = None, energy_tgt: jax.Array | None = None,
               deterministic: bool = True) -> Encoded:
        """NVIDIA's `infer` up to the length regulator; `controls` hold (B,) arrays, and (B, N) ones
        for pace and pitch_shift (`Controls.per_item`).

        Flatten (×0), invert (×−1) and amplify fold into one factor: multiplying by ±a or 0 at once
        rounds exactly like inference.py's three multiplications in sequence.
        """
        c, dt = self.config, self.dtype
        n = ids.shape[1]
        valid_b = jnp.arange(n)[None, :] < lengths[:, None]
        mask = valid_b & (ids != c.padding_idx)
        valid = valid_b[..., None].astype(dt)

        spk = 0.0
        if self.speaker_emb is not None:
            spk = self.speaker_emb(controls.speaker)[:, None, :] * jnp.asarray(c.speaker_emb_weight, dt)
        enc = self.encoder(ids, mask, valid, spk, deterministic)

        log_dur = self.duration_predictor(enc, mask, valid, deterministic)[..., 0].astype(jnp.float32)
        dur_pred = jnp.clip(jnp.exp(log_dur) - 1.0, 0.0, controls.max_duration[:, None])

        pitch = jnp.swapaxes(self.pitch_predictor(enc, mask, valid, deterministic), 1, 2)  # (B, F, N)
        std = jnp.where(self.pitch_std[0] == 0, FALLBACK_PITCH_STD, self.pitch_std[0])
        mean = jnp.where(self.pitch_std[0] == 0, FALLBACK_PITCH_MEAN, self.pitch_mean[0])
        scale = (jnp.where(controls.pitch_flatten, 0.0, 1.0) * jnp.where(controls.pitch_invert, -1.0, 1.0)
                 * controls.pitch_amplify)
        pitch = pitch * scale[:, None, None].astype(dt) + (controls.pitch_shift / std)[:, None, :].astype(dt)
        if controls.pitch_transform is not None:
            pitch = controls.pitch_transform(pitch, mask.sum(axis=1), mean, std)
        # The conditioning convolutions must see zeros past the end, as in a batch of one
        # (`where`, not a product: a user transform may put inf/NaN into the padding).
        pitch = jnp.where(valid_b[:, None, :], pitch, 0)
        cond = pitch if pitch_tgt is None else jnp.where(valid_b[:, None, :], pitch_tgt.astype(dt), 0)
        enc = enc + self.pitch_emb(jnp.swapaxes(cond, 1, 2))

        energy = None
        if c.energy_conditioning:
            energy = self.energy_predictor(enc, mask, valid, deterministic)[..., 0]
            cond = energy if energy_tgt is None else jnp.where(valid_b, energy_tgt.astype(dt), 0)
            enc = enc + self.energy_emb(cond[..., None])

        durs = dur_pred if dur_tgt is None else dur_tgt.astype(jnp.float32) * valid_b
        # NVIDIA: (durs / pace + 0.5).long(), i.e. round half up for durations >= 0.
        reps = jnp.floor(durs / controls.pace.astype(jnp.float32) + 0.5).astype(jnp.int32) * valid_b
        return Encoded(enc, reps, reps.sum(axis=1), dur_pred, pitch, energy)

    def decode(self, enc: jax.Array, reps: jax.Array, n_frames: int,
               deterministic: bool = True) -> tuple[jax.Array, jax.Array]:
        """Length regulator into a static `n_frames` bucket, decoder, projection.

        Frame t of an item copies the token whose cumulative-duration interval [end[n-1], end[n])
        holds t, found by binary search (`searchsorted`) and gathered: O(T log N) work and static
        shapes, where NVIDIA multiplies a (T, N) 0/1 matrix with the encoding (O(T·N·D)) and sizes
        T by the data. Frames from `mel_lens` on are zero; `mel_lens` is capped at `n_frames`.
        """
        n = enc.shape[1]
        ends = jnp.cumsum(reps, axis=1)
        t = jnp.arange(n_frames)
        token = jax.vmap(lambda e: jnp.searchsorted(e, t, side="right"))(ends)
        mel_lens = jnp.minimum(ends[:, -1], n_frames)
        valid_b = t[None, :] < mel_lens[:, None]
        x = jnp.take_along_axis(enc, jnp.minimum(token, n - 1)[..., None], axis=1)
        x = jnp.where(valid_b[..., None], x, 0)
        valid = valid_b[..., None].astype(self.dtype)
        x = self.decoder(x, valid_b, valid, 0.0, deterministic)
        mel = jnp.where(valid_b[..., None], self.proj(x), 0)
        return jnp.swapaxes(mel, 1, 2), mel_lens

    def __call__(self, ids: jax.Array, lengths: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Initialisation path: touches every parameter."""
        e = self.encode(ids, lengths, Controls().per_item(*ids.shape))
        return self.decode(e.enc, e.reps, 8)


# ---------------------------------------------------------------------------------------------
# Pure inference functions (config and the static arguments are hashable; jit them as you like).


def init_params(config: FastPitchConfig, rng: jax.Array | None = None) -> dict:
    """A fresh parameter tree (Flax default initialisers; buffers as an untrained NVIDIA model has)."""
    rng = jax.random.key(0) if rng is None else rng
    ids = jnp.ones((1, 4), jnp.int32)
    return FastPitchModule(config).init(rng, ids, jnp.array([4], jnp.int32))["params"]


def param_shapes(config: FastPitchConfig) -> dict:
    """The parameter tree of `config` as ShapeDtypeStructs, without allocating it."""
    return jax.eval_shape(functools.partial(init_params, config), jax.random.key(0))


def prepare(params: Any, use_winograd: bool | None = None) -> Any:
    """The inference form of checkpoint-form `params`: on CPU a `layers.Prepared` tree whose FFT
    blocks' convolution kernels (nearly all of FastPitch's FLOPs) are moved into the Winograd
    F(4, k) domain once, so that every call does half the multiplies (k 3); equal to the plain
    convolution to float rounding, at twice those kernels' memory. Elsewhere (GPUs and TPUs run the
    plain convolution at full rate) `params` as they are. `encode` and `decode` take either form.

    `use_winograd` overrides the choice of the backend.
    """
    if not layers.wants_winograd(params, use_winograd):
        return params
    out = dict(params)
    for name in ("encoder", "decoder"):
        block = dict(params[name])
        for layer in (k for k in block if k.startswith("layers_")):
            ff = dict(block[layer]["pos_ff"])
            for conv in ("CoreNet_0", "CoreNet_2"):
                ff[conv] = {**ff[conv], "kernel": jnp.asarray(winograd.transform(np.asarray(ff[conv]["kernel"])))}
            block[layer] = {**block[layer], "pos_ff": ff}
        out[name] = block
    return layers.Prepared(out, winograd=True)


def _module(params: Any, config: FastPitchConfig, dtype: Any) -> FastPitchModule:
    return FastPitchModule(config, dtype, layers.winograd_of(params, False))


def encode(params: Any, ids: jax.Array, lengths: jax.Array, controls: Controls = Controls(), *,
           config: FastPitchConfig, dur_tgt: jax.Array | None = None, pitch_tgt: jax.Array | None = None,
           energy_tgt: jax.Array | None = None, dtype: Any = jnp.float32) -> Encoded:
    """Stage 1 on a token bucket: ids (B, N) int32 with true `lengths` (B,) → `Encoded`.

    `controls` follow NVIDIA's `infer` and inference.py (each a scalar or a per-item (B,) array;
    pace and pitch_shift also per token, (B, N)):
    pitch is transformed in normalised units as flatten → invert → amplify → + shift_Hz / std,
    then by `pitch_transform(pitch (B, F, N), n_tokens (B,), mean, std)` (NVIDIA's signature; it
    must be jax-traceable and treat positions ≥ n_tokens as padding; static, as `Controls` holds it).
    `dur_tgt` (B, N) frames before pace, `pitch_tgt` (B, N) or (B, F, N) normalised and
    `energy_tgt` (B, N) replace what the model feeds onwards; the returned predictions stay
    predictions. Inputs are not validated here (that needs concrete values): see `check_ids` and
    `Controls.check`.
    """
    if pitch_tgt is not None and pitch_tgt.ndim == 2:
        pitch_tgt = pitch_tgt[:, None, :]
    return _module(params, config, dtype).apply(
        {"params": dict(params)}, ids, lengths, controls.per_item(*ids.shape), dur_tgt, pitch_tgt, energy_tgt,
        method=FastPitchModule.encode)


def decode(params: Any, enc: jax.Array, reps: jax.Array, n_frames: int, *, config: FastPitchConfig,
           dtype: Any = jnp.float32) -> tuple[jax.Array, jax.Array]:
    """Stage 2 on a frame bucket: (mel (B, n_mel, n_frames), mel_lens (B,)); `n_frames` is static."""
    return _module(params, config, dtype).apply(
        {"params": dict(params)}, enc, reps, n_frames, method=FastPitchModule.decode)


# ---------------------------------------------------------------------------------------------
# Host-side API.


def check_ids(config: FastPitchConfig, ids: Any, lengths: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch → (ids (B, N) int32 with padding_idx past each length, lengths (B,) int32).

    Without `lengths`, an item ends after its last non-padding id (NVIDIA pads with
    `padding_idx` and masks it).
    """
    arr = np.asarray(ids)
    if arr.ndim != 2:
        raise InputError(f"ids must be a (batch, tokens) array, got shape {arr.shape}; for one text use ids[None]")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"ids must be integers (symbol ids), got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    b, n = arr.shape
    if b == 0:
        raise InputError("ids is an empty batch (shape (0, N)); pass at least one text")
    if lengths is None:
        nonpad = arr != config.padding_idx
        lens = np.where(nonpad.any(axis=1), n - np.argmax(nonpad[:, ::-1], axis=1), 0) if n else np.zeros(b, int)
    else:
        lens = np.asarray(lengths)
        if lens.shape != (b,) or (lens.size and not np.issubdtype(lens.dtype, np.integer)):
            raise InputError(f"lengths must be {b} integers (one per text), "
                             f"got {lens.dtype} array of shape {lens.shape}")
        if (lens > n).any():
            i = int(np.argmax(lens > n))
            raise InputError(f"lengths[{i}] = {int(lens[i])} exceeds the {n} ids given")
    if (lens <= 0).any():
        i = int(np.argmax(lens <= 0))
        raise InputError(f"text {i} is an empty sequence (no symbols); every text needs at least one id")
    valid = np.arange(n)[None, :] < lens[:, None]
    bad = valid & ((arr < 0) | (arr >= config.n_symbols))
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InputError(f"ids[{i}, {j}] = {int(arr[i, j])} is not a symbol id: "
                         f"the model has ids 0..{config.n_symbols - 1}")
    return np.where(valid, arr, config.padding_idx).astype(np.int32), lens.astype(np.int32)


def _check_target(name: str, value: Any, shapes: tuple[tuple[int, ...], ...]) -> np.ndarray | None:
    if value is None:
        return None
    v = np.asarray(value)
    if v.shape not in shapes:
        raise InputError(f"{name} must have shape {' or '.join(map(str, shapes))} (like ids), got {v.shape}")
    if not np.issubdtype(v.dtype, np.number) or not np.isfinite(v).all():
        raise InputError(f"{name} must be finite numbers")
    return v.astype(np.float32)


def _per_token(value: Any, b: int, n_in: int, n: int) -> np.ndarray:
    """A control's number, (b,) or (b, n_in) values as (b, n) values, one per token (the last repeated)."""
    v = np.asarray(value)
    v = np.broadcast_to(v[:, None] if v.ndim == 1 else v, (b, n_in))[:, :n]
    return np.pad(v, ((0, 0), (0, n - v.shape[1])), mode="edge")


def _pad_tokens(x: np.ndarray | None, n: int) -> np.ndarray | None:
    if x is None:
        return None
    x = x[..., :n]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])


class FastPitchOutput(NamedTuple):
    """mel (B, n_mel, T) natural-log mel, T = max(mel_lens), zero past each item's length;
    mel_lens (B,); durations (B, N) int frames per token (after pace); pitch (B, N) normalised
    per-token pitch after transforms ((B, F, N) for F > 1 formants), as NVIDIA's `pitch_pred`;
    energy (B, N) or None; dur_pred (B, N) NVIDIA's float `dur_pred` (frames before pace and
    rounding). N = the longest text; values past an item's length are 0."""

    mel: jax.Array
    mel_lens: jax.Array
    durations: jax.Array
    pitch: jax.Array
    energy: jax.Array | None
    dur_pred: jax.Array


@functools.cache
def compiled_stages(config: FastPitchConfig, dtype: Any = jnp.float32) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(jitted `encode`, jitted `decode`) for a config, shared by every model of that config (e.g.
    a checkpoint's plain and EMA weights): each bucket compiles once per process."""
    return (jax.jit(functools.partial(encode, config=config, dtype=dtype)),
            jax.jit(functools.partial(decode, config=config, dtype=dtype), static_argnames=("n_frames",)))


class FastPitch:
    """A converted FastPitch: config, `params` (the checkpoint form, NVIDIA's layout), `inference_params`
    (`prepare`d for this backend), the compiled stages `encode`/`decode`, and `infer`.

    `text` is how its checkpoint's training text was encoded (a `jaxtts.text.encoder.TextEncoder`,
    which the loaders attach; None: as NVIDIA's published model). The model itself never reads it:
    it takes ids; the engine and `jaxtts.torch` turn text into them with it.
    """

    def __init__(self, config: FastPitchConfig, params: Any, text: Any = None, *, dtype: Any = jnp.float32) -> None:
        self.config = config
        self.text = text
        self.dtype = dtype
        self.params = jax.tree.map(jnp.asarray, params)
        self.inference_params = prepare(self.params)
        self.encode, self.decode = compiled_stages(config, jnp.dtype(dtype))

    def infer(self, ids: Any, lengths: Any = None, *, pace: Any = 1.0, pitch_shift: Any = 0.0,
              pitch_amplify: Any = 1.0, pitch_flatten: Any = False, pitch_invert: Any = False,
              pitch_transform: PitchTransform | None = None, dur_tgt: Any = None, pitch_tgt: Any = None,
              energy_tgt: Any = None, max_duration: Any = 75.0, speaker: Any = 0) -> FastPitchOutput:
        """Synthesize mels for ids (B, N) with true `lengths` (B,) (default: strip trailing padding).

        pace > 1 speaks faster; pitch_shift in Hz; pitch_amplify scales the contour around the
        speaker's mean; flatten/invert as inference.py; `pitch_transform` is a jax function with
        NVIDIA's signature (see `encode`; pass the same object each call to reuse its compilation).
        Targets are (B, N) like ids. Scalars apply to every text, (B,) arrays per text; `pace` and
        `pitch_shift` may also be (B, N) like ids, one value per token (a span said slower or higher).
        The token and frame axes are padded to the engine's buckets (`buckets.TOKEN_BUCKETS`,
        `FRAME_BUCKETS` for this backend; each compiles once, any length past the largest a multiple
        of it); outputs are trimmed back on the host, so a new length compiles nothing.
        """
        c = self.config
        ids, lengths = check_ids(c, ids, lengths)
        b = ids.shape[0]
        controls = Controls(pace=pace, pitch_shift=pitch_shift, pitch_amplify=pitch_amplify, pitch_flatten=pitch_flatten,
                            pitch_invert=pitch_invert, pitch_transform=pitch_transform, speaker=speaker,
                            max_duration=max_duration).check(c.n_speakers, b, ids.shape[1])
        if energy_tgt is not None and not c.energy_conditioning:
            raise InputError("energy_tgt given, but this FastPitch has no energy conditioning (FastPitch 1.0)")
        f, n_in = c.pitch_conditioning_formants, ids.shape[1]
        dur_tgt = _check_target("dur_tgt", dur_tgt, ((b, n_in),))
        pitch_tgt = _check_target("pitch_tgt", pitch_tgt, ((b, n_in), (b, f, n_in)) if f == 1 else ((b, f, n_in),))
        energy_tgt = _check_target("energy_tgt", energy_tgt, ((b, n_in),))
        if dur_tgt is not None and (dur_tgt < 0).any():
            raise InputError("dur_tgt must be >= 0 frames")

        n = int(lengths.max())
        kind = buckets.kind(jax.default_backend())
        bucket = buckets.pick(n, buckets.TOKEN_BUCKETS[kind])
        # Always one value per token: a number and a span's values run the same program, bit for bit.
        controls = dataclasses.replace(controls, **{name: _per_token(getattr(controls, name), b, n_in, bucket)
                                                    for name in PER_TOKEN})
        enc = self.encode(self.inference_params, _pad_tokens(ids, bucket), lengths, controls.arrays(),
                          dur_tgt=_pad_tokens(dur_tgt, bucket), pitch_tgt=_pad_tokens(pitch_tgt, bucket),
                          energy_tgt=_pad_tokens(energy_tgt, bucket))
        t = int(np.asarray(enc.mel_lens).max())  # the one host sync: the frame bucket depends on it
        frames = buckets.pick(t, buckets.FRAME_BUCKETS[kind])
        mel, mel_lens = self.decode(self.inference_params, enc.enc, enc.reps, n_frames=frames)

        def crop(x: jax.Array, *index: Any) -> jax.Array:  # on the host: a device slice compiles per shape
            return jax.device_put(np.asarray(x)[index])

        pitch = crop(enc.pitch, slice(None), 0, slice(n)) if f == 1 else crop(enc.pitch, Ellipsis, slice(n))
        energy = None if enc.energy is None else crop(enc.energy, slice(None), slice(n))
        return FastPitchOutput(crop(mel, Ellipsis, slice(t)), mel_lens, crop(enc.reps, slice(None), slice(n)), pitch,
                               energy, crop(enc.dur_pred, slice(None), slice(n)))
