"""Start-up: whole processes, as a user meets them. jaxtts's CLI vs the PyTorch reference pipeline.

    python benchmarks/bench_startup.py [--quick] [--cases a b c] [--no-drift] [--json out.json]

Published-size FastPitch 1.1 + HiFi-GAN v1 with seeded weights, written as NVIDIA's files
(tests/checkpoints.py) under the published names. Three jobs:
  (a) one sentence → one WAV, (b) a five-sentence paragraph → one WAV, (c) 20 lines → one WAV each.
Each runs in fresh processes, one after the other:
- jaxtts: `jaxtts synthesize ... -o out.wav` / `--output-dir D` with `JAXTTS_CACHE` at a new
  directory that holds only the two `.pt` files, as `jaxtts download` leaves them: "cold" (converts
  both models, compiles every program, fills the persistent XLA cache), then "warm" (a second process on
  the same cache: loads the converted models and the compiled programs);
- PyTorch: the same files read with torch, the same text front-end, `converters.reference`'s eager
  FastPitch → HiFi-GAN one sentence at a time (as NVIDIA's inference.py), the same WAVs written;
  twice too (it has no caches, so its "warm" is the OS's file cache only). Its process imports
  JAX as well (the reference models read jaxtts's config classes); that import is measured in
  the process and reported, and the ratios are taken against PyTorch's wall time without it.
Reported per job: process wall seconds, jaxtts/PyTorch ratios (issue 16's targets: cold <= 1.5,
warm <= 1.0), and the programs jaxtts's Synthesizer compiled (`compile_count`; in a warm process
they come from the persistent cache, counted as hits).

Drift check (unless --no-drift): one default Synthesizer, no `warmup()`, 40 random texts of 1-400
characters, then 60 more: how many programs the 60 compiled (issue 16's target: 0). It runs on
the cache of job (c), so its programs load rather than compile; the count is the same either way.
`--quick` runs small models, 4 lines for (c) and a 10 + 15 text drift check: a smoke test of the
script, not the measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SENTENCE = "The quick brown fox jumps over the lazy dog."
PARAGRAPH = ("The quick brown fox jumps over the lazy dog. Printing, in the only sense with which we are at "
             "present concerned, differs from most if not from all the arts. On March 3rd, 2021, Dr. Smith paid "
             "$12.50 for 3 coffees at 7:30 pm. She sells sea shells by the sea shore, and the shells she sells are "
             "surely seashells. It was a bright cold day in April, and the clocks were striking thirteen.")
FASTPITCH_FILE, HIFIGAN_FILE = "nvidia_fastpitch_210824+cfg.pt", "hifigan_gen_checkpoint_10000_ft.pt"
SEED = 1234
SILENCE_S = 0.2  # the engine's default pause between sentences, so both write the same audio


# ---------------------------------------------------------------------------------------------
# Child processes (what is timed). Each writes a JSON report; the parent times the whole process.


def child_jaxtts(report: Path, argv: list[str]) -> int:
    """`jaxtts <argv>` as the console script runs it, recording the Synthesizer's compile count."""
    import jax

    from jaxtts import cli, engine

    synths: list = []
    events = {"hits": 0, "misses": 0}
    init = engine.Synthesizer.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        synths.append(self)

    def count(event: str, **_: object) -> None:
        if event == "/jax/compilation_cache/cache_hits":
            events["hits"] += 1
        elif event == "/jax/compilation_cache/cache_misses":
            events["misses"] += 1

    engine.Synthesizer.__init__ = recording_init
    jax.monitoring.register_event_listener(count)
    rc = cli.main(argv)
    report.write_text(json.dumps({"rc": rc, "compile_count": sum(s.compile_count for s in synths),
                                  "xla_cache_hits": events["hits"], "xla_cache_misses": events["misses"]}))
    return rc or 0


