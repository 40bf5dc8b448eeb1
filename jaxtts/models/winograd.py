"""Winograd (Toom-Cook) 1-D convolution: the same result with about half the multiplies.

On a CPU the convolutions of FastPitch and HiFi-GAN already run at the FMA peak, so exact fp32 gets
faster only by multiplying less. F(m, r) makes m outputs of an r-tap correlation from a tile of
m + r − 1 inputs with m + r − 1 products instead of m·r: the tile and the kernel are mapped to
m + r − 1 points (linear maps with small exact weights), multiplied pointwise, and mapped back.

For whole layers every point is a matmul over channels. Kernels longer than 5 taps are cut into
pieces of `TILE` taps (the last zero-padded): piece a of output tile t reads input tile t + a, so in
the Winograd domain each point is a plain convolution over tiles with one tap per piece, which the
backend runs at full rate. A dilated convolution is its `dilation` interleaved phases, each an
undilated one: their tiles interleave too, and a piece's shift by one tile becomes a dilation.

GPUs and TPUs run the plain convolution at full rate, so the models use this on CPU only.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

# Outputs per tile. F(4, r ≤ 5) evaluates at 0, ±1, ±2, ±1/2 and ∞ (float32 rounding of the order of
# the plain convolution's); longer tiles need ±3, ±1/3, whose transforms amplify rounding more than
# the multiplies saved are worth.
TILE = 4


def _inverse(a: list[list[Fraction]]) -> list[list[Fraction]]:
    """Exact Gauss-Jordan inverse of a small rational matrix."""
    n = len(a)
    m = [row[:] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(a)]
    for c in range(n):
        p = next(r for r in range(c, n) if m[r][c])
        m[c], m[p] = m[p], m[c]
        m[c] = [v / m[c][c] for v in m[c]]
        for r in range(n):
            if r != c and m[r][c]:
                m[r] = [u - m[r][c] * v for u, v in zip(m[r], m[c])]
    return [row[n:] for row in m]


@functools.cache
def matrices(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Toom-Cook F(m, r) for correlation: y = Aᵀ[(G g) ⊙ (Bᵀ d)] maps a tile d of m + r − 1
    inputs to m outputs with m + r − 1 multiplications instead of m·r.

    Built exactly in rationals from the evaluation points 0, ±1, ±2, ±1/2, … and ∞: with E_k the
    (points × k) Vandermonde rows (∞ → [0 … 0 1]), Aᵀ = E_mᵀ, G = E_r, Bᵀ = E_nᵀ⁻¹ (the transposed
    Toom-Cook linear convolution is a correlation). Rows of Bᵀ are scaled to integers, G carries
    the inverse scale, so only the kernel side holds fractions.
    """
    n = m + r - 1
    points = [Fraction(p) for p in (0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, -3)[: n - 1]]

    def vandermonde(cols: int) -> list[list[Fraction]]:
        return [[p ** k for k in range(cols)] for p in points] + [[Fraction(int(k == cols - 1)) for k in range(cols)]]

    at = [list(col) for col in zip(*vandermonde(m))]
    g = vandermonde(r)
    bt = [list(col) for col in zip(*_inverse(vandermonde(n)))]
    for j in range(n):
        scale = math.lcm(*(v.denominator for v in bt[j]))
        bt[j] = [v * scale for v in bt[j]]
        g[j] = [v / scale for v in g[j]]
    return tuple(np.array(x, dtype=np.float64) for x in (at, g, bt))


