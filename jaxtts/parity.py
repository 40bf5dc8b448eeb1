"""Torch-vs-JAX parity on your own checkpoints: `jaxtts parity` and `pytest tests/test_user_parity.py`.

Our PyTorch reference (`converters.reference`: NVIDIA's maths and state_dict keys) and the JAX
models run on the same weights and the same ids, each text alone, written by the checkpoint's own
text encoder (as the engine writes them), and are compared stage by stage:

  durations  frames per symbol after rounding, which must match exactly
  pitch      per-symbol pitch (normalised units), max abs error
  energy     per-symbol energy (FastPitch 1.1), max abs error
  mel        log-mel over the reference's frames, max abs error
  audio      both vocoders on the reference's mel, so the vocoder is judged on its own input

The reference runs eagerly on the CPU or, with `xla=True`, on torch_xla's device (a TPU, a GPU or
PJRT_DEVICE=CPU). It then runs in a child process that keeps JAX on the CPU: two frameworks
cannot both own one accelerator, and the child exits before JAX here touches it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from jaxtts.errors import InputError, JaxTTSError

TEXTS = (
    "Hello world.",
    "Dr. Smith paid $3.50 on Jan. 5, 2024, about 10% more than in 1999.",
    "The committee, which had met in Washington on several occasions during the autumn, finally published "
    "its report; it concluded that the bridge should be rebuilt before the end of the following year.",
)
# float32 throughout. At the published sizes (seeded weights) the errors are float rounding, far below
# these; a wrong weight, transpose or formula gives errors of order 0.1 to 1. Durations are integers
# and must agree exactly.
TOLERANCES = {"pitch": 1e-4, "energy": 1e-4, "mel": 1e-4, "audio": 1e-4}
STAGES = ("pitch", "energy", "mel", "audio")


@dataclasses.dataclass(frozen=True)
class TextParity:
    """One text: symbols, exactly equal durations, mel lengths (reference, JAX), max abs error per
    stage, and the ids both ran on."""

    text: str
    symbols: int
    durations_equal: int
    frames: tuple[int, int]
    errors: dict[str, float]
    ids: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class ParityReport:
    """What `run` measured; `passed` is the verdict and `str(report)` the table `jaxtts parity` prints."""

    reference: str
    jax: str
    tolerances: dict[str, float]
    texts: tuple[TextParity, ...]

    @property
    def failures(self) -> list[str]:
        out = []
        for i, t in enumerate(self.texts):
            if t.durations_equal != t.symbols or t.frames[0] != t.frames[1]:
                out.append(f"text {i + 1}: {t.symbols - t.durations_equal} of {t.symbols} durations differ "
                           f"(mel frames {t.frames[0]} vs {t.frames[1]})")
            out += [f"text {i + 1}: {stage} error {err:.2e} > {self.tolerances[stage]:.0e}"
                    for stage, err in t.errors.items() if not err <= self.tolerances[stage]]  # NaN fails too
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        stages = [s for s in STAGES if any(s in t.errors for t in self.texts)]
        head = f"{'#':>2}  {'symbols':>7}  {'durations':>9}  {'frames':>9}" + "".join(f"  {s:>8}" for s in stages)
        lines = [f"reference: {self.reference}", f"jax:       {self.jax}", "", head]
        for i, t in enumerate(self.texts):
            frames = f"{t.frames[0]}" if t.frames[0] == t.frames[1] else f"{t.frames[0]}/{t.frames[1]}"
            row = f"{i + 1:>2}  {t.symbols:>7}  {f'{t.durations_equal}/{t.symbols}':>9}  {frames:>9}"
            lines.append(row + "".join(f"  {t.errors[s]:8.1e}" if s in t.errors else f"  {'-':>8}" for s in stages))
        lines.append(f"{'tolerance':<11}  {'exact':>9}  {'':>9}" + "".join(f"  {self.tolerances[s]:8.0e}" for s in stages))
        lines += [""] + [f"{i + 1:>2}: {t.text}" for i, t in enumerate(self.texts)] + [""]
        lines += [f"FAIL: {f}" for f in self.failures] or ["PASS"]
        return "\n".join(lines)


def run(fastpitch: str | Path, hifigan: str | Path, texts: Sequence[str] = TEXTS, *, xla: bool = False,
        speaker: int = 0, ema: bool = False, hifigan_config: str | Path | None = None,
        tolerances: dict[str, float] | None = None) -> ParityReport:
    """Compare the PyTorch reference with the JAX models on `texts`; see the module docstring.

    `fastpitch`/`hifigan`: original `.pt`/`.nemo` files or converted directories; `ema` and
    `hifigan_config` as `jaxtts.load_fastpitch` / `load_hifigan`.
    """
    if not texts:
        raise InputError("no texts to compare; pass at least one")
    request = {"fastpitch": str(fastpitch), "hifigan": str(hifigan), "ema": ema, "speaker": speaker,
               "hifigan_config": None if hifigan_config is None else str(hifigan_config), "texts": list(texts)}
    reference, where = _reference_in_child(request) if xla else reference_outputs(request, device="cpu")
    return _compare(request, reference, where, {**TOLERANCES, **(tolerances or {})})


def reference_outputs(request: dict, device: str) -> tuple[list[dict[str, np.ndarray]], str]:
    """Run the PyTorch reference on `device` for every text of `request` (see `run`).

    Returns ([{ids, reps, pitch, energy?, mel, audio} per text], a description of where it ran).
    Weights and the text encoder come from the same conversion the JAX models load, the weights
    mapped back to NVIDIA's keys.
    """
    import torch

    from converters import fastpitch as fp_conv
    from converters import hifigan as hg_conv
    from converters.reference import fastpitch as fp_ref
    from converters.reference import hifigan as hg_ref
    from jaxtts import checkpoint
    from jaxtts.text.encoder import TextEncoder

    def tensors(sd: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}

    fp_options = {"ema": True} if request["ema"] else {}
    hg_options = {"config": request["hifigan_config"]} if request["hifigan_config"] else {}
    fp_ckpt = checkpoint.load_any(request["fastpitch"], "fastpitch", **fp_options)
    hg_ckpt = checkpoint.load_any(request["hifigan"], "hifigan", **hg_options)
    fp_cfg, fp_params, hg_cfg, hg_params = fp_ckpt.config, fp_ckpt.params, hg_ckpt.config, hg_ckpt.params
    encoder = (fp_ckpt.text or TextEncoder()).check(fp_cfg.n_symbols, speakable=True)
    acoustic = fp_ref.FastPitch(fp_cfg)
    acoustic.load_state_dict(tensors(fp_conv.to_state_dict(fp_params, fp_cfg)))
    vocoder = hg_ref.Generator(hg_cfg)
    vocoder.load_state_dict(tensors(hg_conv.to_state_dict(hg_params, hg_cfg)))
    acoustic, vocoder = acoustic.eval().to(device), vocoder.eval().to(device)

    outputs = []
    with torch.no_grad():
        for text in request["texts"]:
            ids = encoder.encode(text)
            mel, _, dur, pitch, energy, *_ = acoustic.infer(torch.tensor([ids], device=device), speaker=request["speaker"])
            out = {"ids": torch.tensor(ids), "reps": (dur + 0.5).long(), "pitch": pitch[0, 0], "mel": mel[0],
                   "audio": vocoder(mel)[0, 0]}
            if energy is not None:
                out["energy"] = energy[0]
            outputs.append({k: v.cpu().float().numpy() if v.is_floating_point() else v.cpu().numpy() for k, v in out.items()})
    return outputs, f"torch {torch.__version__} on {torch.device(device)}"


def _reference_in_child(request: dict) -> tuple[list[dict[str, np.ndarray]], str]:
    try:
        import torch_xla  # noqa: F401 - only to fail early, with advice
    except ImportError:
        raise InputError(
            "--xla needs torch_xla: in a venv with torch==2.9.0 run `pip install torch_xla==2.9.0` "
            "(or `pip install -e '.[xla]'`), then run jaxtts parity --xla from it"
        ) from None
    with tempfile.TemporaryDirectory(prefix="jaxtts-parity-") as tmp:
        req, out = Path(tmp) / "request.json", Path(tmp) / "reference.npz"
        req.write_text(json.dumps(request))
        env = {**os.environ, "JAX_PLATFORMS": "cpu"}  # the child's JAX only reads checkpoints
        child = subprocess.run([sys.executable, "-m", "jaxtts.parity", str(req), str(out)], env=env)
        if child.returncode != 0:
            raise JaxTTSError(f"the torch_xla reference run failed (exit {child.returncode}); its messages are above")
        with np.load(out) as npz:
            where = str(npz["where"])
            outputs = [{k.split("/", 1)[1]: npz[k] for k in npz.files if k.startswith(f"{i}/")}
                       for i in range(len(request["texts"]))]
    return outputs, where


def _compare(request: dict, reference: list[dict[str, np.ndarray]], where: str,
             tolerances: dict[str, float]) -> ParityReport:
    import jax

    from jaxtts import checkpoint

    acoustic = checkpoint.load_fastpitch(request["fastpitch"], ema=request["ema"])
    vocoder = checkpoint.load_hifigan(request["hifigan"], config=request["hifigan_config"])
    results = []
    for text, ref in zip(request["texts"], reference, strict=True):
        ids = ref["ids"]
        out = acoustic.infer(np.asarray([ids]), speaker=request["speaker"])
        mine = {"reps": np.asarray(out.durations[0]), "pitch": np.asarray(out.pitch[0]), "mel": np.asarray(out.mel[0]),
                "audio": np.asarray(vocoder(ref["mel"][None])[0])}
        if out.energy is not None:
            mine["energy"] = np.asarray(out.energy[0])
        t = min(ref["mel"].shape[-1], mine["mel"].shape[-1])
        errors = {s: float(np.max(np.abs(ref[s][..., :t] - mine[s][..., :t]), initial=0.0)) if s == "mel"
                  else float(np.max(np.abs(ref[s] - mine[s]), initial=0.0)) for s in STAGES if s in ref}
        results.append(TextParity(text, len(ids), int(np.sum(ref["reps"] == mine["reps"])),
                                  (ref["mel"].shape[-1], mine["mel"].shape[-1]), errors, tuple(map(int, ids))))
    device = jax.devices()[0]
    return ParityReport(where, f"jax {jax.__version__} on {device.platform} ({device.device_kind})", tolerances, tuple(results))


def _child(request_path: str, output_path: str) -> None:
    """The torch_xla side of `run(xla=True)`: reference outputs into an npz."""
    import torch_xla

    outputs, where = reference_outputs(json.loads(Path(request_path).read_text()), device=str(torch_xla.device()))
    where = f"{where} (torch_xla {torch_xla.__version__}, PJRT_DEVICE={os.environ.get('PJRT_DEVICE', 'default')})"
    np.savez(output_path, where=where, **{f"{i}/{k}": v for i, out in enumerate(outputs) for k, v in out.items()})


if __name__ == "__main__":
    _child(*sys.argv[1:])
