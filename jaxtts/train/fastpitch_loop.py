"""The FastPitch training run: batches in a seeded order, the jitted step, metrics, Orbax
checkpoints, exact resume and export.

A dataset is anything with `len()` and `[i]` giving an example with DLE's `TTSDataset` fields
(`ids` (N,), `mel` (n_mel, T), `pitch` (F, T) normalised, `energy` (T,), `speaker`, `attn_prior`
(T, N)), e.g. `jaxtts.train.data.PreparedDataset`. Batches are collated as DLE's `TTSCollate`
(sorted by text length, zero-padded) and then padded to bucket sizes, so the step compiles a
bounded set of shapes. Everything that decides the future of a run is a function of the
checkpointed state: the micro-step count fixes the epoch, the batch order (a permutation seeded by
(seed, epoch)) and the KL weight; params, optimizer state, EMA and the dropout key are saved
together. Resuming therefore continues exactly as if the run had never stopped, and metrics lines
written after the last checkpoint by a killed run are dropped.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxtts import files
from jaxtts.errors import InputError
from jaxtts.models.fastpitch import PUBLISHED, FastPitchConfig
from jaxtts.text.encoder import TextEncoder
from jaxtts.train import fastpitch as tf
from jaxtts.train import metrics, optim

METRICS = metrics.METRICS
CHECKPOINTS = "checkpoints"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """How a run proceeds (the maths is in `loss` and `optim`). `steps` counts optimizer steps;
    each takes `optim.grad_accumulation` batches of `batch_size`."""

    steps: int
    batch_size: int = 16
    seed: int = 1234
    log_every: int = 10
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    token_step: int = 16
    frame_step: int = 64
    padding_invariant: bool = True
    freeze: tuple[str, ...] = ()
    loss: tf.LossConfig = tf.LossConfig()
    optim: optim.OptimConfig = optim.OptimConfig()


def collate(examples: Sequence[Any]) -> tf.Batch:
    """DLE's `TTSCollate`: sorted by text length, longest first, zero-padded (numpy)."""
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i].ids))
    ex = [examples[i] for i in order]
    b, n, t = len(ex), max(len(e.ids) for e in ex), max(e.mel.shape[1] for e in ex)
    f = ex[0].pitch.shape[0]
    text, prior = np.zeros((b, n), np.int32), np.zeros((b, t, n), np.float32)
    mel, pitch, energy = np.zeros((b, ex[0].mel.shape[0], t), np.float32), np.zeros((b, f, t), np.float32), \
        np.zeros((b, t), np.float32)
    for i, e in enumerate(ex):
        ni, ti = len(e.ids), e.mel.shape[1]
        text[i, :ni], mel[i, :, :ti], pitch[i, :, :ti], energy[i, :ti] = e.ids, e.mel, e.pitch, e.energy
        prior[i, :ti, :ni] = e.attn_prior
    lens = lambda xs: np.asarray(xs, np.int32)
    return tf.Batch(text, lens([len(e.ids) for e in ex]), mel, lens([e.mel.shape[1] for e in ex]), pitch, energy,
                    lens([e.speaker for e in ex]), prior)


def epoch_order(n_examples: int, batch_size: int, seed: int, epoch: int) -> np.ndarray:
    """(batches, batch_size) example indices of `epoch`: a seeded permutation, the tail dropped
    (DLE's drop_last)."""
    n_batches = n_examples // batch_size
    perm = np.random.default_rng([seed, epoch]).permutation(n_examples)
    return perm[: n_batches * batch_size].reshape(n_batches, batch_size)


@functools.cache
def _compiled(model_config: FastPitchConfig, loss: tf.LossConfig, opt: optim.OptimConfig, freeze: tuple[str, ...],
              padding_invariant: bool, treedef: Any) -> tuple[Any, Any]:
    params = jax.tree.unflatten(treedef, [0] * treedef.num_leaves)
    trainable = optim.trainable_mask(params, tf.frozen_paths(freeze))
    tx, step = tf.make_train_step(model_config, loss, opt, trainable, padding_invariant=padding_invariant)
    return tx, jax.jit(step, donate_argnums=0)


@functools.cache
def _compiled_eval(model_config: FastPitchConfig, loss: tf.LossConfig, padding_invariant: bool) -> Any:
    return jax.jit(tf.make_eval_step(model_config, loss, padding_invariant=padding_invariant))