def pieces(kernel_size: int) -> tuple[int, int]:
    """(taps per piece, pieces) a kernel is cut into: whole up to 5 taps (F(4, 5) has 8 points),
    else `TILE`-tap pieces, whose shifts are whole tiles."""
    taps = kernel_size if kernel_size <= 5 else TILE
    return taps, -(-kernel_size // taps)


def transform(kernel: Any) -> Any:
    """A Conv1d kernel (k, in, out) in the Winograd domain: (points, pieces, in, out), in its dtype.

    Computed in float32. A numpy kernel (loading a checkpoint) is transformed by numpy: a model's
    worth of eager jax ops would each compile a small program at start-up. A jax kernel (a traced
    initializer) stays in jax."""
    k, c, f = kernel.shape
    taps, n = pieces(k)
    _, g, _ = matrices(TILE, taps)
    xp = np if isinstance(kernel, np.ndarray) else jnp
    w = kernel.astype(np.float32)
    if n * taps > k:
        w = xp.pad(w, ((0, n * taps - k), (0, 0), (0, 0)))
    precision = {} if xp is np else {"precision": jax.lax.Precision.HIGHEST}
    u = xp.matmul(g.astype(np.float32), w.reshape(n, taps, c * f), **precision)  # (pieces, points, in·out)
    return u.reshape(n, len(g), c, f).transpose(1, 0, 2, 3).astype(kernel.dtype)


def conv1d(x: jax.Array, u: jax.Array | Sequence[jax.Array], kernel_size: int, dilation: int = 1,
           precision: Any = None, *, batched: bool = False) -> jax.Array:
    """torch Conv1d(k odd, dilation=d, padding=d·(k−1)/2) of (B, T, C), bias-free, given its kernel
    in the Winograd domain (`transform`, (points, pieces, C, F)) → (B, T, F). `u` may also be a
    sequence of the points' kernels: each product then reads its own buffer, where slicing one
    array costs a copy per call.

    TILE outputs cost points·pieces instead of TILE·k products of C·F (F(4, 3): 6 for 12; 11 taps:
    21 for 44). The transforms are adds with small integer weights, one pass over the input each.
    The products run as one convolution over the transformed input per point or, with `batched`
    (single-piece kernels only), as one matmul batched over the points: on CPU that is faster for
    short, wide layers (FastPitch) and slower for long ones (HiFi-GAN; the README has the figures).
    """
    b, t, c = x.shape
    points, n = len(u), u[0].shape[0]
    if batched and n != 1:
        raise ValueError(f"batched products need a single-piece kernel, got {n} pieces ({kernel_size} taps)")
    taps = points - TILE + 1
    at, _, bt = matrices(TILE, taps)
    d, half = dilation, (kernel_size - 1) // 2
    tiles = -(-t // (d * TILE))  # output tiles per phase
    span = tiles + n - 1  # input tiles per phase: each piece reads one tile further
    # Sample (q·TILE + i)·d + φ of the padded input at [q, i, φ]: tile q of phase φ and the next. The
    # margin is rounded up to 64 so that layers of other kernel sizes and dilations share one padding
    # kernel; the coefficient rows go in as data (behind a barrier, not folded) so that all points
    # share one transform kernel, which shortens compiling (the README has the figures).
    left, right = half * d, (span + 1) * TILE * d - t - half * d
    margin = 64 * -(-max(left, right) // 64)
    xp = jnp.pad(x, ((0, 0), (margin, margin), (0, 0)))[:, margin - left: margin - left + (span + 1) * TILE * d]
    xp = xp.reshape(b, span + 1, TILE, d, c)
    window = [xp[:, j // TILE: j // TILE + span, j % TILE] for j in range(points)]  # (B, span, d, C)
    rows = jax.lax.optimization_barrier(tuple(jnp.asarray(row, x.dtype) for row in bt))
    v = [sum(row[j] * window[j] for j in range(points)) for row in rows]
    if batched:
        u = jnp.stack(u) if isinstance(u, Sequence) else u
        prod = list(jnp.einsum("pbsdc,pcf->pbsdf", jnp.stack(v), u[:, 0], precision=precision))
    else:  # (B, 1, span·d, C): phases interleaved, so a piece's shift of one tile is a dilation of d
        prod = [jax.lax.conv_general_dilated(vp.reshape(b, 1, span * d, c), up[None], (1, 1), "VALID",
                                             rhs_dilation=(1, d), dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                             precision=precision).reshape(b, tiles, d, -1) for vp, up in zip(v, u)]
    y = jnp.stack([sum(float(at[i, p]) * prod[p] for p in range(points) if at[i, p]) for i in range(TILE)], axis=2)
    return y.reshape(b, tiles * TILE * d, -1)[:, :t]
