"""NVIDIA's FastPitch optimizer recipe in optax: train.py's learning-rate schedule and gradient
clipping, then apex's FusedLAMB (or FusedAdam in AdamW mode), gradient accumulation, frozen
parameters and an optional EMA of the weights.

FusedLAMB is not the textbook LAMB in one respect that matters: besides train.py's
`clip_grad_norm_(1000)`, it divides the gradients by their global norm whenever that exceeds
its own `max_grad_norm` (1.0, never overridden by train.py), before the moments. Its trust ratio
‖p‖ / ‖update‖ applies to every tensor (weight decay is non-zero), and is 1 where either norm is 0.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxtts.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """train.py's optimisation flags as scripts/train.sh sets them (global batch 256 = devices ×
    batch × `grad_accumulation`). `optimizer` is 'lamb' (FusedLAMB) or 'adamw' (FusedAdam,
    whose default adam_w_mode decouples the weight decay). `ema_decay` 0 keeps no EMA."""

    optimizer: str = "lamb"
    learning_rate: float = 0.1
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-9
    weight_decay: float = 1e-6
    warmup_steps: int = 1000
    grad_clip_thresh: float = 1000.0
    lamb_max_grad_norm: float = 1.0
    grad_accumulation: int = 1
    ema_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in ("lamb", "adamw"):
            raise ConfigError(f"optimizer {self.optimizer!r}: choose 'lamb' (NVIDIA's recipe) or 'adamw'")
        if self.grad_accumulation < 1:
            raise ConfigError(f"grad_accumulation must be >= 1, got {self.grad_accumulation}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        object.__setattr__(self, "betas", tuple(map(float, self.betas)))


def learning_rate(config: OptimConfig) -> optax.Schedule:
    """train.py's `adjust_learning_rate` as a function of optax's update count (0 for the first
    update, train.py's total_iter 1): lr · t / w^1.5 up to w = warmup_steps, lr / √t after."""
    lr, w = config.learning_rate, config.warmup_steps

    def schedule(count: jax.Array) -> jax.Array:
        t = jnp.asarray(count, jnp.float32) + 1.0
        if w == 0:
            return jnp.full_like(t, lr)
        return lr * jnp.where(t > w, t ** -0.5, t / w ** 1.5)

    return schedule


def clip_grad_norm(max_norm: float) -> optax.GradientTransformation:
    """torch.nn.utils.clip_grad_norm_: g · min(1, max_norm / (‖g‖ + 1e-6)) over the whole tree."""
    def update(updates: Any, state: optax.EmptyState, params: Any = None) -> tuple[Any, optax.EmptyState]:
        coef = jnp.minimum(max_norm / (optax.tree.norm(updates) + 1e-6), 1.0)
        return jax.tree.map(lambda g: g * coef.astype(g.dtype), updates), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def fused_lamb(config: OptimConfig) -> optax.GradientTransformation:
    """apex FusedLAMB (bias correction, grad averaging, adam_w_mode, max_grad_norm, no nvlamb)."""
    b1, b2 = config.betas
    parts = [optax.clip_by_global_norm(config.lamb_max_grad_norm), optax.scale_by_adam(b1, b2, config.eps),
             optax.add_decayed_weights(config.weight_decay)]
    if config.weight_decay != 0.0:  # apex applies the trust ratio only to tensors with weight decay
        parts.append(optax.scale_by_trust_ratio())
    parts.append(optax.scale_by_learning_rate(learning_rate(config)))
    return optax.chain(*parts)


def make_optimizer(config: OptimConfig, trainable: Any) -> optax.GradientTransformation:
    """The whole recipe. `trainable` is a tree of bools like the params: False leaves (buffers,
    frozen modules, parameters the forward never reads) get no update and count in no norm, as
    torch skips parameters whose grad is None."""
    if config.optimizer == "lamb":
        inner = fused_lamb(config)
    else:
        inner = optax.adamw(learning_rate(config), *config.betas, eps=config.eps, weight_decay=config.weight_decay)
    tx = optax.chain(clip_grad_norm(config.grad_clip_thresh), inner)
    labels = jax.tree.map(lambda t: "train" if t else "frozen", trainable)
    tx = optax.multi_transform({"train": tx, "frozen": optax.set_to_zero()}, labels)
    if config.grad_accumulation > 1:
        tx = optax.MultiSteps(tx, config.grad_accumulation)  # the mean of k micro-batch gradients
    return tx


def trainable_mask(params: Any, frozen: Callable[[tuple[str, ...]], bool]) -> Any:
    """A bool tree like `params`: True unless `frozen(path)` for the leaf's key path."""
    def keep(path: tuple[Any, ...], _: Any) -> bool:
        return not frozen(tuple(str(getattr(k, "key", k)) for k in path))

    return jax.tree_util.tree_map_with_path(keep, params)


def ema_update(ema: Any, params: Any, decay: float) -> Any:
    """train.py's `apply_ema_decay`: ema ← decay · ema + (1 − decay) · params (buffers included)."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)