def child_torch(report: Path, ckpt_dir: Path, lines: list[str], out: Path, one_file: bool) -> int:
    """The PyTorch pipeline: NVIDIA's files → reference models → audio → WAV(s)."""
    start = time.perf_counter()
    import jax  # noqa: F401 - imported by converters.reference anyway; timed apart
    import flax  # noqa: F401

    jax_import_s = time.perf_counter() - start
    import numpy as np
    import soundfile
    import torch

    from converters.hifigan import canonical_state_dict
    from converters.load import load_torch
    from converters.reference import fastpitch as fp_ref
    from converters.reference import hifigan as hg_ref
    from jaxtts import text
    from jaxtts.errors import TextError
    from jaxtts.models.fastpitch import FastPitchConfig
    from jaxtts.models.hifigan import HiFiGANConfig

    torch.set_num_threads(os.cpu_count() or 1)
    fp_ckpt, hg_ckpt = load_torch(ckpt_dir / FASTPITCH_FILE), load_torch(ckpt_dir / HIFIGAN_FILE)
    acoustic = fp_ref.FastPitch.from_nvidia(FastPitchConfig.from_dict(fp_ckpt["config"]), fp_ckpt["state_dict"])
    hg_cfg = HiFiGANConfig.from_dict({**hg_ckpt["train_setup"], **hg_ckpt["config"]})
    vocoder = hg_ref.Generator(hg_cfg).eval()
    vocoder.load_state_dict({k: torch.from_numpy(v) for k, v in canonical_state_dict(hg_ckpt["generator"], hg_cfg).items()})
    silence = np.zeros(round(SILENCE_S * hg_cfg.sampling_rate), np.float32)

    def speak(line: str) -> np.ndarray | None:
        parts = []
        for piece in text.split_sentences(line):
            try:
                ids = text.to_ids(piece)
            except TextError:
                continue
            mel, mel_lens, *_ = acoustic.infer(torch.tensor([ids]))
            parts.append(vocoder(mel[:, :, : int(mel_lens[0])])[0, 0].numpy())
        if not parts:
            return None
        joined = [parts[0]]
        for p in parts[1:]:
            joined += [silence, p]
        return np.concatenate(joined)

    with torch.inference_mode():
        if one_file:
            soundfile.write(out, speak("\n".join(lines)), hg_cfg.sampling_rate, subtype="PCM_16", format="WAV")
        else:
            out.mkdir(parents=True, exist_ok=True)
            for n, line in enumerate(lines, 1):
                audio = speak(line)
                if audio is not None:
                    soundfile.write(out / f"{n:06d}.wav", audio, hg_cfg.sampling_rate, subtype="PCM_16", format="WAV")
    report.write_text(json.dumps({"rc": 0, "jax_import_s": jax_import_s}))
    return 0


# ---------------------------------------------------------------------------------------------
# The parent: checkpoints, jobs, timing, the drift check.


def write_checkpoints(directory: Path, quick: bool) -> None:
    """Seeded published-size (or, quick, small) models as NVIDIA's files, aligner included."""
    import dataclasses

    sys.path.insert(0, str(ROOT))
    from converters.reference import fastpitch as fp_ref
    from converters.reference import hifigan as hg_ref
    from jaxtts.models import fastpitch as fp
    from jaxtts.models import hifigan as hg
    from tests.checkpoints import fastpitch_aligner, fastpitch_legacy2021_checkpoint, hifigan_state_dict, write_nvidia_hifigan

    fc, hc = fp.PUBLISHED, hg.PUBLISHED["v1"]
    if quick:
        from jaxtts.train.fastpitch_loop import SMALL

        fc, hc = SMALL, dataclasses.replace(hc, upsample_initial_channel=32)
    nvidia = fc.nvidia_config()
    fastpitch_legacy2021_checkpoint(directory / FASTPITCH_FILE, nvidia,
                                    fp_ref.seeded(fc, SEED).state_dict() | fastpitch_aligner(nvidia, SEED))
    write_nvidia_hifigan(directory / HIFIGAN_FILE, hifigan_state_dict(hg_ref.seeded(hc, SEED)), hc)


