"""HiFi-GAN training with NVIDIA's (and jik876's) maths: one D step, then one G step, per batch.

The generator trains in weight-norm form, as upstream's does: every conv holds torch's `weight_g`,
`weight_v` (torch layout) and `bias`, under the paths of `jaxtts.models.hifigan.Generator`.
`fold` turns that into the inference form (W = g·v/‖v‖, Flax layout) differentiably, so training
runs the inference Generator itself and export is `fold`. The discriminators are
`jaxtts.models.discriminator`'s; MSD's spectral-norm vectors are state that every discriminator
call advances (two power iterations per call of MSD, in the D pass and in the G pass alike).

Losses are upstream's: LSGAN `discriminator_loss` and `generator_loss`, `feature_loss`
(2·Σ mean|fmap_r − fmap_g|) and the L1 distance of the log-mels ×45, where the mel of the
generated audio is computed in the loss by `features.hifigan_mel` in JAX (fmax None for the loss:
librosa takes sr/2).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxtts.errors import CheckpointError, InputError
from jaxtts.models import discriminator as D
from jaxtts.models.hifigan import Generator, HiFiGANConfig, param_shapes
from jaxtts.train import features, metrics
from jaxtts.train.features import AudioConfig



@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training settings; the defaults are jik876's config_v1 (NVIDIA's train_lj22khz.sh uses
    learning_rate 3e-4 and lr_decay 0.9998). The mel settings are both trainers' defaults."""

    batch_size: int = 16
    segment_size: int = 8192
    learning_rate: float = 2e-4
    adam_betas: tuple[float, float] = (0.8, 0.99)
    adam_eps: float = 1e-8
    weight_decay: float = 0.01  # torch.optim.AdamW's default; neither trainer changes it
    lr_decay: float = 0.999  # per epoch (ExponentialLR stepped after each epoch)
    mel_loss_weight: float = 45.0
    n_fft: int = 1024
    num_mels: int = 80
    sampling_rate: int = 22_050
    hop_size: int = 256
    win_size: int = 1024
    fmin: float = 0.0
    fmax: float | None = 8000.0  # the generator-input mel
    fmax_loss: float | None = None  # the mel of the L1 loss
    seed: int = 1234

    def mel(self, y: jax.Array, fmax: float | None) -> jax.Array:
        """HiFi-GAN's own log-mel of `y` (B, T), in JAX: the generator's input (fmax) or the loss's (fmax_loss)."""
        config = AudioConfig(sampling_rate=self.sampling_rate, filter_length=self.n_fft, hop_length=self.hop_size,
                             win_length=self.win_size, n_mel_channels=self.num_mels, mel_fmin=self.fmin, mel_fmax=fmax)
        return features.hifigan_mel(y, config, xp=jnp)


# ---------------------------------------------------------------------------------------------
# Generator in weight-norm form


def _transposed(path: tuple[str, ...]) -> bool:
    return path[0].startswith("ups_")  # ConvTranspose1d: torch weight (in, out, k)


def _to_flax(path: tuple[str, ...]) -> tuple[int, ...]:
    return (2, 0, 1) if _transposed(path) else (2, 1, 0)  # torch layout → (k, in, out)


def _convs(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()):
    """(path, conv dict) for every conv of a generator params tree (a dict holding a `bias`)."""
    for k, v in tree.items():
        if "bias" in v:
            yield (*prefix, k), v
        else:
            yield from _convs(v, (*prefix, k))


