"""Copy synthesis with the bundled trained vocoders: real LJSpeech recordings → mel → HiFi-GAN → mel.

    python benchmarks/bench_copy_synthesis.py [DATA] [--quick] [--wer] [--json out.json]

DATA is a corpus in LJSpeech layout (default `../shared/data/ljspeech`, 32 real clips). Each clip's
mel is jik876's `mel_spectrogram` (`jaxtts.train.features.hifigan_mel`); it is checked against
jik876's own mels in `../shared/golden/real` first. Both bundled generators (`jaxtts.voices`: LJSpeech, universal) vocode it, and the score is
the mean |log-mel(resynthesised) − log-mel(original)| over all frames and bands (jik876's validation
"mel error"). `--wer` also runs `jaxtts.evaluate` on the originals and on the LJSpeech generator's
resynthesis. `--quick` takes three clips.
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
HOP, N_MELS, RATE = 256, 80, 22_050
BUCKET = 128  # mel frames: clips are padded up to a multiple (with exact lengths) to bound compiles


def mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """(n_mels, frames) natural-log mel of float audio in [-1, 1], as jik876's `mel_spectrogram`."""
    from jaxtts.train import features

    return features.hifigan_mel(audio)


def check_against_golden(golden: Path) -> dict:
    """Largest and mean |Δ| between our mel and jik876's on the golden clips; raises unless it is
    float32 noise (the log amplifies rounding in the quietest bins, so the bound on the largest is loose)."""
    import soundfile

    worst, total, count = 0.0, 0.0, 0
    for npz in sorted(golden.glob("*.npz")):
        ref = np.load(npz)
        audio, _ = soundfile.read(SHARED / "data" / "ljspeech" / "wavs" / f"{ref['clip']}.wav", dtype="int16")
        diff = np.abs(mel_spectrogram(audio / 32768.0) - ref["mel"])
        worst, total, count = max(worst, float(diff.max())), total + float(diff.sum()), count + diff.size
    if worst > 2e-3 or total / count > 1e-5:
        raise AssertionError(f"our mel differs from jik876's by up to {worst:.2e}; the scores would not be comparable")
    return {"maxabs": worst, "meanabs": total / count}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="?", type=Path, default=SHARED / "data" / "ljspeech")
    ap.add_argument("--quick", action="store_true", help="three clips")
    ap.add_argument("--wer", action="store_true", help="also the recognizer's WER on originals and resynthesis")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    import jax
    import soundfile

    from jaxtts import evaluate, voices
    from jaxtts.models import hifigan

    if not (args.data / "metadata.csv").is_file():
        raise SystemExit(f"{args.data} has no metadata.csv: give a corpus in LJSpeech layout (real recordings)")
    rows = [line.split("|") for line in (args.data / "metadata.csv").read_text().splitlines() if line.strip()]
    rows = rows[:3] if args.quick else rows
    result: dict = {"data": str(args.data), "clips": len(rows)}
    golden = SHARED / "golden" / "real"
    if golden.is_dir():
        result["mel_vs_jik876"] = check_against_golden(golden)

    clips = []
    for row in rows:
        audio, rate = soundfile.read(args.data / "wavs" / f"{row[0]}.wav", dtype="int16")
        assert rate == RATE, f"{row[0]}: {rate} Hz, the vocoders need {RATE}"
        clips.append((row[0], row[-1], mel_spectrogram(audio / 32768.0)))
    result["audio_s"] = round(sum(m.shape[1] for _, _, m in clips) * HOP / RATE, 2)

    recognizer = evaluate.Recognizer() if args.wer else None
    if recognizer:
        originals = evaluate.read_corpus(args.data, len(rows))
        result["wer_original"] = evaluate.score(originals, recognizer).wer
    generate = None
    for name in voices.GENERATORS:
        vocoder = voices.load_generator(name)
        generate = generate or jax.jit(functools.partial(hifigan.generate, config=vocoder.config))
        l1, frames, spoken, t0 = 0.0, 0, [], time.perf_counter()
        for clip, text, mel in clips:
            n = mel.shape[1]
            padded = np.pad(mel, ((0, 0), (0, -n % BUCKET)))[None]
            audio = np.asarray(generate(vocoder.inference_params, padded, np.array([n])))[0, : n * HOP]
            again = mel_spectrogram(audio)
            l1 += float(np.abs(again - mel).sum()) / N_MELS
            frames += n
            spoken.append((clip, text, audio, RATE))
        result[f"mel_l1_{name}"] = round(l1 / frames, 4)
        result[f"seconds_{name}"] = round(time.perf_counter() - t0, 1)
        if recognizer and name == "lj":
            result["wer_resynthesis_lj"] = evaluate.score(spoken, recognizer).wer
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
