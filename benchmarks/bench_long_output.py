"""Memory of `jaxtts synthesize --text-file F -o out.wav` on a long input against a short one.

    python benchmarks/bench_long_output.py [--quick] [--chars 100000] [--json out.json]

`-o` streams sentence by sentence into the WAV, so a process's memory must not grow with the
text: each run's peak RSS (the kernel's `ru_maxrss`) and its RSS sampled through the run are
reported for a short input and a long one (corpus sentences repeated up to `--chars`
characters), with small seeded models (random weights: memory, not quality, is measured). The
growth that matters is `peak(long) − peak(short)` and the RSS slope over the long run's second
half. `--quick` uses 20,000 characters.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def text_of(chars: int) -> str:
    sys.path.insert(0, str(HERE))
    from bench_engine import sentences

    pool, lines, total = sentences(200), [], 0
    while total < chars:
        line = pool[len(lines) % len(pool)]
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run(text: str, models: list[str], work: Path) -> dict:
    """One `-o` process: wall seconds, peak RSS, RSS samples (s, MiB) every 0.5 s."""
    src = work / "text.txt"
    src.write_text(text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jaxtts", "synthesize", "--text-file", str(src), "-o",
                             str(work / "out.wav"), *models, "-q"], env=env, stderr=subprocess.PIPE)
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while proc.poll() is None:
            kib = rss_kib(proc.pid)
            if kib is not None:
                samples.append((round(time.perf_counter() - start, 1), round(kib / 1024, 1)))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    sampler.join()
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"synthesize exited {proc.returncode}: {err[-2000:]}")
    import soundfile

    info = soundfile.info(work / "out.wav")
    return {"chars": len(text), "lines": text.count("\n"), "wall_s": round(time.perf_counter() - start, 1),
            "audio_s": round(info.frames / info.samplerate, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "rss_samples": samples}


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares RSS slope over the second half of the run (after start-up and compilation)."""
    half = samples[len(samples) // 2:]
    if len(half) < 4:
        return None
    n = len(half)
    mt, mr = sum(t for t, _ in half) / n, sum(r for _, r in half) / n
    var = sum((t - mt) ** 2 for t, _ in half)
    return round(60 * sum((t - mt) * (r - mr) for t, r in half) / var, 2) if var else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 characters")
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--short", type=int, default=1_000, help="characters of the short input")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    chars = 20_000 if args.quick else args.chars
    sys.path.insert(0, str(HERE))
    from bench_startup import FASTPITCH_FILE, HIFIGAN_FILE, write_checkpoints

    with tempfile.TemporaryDirectory(prefix="jaxtts-bench-long-") as tmp:
        work = Path(tmp)
        os.environ["JAXTTS_CACHE"] = str(work / "cache")  # its own persistent compilation cache, warm for both runs
        write_checkpoints(work, quick=True)
        models = ["--fastpitch", str(work / FASTPITCH_FILE), "--hifigan", str(work / HIFIGAN_FILE)]
        run(text_of(args.short), models, work)  # converts the models and fills the compilation cache
        short = run(text_of(args.short), models, work)
        long = run(text_of(chars), models, work)
    result = {"models": "small seeded (bench_startup --quick's)", "short": short, "long": long,
              "peak_growth_mib": round(long["peak_rss_mib"] - short["peak_rss_mib"], 1),
              "long_second_half_slope_mib_per_min": slope_mib_per_min(long["rss_samples"])}
    for name in ("short", "long"):
        r = result[name]
        print(f"{name:5s}: {r['chars']:7d} chars, {r['lines']:5d} lines, {r['audio_s']:7.1f} s of audio in "
              f"{r['wall_s']:6.1f} s; peak RSS {r['peak_rss_mib']:7.1f} MiB")
    print(f"peak growth {result['peak_growth_mib']} MiB; RSS slope over the long run's second half "
          f"{result['long_second_half_slope_mib_per_min']} MiB/min")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
