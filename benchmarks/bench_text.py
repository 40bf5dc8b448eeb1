"""Text front-end throughput: sentences/s of raw text -> ids over the shared timing corpus.

    python benchmarks/bench_text.py [CORPUS] [--json out.json]

One process, one thread. A warm-up pass over different text (the corpus lines reversed) loads the
dictionary and compiles everything; then each timed pass starts with the word memo cleared, so
the numbers are cold single passes. NVIDIA's full text-to-ids path (cleaners + CMUdict ARPAbet)
does about 1,240 sentences/s on this corpus and machine (../shared/textnorm/README.md).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jaxtts.errors import TextError  # noqa: E402
from jaxtts.text import cmudict, g2p, normalize, to_ids  # noqa: E402

NVIDIA_SENTENCES_PER_S = 1240
TARGET_SENTENCES_PER_S = 12_000


def cold_rate(fn: Callable[[str], object], lines: list[str]) -> tuple[float, float]:
    """Sentences per wall-clock and per CPU second of one pass of `fn` over `lines`, word memo
    cleared first. CPU time shows what the code costs when other processes share the cores."""
    g2p.clear_cache()
    wall, cpu = time.perf_counter(), time.process_time()
    for line in lines:
        try:
            fn(line)
        except TextError:
            pass
    return len(lines) / (time.perf_counter() - wall), len(lines) / (time.process_time() - cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "textnorm" / "corpus.txt")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not args.corpus.is_file():
        print(f"skipped: no corpus at {args.corpus} (give its path as the first argument)")
        return 0
    lines = args.corpus.read_text(encoding="utf-8").splitlines()

    start = time.perf_counter()
    cmudict.contains("a")
    load_s = time.perf_counter() - start
    for line in lines:  # warm-up on different text
        try:
            to_ids(line[::-1])
        except TextError:
            pass
    normalized = [normalize(line) for line in lines]

    rates = {
        "text_to_ids": cold_rate(to_ids, lines),
        "normalize": cold_rate(normalize, lines),
        "g2p_ids": cold_rate(g2p.encode, normalized),
    }
    results = {
        "corpus": str(args.corpus),
        "lines": len(lines),
        "python": platform.python_version(),
        "cmudict_load_s": round(load_s, 3),
        "sentences_per_s": {k: round(wall) for k, (wall, _) in rates.items()},
        "sentences_per_cpu_s": {k: round(cpu) for k, (_, cpu) in rates.items()},
        "speedup_vs_nvidia": round(rates["text_to_ids"][0] / NVIDIA_SENTENCES_PER_S, 1),
        "fraction_of_target": round(rates["text_to_ids"][0] / TARGET_SENTENCES_PER_S, 2),
    }
    print(f"corpus: {len(lines)} lines ({args.corpus}); cmudict load {load_s * 1000:.0f} ms")
    print("cold single passes, sentences/s (per CPU second in brackets):")
    for name, (wall, cpu) in rates.items():
        print(f"  {name:12s} {wall:9,.0f}  ({cpu:,.0f})")
    print(f"  text->ids is {results['speedup_vs_nvidia']}x NVIDIA's ~{NVIDIA_SENTENCES_PER_S:,} sentences/s "
          f"and {results['fraction_of_target']}x the {TARGET_SENTENCES_PER_S:,} sentences/s target")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
