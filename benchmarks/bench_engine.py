"""End-to-end synthesis at the published sizes (FastPitch 1.1 + HiFi-GAN v1, seeded random weights).

    python benchmarks/bench_engine.py [--quick] [--sentences N] [--json out.json]

In one run, on the same sentences (lines of ../shared/textnorm/corpus.txt, or built-in text):
- engine end to end: raw text → audio with `Synthesizer.synthesize_batch`;
- engine model only: the same, with the text front-end's answers precomputed (dict lookups), so
  end-to-end / model-only shows how much text work the worker thread fails to hide (target >= 0.9);
- the PyTorch reference pipeline, eager on JAX's device (CPU, or the GPU without TF32): our text
  front-end → `converters.reference` FastPitch → HiFi-GAN, one sentence at a time as NVIDIA's
  inference.py does at batch 1, with the same weights (target: the engine >= 1.5x faster);
- real-time factor: seconds of speech per second of wall time, and time to the first streamed chunk.

Timed passes alternate (model-only, end-to-end, reference) and the best of each counts, which is
robust to the other jobs of a shared machine (the 1-minute load average is reported: above the
core count, the reference's OpenMP threads suffer most). End-to-end / model-only is also given in
CPU time of this process (all threads), which other jobs disturb far less. Compilation happens in an untimed warm-up pass and is
reported apart (the persistent compilation cache makes it near zero in a second process).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import jax
import torch

from converters import fastpitch as fp_convert
from converters import hifigan as hg_convert
from converters.reference import fastpitch as fp_ref
from converters.reference import hifigan as hg_ref
from jaxtts import engine, text
from jaxtts.text import encoder
from jaxtts.errors import TextError
from jaxtts.models import fastpitch as fp
from jaxtts.models import hifigan as hg
from timing import device_like_jax, timed, wall_and_cpu

CORPUS = ROOT.parent / "shared" / "textnorm" / "corpus.txt"
BUILTIN = [
    "The quick brown fox jumps over the lazy dog.",
    "Printing, in the only sense with which we are at present concerned, differs from most if not from all the arts.",
    "On March 3rd, 2021, Dr. Smith paid $12.50 for 3 coffees at 7:30 pm.",
    "She sells sea shells by the sea shore, and the shells she sells are surely seashells.",
]
PARAGRAPH = " ".join(BUILTIN)
SEED = 1234


def published_models() -> tuple[tuple[fp.FastPitch, hg.HiFiGAN], tuple[torch.nn.Module, torch.nn.Module]]:
    """(JAX pair, PyTorch pair) with the same seeded weights, converted through the converters."""
    fc, hc = fp.PUBLISHED, hg.PUBLISHED["v1"]
    torch_fp, torch_hg = fp_ref.seeded(fc, SEED), hg_ref.seeded(hc, SEED)
    jax_fp = fp.FastPitch(fc, fp_convert.from_state_dict({k: v.numpy() for k, v in torch_fp.state_dict().items()}, fc))
    jax_hg = hg.HiFiGAN(hc, hg_convert.from_state_dict({k: v.numpy() for k, v in torch_hg.state_dict().items()}, hc))
    device = device_like_jax()
    return (jax_fp, jax_hg), (torch_fp.to(device), torch_hg.to(device))


def sentences(n: int) -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines() if CORPUS.is_file() else BUILTIN * (n // len(BUILTIN) + 1)
    speakable = []
    for line in lines:
        try:
            text.to_ids(line)
        except TextError:
            continue
        speakable.append(line)
        if len(speakable) == n:
            break
    return speakable


def memoized_frontend(lines: list[str]) -> types.SimpleNamespace:
    """The front-end's answers for `lines`, precomputed: what the engine sees when text is free."""
    pieces = {line: text.split_sentences(line) for line in lines}
    ids = {}
    for piece in (p for ps in pieces.values() for p in ps):
        try:
            ids[piece] = text.to_ids(piece)
        except TextError:
            ids[piece] = None

    def to_ids(piece: str, arpabet: bool = True, lexicon: object = None) -> list[int]:
        if ids[piece] is None:
            raise TextError(piece)
        return ids[piece]

    return types.SimpleNamespace(split_sentences=lambda line, *a, **k: pieces[line], to_ids=to_ids)


