"""HiFi-GAN's discriminators (Kong et al., 2020) in Flax: Multi-Period (MPD) and Multi-Scale (MSD).

Module and parameter names mirror NVIDIA's and jik876's state_dicts (`discriminators_0/convs_1/
weight_v` is `discriminators.0.convs.1.weight_v`), and every weight keeps torch's layout (out, in,
*kernel), so a checkpoint converts by renaming alone and weight norm normalises over torch's dim 0
exactly as `torch.nn.utils.weight_norm` does. Activations are channels-last.

MSD's first sub-discriminator uses spectral norm, which in training mode is *stateful*: each call
runs one power iteration on every conv, in place, before using W / σ (torch's `spectral_norm`).
Here u and v live in the mutable `spectral` collection (`weight_u`, `weight_v`, torch's buffer
names); apply with `mutable=["spectral"]` and `update_spectral=True` to advance them as a torch
module in `train()` mode does, and without it to use them as they are (torch's `eval()`).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

LRELU_SLOPE = 0.1
_SN_EPS = 1e-12  # F.normalize's eps in torch's power iteration


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    """The two discriminators' settings; every width and kernel is hard-coded upstream.

    `meanpool_padding` is the padding of MSD's AvgPool1d(4, 2): NVIDIA changed jik876's 2 to 1, so
    a jik876 `do_` checkpoint trains with 2.
    """

    periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    meanpool_padding: int = 1


NVIDIA = DiscriminatorConfig()
JIK876 = DiscriminatorConfig(meanpool_padding=2)


def _torch_init(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> jax.Array:
    # torch's default Conv init for weight and bias alike (kaiming_uniform with a = sqrt(5)).
    bound = 1.0 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def weight_norm(g: jax.Array, v: jax.Array) -> jax.Array:
    """torch's `_weight_norm(v, g, 0)`: g · v / ‖v‖, the norm over every dim but 0."""
    axes = tuple(range(1, v.ndim))
    return v * (g / jnp.sqrt(jnp.sum(jnp.square(v), axis=axes, keepdims=True)))


def _normalize(x: jax.Array) -> jax.Array:
    return x / jnp.maximum(jnp.linalg.norm(x), _SN_EPS)


class Conv(nn.Module):
    """torch Conv1d/Conv2d on channels-last input, weight (out, in/groups, *kernel) with weight norm,
    spectral norm or neither (`norm` "weight", "spectral", None)."""

    features: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    groups: int = 1
    norm: str | None = "weight"

    @nn.compact
    def __call__(self, x: jax.Array, update_spectral: bool = False) -> jax.Array:
        shape = (self.features, x.shape[-1] // self.groups, *self.kernel_size)
        fan_in = math.prod(shape[1:])
        init = lambda key, s: _torch_init(key, s, fan_in)  # noqa: E731
        if self.norm == "weight":
            v = self.param("weight_v", init, shape)
            # torch.nn.utils.weight_norm starts with g = ‖v‖, so the initial weight is v itself.
            g = self.param("weight_g", lambda _, s: jnp.sqrt(jnp.sum(jnp.square(v), axis=tuple(range(1, v.ndim)), keepdims=True)),
                           (self.features,) + (1,) * len(self.kernel_size) + (1,))
            w = weight_norm(g, v)
        elif self.norm == "spectral":
            w = self._spectral(self.param("weight_orig", init, shape), update_spectral)
        else:
            w = self.param("weight", init, shape)
        bias = self.param("bias", init, (self.features,))
        return _conv(x, w.astype(x.dtype), self.stride, self.padding, self.groups) + bias.astype(x.dtype)

    def _spectral(self, w: jax.Array, update: bool) -> jax.Array:
        """W / σ(W) with torch's power iteration (one per call when `update`); u, v carry no gradient."""
        mat = w.reshape(w.shape[0], -1)
        key = self.make_rng("spectral") if self.is_initializing() else None
        u = self.variable("spectral", "weight_u", lambda: _normalize(jax.random.normal(key, (mat.shape[0],))))
        v = self.variable("spectral", "weight_v", lambda: _normalize(jax.random.normal(jax.random.fold_in(key, 1), (mat.shape[1],))))
        if update and not self.is_initializing():
            m = jax.lax.stop_gradient(mat)
            v.value = _normalize(jnp.matmul(m.T, u.value, precision=jax.lax.Precision.HIGHEST))
            u.value = _normalize(jnp.matmul(m, v.value, precision=jax.lax.Precision.HIGHEST))
        sigma = jnp.dot(u.value, jnp.matmul(mat, v.value, precision=jax.lax.Precision.HIGHEST), precision=jax.lax.Precision.HIGHEST)
        return w / sigma


def _conv(x: jax.Array, w: jax.Array, stride: tuple[int, ...], padding: tuple[int, ...], groups: int) -> jax.Array:
    """Correlation of channels-last x with a torch-layout kernel. A 1-D conv runs as a 2-D one over a
    (1, T) image (XLA:CPU's fast path, as in `hifigan._conv`); on CPU a grouped conv runs group by
    group, since XLA:CPU's gradient of a grouped convolution is far slower than that of plain ones."""
    if w.ndim == 3:
        return _conv(x[:, None], w[:, :, None], (1, *stride), (0, *padding), groups)[:, 0]
    pieces = groups if jax.default_backend() == "cpu" else 1
    ys = [jax.lax.conv_general_dilated(
        a, b, stride, [(p, p) for p in padding], dimension_numbers=("NHWC", "OIHW", "NHWC"),
        feature_group_count=groups // pieces, precision=jax.lax.Precision.HIGHEST,
    ) for a, b in zip(jnp.split(x, pieces, axis=-1), jnp.split(w, pieces, axis=0))]
    return ys[0] if pieces == 1 else jnp.concatenate(ys, axis=-1)


def _lrelu(x: jax.Array) -> jax.Array:
    return jnp.where(x >= 0, x, x * LRELU_SLOPE)


class DiscriminatorP(nn.Module):
    """One period of MPD: audio (B, T) → (score (B, frames·period), feature maps (B, T/p, p, C))."""

    period: int

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, list[jax.Array]]:
        p, t = self.period, x.shape[1]
        if t % p:  # upstream reflect-pads the end to a multiple of the period
            x = jnp.pad(x, ((0, 0), (0, p - t % p)), mode="reflect")
        x = x.reshape(x.shape[0], -1, p, 1)
        fmap = []
        for i, (ch, stride) in enumerate(zip((32, 128, 512, 1024, 1024), (3, 3, 3, 3, 1))):
            x = _lrelu(Conv(ch, (5, 1), (stride, 1), (2, 0), name=f"convs_{i}")(x))
            fmap.append(x)
        x = Conv(1, (3, 1), (1, 1), (1, 0), name="conv_post")(x)
        fmap.append(x)
        return x.reshape(x.shape[0], -1), fmap