def validate(params: Any, dataset: Any, model_config: FastPitchConfig, run: RunConfig, epoch: int) -> dict[str, float]:
    """train.py's `validate`: every example of `dataset` once, in order, in batches of `run.batch_size`
    (padded to buckets), dropout off; each loss term is averaged over the examples (a batch's value
    weighted by its size). Keys are the training record's with a `val_` prefix; `val_loss` includes
    the KL term at `epoch`'s weight, as the training `loss` does."""
    evaluate = _compiled_eval(model_config, run.loss, run.padding_invariant)
    kl_weight, totals = jnp.float32(run.loss.kl_weight(epoch)), {}
    for start in range(0, len(dataset), run.batch_size):
        examples = [dataset[i] for i in range(start, min(start + run.batch_size, len(dataset)))]
        meta = evaluate(params, tf.pad_batch(collate(examples), run.token_step, run.frame_step), kl_weight)
        for name, value in meta.items():
            totals[name] = totals.get(name, 0.0) + float(value) * len(examples)
    record = {f"val_{name}": total / len(dataset) for name, total in totals.items()}
    record["val_loss"] += record["val_kl_loss"]
    return record


def train(dataset: Any, out: str | Path, model_config: FastPitchConfig, run: RunConfig, *,
          init_params: Any = None, resume: bool = False, progress: bool = False, val: Any = None) -> tf.TrainState:
    """Train for `run.steps` optimizer steps into `out` (metrics.jsonl, checkpoints/); returns the state.

    `init_params`: a training parameter tree (`tf.params_from_state_dict`, or an inference tree
    whose missing aligner is initialised fresh); None starts from scratch. `resume` continues from
    the newest checkpoint in `out` (and ignores `init_params`). `val`, a held-out dataset, is
    validated (`validate`) at every checkpoint and the last step; its `val_*` terms join that step's
    metrics line.
    """
    import orbax.checkpoint as ocp

    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    per_step = run.optim.grad_accumulation
    order = functools.partial(epoch_order, len(dataset), run.batch_size, run.seed)
    n_batches = len(dataset) // run.batch_size
    if n_batches == 0:
        raise InputError(f"{len(dataset)} examples are fewer than one batch of {run.batch_size}; "
                         "lower the batch size")

    fresh = tf.init_params(model_config, jax.random.key(run.seed))
    params = fresh if init_params is None else {**fresh, **init_params}
    tx, step = _compiled(model_config, run.loss, run.optim, tuple(run.freeze), run.padding_invariant,
                         jax.tree.structure(fresh))
    state = tf.init_state(params, tx, run.optim, jax.random.key_data(jax.random.key(run.seed + 1)))
    manager = ocp.CheckpointManager(out / CHECKPOINTS, options=ocp.CheckpointManagerOptions(
        max_to_keep=run.keep_checkpoints, create=True, cleanup_tmp_directories=True))  # a killed save's leftovers
    if resume and manager.latest_step() is not None:
        state = manager.restore(manager.latest_step(), args=ocp.args.StandardRestore(
            jax.tree.map(ocp.utils.to_shape_dtype_struct, state)))
    mesh = tf.data_mesh()  # data-parallel over the local devices (one device: a no-op)
    state = tf.replicate(state, mesh)
    micro = int(state.step)
    metrics.trim(out / METRICS, micro // per_step)

    start, first = time.perf_counter(), micro // per_step
    summed: dict = {}
    with open(out / METRICS, "a") as log:
        while micro < run.steps * per_step:
            epoch, k = divmod(micro, n_batches)
            epoch += 1  # train.py counts epochs from 1
            batch = tf.pad_batch(collate([dataset[int(i)] for i in order(epoch)[k]]), run.token_step, run.frame_step)
            state, meta = step(state, tf.shard_batch(batch, mesh), jnp.float32(run.loss.kl_weight(epoch)))
            summed = {name: summed.get(name, 0.0) + v / per_step for name, v in meta.items()}  # train.py's iter_meta
            micro += 1
            if micro % per_step:
                continue
            done, meta, summed = micro // per_step, summed, {}
            checkpointing = done % run.checkpoint_every == 0 or done == run.steps
            if done % run.log_every == 0 or done == run.steps or (val is not None and checkpointing):
                record = {"step": done, "epoch": epoch, **{k: float(v) for k, v in meta.items()},
                          "lr": float(optim.learning_rate(run.optim)(done - 1)),
                          "steps_per_s": (done - first) / max(time.perf_counter() - start, 1e-9)}
                record["loss"] = record["loss"] + record["kl_loss"]  # the optimised total; NVIDIA logs it so too
                if val is not None and checkpointing:
                    record.update(validate(state.params, val, model_config, run, epoch))
                log.write(json.dumps(record) + "\n")
                log.flush()
                if progress:
                    print(f"step {done}/{run.steps} loss {record['loss']:.4f} mel {record['mel_loss']:.4f}", flush=True)
            if checkpointing:
                manager.save(done, args=ocp.args.StandardSave(state))
    manager.wait_until_finished()
    manager.close()
    return state


def export_pt(state: tf.TrainState, model_config: FastPitchConfig, path: str | Path, *, epoch: int = 0) -> Path:
    """NVIDIA's checkpoint layout (`config`, `state_dict` with the aligner, `ema_state_dict`,
    `iteration`), which DLE's inference and `jaxtts.load_fastpitch` read; written atomically."""
    import torch

    import converters.fastpitch as cfp
    from converters.load import get

    def state_dict(params: Any) -> dict:
        out = {}
        for key, (p, reverse) in cfp.rename_table(model_config, aligner=True).items():
            value = np.asarray(get(params, p), np.float32)
            out[key] = torch.from_numpy(np.array(value.T if reverse else value, order="C"))  # a writable copy
        return out

    ckpt = {"config": model_config.nvidia_config(), "state_dict": state_dict(state.params),
            "ema_state_dict": None if state.ema is None else state_dict(state.ema),
            "epoch": epoch, "iteration": int(state.step)}
    path = Path(path)
    with files.atomic_write(path) as tmp:
        torch.save(ckpt, tmp)
    return path


# ---------------------------------------------------------------------------------------------
# `jaxtts train fastpitch`.

SMALL = dataclasses.replace(
    PUBLISHED, symbols_embedding_dim=64,
    in_fft_n_layers=2, in_fft_n_heads=2, in_fft_d_head=16, in_fft_conv1d_filter_size=128, in_fft_output_size=64,
    out_fft_n_layers=2, out_fft_n_heads=2, out_fft_d_head=16, out_fft_conv1d_filter_size=128, out_fft_output_size=64,
    dur_predictor_filter_size=32, pitch_predictor_filter_size=32, energy_predictor_filter_size=32)
"""FastPitch 1.1 at the golden small checkpoint's size (368k parameters with 3 speakers): CPU-sized."""


def model_config(choice: str, n_speakers: int) -> FastPitchConfig:
    """'small', 'published' (NVIDIA's 46M FastPitch 1.1) or a JSON file of FastPitch constructor
    arguments (NVIDIA's `ckpt['config']` or jaxtts.json's `config`), for `n_speakers`."""
    if choice in ("small", "published"):
        base = SMALL if choice == "small" else PUBLISHED
    else:
        path = Path(choice).expanduser()
        try:
            base = FastPitchConfig.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError) as e:
            raise InputError(f"--config {choice}: not 'small', 'published' or a readable JSON config ({e})") from None
    return dataclasses.replace(base, n_speakers=max(n_speakers, base.n_speakers))