def reference_pass(torch_fp: torch.nn.Module, torch_hg: torch.nn.Module, lines: list[str], bf16: bool = False) -> int:
    """Speech frames of the PyTorch pipeline run one sentence at a time (under bf16 autocast if asked)."""
    frames, device = 0, next(torch_fp.parameters()).device
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        for line in lines:
            for piece in text.split_sentences(line):
                try:
                    ids = text.to_ids(piece)
                except TextError:
                    continue
                mel, mel_lens, *_ = torch_fp.infer(torch.tensor([ids], device=device))
                n = int(mel_lens[0])
                audio = torch_hg(mel[:, :, :n])[0, 0]
                audio.float().cpu().numpy()
                frames += n
    return frames


def run(quick: bool = False, n_sentences: int | None = None, rounds: int | None = None, bf16: bool = False) -> dict:
    n_sentences = n_sentences or (4 if quick else 16)
    rounds = rounds or (1 if quick else 3)
    torch.set_num_threads(os.cpu_count() or 1)
    (jax_fp, jax_hg), (torch_fp, torch_hg) = published_models()
    lines = sentences(n_sentences)
    synth = engine.Synthesizer(jax_fp, jax_hg, dtype=jax.numpy.bfloat16 if bf16 else None)
    real_frontend, free_frontend = encoder.frontend, memoized_frontend(lines)

    def model_only() -> None:
        encoder.frontend = free_frontend
        try:
            synth.synthesize_batch(lines)
        finally:
            encoder.frontend = real_frontend

    def end_to_end() -> None:
        synth.synthesize_batch(lines)

    warmup_s = timed(end_to_end) + timed(lambda: synth.synthesize(PARAGRAPH))
    compiles = synth.compile_count
    before = dict(synth.stats)
    runs: dict[str, list[tuple[float, float]]] = {"model_only": [], "end_to_end": [], "reference": []}
    ref_frames = 0

    def reference() -> None:
        nonlocal ref_frames
        ref_frames = reference_pass(torch_fp, torch_hg, lines, bf16)

    for _ in range(rounds):  # interleaved, so that a busy moment of the machine hits all three
        for name, fn in (("model_only", model_only), ("end_to_end", end_to_end), ("reference", reference)):
            runs[name].append(wall_and_cpu(fn))
    frames = (synth.stats["frames"] - before["frames"]) // (2 * rounds)
    padded = (synth.stats["padded_frames"] - before["padded_frames"]) // (2 * rounds)
    assert synth.compile_count == compiles, "steady state must not compile"
    speech_s = frames * jax_hg.config.hop_length / synth.sample_rate

    stream = synth.stream(PARAGRAPH)
    start = time.perf_counter()
    next(stream)
    first_chunk_s = time.perf_counter() - start
    stream.close()
    whole_s = timed(lambda: synth.synthesize(PARAGRAPH))

    wall = {name: min(w for w, _ in r) for name, r in runs.items()}
    cpu = {name: min(c for _, c in r) for name, r in runs.items()}  # torch's spinning OpenMP threads would inflate its own
    return {
        "device": str(jax.devices()[0].device_kind),
        "dtype": "bf16" if bf16 else "fp32",
        "sentences": len(lines),
        "speech_s": round(speech_s, 2),
        "batch_buckets": list(synth.batch_buckets),
        "compiles": compiles,
        "warmup_s": round(warmup_s, 1),
        "padding_efficiency": round(frames / padded, 3),
        "wall_s": {name: [round(w, 2) for w, _ in r] for name, r in runs.items()},
        "cpu_s": {name: [round(c, 2) for _, c in r] for name, r in runs.items() if name != "reference"},
        "e2e_over_model_only": round(wall["model_only"] / wall["end_to_end"], 3),
        "e2e_over_model_only_cpu": round(cpu["model_only"] / cpu["end_to_end"], 3),
        "speedup_vs_pytorch": round(wall["reference"] / wall["end_to_end"], 2),
        "same_frames_as_reference": ref_frames == frames,
        "x_real_time": round(speech_s / wall["end_to_end"], 2),
        "compute_s_per_audio_s": round(wall["end_to_end"] / speech_s, 3),
        "reference_x_real_time": round(speech_s / wall["reference"], 2),
        "first_chunk_s": round(first_chunk_s, 3),
        "paragraph_one_shot_s": round(whole_s, 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 4 sentences, one round")
    parser.add_argument("--sentences", type=int, help="how many corpus lines (default 16)")
    parser.add_argument("--bf16", action="store_true", help="bf16 compute (the reference under torch.autocast)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, n_sentences=args.sentences, bf16=args.bf16)
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:{width}s}  {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