# (out channels, kernel, stride, groups, padding) of DiscriminatorS's convs, as upstream hard-codes them.
_S_CONVS = ((128, 15, 1, 1, 7), (128, 41, 2, 4, 20), (256, 41, 2, 16, 20), (512, 41, 4, 16, 20),
            (1024, 41, 4, 16, 20), (1024, 41, 1, 16, 20), (1024, 5, 1, 1, 2))


class DiscriminatorS(nn.Module):
    """One scale of MSD: audio (B, T) → (score (B, T/16), feature maps (B, T', C))."""

    use_spectral_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, update_spectral: bool = False) -> tuple[jax.Array, list[jax.Array]]:
        norm = "spectral" if self.use_spectral_norm else "weight"
        x = x[..., None]
        fmap = []
        for i, (ch, k, s, g, p) in enumerate(_S_CONVS):
            x = _lrelu(Conv(ch, (k,), (s,), (p,), g, norm, name=f"convs_{i}")(x, update_spectral))
            fmap.append(x)
        x = Conv(1, (3,), (1,), (1,), 1, norm, name="conv_post")(x, update_spectral)
        fmap.append(x)
        return x.reshape(x.shape[0], -1), fmap


Outputs = tuple[list[jax.Array], list[jax.Array], list[list[jax.Array]], list[list[jax.Array]]]


class MultiPeriodDiscriminator(nn.Module):
    """(y, y_hat) → (y_d_rs, y_d_gs, fmap_rs, fmap_gs), one entry per period, as upstream returns them."""

    periods: Sequence[int] = NVIDIA.periods

    @nn.compact
    def __call__(self, y: jax.Array, y_hat: jax.Array) -> Outputs:
        out: Outputs = ([], [], [], [])
        for i, p in enumerate(self.periods):
            d = DiscriminatorP(p, name=f"discriminators_{i}")
            (r, fr), (g, fg) = d(y), d(y_hat)
            for lst, val in zip(out, (r, g, fr, fg)):
                lst.append(val)
        return out


def avg_pool(x: jax.Array, padding: int) -> jax.Array:
    """torch AvgPool1d(4, 2, padding) on (B, T): zero padding counted in the mean (count_include_pad)."""
    x = jnp.pad(x, ((0, 0), (padding, padding)))
    return jax.lax.reduce_window(x, 0.0, jax.lax.add, (1, 4), (1, 2), "VALID") / 4


class MultiScaleDiscriminator(nn.Module):
    """(y, y_hat) → (y_d_rs, y_d_gs, fmap_rs, fmap_gs) at scales 1, 1/2, 1/4; scale 1 has spectral norm.

    Scale 1 runs on y, then on y_hat: with `update_spectral` that is two power iterations per call,
    as upstream's separate forwards (concat_fwd=False, its default) make.
    """

    meanpool_padding: int = NVIDIA.meanpool_padding

    @nn.compact
    def __call__(self, y: jax.Array, y_hat: jax.Array, update_spectral: bool = False) -> Outputs:
        out: Outputs = ([], [], [], [])
        for i in range(3):
            if i:
                y, y_hat = avg_pool(y, self.meanpool_padding), avg_pool(y_hat, self.meanpool_padding)
            d = DiscriminatorS(use_spectral_norm=i == 0, name=f"discriminators_{i}")
            (r, fr), (g, fg) = d(y, update_spectral), d(y_hat, update_spectral)
            for lst, val in zip(out, (r, g, fr, fg)):
                lst.append(val)
        return out


def init(config: DiscriminatorConfig, key: jax.Array, segment_size: int = 8192) -> tuple[dict, dict]:
    """Fresh (params, spectral state) as upstream's constructors draw them (torch's default init
    distributions, weight norm starting at g = ‖v‖): {"mpd": ..., "msd": ...} each."""
    y = jnp.zeros((1, segment_size), jnp.float32)
    k1, k2, k3 = jax.random.split(key, 3)
    mpd = MultiPeriodDiscriminator(config.periods).init({"params": k1}, y, y)
    msd = MultiScaleDiscriminator(config.meanpool_padding).init({"params": k2, "spectral": k3}, y, y)
    return {"mpd": mpd["params"], "msd": msd["params"]}, {"msd": msd["spectral"]}
