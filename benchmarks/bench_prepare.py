"""`jaxtts prepare` throughput with each pitch estimator, and how well Praat's pitch agrees with pYIN's.

    python benchmarks/bench_prepare.py [DATA] [--workers N] [--quick] [--json out.json]

DATA is an LJSpeech-layout directory (default ../shared/data/ljspeech, 32 real clips). The dataset
is prepared twice from scratch, with `--pitch pyin` (NVIDIA's estimator) and `--pitch praat`, each
timed end to end (worker start-up and librosa's first-call compilation included, as a user sees
them; CPU seconds, workers included, say what it costs on a busy machine). The two runs' cached
pitch is then compared frame by frame, pYIN as the reference:
- voicing agreement: frames both call voiced or both unvoiced; praat's voiced recall and precision;
- on frames both call voiced: median and 95th percentile of |cents|, the share off by more than
  50 cents, and the gross pitch error rate (off by more than 20 %).
Last, pYIN's CPU cost with librosa's own dense Viterbi decoder against jaxtts's sparse one, whose
pitch must be identical.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jaxtts.train import data, features  # noqa: E402


def agreement(reference: np.ndarray, other: np.ndarray) -> dict:
    """Frame-level agreement of two pitch tracks in Hz (0 = unvoiced), pooled over all frames."""
    ref_v, oth_v = reference > 0, other > 0
    both = ref_v & oth_v
    cents = np.abs(1200 * np.log2(other[both] / reference[both]))
    return {
        "frames": int(reference.size),
        "voicing_agreement": round(float(np.mean(ref_v == oth_v)), 4),
        "voiced_recall": round(float(both.sum() / max(ref_v.sum(), 1)), 4),
        "voiced_precision": round(float(both.sum() / max(oth_v.sum(), 1)), 4),
        "median_cents": round(float(np.median(cents)), 2),
        "p95_cents": round(float(np.percentile(cents, 95)), 1),
        "over_50_cents": round(float(np.mean(cents > 50)), 4),
        "gross_error_20pct": round(float(np.mean(np.abs(other[both] / reference[both] - 1) > 0.2)), 4),
    }


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers, once their pool is shut down)."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))


def timed_prepare(dataset: Path, out: Path, method: str, workers: int) -> tuple[float, float, data.PrepareReport]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    report = data.prepare(dataset, out, pitch_method=method, workers=workers, progress=False)
    return time.perf_counter() - wall, cpu_seconds() - cpu, report


def decoder_speed(utterances: list[data.Utterance]) -> dict:
    """CPU seconds per audio second of pYIN with librosa's dense Viterbi and with jaxtts's sparse one
    (the same pitch, checked), in this process, after a warm-up call."""
    import librosa

    clips = [features.load_audio(u.wav) for u in utterances]
    features.estimate_pitch(clips[0][:8192], 33)  # compile librosa's numba code outside the timing
    cpu = {"librosa": 0.0, "jaxtts": 0.0}
    for audio in clips:
        start = time.process_time()
        dense, _, _ = librosa.pyin(audio, fmin=features.PITCH_FMIN, fmax=features.PITCH_FMAX, frame_length=1024)
        cpu["librosa"] += time.process_time() - start
        start = time.process_time()
        sparse = features.estimate_pitch(audio, dense.size)
        cpu["jaxtts"] += time.process_time() - start
        assert np.array_equal(sparse, np.nan_to_num(dense).astype(np.float32)), "the sparse decoder changed the pitch"
    seconds = sum(a.size for a in clips) / features.AudioConfig().sampling_rate
    return {"clips": len(clips), "audio_s": round(seconds, 1),
            "librosa_cpu_s_per_audio_s": round(cpu["librosa"] / seconds, 3),
            "jaxtts_cpu_s_per_audio_s": round(cpu["jaxtts"] / seconds, 3),
            "speedup": round(cpu["librosa"] / cpu["jaxtts"], 1), "identical": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data" / "ljspeech")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="the first 4 utterances only")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not (args.data / "metadata.csv").is_file():
        print(f"skipped: no LJSpeech-layout dataset at {args.data}")
        return 0
    utterances = data.read_dataset(args.data)[: 4 if args.quick else None]
    seconds = 0.0
    results: dict = {"utterances": len(utterances), "workers": args.workers}
    with tempfile.TemporaryDirectory() as tmp:
        filelist = Path(tmp) / "list.txt"  # the chosen utterances, as an NVIDIA filelist of absolute paths
        filelist.write_text("".join(f"{u.wav}|{u.text}|{u.speaker}\n" for u in utterances))
        tracks = {}
        for method in ("pyin", "praat"):
            wall, cpu, report = timed_prepare(filelist, Path(tmp) / method, method, args.workers)
            dataset = data.PreparedDataset(Path(tmp) / method)
            store = Path(tmp) / method / "features"
            tracks[method] = np.concatenate([dict(np.load(store / f"{u['id']}.npz"))["pitch_hz"]
                                             for u in dataset.utterances])
            seconds = tracks[method].size * dataset.config.hop_length / dataset.config.sampling_rate
            results[method] = {"wall_s": round(wall, 2), "utterances_per_s": round(report.prepared / wall, 3),
                               "audio_s_per_s": round(seconds / wall, 2), "cpu_s": round(cpu, 1),
                               "cpu_s_per_audio_s": round(cpu / seconds, 3), "skipped": len(report.skipped),
                               "pitch_mean_hz": round(report.pitch_mean, 2), "pitch_std_hz": round(report.pitch_std, 2)}
        results["audio_s"] = round(seconds, 1)
        results["speedup_praat_over_pyin"] = round(results["pyin"]["wall_s"] / results["praat"]["wall_s"], 1)
        results["praat_vs_pyin"] = agreement(tracks["pyin"], tracks["praat"])
    results["pyin_decoder"] = decoder_speed(utterances[: 2 if args.quick else 6])
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
