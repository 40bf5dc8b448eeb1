"""`jaxtts train hifigan`'s flags, importable without loading JAX (the CLI builds every parser at
start-up); the handler imports the trainer when the command runs."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Add the flags of `jaxtts train hifigan` (jik876's/NVIDIA's recipe); returns the handler."""
    parser.add_argument("--data", required=True, help="a directory written by `jaxtts prepare` (its audio is used)")
    parser.add_argument("--out", required=True, help="run directory: metrics.jsonl, checkpoints/, model/")
    parser.add_argument("--val", metavar="PREPARED",
                        help="held-out clips: their mel error (val_*) is logged at every checkpoint")
    parser.add_argument("--init", help="start from this generator (NVIDIA's hifigan_gen_checkpoint_*.pt, jik876's "
                                       "g_XXXXXXXX with its config.json), keeping its weight_g/weight_v")
    parser.add_argument("--init-discriminator", metavar="FILE",
                        help="and these discriminators (NVIDIA's hifigan_discrim_checkpoint_*.pt, jik876's do_XXXXXXXX)")
    parser.add_argument("--mels-from", metavar="FASTPITCH",
                        help="fine-tune on this FastPitch's teacher-forced mels of the data (a training checkpoint "
                             "with its aligner, FastPitch_checkpoint_*.pt), as NVIDIA made its _ft generator; "
                             "cached in --out")
    parser.add_argument("--config", default="v1", choices=("v1", "v2", "v3"), help="generator size (ignored with --init)")
    parser.add_argument("--steps", type=int, default=1000, help="iterations (one D step and one G step each)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1234)
    return _run


def _run(args: argparse.Namespace) -> int:
    import jax
    import numpy as np

    from jaxtts import checkpoint
    from jaxtts.errors import InputError
    from jaxtts.models import discriminator as D
    from jaxtts.models.hifigan import PUBLISHED
    from jaxtts.train import hifigan as T
    from jaxtts.train.data import PreparedDataset

    dataset = PreparedDataset(args.data)
    if args.init_discriminator and not args.init:
        raise InputError("--init-discriminator needs the generator it was trained with: pass --init too")
    train = T.TrainConfig(batch_size=args.batch_size, seed=args.seed)
    config, generator = PUBLISHED[args.config], None
    if args.init:
        config, generator = _generator(Path(args.init).expanduser())
    if dataset.config.sampling_rate != config.sampling_rate:
        raise InputError(f"{args.data} is at {dataset.config.sampling_rate} Hz but the generator makes "
                         f"{config.sampling_rate} Hz audio; prepare the data with --resample at that rate")
    discriminator, init = D.NVIDIA, None
    if generator is not None:
        kd = jax.random.split(jax.random.key(args.seed))[1]  # the key a fresh run draws its discriminators from
        if args.init_discriminator:
            discriminator, params, spectral = _discriminators(Path(args.init_discriminator).expanduser())
        else:
            params, spectral = D.init(discriminator, kd, train.segment_size)
        init = (generator, params, spectral)
    audios = [dataset.audio(i) for i in range(len(dataset))]
    val = None
    if args.val:
        held_out = PreparedDataset(args.val)
        if held_out.config.sampling_rate != config.sampling_rate:
            raise InputError(f"--val {args.val} is at {held_out.config.sampling_rate} Hz, the generator at "
                             f"{config.sampling_rate} Hz; prepare it with --resample at that rate")
        val = [held_out.audio(i) for i in range(len(held_out))]
    mels = val_mels = None
    if args.mels_from:
        from jaxtts.train.fastpitch_loop import teacher_forced_mels

        if dataset.config.hop_length != config.hop_length:
            raise InputError(f"{args.data} has mel frames {dataset.config.hop_length} samples apart, the generator "
                             f"{config.hop_length}: FastPitch's mels cannot drive it")
        cache = Path(args.out).expanduser() / "teacher_forced_mels"
        mels = teacher_forced_mels(args.mels_from, args.data, cache)
        val_mels = teacher_forced_mels(args.mels_from, args.val, cache) if args.val else None
    state = T.fit(audios, args.out, generator=config, steps=args.steps, train=train, discriminator=discriminator,
                  init=init, resume=args.resume, checkpoint_every=args.checkpoint_every, val=val, mels=mels,
                  val_mels=val_mels)
    T.export_pt(state.generator, config, Path(args.out).expanduser() / f"hifigan_gen_checkpoint_{args.steps}.pt",
                steps=args.steps)
    folded = jax.tree.map(np.asarray, T.fold(state.generator))
    checkpoint.save(Path(args.out).expanduser() / "model", model="hifigan", config=config.to_dict(), params=folded,
                    overwrite=True)
    return 0


def _generator(path: Path) -> tuple[Any, dict]:
    """(config, weight-norm training params) of a generator checkpoint file."""
    import converters.hifigan as chf
    from converters.load import load_torch
    from jaxtts.errors import InputError
    from jaxtts.train import hifigan as T

    if not path.is_file():
        raise InputError(f"--init {path}: no such file; pass a HiFi-GAN generator .pt or g_XXXXXXXX")
    ckpt = load_torch(path)
    config, _ = chf.from_checkpoint(ckpt, path)  # the config, and every check a conversion makes
    return config, T.generator_train_params(ckpt.get("generator", ckpt), config, what=str(path))


def _discriminators(path: Path) -> tuple[Any, dict, dict]:
    import converters.discriminator as cd
    from converters.load import load_torch

    config, params, spectral, _ = cd.from_checkpoint(load_torch(path), path)
    return config, params, spectral