def corpus_lines(n: int) -> list[str]:
    sys.path.insert(0, str(HERE))
    from bench_engine import sentences

    return sentences(n)


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def timed_process(cmd: list[str], env: dict[str, str], report: Path) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or not report.exists():
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}: {proc.stderr.strip()[-1500:]}")
    return {"wall_s": round(wall, 2), **json.loads(report.read_text())}


def run_job(name: str, lines: list[str], work: Path, ckpt_dir: Path) -> dict:
    """Cold and warm processes of both frameworks for one job."""
    one_file = name != "c"
    cache = work / f"cache-{name}"
    cache.mkdir()
    for f in (FASTPITCH_FILE, HIFIGAN_FILE):
        os.link(ckpt_dir / f, cache / f)  # what `jaxtts download` leaves: the files, nothing converted
    text_file = work / f"{name}.txt"
    text_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = child_env() | {"JAXTTS_CACHE": str(cache)}
    result: dict = {}
    for run in ("cold", "warm"):
        out = work / f"{name}-{run}-jax" / ("out.wav" if one_file else "wavs")
        out.parent.mkdir()
        cli = ["synthesize", "--text-file", str(text_file), "-o" if one_file else "--output-dir", str(out)]
        report = out.parent / "report.json"
        result[f"jaxtts_{run}"] = timed_process(
            [sys.executable, __file__, "--child-jaxtts", str(report), "--", *cli], env, report)
        out = work / f"{name}-{run}-torch" / ("out.wav" if one_file else "wavs")
        out.parent.mkdir()
        report = out.parent / "report.json"
        result[f"pytorch_{run}"] = timed_process(
            [sys.executable, __file__, "--child-torch", str(report), str(ckpt_dir), str(text_file), str(out)]
            + (["--one-file"] if one_file else []), child_env(), report)
    for run in ("cold", "warm"):
        torch_s = result[f"pytorch_{run}"]["wall_s"] - result[f"pytorch_{run}"]["jax_import_s"]
        result[f"ratio_{run}"] = round(result[f"jaxtts_{run}"]["wall_s"] / torch_s, 2)
    result["same_files"] = same_outputs(work, name, one_file)
    return result


def same_outputs(work: Path, name: str, one_file: bool) -> bool:
    """Both frameworks wrote the same files with the same lengths (the audio itself is tested elsewhere)."""
    import soundfile

    jax_dir, torch_dir = work / f"{name}-warm-jax", work / f"{name}-warm-torch"
    files = ["out.wav"] if one_file else sorted(p.name for p in (jax_dir / "wavs").glob("*.wav"))
    sub = "" if one_file else "wavs"
    theirs = ["out.wav"] if one_file else sorted(p.name for p in (torch_dir / "wavs").glob("*.wav"))
    return files == theirs and all(
        soundfile.info(str(jax_dir / sub / f)).frames == soundfile.info(str(torch_dir / sub / f)).frames for f in files)


def random_texts(n: int, max_chars: int, seed: int) -> list[str]:
    """n texts of 1..max_chars characters: random spans of the corpus, cut at spaces when possible."""
    import random

    words = " ".join(corpus_lines(400)).split()
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        length, start = rng.randint(1, max_chars), rng.randrange(len(words))
        piece = ""
        for word in words[start:] + words[:start]:
            if len(piece) + len(word) + 1 > length:
                break
            piece = f"{piece} {word}".strip()
        piece = piece or words[start][:length]
        if any(ch.isalnum() for ch in piece):
            out.append(piece)
    return out


