"""HiFi-GAN generator: jaxtts (jit, fp32) vs our PyTorch reference (eager), in one run, on JAX's device.

    python benchmarks/bench_hifigan.py [--version v1] [--seconds 4] [--rounds 5] [--reps 3]

Both run the same published-size generator with the same seeded weights on the same mel, with
as many threads as cores, on the CPU or both on the GPU (torch without TF32, as ours is full
fp32). They alternate in blocks (torch then JAX, `rounds` times, `reps` runs each) so a noisy
neighbour hurts both alike. Reported: best and median wall time as seconds of compute per second
of audio, their ratio, and the process CPU time per run (on a shared machine it moves less than
wall time; it includes threads that spin while waiting). `--nvidia DIR` (DeepLearningExamples'
PyTorch/SpeechSynthesis/HiFiGAN checkout) times NVIDIA's own generator with the same weights too.
jaxtts runs its params as `HiFiGAN` does, `prepare`d for the device (on a CPU, the wide resblocks
in the Winograd form).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import torch
from dle import import_from
from timing import device_like_jax, synchronize, wall_and_cpu

from converters.hifigan import from_state_dict
from converters.reference import hifigan as reference
from jaxtts.models.hifigan import PUBLISHED, generate, prepare


def gflop_per_frame(cfg) -> float:
    """Multiply-adds ×2 of the generator per mel frame, every convolution (transposed ones included)
    computed directly; the rates printed divide these, so the Winograd form beats the FMA peak."""
    c, rate, total = cfg.upsample_initial_channel, 1, 7 * cfg.num_mels * cfg.upsample_initial_channel
    layers = 3 if cfg.resblock == "1" else 2  # convs per dilation: convs1 + convs2, or one
    for u, k in zip(cfg.upsample_rates, cfg.upsample_kernel_sizes):
        total += rate * c * (c // 2) * k  # each input sample meets k taps over u outputs
        c, rate = c // 2, rate * u
        total += rate * c * c * sum(kj * len(dj) * (layers - 1) for kj, dj in
                                     zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes))
    total += rate * 7 * c
    return 2 * total / 1e9


def nvidia_generator(src: Path, cfg, state_dict: dict) -> torch.nn.Module:
    """NVIDIA's Generator from a DeepLearningExamples checkout, weight norm removed as for
    inference, our weights loaded."""
    model = import_from(src, "hifigan.models").Generator(cfg.to_dict())
    model.remove_weight_norm()
    model.load_state_dict(state_dict)
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", default="v1", choices=sorted(PUBLISHED))
    ap.add_argument("--seconds", type=float, default=4.0, help="audio length to synthesise")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--bf16", action="store_true", help="bf16 compute: ours with dtype=bfloat16, torch under autocast")
    ap.add_argument("--nvidia", type=Path, help="DeepLearningExamples' PyTorch/SpeechSynthesis/HiFiGAN directory")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    cfg = PUBLISHED[args.version]
    frames = round(args.seconds * cfg.sampling_rate / cfg.hop_length)
    audio_s = args.batch * frames * cfg.hop_length / cfg.sampling_rate
    device = device_like_jax()
    model = reference.seeded(cfg, seed=0)
    params = jax.device_put(prepare(from_state_dict(model.state_dict(), cfg)))  # as `HiFiGAN` runs it
    nvidia = nvidia_generator(args.nvidia, cfg, model.state_dict()).to(device) if args.nvidia else None
    model.to(device)
    mel = np.random.default_rng(0).normal(-5.0, 2.0, (args.batch, cfg.num_mels, frames)).astype(np.float32)
    mel_t, mel_j = torch.from_numpy(mel).to(device), jnp.asarray(mel)

    def torch_runner(module: torch.nn.Module):
        def run():
            with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=args.bf16):
                audio = module(mel_t).float()
            synchronize(device)
            return audio
        return run

    run_torch = torch_runner(model)

    dtype, label = (jnp.bfloat16, "bf16") if args.bf16 else (jnp.float32, "fp32")
    run_jax = functools.partial(jax.jit(functools.partial(generate, config=cfg, dtype=dtype)), params, mel_j)
    t = time.perf_counter()
    jax_audio = np.asarray(run_jax())  # compiles
    compile_s = time.perf_counter() - t
    runners = {"torch": run_torch, "jax": lambda: run_jax().block_until_ready()}
    if nvidia is not None:
        runners["nvidia"] = torch_runner(nvidia)
    errors = {name: float(np.max(np.abs(jax_audio - runners[name]()[:, 0].cpu().numpy())))
              for name in runners if name != "jax"}

    times = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            times[name] += [wall_and_cpu(run) for _ in range(args.reps)]

    device_kind = jax.devices()[0].device_kind
    print(f"HiFi-GAN {args.version} ({cfg.upsample_initial_channel} ch), {label}, batch {args.batch}, "
          f"{frames} frames = {audio_s:.2f} s of audio; {platform.processor() or platform.machine()}, "
          f"{args.threads} threads, {device_kind}, torch {torch.__version__}, jax {jax.__version__}; load average {os.getloadavg()[0]:.2f}")
    gflop = gflop_per_frame(cfg) * frames * args.batch
    print(f"jax compile {compile_s:.1f} s; " + ", ".join(f"max |jax - {k}| = {e:.1e}" for k, e in errors.items())
          + f"; {gflop / audio_s:.1f} GFLOP per s of audio")
    wall = {k: np.array([w for w, _ in v]) for k, v in times.items()}
    cpu = {k: np.array([c for _, c in v]) for k, v in times.items()}
    for name in times:
        best, median = wall[name].min(), np.median(wall[name])
        print(f"{name:>6}: best {best:.3f} s = {best / audio_s:.4f} s per s of audio ({gflop / best:.0f} GFLOP/s); "
              f"median {median:.3f} s = {median / audio_s:.4f} s/s; CPU {np.median(cpu[name]):.3f} s per run")
    print(f"speed-up of jax over torch eager: best {wall['torch'].min() / wall['jax'].min():.2f}x, "
          f"median {np.median(wall['torch']) / np.median(wall['jax']):.2f}x, "
          f"CPU time {np.median(cpu['torch']) / np.median(cpu['jax']):.2f}x")
    if nvidia is not None:
        print(f"speed-up of jax over NVIDIA's code: best {wall['nvidia'].min() / wall['jax'].min():.2f}x, "
              f"median {np.median(wall['nvidia']) / np.median(wall['jax']):.2f}x")
    if args.json:
        args.json.write_text(json.dumps({
            "model": f"HiFi-GAN {args.version}", "dtype": label, "device": device_kind,
            "audio_s": audio_s, "max_abs_err": errors["torch"],
            "gflop_per_audio_s": gflop / audio_s, "jax_gflop_per_s": float(gflop / wall["jax"].min()),
            "jax_s_per_audio_s": float(wall["jax"].min() / audio_s),
            "torch_s_per_audio_s": float(wall["torch"].min() / audio_s),
            "speedup_best": float(wall["torch"].min() / wall["jax"].min()),
            "speedup_median": float(np.median(wall["torch"]) / np.median(wall["jax"])),
            "load_average": os.getloadavg()[0],
        } | ({"nvidia_s_per_audio_s": float(wall["nvidia"].min() / audio_s), "nvidia_max_abs_err": errors["nvidia"],
              "speedup_vs_nvidia_best": float(wall["nvidia"].min() / wall["jax"].min())} if nvidia is not None else {}),
            indent=2))


if __name__ == "__main__":
    main()
