"""FastPitch 1.1 at the published size on this machine: jaxtts (JAX, jitted, bucketed) vs our PyTorch
reference (eager), in one run, same seeded weights, same threads, on JAX's device (CPU, or both on
the GPU with torch's TF32 off, as ours is full fp32).

    .venv/bin/python benchmarks/bench_fastpitch.py [--repeats 7] [--threads N] [--nvidia DIR]

Batch 1: each text alone, in rounds that run each framework over all texts back to back, so
background load hits all alike; median and best of the rounds per text, then the median over
texts (../shared/reference §9 quotes ≈156 ms per sentence for NVIDIA's code on this machine).
Batch 8: the texts padded into one batch (JAX: token/frame buckets; PyTorch: padding with
lengths), throughput in mel frames per second. JAX compile time is excluded (a warm-up call each).
Texts are the golden ids when ../shared is beside the project, else random ids of their lengths.
`--nvidia DIR` (DeepLearningExamples' PyTorch/SpeechSynthesis/FastPitch checkout) times NVIDIA's own
`FastPitch.infer` with the same weights too.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import jax
import numpy as np
import torch
from dle import import_from
from timing import device_like_jax, timed

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


def nvidia_fastpitch(src: Path, state_dict: dict) -> torch.nn.Module:
    """NVIDIA's FastPitch from a DeepLearningExamples checkout, our weights loaded."""
    model = import_from(src, "fastpitch.model").FastPitch(**PUBLISHED.nvidia_config())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    assert not unexpected and all(k.startswith("attention.") for k in missing), (missing, unexpected)
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--nvidia", type=Path, help="DeepLearningExamples' PyTorch/SpeechSynthesis/FastPitch directory")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    device = device_like_jax()
    ref = seeded(PUBLISHED, seed=1234)
    model = FastPitch(PUBLISHED, from_state_dict(ref.state_dict(), PUBLISHED))
    nvidia = nvidia_fastpitch(args.nvidia, ref.state_dict()).to(device) if args.nvidia else None
    ref.to(device)
    ids = texts()

    def run_jax(batch: np.ndarray, lengths: np.ndarray) -> int:
        out = model.infer(batch, lengths)
        out.mel.block_until_ready()
        return int(np.sum(out.mel_lens))

    def run_torch(batch: np.ndarray, lengths: np.ndarray) -> int:
        with torch.inference_mode():
            _, mel_lens, *_ = ref.infer(torch.from_numpy(batch).to(device), torch.from_numpy(lengths).to(device))
        return int(mel_lens.sum())

    def run_nvidia(batch: np.ndarray, lengths: np.ndarray) -> int:
        with torch.inference_mode():  # NVIDIA's infer finds the padding itself
            _, mel_lens, *_ = nvidia.infer(torch.from_numpy(batch).long().to(device))
        return int(mel_lens.sum())

    runners = {"jax": run_jax, "torch reference": run_torch} | ({"NVIDIA's code": run_nvidia} if nvidia else {})
    print(f"FastPitch 1.1, published size ({sum(p.numel() for p in ref.parameters()) / 1e6:.1f}M parameters), "
          f"fp32, {jax.devices()[0].device_kind}, {args.threads} threads; jax {jax.__version__}, torch {torch.__version__}; "
          f"load average at start {os.getloadavg()[0]:.2f}")

    def measure(batches: dict[str, tuple[np.ndarray, np.ndarray]], repeats: int) -> dict[str, dict[str, list]]:
        """Seconds per call. Each round runs every runner over all batches back to back (a framework's
        worker threads spin on after its calls and would slow a different framework called right
        after), so only a round's first call follows a switch; rounds alternate background load
        over the runners. One untimed warm-up call each (JAX compiles)."""
        times = {r: {name: [] for name in batches} for r in runners}
        for r, run in runners.items():
            for b, lens in batches.values():
                run(b, lens)
        for _ in range(repeats):
            for r, run in runners.items():
                for name, (b, lens) in batches.items():
                    times[r][name].append(timed(lambda run=run, b=b, lens=lens: run(b, lens)))
        return times

    single = {name: padded([i]) for name, i in ids.items()}
    frames = {name: run_jax(*b) for name, b in single.items()}
    times = measure(single, args.repeats)
    median = {r: {name: statistics.median(t) for name, t in v.items()} for r, v in times.items()}
    print(f"\nbatch 1: ms, median (best) of {args.repeats}; speed-up = their median / jax's")
    print(f"  {'text':9s} {'tokens':>6s} {'frames':>6s}" + "".join(f" {r:>26s}" for r in runners))
    for name, (b, _) in single.items():
        cells = [f"{median[r][name] * 1e3:7.1f} ({min(times[r][name]) * 1e3:5.1f})"
                 + (f" {median[r][name] / median['jax'][name]:5.2f}x" if r != "jax" else "") for r in runners]
        print(f"  {name:9s} {b.shape[1]:6d} {frames[name]:6d}" + "".join(f" {c:>26s}" for c in cells))
    per_sentence = {r: statistics.median(median[r].values()) for r in runners}
    print(f"  {'median per sentence':23s}" + "".join(
        f" {per_sentence[r] * 1e3:19.1f}" + (f" {per_sentence[r] / per_sentence['jax']:5.2f}x" if r != "jax" else "")
        for r in runners))

    names = list(ids)
    batch8 = {"batch8": padded([ids[names[i % len(names)]] for i in range(8)])}
    total = run_jax(*batch8["batch8"])
    times8 = measure(batch8, max(3, args.repeats // 2))
    print(f"\nbatch 8: {total} mel frames, {batch8['batch8'][0].shape[1]} tokens padded")
    frames_per_s = {}
    for r in runners:
        t = statistics.median(times8[r]["batch8"])
        frames_per_s[r] = total / t
        ratio = f"   jax is {t / statistics.median(times8['jax']['batch8']):.2f}x" if r != "jax" else ""
        print(f"  {r:16s} {t * 1e3:8.1f} ms  {total / t:8.0f} mel frames/s{ratio}")
    print(f"load average at end {os.getloadavg()[0]:.2f} "
          f"(above ~{args.threads}, another job shared the cores and the timings are unreliable)")
    if args.json:
        args.json.write_text(json.dumps({
            "device": jax.devices()[0].device_kind,
            "batch1_ms_per_sentence": {r: per_sentence[r] * 1e3 for r in runners},
            "batch1_speedup_vs_torch": per_sentence["torch reference"] / per_sentence["jax"],
            "batch8_mel_frames_per_s": frames_per_s,
            "batch8_speedup_vs_torch": frames_per_s["jax"] / frames_per_s["torch reference"],
            "load_average": os.getloadavg()[0],
        }, indent=2))


if __name__ == "__main__":
    main()
