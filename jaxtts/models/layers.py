"""The building blocks FastPitch and HiFi-GAN share: convolution, dense, layer norm, precision, and
the two forms a model's params come in.

One dtype rule for every layer: a layer computes in its `dtype`, casting its input and its
parameters to it, and fp32 means full fp32 (`precision`).

Param forms. The *checkpoint form* is the plain Flax tree the converters write and read: every
kernel as torch's taps, (k, in, out). The *inference form* is what a model's `prepare` makes for
the backend it runs on: on CPU some convolution kernels move into the Winograd domain once
(`winograd`), which a `Prepared` tree says (its `winograd` field); elsewhere it is the checkpoint
form itself. Nothing reads the form from a kernel's rank or type.
"""
from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxtts.models import winograd as wg

CHECKPOINT = "checkpoint"  # (k, in, out), torch's taps: a direct convolution
WINOGRAD = "winograd"  # one (points, pieces, in, out) array: products batched over the points
WINOGRAD_POINTS = "winograd_points"  # a tuple of per-point (pieces, in, out) arrays: one convolution each


def precision(dtype: Any) -> jax.lax.Precision:
    """fp32 means fp32: TPUs and GPUs would otherwise run fp32 matmuls and convolutions in bf16/tf32 passes."""
    return jax.lax.Precision.HIGHEST if jnp.dtype(dtype) == jnp.float32 else jax.lax.Precision.DEFAULT


def dense(features: int, name: str, dtype: Any, use_bias: bool = True) -> nn.Dense:
    """torch.nn.Linear; kernel (in, out)."""
    return nn.Dense(features, use_bias=use_bias, dtype=dtype, precision=precision(dtype), name=name)


def layer_norm(name: str, dtype: Any, epsilon: float = 1e-5) -> nn.LayerNorm:
    """torch.nn.LayerNorm (its default epsilon, its two-pass variance)."""
    return nn.LayerNorm(epsilon=epsilon, use_fast_variance=False, dtype=dtype, name=name)


def conv_as_image(x: jax.Array, kernel: jax.Array, pad: tuple[int, int], dilation: int = 1) -> jax.Array:
    """1-D correlation of (B, T, C) with a (k, in, out) kernel, run as a 2-D one over a (1, T) image.

    Same maths; XLA:CPU hands 2-D convolutions to YNNPACK and 1-D ones to Eigen, which is slower
    on HiFi-GAN's layer shapes (worst with few channels); other backends see the same convolution.
    """
    y = jax.lax.conv_general_dilated(
        x[:, None], kernel[None], (1, 1), [(0, 0), pad], rhs_dilation=(1, dilation),
        dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=precision(x.dtype),
    )
    return y[:, 0]


class Conv1d(nn.Module):
    """torch.nn.Conv1d(in, features, k odd, dilation=d, padding=d·(k-1)/2) on (B, T, C).

    `form` is the form its kernel parameter is held in, and so the path that runs: CHECKPOINT (a
    direct convolution, as a 2-D one with `as_image`), WINOGRAD or WINOGRAD_POINTS (the kernel
    transformed once by `winograd.transform`; see `winograd.conv1d`).
    """

    features: int
    kernel_size: int
    dilation: int = 1
    form: str = CHECKPOINT
    as_image: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        shape, init = (self.kernel_size, x.shape[-1], self.features), nn.initializers.lecun_normal()
        held = {CHECKPOINT: lambda key: init(key, shape), WINOGRAD: lambda key: wg.transform(init(key, shape)),
                WINOGRAD_POINTS: lambda key: tuple(wg.transform(init(key, shape)))}[self.form]
        kernel = self.param("kernel", held)
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        x, p = x.astype(self.dtype), precision(self.dtype)
        if self.form == WINOGRAD:
            y = wg.conv1d(x, kernel.astype(self.dtype), self.kernel_size, self.dilation, p, batched=True)
        elif self.form == WINOGRAD_POINTS:
            y = wg.conv1d(x, [u.astype(self.dtype) for u in kernel], self.kernel_size, self.dilation, p)
        elif self.as_image:
            pad = self.dilation * (self.kernel_size - 1) // 2
            y = conv_as_image(x, kernel.astype(self.dtype), (pad, pad), self.dilation)
        else:
            pad = self.dilation * (self.kernel_size - 1) // 2
            y = jax.lax.conv_general_dilated(x, kernel.astype(self.dtype), (1,), [(pad, pad)],
                                             rhs_dilation=(self.dilation,), dimension_numbers=("NWC", "WIO", "NWC"),
                                             precision=p)
        return y + bias.astype(self.dtype)


class Prepared(dict):
    """A model's params in the inference form `prepare` made: the Flax tree, with the kernels that
    `winograd` names (static: part of the pytree structure, so a jitted function specialises on it)
    in the Winograd domain. A plain dict of params is the checkpoint form."""

    def __init__(self, params: dict, winograd: Any) -> None:
        super().__init__(params)
        self.winograd = winograd


jax.tree_util.register_pytree_with_keys(
    Prepared,
    lambda p: ([(jax.tree_util.DictKey(k), p[k]) for k in sorted(p)], (tuple(sorted(p)), p.winograd)),
    lambda aux, children: Prepared(dict(zip(aux[0], children)), aux[1]),
)


def wants_winograd(params: Any, use_winograd: bool | None) -> bool:
    """Whether a model's `prepare` moves kernels of checkpoint-form `params` into the Winograd domain:
    `use_winograd`, by default on CPU only (GPUs and TPUs run the plain convolution at full rate).
    Params already `Prepared` are refused."""
    if isinstance(params, Prepared):
        raise ValueError("params are already in the Winograd form (prepared twice)")
    return jax.default_backend() == "cpu" if use_winograd is None else use_winograd


def winograd_of(params: Any, plain: Any) -> Any:
    """What `params` hold in the Winograd domain: a `Prepared` tree says; the checkpoint form holds
    nothing there (`plain`)."""
    return params.winograd if isinstance(params, Prepared) else plain
