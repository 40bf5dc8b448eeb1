"""FastPitch 1.1's training-only aligner (NVIDIA's `ConvAttention`, '3xconv' query encoder) in Flax.

Keys (text embeddings) and queries (mel frames) are projected into an 80-dim space; the score
of frame t for token n is an isotropic Gaussian log-likelihood −0.0005·‖q_t − k_n‖², normalised
over the tokens and multiplied by the beta-binomial prior (added in log space). The difference
is formed explicitly, as NVIDIA does, rather than as ‖q‖² − 2q·k + ‖k‖², which cancels
catastrophically for near keys and would move the alignment. Parameter names mirror NVIDIA's
state_dict (`attention.query_proj.0.conv` → `query_proj_0/conv`); `attn_proj` is in NVIDIA's
checkpoints but unused by its forward, and is kept only so that exports load strictly.
"""
from __future__ import annotations


import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxtts.models.fastpitch import Conv1d

N_ATT_CHANNELS = 80  # ConvAttention's n_att_channels default, which FastPitch does not override
PRIOR_EPS = 1e-8


class ConvNorm(nn.Module):
    """NVIDIA's ConvNorm: a Conv1d padded k // 2, named `conv` as in its state_dict."""

    features: int
    kernel_size: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return Conv1d(self.features, self.kernel_size, name="conv")(x)


class ConvAttention(nn.Module):
    """queries (B, T, n_mel), keys (B, N, d_text) → (attn_soft, attn_logprob), each (B, 1, T, N).

    `key_valid` (B, N) marks real tokens: padded keys get probability 0 in `attn_soft` (NVIDIA:
    −inf before the softmax). `attn_logprob` is before that mask, as NVIDIA returns it. NVIDIA's
    first log-softmax also normalises over the padded keys, which shifts each frame's log-probs by
    an amount that depends on the batch's padding (the soft attention is unaffected, the CTC loss
    is not); `padding_invariant` normalises over the item's own tokens instead.
    """

    n_mel_channels: int
    n_text_channels: int
    padding_invariant: bool = False

    @nn.compact
    def __call__(self, queries: jax.Array, keys: jax.Array, key_valid: jax.Array,
                 attn_prior: jax.Array) -> tuple[jax.Array, jax.Array]:
        m, d = self.n_mel_channels, self.n_text_channels
        k = nn.relu(ConvNorm(2 * d, 3, name="key_proj_0")(keys))
        k = ConvNorm(N_ATT_CHANNELS, 1, name="key_proj_2")(k)
        q = nn.relu(ConvNorm(2 * m, 3, name="query_proj_0")(queries))
        q = nn.relu(ConvNorm(m, 1, name="query_proj_2")(q))
        q = ConvNorm(N_ATT_CHANNELS, 1, name="query_proj_4")(q)
        # Conv2d(80, 1, 1): stored in every NVIDIA checkpoint, read by nothing.
        self.param("attn_proj", lambda key: {"kernel": jnp.zeros((1, 1, N_ATT_CHANNELS, 1)),
                                              "bias": jnp.zeros((1,))})
        dist = jnp.sum((q[:, :, None, :] - k[:, None, :, :]) ** 2, axis=-1)  # (B, T, N)
        # A finite minimum, not NVIDIA's −inf: the same zeros, and no NaN for an all-padding item.
        lowest = jnp.finfo(dist.dtype).min
        score = -0.0005 * dist
        if self.padding_invariant:
            score = jnp.where(key_valid[:, None, :], score, lowest)
        logprob = jax.nn.log_softmax(score, axis=-1) + jnp.log(attn_prior + PRIOR_EPS)
        soft = jax.nn.softmax(jnp.where(key_valid[:, None, :], logprob, lowest), axis=-1)
        return soft[:, None], logprob[:, None]

