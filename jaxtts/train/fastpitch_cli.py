"""`jaxtts train fastpitch`'s flags, importable without loading JAX (the CLI builds every parser
at start-up); the handler is `fastpitch_loop.run_cli`, imported when the command runs."""
from __future__ import annotations

import argparse
from collections.abc import Callable


def add_arguments(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Add the flags of `jaxtts train fastpitch` (train.py's names where it has one); returns the handler."""
    parser.add_argument("--data", required=True, help="a directory written by `jaxtts prepare`")
    parser.add_argument("--out", required=True, help="run directory: metrics.jsonl, checkpoints/, exports")
    parser.add_argument("--val", metavar="PREPARED",
                        help="a held-out prepared set: its loss terms (val_*) are logged at every checkpoint")
    parser.add_argument("--init", help="start from this FastPitch (.pt, .nemo or converted directory)")
    parser.add_argument("--config", default="small", help="small | published | FILE.json (ignored with --init)")
    parser.add_argument("--steps", type=int, default=1000, help="optimizer steps")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    parser.add_argument("--batch-size", type=int, default=16, help="examples per batch, split over the local devices")
    parser.add_argument("--grad-accumulation", type=int, default=1, help="batches per optimizer step")
    parser.add_argument("--global-batch", type=int,
                        help="examples per optimizer step (NVIDIA's recipe: 256); sets --grad-accumulation")
    parser.add_argument("--optimizer", choices=("lamb", "adamw"), default="lamb")
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--warmup-steps", type=int, default=1000)
    parser.add_argument("--ema-decay", type=float, default=0.0)
    parser.add_argument("--kl-loss-start-epoch", type=int, default=0)
    parser.add_argument("--kl-loss-warmup-epochs", type=int, default=100)
    parser.add_argument("--freeze", action="append", default=[], help="a parameter prefix to keep fixed, e.g. encoder")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--token-step", type=int, default=16,
                        help="batches are padded to multiples of this many tokens (coarser: fewer step shapes to compile)")
    parser.add_argument("--frame-step", type=int, default=64, help="... and of this many mel frames")
    parser.add_argument("--log-every", type=int, default=10)
    return _run


def _run(args: argparse.Namespace) -> int:
    from jaxtts.train.fastpitch_loop import run_cli

    return run_cli(args)