def load_init(path: str | Path) -> tuple[FastPitchConfig, dict, TextEncoder]:
    """(config, params, text encoder) to start from: an NVIDIA training checkpoint keeps its aligner;
    any other FastPitch jaxtts loads (the published .pt, a .nemo, a converted directory) gets a fresh one."""
    from jaxtts import checkpoint

    path = Path(path).expanduser()
    converted = checkpoint.load_any(path, "fastpitch")
    config, params = converted.config, converted.params
    if path.suffix == ".pt" and path.is_file():
        import converters.fastpitch as cfp
        from converters.load import load_torch

        ckpt = load_torch(path)
        if any(str(k).removeprefix("module.").startswith(cfp.TRAINING_ONLY) for k in ckpt["state_dict"]):
            params = tf.params_from_state_dict(ckpt["state_dict"], config)
    return config, params, converted.text or TextEncoder()


def teacher_forced_mels(fastpitch: str | Path, prepared: str | Path, cache: str | Path) -> list[np.ndarray]:
    """The mel FastPitch predicts for each example of a `prepared` directory when driven by its own
    recording (teacher-forced: the aligner's MAS durations, the recorded pitch and energy), frame for
    frame aligned with the recorded mel, as NVIDIA computed the mels of its `_ft` HiFi-GAN; (n_mel, T)
    each. `fastpitch` must be a training checkpoint with its aligner (`FastPitch_checkpoint_*.pt`).
    Cached as `cache/<checkpoint sha256>/<id>.npy` (atomic), so a second run computes nothing."""
    from jaxtts.train.data import PreparedDataset

    path = Path(fastpitch).expanduser()
    config, params, text = load_init(path)
    mean, std = (float(np.asarray(params[k]).reshape(-1)[0]) for k in ("pitch_mean", "pitch_std"))
    if not std > 0:
        raise InputError(f"--mels-from {path} has no pitch statistics (pitch_std {std}), so it cannot read a "
                         "recording's pitch; pass a checkpoint `jaxtts train fastpitch` or NVIDIA's train.py wrote")
    dataset = PreparedDataset(prepared, pitch_mean=mean, pitch_std=std)  # normalised as the model was trained
    if dataset.text is not None and dataset.text != text:
        raise InputError(f"--mels-from {path} was trained on ids written another way than {prepared}'s; "
                         f"prepare the data again with `jaxtts prepare --text-like {path}`")
    if "attention" not in params:
        raise InputError(f"--mels-from {path} has no aligner, so it cannot follow a recording; pass the "
                         "FastPitch_checkpoint_<steps>.pt a training run exported")
    if config.n_mel_channels != dataset.config.n_mel_channels:
        raise InputError(f"--mels-from {path} makes {config.n_mel_channels} mel channels, the data has "
                         f"{dataset.config.n_mel_channels}")
    store = Path(cache).expanduser() / files.sha256(path)
    store.mkdir(parents=True, exist_ok=True)
    module = tf.FastPitchTraining(config)  # padding-invariant: each utterance as if alone in its bucket
    forward = jax.jit(lambda p, batch: module.apply({"params": p}, batch, True).mel_out)
    mels = []
    for i in range(len(dataset)):
        example = dataset[i]
        target = store / f"{example.id}.npy"
        if not target.exists():
            mel = forward(params, tf.pad_batch(collate([example])))[0, :example.mel.shape[1]].T
            with files.atomic_write(target) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, np.asarray(mel, np.float32))
        mels.append(np.load(target))
    return mels


