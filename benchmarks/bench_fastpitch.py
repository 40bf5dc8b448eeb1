"""FastPitch 1.1 at the published size on this machine: jaxtts (JAX, jitted, bucketed) vs our PyTorch
reference (eager), in one run, same seeded weights, same threads.

    .venv/bin/python benchmarks/bench_fastpitch.py [--repeats 7] [--threads N]

Batch 1: each text alone, the two frameworks interleaved per repeat so that background load hits
both alike; median and best of the repeats per text, then the median over texts (NVIDIA's own
code measured ≈156 ms per sentence on this 2-core machine; ../shared/reference §9). Batch 8: the
texts padded into one batch (JAX: token/frame buckets; PyTorch: NVIDIA-style padding with lengths),
throughput in mel frames per second. JAX compile time is excluded (one warm-up call per shape).
Texts are the golden ids when ../shared is beside the project, else random ids of their lengths.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import jax
import numpy as np
import torch

from converters.fastpitch import from_state_dict
from converters.reference.fastpitch import seeded
from jaxtts.models.fastpitch import PUBLISHED, FastPitch

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "golden" / "outputs"
TEXTS = {"short": 11, "long": 227, "numbers": 205, "punct": 59, "mixed": 133}


def texts() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {}
    for name, n in TEXTS.items():
        path = GOLDEN / f"{name}.npz"
        out[name] = np.load(path)["ids"].astype(np.int32) if path.exists() else rng.integers(1, 148, n).astype(np.int32)
    return out


def padded(ids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(i) for i in ids], np.int32)
    batch = np.zeros((len(ids), lengths.max()), np.int32)
    for row, i in enumerate(ids):
        batch[row, : len(i)] = i
    return batch, lengths


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    ref = seeded(PUBLISHED, seed=1234)
    model = FastPitch(PUBLISHED, from_state_dict(ref.state_dict(), PUBLISHED))
    ids = texts()

    def run_jax(batch: np.ndarray, lengths: np.ndarray | None = None) -> int:
        out = model.infer(batch, lengths)
        out.mel.block_until_ready()
        return int(np.sum(out.mel_lens))

    def run_torch(batch: np.ndarray, lengths: np.ndarray | None = None) -> int:
        with torch.inference_mode():
            _, mel_lens, *_ = ref.infer(torch.from_numpy(batch), None if lengths is None else torch.from_numpy(lengths))
        return int(mel_lens.sum())

    print(f"FastPitch 1.1, published size ({sum(p.numel() for p in ref.parameters()) / 1e6:.1f}M parameters), "
          f"fp32, CPU, {args.threads} threads; jax {jax.__version__}, torch {torch.__version__}; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    single = {name: i[None] for name, i in ids.items()}
    frames = {name: run_jax(b) for name, b in single.items()}  # warm-up: compiles each text's buckets
    for b in single.values():
        run_torch(b)
    jt = {name: [] for name in single}
    tt = {name: [] for name in single}
    for _ in range(args.repeats):
        for name, b in single.items():
            jt[name].append(timed(lambda b=b: run_jax(b)))
            tt[name].append(timed(lambda b=b: run_torch(b)))

    print("\nbatch 1                 tokens  frames   jax ms (best)   torch ms (best)   torch/jax")
    for name, b in single.items():
        j, t = statistics.median(jt[name]) * 1e3, statistics.median(tt[name]) * 1e3
        print(f"  {name:20s} {b.shape[1]:7d} {frames[name]:7d} {j:8.1f} ({min(jt[name]) * 1e3:6.1f}) "
              f"{t:9.1f} ({min(tt[name]) * 1e3:6.1f}) {t / j:10.2f}x")
    j = statistics.median(statistics.median(v) for v in jt.values()) * 1e3
    t = statistics.median(statistics.median(v) for v in tt.values()) * 1e3
    print(f"  median per sentence {j:31.1f} {t:18.1f} {t / j:19.2f}x")

    names = list(ids)
    batch, lengths = padded([ids[names[i % len(names)]] for i in range(8)])
    total = run_jax(batch, lengths)
    run_torch(batch, lengths)
    jb, tb = [], []
    for _ in range(max(2, args.repeats // 2)):
        jb.append(timed(lambda: run_jax(batch, lengths)))
        tb.append(timed(lambda: run_torch(batch, lengths)))
    j, t = statistics.median(jb), statistics.median(tb)
    print(f"\nbatch 8 ({total} mel frames, {batch.shape[1]} tokens padded)")
    print(f"  jax   {j * 1e3:8.1f} ms  {total / j:8.0f} frames/s")
    print(f"  torch {t * 1e3:8.1f} ms  {total / t:8.0f} frames/s   jax/torch throughput {t / j:.2f}x")
    print(f"load average at end {os.getloadavg()[0]:.2f} "
          f"(above ~{args.threads}, another job shared the cores and the timings are unreliable)")


if __name__ == "__main__":
    main()
