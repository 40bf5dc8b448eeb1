"""FastPitch 1.1 training step: jaxtts (`jaxtts.train.fastpitch.make_train_step`, jitted) vs NVIDIA's
own trainer step (`--nvidia DIR`), same config, weights, batch and optimizer, in one run, on CPU.

    python benchmarks/bench_train.py [--quick] [--configs small published] [--steps N] [--nvidia DIR] [--json F]

The batch is the golden training batch (../shared/golden/training: three real LJSpeech clips run
through NVIDIA's data pipeline and `TTSCollate`; random arrays of its shapes when ../shared is
absent). Configs: `small` is the golden small checkpoint (its own weights), `published` NVIDIA's
46M FastPitch 1.1 (with 3 speakers, as the batch has) with seeded weights; both sides load the
same state_dict. One step is what NVIDIA's train.py does per batch without AMP: forward in train
mode (dropout on), FastPitchLoss + the binarization loss at KL weight 0.5, backward,
clip_grad_norm_(1000), the learning rate of its warm-up schedule, optimizer step. The optimizer
is AdamW on both sides (train.py's `--optimizer adam`, apex FusedAdam's maths): its default
FusedLAMB is apex-only and does not run on a CPU. jaxtts pads the batch to its shape buckets
(`pad_batch`), as its training loop does; NVIDIA's runs at the collated size.

Each framework runs in its own process (so each one's peak memory is its own): model and batch
set up, one untimed step (jaxtts compiles), then `--steps` timed steps. Reported: median and best
seconds per step, steps/s, NVIDIA's median / jaxtts's (issue 14's target: >= 1.5), and the
process's peak resident memory (`ru_maxrss`) before the first step and at the end.
NVIDIA's code runs with the two CPU shims of the golden README: `Tensor.get_device()` says 'cpu'
for CPU tensors (`binarize_attention` passes it as a device), and the CTC loss gets finite log
probabilities instead of -inf for padded keys (same loss; torch's CPU backward would give NaN).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared"
GOLDEN_STEP = SHARED / "golden" / "training" / "fastpitch_small_step.npz"
GOLDEN_CKPT = SHARED / "golden" / "fastpitch_small" / "FastPitch_checkpoint_10.pt"
BATCH_KEYS = ("text_padded", "input_lengths", "mel_padded", "output_lengths", "pitch_padded", "energy_padded",
              "speaker", "attn_prior")
KL_WEIGHT = 0.5  # train.sh's schedule at epoch 50, as the golden step
SEED = 1234


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def weights(choice: str) -> tuple[dict, dict]:
    """(NVIDIA's ckpt['config'], state_dict with the aligner) for 'small' or 'published'."""
    sys.path.insert(0, str(ROOT))
    from converters.load import load_torch
    from converters.reference.fastpitch import seeded
    from jaxtts.train.fastpitch_loop import model_config
    from tests.checkpoints import fastpitch_aligner

    if choice == "small" and GOLDEN_CKPT.is_file():
        ckpt = load_torch(GOLDEN_CKPT)
        return dict(ckpt["config"]), {k.removeprefix("module."): v for k, v in ckpt["state_dict"].items()}
    config = model_config(choice, 3)
    nvidia = config.nvidia_config()
    return nvidia, seeded(config, SEED).state_dict() | fastpitch_aligner(nvidia, SEED)


def batch_arrays() -> dict:
    """The collated batch in NVIDIA's layout (numpy), keyed as `BATCH_KEYS`."""
    import numpy as np

    if GOLDEN_STEP.is_file():
        with np.load(GOLDEN_STEP) as d:
            return {k: d[f"batch__{k}"] for k in BATCH_KEYS}
    rng = np.random.default_rng(0)
    n_lens, t_lens = np.array([67, 40, 21]), np.array([389, 223, 154])
    b, n, t = 3, n_lens.max(), t_lens.max()
    tv, fv = np.arange(n)[None] < n_lens[:, None], np.arange(t)[None] < t_lens[:, None]
    prior = (tv[:, None, :] & fv[:, :, None]) / n_lens[:, None, None]
    return {"text_padded": np.where(tv, rng.integers(1, 148, (b, n)), 0), "input_lengths": n_lens,
            "mel_padded": np.where(fv[:, None], rng.normal(-5, 2, (b, 80, t)), 0).astype(np.float32),
            "output_lengths": t_lens, "pitch_padded": np.where(fv[:, None], rng.normal(0, 1, (b, 1, t)), 0).astype(np.float32),
            "energy_padded": np.where(fv, rng.uniform(0, 60, (b, t)), 0).astype(np.float32),
            "speaker": np.array([1, 0, 2]), "attn_prior": prior.astype(np.float32)}


def time_steps(step, steps: int) -> dict:
    before = peak_mib()
    start = time.perf_counter()
    loss = step()
    first = time.perf_counter() - start
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"first_step_s": round(first, 2), "step_s": [round(t, 4) for t in times], "first_loss": loss,
            "peak_rss_mib_before_steps": round(before), "peak_rss_mib": round(peak_mib())}