def run_cli(args: Any) -> int:
    """`jaxtts train fastpitch` (flags: `fastpitch_cli.add_arguments`): train, then export `FastPitch_checkpoint_<steps>.pt` (NVIDIA's layout) and `model/` (converted)."""
    from jaxtts import checkpoint
    from jaxtts.train.data import PreparedDataset

    dataset = PreparedDataset(args.data)
    val = None
    if args.val:  # normalised with the training set's pitch statistics, as the model will be
        val = PreparedDataset(args.val, pitch_mean=dataset.pitch_mean, pitch_std=dataset.pitch_std)
        if val.text != dataset.text or val.config != dataset.config:
            raise InputError(f"--val {args.val} was prepared with other audio settings or text encoding than "
                             f"{args.data}; prepare it as the training set was")
    if args.init:
        config, params, text = load_init(args.init)
        if dataset.text is not None and dataset.text != text:
            raise InputError(f"--init {args.init} was trained on ids written another way (p_arpabet, spaces or "
                             f"symbols) than {args.data}'s; prepare the data again with "
                             f"`jaxtts prepare --text-like {args.init}`")
        if config.n_speakers < dataset.n_speakers:
            raise InputError(f"--init {args.init} has {config.n_speakers} speaker(s) but the data has "
                             f"{dataset.n_speakers}; fine-tune a multi-speaker model or relabel the speakers")
    else:
        config, params = model_config(args.config, dataset.n_speakers), None
    # Also with --resume: a run killed before its first checkpoint restarts from these.
    params = params if params is not None else tf.init_params(config, jax.random.key(args.seed))
    params = {**params, "pitch_mean": np.full((1,), dataset.pitch_mean, np.float32),
              "pitch_std": np.full((1,), dataset.pitch_std, np.float32)}  # train.py stores them in the model
    accumulation = args.grad_accumulation
    if args.global_batch:
        accumulation, rest = divmod(args.global_batch, args.batch_size)
        if rest or not accumulation:
            raise InputError(f"--global-batch {args.global_batch} is not a multiple of --batch-size {args.batch_size}")
    run = RunConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed, log_every=args.log_every,
                    checkpoint_every=args.checkpoint_every, freeze=tuple(args.freeze),
                    token_step=args.token_step, frame_step=args.frame_step,
                    loss=tf.LossConfig(kl_loss_start_epoch=args.kl_loss_start_epoch,
                                       kl_loss_warmup_epochs=args.kl_loss_warmup_epochs),
                    optim=optim.OptimConfig(optimizer=args.optimizer, learning_rate=args.learning_rate,
                                            warmup_steps=args.warmup_steps, grad_accumulation=accumulation,
                                            ema_decay=args.ema_decay))
    state = train(dataset, args.out, config, run, init_params=params, resume=args.resume, progress=True,
                  val=val)
    out = Path(args.out).expanduser()
    export_pt(state, config, out / f"FastPitch_checkpoint_{args.steps}.pt")
    inference = {k: v for k, v in jax.tree.map(np.asarray, state.params).items() if k != "attention"}
    text = dataset.text.to_dict() if dataset.text is not None else None
    checkpoint.save(out / "model", model="fastpitch", config=config.to_dict(), params=inference, text=text,
                    overwrite=True)
    return 0
