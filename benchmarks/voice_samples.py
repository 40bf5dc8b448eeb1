"""Listening samples of the bundled voice: a few held-out sentences as small WAVs, with a picture of
each one's mel and predicted pitch beside the teacher's recording of the same sentence, and what
the recognizer heard (so a reader can judge by ear and by eye, not only by the WER).

    python benchmarks/voice_samples.py --corpus CORPUS_DIR --out notebooks/samples [--ids ID ...]

CORPUS_DIR is the teacher corpus (LJSpeech layout, `jaxtts.recipes.voice_corpus`); the sentences
default to the first held-out ones of the voice recipe's split.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import soundfile

import jaxtts
from jaxtts import evaluate, files, voices
from jaxtts.train import features

DEFAULT_IDS = ["LJ001-0001", "LJ001-0005", "LJ001-0009"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the teacher corpus (metadata.csv, wavs/)")
    parser.add_argument("--out", type=Path, default=Path("notebooks/samples"))
    parser.add_argument("--ids", nargs="+", default=DEFAULT_IDS)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {r.split("|")[0]: r.split("|")[-1] for r in (args.corpus / "metadata.csv").read_text().splitlines() if r}
    acoustic = jaxtts.load_fastpitch(voices.fastpitch_path())
    synth = jaxtts.Synthesizer(acoustic, voices.load_generator("lj"))
    recognizer = evaluate.Recognizer()
    args.out.mkdir(parents=True, exist_ok=True)
    heard = []
    for clip in args.ids:
        text = rows[clip]
        audio = synth.synthesize(text)
        with files.atomic_write(args.out / f"{clip}.wav") as tmp:
            soundfile.write(tmp, audio, synth.sample_rate, subtype="PCM_16", format="WAV")
        ids = np.asarray([synth.text.encode(text)])
        out = acoustic.infer(ids)
        teacher = features.load_audio(args.corpus / "wavs" / f"{clip}.wav")
        report = evaluate.score([(clip, text, audio, synth.sample_rate)], recognizer)
        heard.append({"text": text, **dataclasses.asdict(report.utterances[0])})

        fig, axes = plt.subplots(3, 1, figsize=(9, 7), constrained_layout=True)
        n = int(out.mel_lens[0])
        axes[0].imshow(np.asarray(out.mel[0, :, :n]), origin="lower", aspect="auto")
        axes[0].set_title(f"jaxtts voice: {text[:70]}")
        axes[1].imshow(features.fastpitch_mel(teacher), origin="lower", aspect="auto")
        axes[1].set_title("teacher (festival SLT), same sentence")
        per_frame = np.repeat(np.asarray(out.pitch[0]), np.asarray(out.durations[0]))[:n]
        hz = per_frame * float(acoustic.params["pitch_std"][0]) + float(acoustic.params["pitch_mean"][0])
        axes[2].plot(np.where(per_frame != 0, hz, np.nan))
        axes[2].set_xlim(0, n)
        axes[2].set_ylabel("Hz")
        axes[2].set_title(f"predicted pitch; the recognizer heard: {report.utterances[0].hypothesis[:60]}")
        fig.savefig(args.out / f"{clip}.png", dpi=70)
        plt.close(fig)
    with files.atomic_write(args.out / "heard.json") as tmp:
        tmp.write_text(json.dumps(heard, indent=1) + "\n")
    print(json.dumps(heard, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
