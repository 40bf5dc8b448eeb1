"""What the benchmarks share to time torch beside JAX fairly: the same device, a clock that waits."""
from __future__ import annotations

import time
from collections.abc import Callable

import jax
import torch


def device_like_jax() -> torch.device:
    """The torch device on the hardware JAX computes on (CUDA when JAX's backend is a GPU), so a
    torch-vs-JAX timing compares like with like. On CUDA it turns TF32 off for torch: cuDNN would
    otherwise run fp32 convolutions at TF32 precision, while ours compute in full fp32."""
    if jax.default_backend() == "gpu" and torch.cuda.is_available():
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        return torch.device("cuda")
    return torch.device("cpu")


def synchronize(device: torch.device) -> None:
    """Wait for `device`'s queued work, so a host clock measures it (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def wall_and_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all threads of this process) of `fn()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of `fn()`."""
    return wall_and_cpu(fn)[0]