def child_jaxtts(choice: str, steps: int) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxtts.models.fastpitch import FastPitchConfig
    from jaxtts.train import fastpitch as tf
    from jaxtts.train import optim

    nvidia, sd = weights(choice)
    config = FastPitchConfig.from_dict(nvidia)
    params = tf.params_from_state_dict({k: v.numpy() for k, v in sd.items()}, config)
    opt = optim.OptimConfig(optimizer="adamw")
    trainable = optim.trainable_mask(params, tf.frozen_paths())
    tx, step_fn = tf.make_train_step(config, tf.LossConfig(), opt, trainable)
    step_fn = jax.jit(step_fn, donate_argnums=0)
    arrays = batch_arrays()
    batch = tf.pad_batch(tf.Batch(*(arrays[k] for k in BATCH_KEYS)))
    batch = jax.tree.map(jnp.asarray, batch)
    state = [tf.init_state(params, tx, opt, jax.random.key(SEED))]
    kl = jnp.float32(KL_WEIGHT)

    def step() -> float:
        state[0], meta = step_fn(state[0], batch, kl)
        return float(meta["loss"])  # waits for the step

    out = time_steps(step, steps)
    out["shapes"] = {"text": list(np.shape(batch.text)), "mel": list(np.shape(batch.mel))}
    return out


def child_nvidia(choice: str, steps: int, dle: Path) -> dict:
    import torch
    import torch._dynamo  # noqa: F401 - before DLE's tree is on sys.path: its triton/ folder shadows the package
    from dle import import_from

    from jaxtts.train import optim

    get_device = torch.Tensor.get_device
    torch.Tensor.get_device = lambda self: "cpu" if self.device.type == "cpu" else get_device(self)
    model_mod = import_from(dle, "fastpitch.model")
    loss_mod = import_from(dle, "fastpitch.loss_function")
    attn_loss = import_from(dle, "fastpitch.attn_loss_function")

    class FiniteCTC(torch.nn.Module):
        """-inf log-probs of padded keys → float32's lowest: the same loss, a finite CPU backward."""

        def __init__(self, ctc: torch.nn.Module):
            super().__init__()
            self.ctc = ctc

        def forward(self, log_probs, *args, **kwargs):
            return self.ctc(log_probs.clamp(min=torch.finfo(log_probs.dtype).min), *args, **kwargs)

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(SEED)
    nvidia, sd = weights(choice)
    model = model_mod.FastPitch(**nvidia)
    model.load_state_dict(sd, strict=True)
    model.train()
    criterion = loss_mod.FastPitchLoss(dur_predictor_loss_scale=0.1, pitch_predictor_loss_scale=0.1, attn_loss_scale=1.0)
    criterion.attn_ctc_loss.CTCLoss = FiniteCTC(criterion.attn_ctc_loss.CTCLoss)
    kl_loss = attn_loss.AttentionBinarizationLoss()
    opt = optim.OptimConfig(optimizer="adamw")
    optimizer = torch.optim.AdamW(model.parameters(), lr=opt.learning_rate, betas=opt.betas, eps=opt.eps,
                                  weight_decay=opt.weight_decay)
    schedule = optim.learning_rate(opt)
    arrays = {k: torch.from_numpy(v) for k, v in batch_arrays().items()}
    # What data_function.batch_to_gpu hands the model on a CPU (its module needs the text stack's inflect).
    x = [arrays["text_padded"].long(), arrays["input_lengths"].long(), arrays["mel_padded"].float(),
         arrays["output_lengths"].long(), arrays["pitch_padded"].float(), arrays["energy_padded"].float(),
         arrays["speaker"].long(), arrays["attn_prior"].float(), None]
    y = [x[2], x[1], x[3]]
    count = [0]

    def step() -> float:
        for group in optimizer.param_groups:
            group["lr"] = float(schedule(count[0]))
        model.zero_grad(set_to_none=True)
        y_pred = model(x)
        loss, _ = criterion(y_pred, y)
        loss = loss + KL_WEIGHT * kl_loss(y_pred[9], y_pred[8])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), opt.grad_clip_thresh)
        optimizer.step()
        count[0] += 1
        return loss.item()

    return time_steps(step, steps)