def _put(tree: dict, path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def fold(train_params: Mapping[str, Any]) -> dict:
    """Weight-norm (training) form → the inference params `jaxtts.models.hifigan` takes; differentiable."""
    out: dict = {}
    for path, conv in _convs(train_params):
        w = D.weight_norm(conv["weight_g"], conv["weight_v"])
        _put(out, path, {"kernel": jnp.transpose(w, _to_flax(path)), "bias": conv["bias"]})
    return out


def unfold(params: Mapping[str, Any]) -> dict:
    """Inference params → weight-norm form with g = ‖W‖ and v = W, as `torch.nn.utils.weight_norm`
    wraps a plain conv (for generators stored folded)."""
    out: dict = {}
    for path, conv in _convs(params):
        v = jnp.transpose(jnp.asarray(conv["kernel"], jnp.float32), np.argsort(_to_flax(path)))
        g = jnp.sqrt(jnp.sum(jnp.square(v), axis=(1, 2), keepdims=True))
        _put(out, path, {"weight_g": g, "weight_v": v, "bias": jnp.asarray(conv["bias"], jnp.float32)})
    return out


def init_generator(config: HiFiGANConfig, key: jax.Array) -> dict:
    """A fresh generator in weight-norm form, drawn as upstream's constructor leaves it: torch's
    default conv init (U(±1/√fan_in), weight and bias) with g = ‖v‖. Upstream's `init_weights`
    writes N(0, 0.01) into the derived `weight`, which weight norm recomputes from g and v before
    every forward, so it has no effect."""
    shapes = jax.eval_shape(lambda: Generator(config).init(jax.random.key(0), jnp.zeros((1, 1, config.num_mels))))["params"]
    out: dict = {}
    for i, (path, conv) in enumerate(_convs(shapes)):
        torch_shape = tuple(np.array(conv["kernel"].shape)[list(np.argsort(_to_flax(path)))])
        fan_in = torch_shape[1] * torch_shape[2]  # torch's fan_in: dim 1 · kernel, for both kinds
        kv, kb = jax.random.split(jax.random.fold_in(key, i))
        bound = 1 / math.sqrt(fan_in)
        v = jax.random.uniform(kv, torch_shape, jnp.float32, -bound, bound)
        g = jnp.sqrt(jnp.sum(jnp.square(v), axis=(1, 2), keepdims=True))
        _put(out, path, {"weight_g": g, "weight_v": v, "bias": jax.random.uniform(kb, conv["bias"].shape, jnp.float32, -bound, bound)})
    return out


def generate(train_params: Mapping[str, Any], mel: jax.Array, config: HiFiGANConfig) -> jax.Array:
    """mel (B, num_mels, T) → audio (B, T·hop) from weight-norm params (the inference Generator on `fold`)."""
    return Generator(config).apply({"params": fold(train_params)}, jnp.swapaxes(mel, 1, 2))


# ---------------------------------------------------------------------------------------------
# Losses (upstream's hifigan/models.py)


def discriminator_loss(real: list[jax.Array], fake: list[jax.Array]) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(Σ_d mean((1 − D_r)²) + mean(D_g²), per-d real terms, per-d generated terms)."""
    r = jnp.stack([jnp.mean(jnp.square(1 - dr)) for dr in real])
    g = jnp.stack([jnp.mean(jnp.square(dg)) for dg in fake])
    return jnp.sum(r + g), r, g


def generator_loss(fake: list[jax.Array]) -> tuple[jax.Array, jax.Array]:
    """(Σ_d mean((1 − D_g)²), per-d terms)."""
    terms = jnp.stack([jnp.mean(jnp.square(1 - dg)) for dg in fake])
    return jnp.sum(terms), terms


def feature_terms(fmap_r: list[list[jax.Array]], fmap_g: list[list[jax.Array]]) -> jax.Array:
    """mean|fmap_r − fmap_g| per (discriminator, layer); `feature_loss` is 2 · their sum."""
    return jnp.stack([jnp.stack([jnp.mean(jnp.abs(r - g)) for r, g in zip(dr, dg)]) for dr, dg in zip(fmap_r, fmap_g)])


def feature_loss(fmap_r: list[list[jax.Array]], fmap_g: list[list[jax.Array]]) -> jax.Array:
    return 2 * jnp.sum(feature_terms(fmap_r, fmap_g))


# ---------------------------------------------------------------------------------------------
# The two passes


def discriminate(params: Mapping[str, Any], spectral: Mapping[str, Any], y: jax.Array, y_hat: jax.Array,
                 config: D.DiscriminatorConfig) -> tuple[D.Outputs, D.Outputs, dict]:
    """(MPD outputs, MSD outputs, advanced spectral state) of `mpd(y, y_hat)` then `msd(y, y_hat)` in
    training mode."""
    mpd = D.MultiPeriodDiscriminator(config.periods).apply({"params": params["mpd"]}, y, y_hat)
    msd, new = D.MultiScaleDiscriminator(config.meanpool_padding).apply(
        {"params": params["msd"], "spectral": spectral["msd"]}, y, y_hat, True, mutable=["spectral"])
    return mpd, msd, {"msd": new["spectral"]}


def discriminator_pass(params: Mapping[str, Any], spectral: Mapping[str, Any], y: jax.Array, y_g_hat: jax.Array,
                       config: D.DiscriminatorConfig) -> tuple[jax.Array, tuple[dict, dict]]:
    """loss_disc_all and (new spectral state, metrics); differentiate w.r.t. `params` for the D step.
    `y_g_hat` is detached, as upstream's `y_g_hat.detach()`."""
    mpd, msd, spectral = discriminate(params, spectral, y, jax.lax.stop_gradient(y_g_hat), config)
    loss_f, r_f, g_f = discriminator_loss(mpd[0], mpd[1])
    loss_s, r_s, g_s = discriminator_loss(msd[0], msd[1])
    loss = loss_s + loss_f
    return loss, (spectral, {"loss_disc_f": loss_f, "loss_disc_s": loss_s, "loss_disc_all": loss})


def generator_pass(y_g_hat: jax.Array, params: Mapping[str, Any], spectral: Mapping[str, Any], y: jax.Array,
                   y_mel: jax.Array, config: D.DiscriminatorConfig, train: TrainConfig) -> tuple[jax.Array, tuple[dict, dict]]:
    """loss_gen_all of the generated audio and (new spectral state, metrics); differentiate w.r.t.
    `y_g_hat` and pull back through the generator (the discriminators are frozen here)."""
    loss_mel = jnp.mean(jnp.abs(y_mel - train.mel(y_g_hat, train.fmax_loss))) * train.mel_loss_weight
    mpd, msd, spectral = discriminate(params, spectral, y, y_g_hat, config)
    loss_fm_f, loss_fm_s = feature_loss(mpd[2], mpd[3]), feature_loss(msd[2], msd[3])
    loss_gen_f, _ = generator_loss(mpd[1])
    loss_gen_s, _ = generator_loss(msd[1])
    loss = loss_gen_s + loss_gen_f + loss_fm_s + loss_fm_f + loss_mel
    return loss, (spectral, {"loss_mel": loss_mel, "loss_fm_f": loss_fm_f, "loss_fm_s": loss_fm_s,
                             "loss_gen_f": loss_gen_f, "loss_gen_s": loss_gen_s, "loss_gen_all": loss})


# ---------------------------------------------------------------------------------------------
# Optimiser and the train step


def optimizer(train: TrainConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    """torch AdamW (decoupled weight decay) with ExponentialLR stepped once per epoch."""
    schedule = optax.exponential_decay(train.learning_rate, steps_per_epoch, train.lr_decay, staircase=True)
    b1, b2 = train.adam_betas
    return optax.adamw(schedule, b1=b1, b2=b2, eps=train.adam_eps, weight_decay=train.weight_decay)


@flax.struct.dataclass
class TrainState:
    step: jax.Array
    generator: Any  # weight-norm form
    discriminator: Any  # {"mpd", "msd"} params
    spectral: Any  # {"msd": ...} spectral-norm vectors
    opt_g: Any
    opt_d: Any


def init_state(generator: Any, discriminator: Any, spectral: Any, opt: optax.GradientTransformation) -> TrainState:
    return TrainState(jnp.zeros((), jnp.int32), generator, discriminator, spectral, opt.init(generator), opt.init(discriminator))


def train_step(state: TrainState, x: jax.Array, y: jax.Array, y_mel: jax.Array, *, generator: HiFiGANConfig,
               discriminator: D.DiscriminatorConfig, train: TrainConfig,
               opt: optax.GradientTransformation) -> tuple[TrainState, dict]:
    """One iteration of upstream's loop: y_g_hat = G(x); D step on (y, y_g_hat.detach()); G step
    against the *updated* discriminators. x (B, num_mels, frames), y (B, segment), y_mel the loss
    mel of y. Jit with the keyword arguments static (`functools.partial`)."""
    y_g_hat, pull_back = jax.vjp(lambda p: generate(p, x, generator), state.generator)
    (_, (spectral, d_metrics)), d_grads = jax.value_and_grad(discriminator_pass, has_aux=True)(
        state.discriminator, state.spectral, y, y_g_hat, discriminator)
    updates, opt_d = opt.update(d_grads, state.opt_d, state.discriminator)
    d_params = optax.apply_updates(state.discriminator, updates)
    (_, (spectral, g_metrics)), dy = jax.value_and_grad(generator_pass, has_aux=True)(
        y_g_hat, d_params, spectral, y, y_mel, discriminator, train)
    (g_grads,) = pull_back(dy)
    updates, opt_g = opt.update(g_grads, state.opt_g, state.generator)
    g_params = optax.apply_updates(state.generator, updates)
    new = TrainState(state.step + 1, g_params, d_params, spectral, opt_g, opt_d)
    return new, {**d_metrics, **g_metrics}


# ---------------------------------------------------------------------------------------------
# Data and the loop


def sample_batch(audios: Sequence[np.ndarray], order: np.ndarray, rng: np.random.Generator, train: TrainConfig,
                 mels: Sequence[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(y (B, segment), x (B, num_mels, segment/hop) or None) for the clips `order`, as MelDataset
    cuts them: a random start in [0, len − segment), clips shorter than a segment zero-padded.

    Pre-training (`mels` None) takes float audio and peak-normalises it ×0.95; the mel input is
    computed from the segment on the device. Fine-tuning (`mels`: FastPitch's teacher-forced mels,
    (num_mels, frames) per clip, frame-aligned with the audio) cuts the mel at a random frame and
    the audio under it, unnormalised, as NVIDIA made its `_ft` checkpoints.
    """
    seg, hop = train.segment_size, train.hop_size
    frames = -(-seg // hop)
    ys, xs = [], []
    for i in order:
        a = np.asarray(audios[i], np.float32)
        if mels is None:
            a = a / max(float(np.max(np.abs(a))), 1e-12) * 0.95  # librosa.util.normalize(a) * 0.95
            if len(a) >= seg:  # upstream's rng.integers(0, 0) fails for an exact fit; it starts at 0
                s = int(rng.integers(0, len(a) - seg)) if len(a) > seg else 0
                a = a[s:s + seg]
            ys.append(np.pad(a, (0, seg - len(a))))
        else:
            m = np.asarray(mels[i], np.float32)
            if len(a) >= seg:
                s = int(rng.integers(0, m.shape[1] - frames)) if m.shape[1] > frames else 0
                m, a = m[:, s:s + frames], a[s * hop:(s + frames) * hop]
            xs.append(np.pad(m, ((0, 0), (0, frames - m.shape[1]))))
            ys.append(np.pad(a, (0, frames * hop - len(a)))[:seg])
    return np.stack(ys), (np.stack(xs) if mels is not None else None)


def epoch_plan(n_clips: int, batch_size: int, seed: int, epoch: int) -> tuple[np.ndarray, np.random.Generator]:
    """The shuffled clip order of `epoch` (full batches only, as drop_last) and the generator of its
    segment starts: both derive from (seed, epoch) alone, so a resumed run replays the same data."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(n_clips)[: n_clips // batch_size * batch_size]
    return order.reshape(-1, batch_size), rng


@functools.lru_cache(maxsize=8)
def _compiled_step(generator: HiFiGANConfig, discriminator: D.DiscriminatorConfig, train: TrainConfig, steps_per_epoch: int):
    opt = optimizer(train, steps_per_epoch)

    def step(state: TrainState, y: jax.Array, x: jax.Array | None) -> tuple[TrainState, dict]:
        x = train.mel(y, train.fmax) if x is None else x
        return train_step(state, x, y, train.mel(y, train.fmax_loss), generator=generator,
                          discriminator=discriminator, train=train, opt=opt)

    return opt, jax.jit(step, donate_argnums=0)


@functools.lru_cache(maxsize=8)
def _compiled_val_error(generator: HiFiGANConfig, train: TrainConfig):
    def error(params: Any, y: jax.Array, x: jax.Array) -> jax.Array:
        y_mel, g_mel = train.mel(y[None], train.fmax_loss), train.mel(generate(params, x[None], generator), train.fmax_loss)
        n = min(y_mel.shape[-1], g_mel.shape[-1])  # a fine-tuning mel may cover a few samples more or less
        return jnp.mean(jnp.abs(y_mel[..., :n] - g_mel[..., :n]))

    return jax.jit(error)  # one program per held-out clip length


def validate(params: Any, audios: Sequence[np.ndarray], generator: HiFiGANConfig, train: TrainConfig,
             mels: Sequence[np.ndarray] | None = None) -> dict[str, float]:
    """jik876's validation: every held-out clip whole (peak-normalised ×0.95 as in training, or under
    its fine-tuning mel), generated from its mel; the L1 distance of the loss log-mels averaged over
    the clips is `val_mel_error` (jik876's `validation/mel_spec_error`), and ×mel_loss_weight it is
    `val_loss_mel` = `val_loss`, on the scale of training's `loss_mel` (the adversarial terms are not
    validated, as upstream)."""
    error = _compiled_val_error(generator, train)
    errors = []
    for i, a in enumerate(audios):
        y = np.asarray(a, np.float32)
        if mels is None:
            y = y / max(float(np.max(np.abs(y))), 1e-12) * 0.95
        x = train.mel(jnp.asarray(y)[None], train.fmax)[0] if mels is None else jnp.asarray(mels[i], jnp.float32)
        errors.append(float(error(params, jnp.asarray(y), x)))
    mel_error = float(np.mean(errors))
    return {"val_loss": mel_error * train.mel_loss_weight, "val_loss_mel": mel_error * train.mel_loss_weight,
            "val_mel_error": mel_error}


def fit(audios: Sequence[np.ndarray], out_dir: str | Path, *, generator: HiFiGANConfig, steps: int,
        train: TrainConfig = TrainConfig(), discriminator: D.DiscriminatorConfig = D.NVIDIA,
        init: tuple[Any, Any, Any] | None = None, mels: Sequence[np.ndarray] | None = None,
        resume: bool = False, checkpoint_every: int = 100, val: Sequence[np.ndarray] | None = None,
        val_mels: Sequence[np.ndarray] | None = None) -> TrainState:
    """Train to `steps` total iterations, writing `out_dir/metrics.jsonl` (one object per step:
    `step`, `epoch`, `loss` = loss_gen_all and every loss component) and Orbax checkpoints of the
    whole state in `out_dir/checkpoints` (atomic). `init` is (generator in weight-norm form,
    discriminator params, spectral state); fresh ones are drawn from `train.seed` otherwise.

    `resume` continues from the newest checkpoint: params, optimiser states, spectral vectors and
    the step are restored and the data plan is a function of (seed, epoch), so the run goes on as
    if it had never stopped; metrics logged after that checkpoint are dropped and logged again.
    `val` (held-out clips, with `val_mels` when fine-tuning) is validated (`validate`) at every
    checkpoint; its `val_*` terms join that step's line.
    """
    import orbax.checkpoint as ocp

    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    per_epoch = len(audios) // train.batch_size
    if per_epoch < 1:
        raise InputError(f"{len(audios)} clips make no batch of {train.batch_size}; lower batch_size or add clips")
    opt, step_fn = _compiled_step(generator, discriminator, train, per_epoch)
    if init is None:
        kg, kd = jax.random.split(jax.random.key(train.seed))
        init = (init_generator(generator, kg), *D.init(discriminator, kd, train.segment_size))
    state = init_state(*jax.tree.map(jnp.asarray, init), opt)
    manager = ocp.CheckpointManager(out / "checkpoints", options=ocp.CheckpointManagerOptions(
        max_to_keep=2, cleanup_tmp_directories=True))  # a killed save's leftovers
    log = out / metrics.METRICS
    if resume and manager.latest_step() is not None:
        state = manager.restore(manager.latest_step(), args=ocp.args.StandardRestore(state))
        done = int(state.step)
        metrics.trim(log, done)
    elif log.exists():
        log.unlink()
    with log.open("a") as f:
        while int(state.step) < steps:
            s = int(state.step)
            epoch, index = divmod(s, per_epoch)
            plan, rng = epoch_plan(len(audios), train.batch_size, train.seed, epoch)
            for batch in plan[:index]:  # replay the starts drawn for this epoch's earlier batches
                sample_batch(audios, batch, rng, train, mels)
            for batch in plan[index:]:
                y, x = sample_batch(audios, batch, rng, train, mels)
                state, losses = step_fn(state, jnp.asarray(y), None if x is None else jnp.asarray(x))
                s = int(state.step)
                row = {"step": s, "epoch": epoch + 1, "loss": float(losses["loss_gen_all"]),
                       **{k: float(v) for k, v in losses.items()}}
                checkpointing = s % checkpoint_every == 0 or s == steps
                if val is not None and checkpointing:
                    row.update(validate(state.generator, val, generator, train, val_mels))
                f.write(json.dumps(row) + "\n")
                f.flush()
                if checkpointing:
                    manager.save(s, args=ocp.args.StandardSave(state))
                    manager.wait_until_finished()
                if s >= steps:
                    break
    manager.close()
    return state


def export_pt(train_params: Mapping[str, Any], config: HiFiGANConfig, path: str | Path, *, steps: int = 0) -> Path:
    """NVIDIA's generator checkpoint: `generator` in weight-norm form (`weight_g`/`weight_v`, as both
    upstream trainers save it; jik876's `g_XXXXXXXX` holds the same dict), `config` (the generator's
    arguments) and `train_setup` (its audio rate and hop); `jaxtts.load_hifigan` and DLE's inference
    read it, and `--init` continues from it. Written atomically."""
    import torch

    from converters.discriminator import path_to_key
    from jaxtts import files

    generator = {}
    for conv_path, conv in _convs(train_params):
        for leaf in ("weight_g", "weight_v", "bias"):
            generator[f"{path_to_key(conv_path)}.{leaf}"] = torch.from_numpy(np.array(conv[leaf], np.float32))
    ckpt = {"generator": generator, "config": config.to_dict(), "iters_all": steps,
            "train_setup": {"sampling_rate": config.sampling_rate, "num_mels": config.num_mels,
                            "hop_length": config.hop_length}}
    path = Path(path)
    with files.atomic_write(path) as tmp:
        torch.save(ckpt, tmp)
    return path


# ---------------------------------------------------------------------------------------------
# Any generator checkpoint in the training form
#
# Training keeps torch's `weight_g`/`weight_v` as they are, so resuming or fine-tuning a checkpoint
# continues NVIDIA's/jik876's parametrisation exactly (Adam is not invariant to rescaling v). A
# checkpoint holding folded `weight`s is wrapped as `torch.nn.utils.weight_norm` wraps a plain conv:
# g = ‖W‖, v = W.

_FLAT_RESBLOCK = re.compile(r"^resblocks\.(\d+)\.(?!\d+\.)(.+)$")
_PARAMETRIZATIONS = {"parametrizations.weight.original0": "weight_g", "parametrizations.weight.original1": "weight_v"}


def generator_train_params(sd: Mapping[str, Any], config: HiFiGANConfig, *, what: str = "checkpoint") -> dict:
    """Any generator layout jaxtts reads (nested/flat resblocks, `module.`, parametrizations,
    channels-last 4-D) → {path: {"weight_g", "weight_v", "bias"}} in torch layout, float32 numpy."""
    from converters.discriminator import key_to_path
    from converters.load import put, strip_prefix, to_numpy

    sd = strip_prefix(sd, "module.")
    k = len(config.resblock_kernel_sizes)
    convs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in sd.items():
        for old, new in _PARAMETRIZATIONS.items():
            if key.endswith("." + old):
                key = key[: -len(old)] + new
        flat = _FLAT_RESBLOCK.match(key)
        if flat:
            n = int(flat.group(1))
            key = f"resblocks.{n // k}.{n % k}.{flat.group(2)}"
        value = to_numpy(value)
        if value.ndim == 4 and value.shape[-1] == 1:
            value = value[..., 0]
        base, _, leaf = key.rpartition(".")
        convs.setdefault(base, {})[leaf] = value
    out: dict = {}
    for base, parts in convs.items():
        path = key_to_path(base)
        if "weight" in parts and not {"weight_g", "weight_v"} & set(parts):
            v = parts.pop("weight")
            parts = {**parts, "weight_v": v, "weight_g": np.sqrt(np.sum(np.square(v, dtype=np.float64), axis=(1, 2), keepdims=True)).astype(np.float32)}
        for leaf, value in parts.items():
            put(out, (*path, leaf), value)
    _check(out, config, what)
    return out


def _check(params: dict, config: HiFiGANConfig, what: str) -> None:
    want = {}
    for path, conv in _convs(param_shapes(config)):
        shape = tuple(np.array(conv["kernel"].shape)[list(np.argsort(_to_flax(path)))])
        want[path] = {"weight_g": (shape[0], 1, 1), "weight_v": shape, "bias": tuple(conv["bias"].shape)}
    got = {path: {k: tuple(np.shape(v)) for k, v in conv.items()} for path, conv in _convs(params)}
    if got != want:
        missing = sorted("/".join(p) for p in set(want) - set(got))
        unexpected = sorted("/".join(p) for p in set(got) - set(want))
        wrong = sorted(f"{'/'.join(p)}: {got[p]} vs {want[p]}" for p in set(got) & set(want) if got[p] != want[p])
        raise CheckpointError(
            f"{what} is not a weight-norm generator of this config — missing {missing[:6]}, unexpected "
            f"{unexpected[:6]}, wrong shape {wrong[:4]}. Is this the generator file with its own config?")
