"""Copy synthesis with the bundled trained vocoders: real LJSpeech recordings → mel → HiFi-GAN → mel.

    python benchmarks/bench_copy_synthesis.py [DATA] [--quick] [--wer] [--json out.json]

DATA is a corpus in LJSpeech layout (default `../shared/data/ljspeech`, 32 real clips). Each clip's
mel is jik876's `mel_spectrogram` (written here in numpy: reflect padding by (n_fft − hop)/2, periodic
Hann STFT without centring, magnitude with +1e-9 under the root, Slaney mel filterbank 0–8000 Hz,
natural log clamped at 1e-5); it is checked against jik876's own mels in `../shared/golden/real`
first. Both bundled generators (`jaxtts.voices`: LJSpeech, universal) vocode it, and the score is
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
N_FFT, HOP, WIN, N_MELS, RATE, FMIN, FMAX = 1024, 256, 1024, 80, 22_050, 0.0, 8000.0
BUCKET = 128  # mel frames: clips are padded up to a multiple (with exact lengths) to bound compiles


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    linear = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, linear)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), (200.0 / 3) * m)


@functools.cache
def mel_basis() -> np.ndarray:
    """(n_mels, 1 + n_fft/2) Slaney-normalised triangular filters, float32 as librosa builds them."""
    freqs = np.linspace(0.0, RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """(n_mels, frames) natural-log mel of float audio in [-1, 1], as jik876's `mel_spectrogram`."""
    pad = (N_FFT - HOP) // 2
    x = np.pad(np.asarray(audio, np.float32), pad, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)).astype(np.float32)  # periodic Hann
    spec = np.fft.rfft(frames * window, axis=-1)
    magnitude = np.sqrt(spec.real**2 + spec.imag**2 + 1e-9).astype(np.float32)
    return np.log(np.maximum(mel_basis() @ magnitude.T, 1e-5))


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