def run_child(args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, __file__, "--child", str(out), *args], env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        return json.loads(out.read_text())


def summary(r: dict) -> dict:
    median = statistics.median(r["step_s"])
    return {"median_step_s": round(median, 4), "best_step_s": min(r["step_s"]), "steps_per_s": round(1 / median, 3),
            "peak_rss_mib": r["peak_rss_mib"], "peak_rss_mib_before_steps": r["peak_rss_mib_before_steps"],
            "first_step_s": r["first_step_s"], "first_loss": round(r["first_loss"], 5)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        out, framework, choice, steps = Path(argv[1]), argv[2], argv[3], int(argv[4])
        result = child_jaxtts(choice, steps) if framework == "jaxtts" else child_nvidia(choice, steps, Path(argv[5]))
        out.write_text(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the small config only, 3 timed steps (smoke test)")
    parser.add_argument("--configs", nargs="+", choices=["small", "published"], help="default: small published")
    parser.add_argument("--steps", type=int, help="timed steps per framework (default 10)")
    parser.add_argument("--nvidia", type=Path, help="DeepLearningExamples' PyTorch/SpeechSynthesis/FastPitch directory")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    configs = args.configs or (["small"] if args.quick else ["small", "published"])
    steps = args.steps or (3 if args.quick else 10)
    if args.nvidia and not args.nvidia.is_dir():
        raise SystemExit(f"--nvidia {args.nvidia}: not a directory; give DeepLearningExamples' "
                         "PyTorch/SpeechSynthesis/FastPitch directory")
    results: dict = {"batch": "golden (3 LJSpeech clips)" if GOLDEN_STEP.is_file() else "random, golden shapes",
                     "optimizer": "adamw", "steps": steps, "cores": os.cpu_count(),
                     "load_average_1min": [round(os.getloadavg()[0], 2)]}
    for choice in configs:
        row = {"jaxtts": summary(run_child(["jaxtts", choice, str(steps)]))}
        if args.nvidia:
            row["nvidia"] = summary(run_child(["nvidia", choice, str(steps), str(args.nvidia.resolve())]))
            row["speedup_vs_nvidia"] = round(row["nvidia"]["median_step_s"] / row["jaxtts"]["median_step_s"], 2)
        results[choice] = row
    results["load_average_1min"].append(round(os.getloadavg()[0], 2))

    print(f"FastPitch 1.1 training step, CPU ({os.cpu_count()} cores), batch: {results['batch']}, AdamW, {steps} timed steps")
    print(f"{'config':10s} {'framework':9s} {'median s':>9s} {'best s':>8s} {'steps/s':>8s} {'peak RSS MiB':>13s} "
          f"{'(before)':>9s} {'first step s':>12s} {'loss':>9s}")
    for choice in configs:
        for framework in ("jaxtts", "nvidia"):
            if framework in results[choice]:
                s = results[choice][framework]
                print(f"{choice:10s} {framework:9s} {s['median_step_s']:9.3f} {s['best_step_s']:8.3f} {s['steps_per_s']:8.2f} "
                      f"{s['peak_rss_mib']:13d} {s['peak_rss_mib_before_steps']:9d} {s['first_step_s']:12.1f} "
                      f"{s['first_loss']:9.4f}")
        if "speedup_vs_nvidia" in results[choice]:
            print(f"{choice:10s} jaxtts is {results[choice]['speedup_vs_nvidia']:.2f}x NVIDIA's step (target >= 1.5)")
    print(f"load average (1 min) at start and end: {results['load_average_1min']} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
