"""Run every benchmark and write one JSON file and one markdown table, with the machine described.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--out benchmarks/results]

Each `benchmarks/bench_*.py` runs in turn: through its `run(quick=...) -> dict` when it has one,
else as a subprocess whose `--json FILE` output is read back (`--quick` is passed on to scripts
that accept it; a script without `--json` has its printed output kept instead). A benchmark that
fails is recorded with its error and the others still run.
Results go to `<out>/results.json` and `<out>/results.md` (the directory is git-ignored); the
table is printed too.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["text", "fastpitch", "hifigan", "engine", "startup", "train"]  # others follow alphabetically


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "os": platform.platform(), "python": platform.python_version()}
    for name in ("jax", "jaxlib", "flax", "torch", "numpy"):
        try:
            info[name] = importlib.import_module(name).__version__
        except ImportError:
            pass
    try:
        import jax

        info["jax_devices"] = ", ".join(sorted({f"{d.platform}:{d.device_kind}" for d in jax.devices()}))
    except Exception as e:  # noqa: BLE001 - describing the machine must not stop the run
        info["jax_devices"] = f"unavailable ({e})"
    return info


def benchmarks(only: list[str] | None) -> list[tuple[str, Path]]:
    found = {p.stem.removeprefix("bench_"): p for p in HERE.glob("bench_*.py")}
    names = [n for n in ORDER if n in found] + sorted(set(found) - set(ORDER))
    if only:
        unknown = set(only) - set(found)
        if unknown:
            raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))}; have {', '.join(names)}")
        names = [n for n in names if n in only]
    return [(n, found[n]) for n in names]


def run_one(path: Path, quick: bool) -> dict:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    source = path.read_text()
    if "\ndef run(" in source:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        accepts_quick = "quick" in inspect.signature(module.run).parameters
        return module.run(quick=quick) if accepts_quick else module.run()
    quick_flag = ["--quick"] if quick and '"--quick"' in source else []
    if '"--json"' not in source:  # not yet machine-readable: keep what it prints
        proc = subprocess.run([sys.executable, str(path), *quick_flag], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        return {"stdout": proc.stdout.strip()[-3000:]}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.run([sys.executable, str(path), "--json", str(out), *quick_flag], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        if not out.exists():
            raise RuntimeError(f"wrote no --json output; stdout: {proc.stdout.strip()[-500:]}")
        return json.loads(out.read_text())


def flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in flatten(v, f"{prefix}{k}.")]
    return [(prefix.rstrip("."), value)]


def table(results: dict, info: dict) -> str:
    lines = ["| benchmark | metric | value |", "|---|---|---|"]
    raw = []
    for name, result in results.items():
        for metric, value in flatten(result):
            if metric == "stdout":
                raw.append(f"### {name} (prints no JSON yet)\n\n```\n{value}\n```\n")
                continue
            text = json.dumps(value) if isinstance(value, (list, bool)) or value is None else str(value)
            lines.append(f"| {name} | {metric} | {text} |")
    described = ", ".join(f"{k} {v}" for k, v in info.items())
    return f"Machine: {described}\n\n" + "\n".join(lines) + "\n" + "".join(f"\n{r}" for r in raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes (CI)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (text, fastpitch, hifigan, engine, startup, train, ...)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    info = machine()
    results: dict[str, dict] = {}
    for name, path in benchmarks(args.only):
        print(f"== {name} ({path.name})", flush=True)
        start = time.perf_counter()
        try:
            results[name] = run_one(path, args.quick)
        except Exception as e:  # noqa: BLE001 - one failing benchmark must not hide the others
            traceback.print_exc()
            results[name] = {"error": f"{type(e).__name__}: {e}"[:500]}
        results[name]["benchmark_wall_s"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"machine": info, "quick": args.quick, "results": results},
                                                      indent=1, default=str) + "\n")
    markdown = table(results, info)
    (args.out / "results.md").write_text(markdown)
    print(markdown)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