def drift(cache: Path, quick: bool) -> dict:
    """Programs compiled by the second batch of random texts, after the first, with default settings."""
    import jaxtts
    from jaxtts import engine, hub

    first, second, max_chars = (10, 15, 120) if quick else (40, 60, 400)
    os.environ["JAXTTS_CACHE"] = str(cache)
    models = hub.ensure_models()
    synth = engine.Synthesizer(jaxtts.load_fastpitch(models["fastpitch"]), jaxtts.load_hifigan(models["hifigan"]))
    texts = random_texts(first + second, max_chars, seed=16)
    start = time.perf_counter()
    for t in texts[:first]:
        synth.synthesize(t)
    after_first = synth.compile_count
    for t in texts[first:]:
        synth.synthesize(t)
    return {"texts": [first, second], "max_chars": max_chars, "compiled_by_first": after_first,
            "compiled_by_second": synth.compile_count - after_first, "target_second": 0,
            "programs_possible": synth.program_bound,
            "wall_s": round(time.perf_counter() - start, 1)}


def print_table(results: dict) -> None:
    print(f"\n{'job':34s} {'run':5s} {'jaxtts s':>9s} {'programs (cached)':>17s} {'PyTorch s':>10s} {'(jax import)':>12s} "
          f"{'ratio':>6s} {'target':>6s}")
    for name, r in results["jobs"].items():
        for run, target in (("cold", 1.5), ("warm", 1.0)):
            j, t = r[f"jaxtts_{run}"], r[f"pytorch_{run}"]
            cached = f"({j['xla_cache_hits']})"
            print(f"{JOBS[name]:34s} {run:5s} {j['wall_s']:9.1f} {j['compile_count']:8d} {cached:>8s} {t['wall_s']:10.1f} "
                  f"{t['jax_import_s']:12.1f} {r[f'ratio_{run}']:6.2f} {target:6.1f}")
    print("ratio = jaxtts wall / (PyTorch wall - its JAX import); programs = Synthesizer.compile_count, "
          "(cached) = of them loaded from the persistent XLA cache")
    if "drift" in results:
        d = results["drift"]
        print(f"drift: after {d['texts'][0]} random texts ({d['compiled_by_first']} programs), the next "
              f"{d['texts'][1]} compiled {d['compiled_by_second']} more (target 0; at most "
              f"{d['programs_possible']} programs possible)")


JOBS = {"a": "(a) one sentence", "b": "(b) five-sentence paragraph", "c": "(c) --output-dir, 20 lines"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-jaxtts"]:
        return child_jaxtts(Path(argv[1]), argv[3:])
    if argv[:1] == ["--child-torch"]:
        lines = Path(argv[3]).read_text(encoding="utf-8").splitlines()
        return child_torch(Path(argv[1]), Path(argv[2]), lines, Path(argv[4]), "--one-file" in argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small models, 4 lines, a short drift check (smoke test)")
    parser.add_argument("--cases", nargs="+", choices=sorted(JOBS), default=sorted(JOBS), help="jobs to run")
    parser.add_argument("--no-drift", action="store_true", help="skip the drift check")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    n_lines = 4 if args.quick else 20
    texts = {"a": [SENTENCE], "b": [PARAGRAPH], "c": corpus_lines(n_lines)}
    load_start = os.getloadavg()[0]
    results: dict = {"models": "small (quick)" if args.quick else "published size (FastPitch 1.1, HiFi-GAN v1)",
                     "lines_c": n_lines, "cores": os.cpu_count(), "jobs": {}}
    with tempfile.TemporaryDirectory(prefix="jaxtts-startup-") as tmp:
        work = Path(tmp)
        ckpt_dir = work / "checkpoints"
        ckpt_dir.mkdir()
        write_checkpoints(ckpt_dir, args.quick)
        for name in args.cases:
            print(f"== {JOBS[name]}", flush=True)
            results["jobs"][name] = run_job(name, texts[name], work, ckpt_dir)
        if not args.no_drift:
            print("== drift check", flush=True)
            cache = work / "cache-c"
            if not cache.exists():
                cache.mkdir()
                for f in (FASTPITCH_FILE, HIFIGAN_FILE):
                    shutil.copy(ckpt_dir / f, cache / f)
            results["drift"] = drift(cache, args.quick)
    results["load_average_1min"] = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    print_table(results)
    print(f"load average (1 min) at start and end: {results['load_average_1min']} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
