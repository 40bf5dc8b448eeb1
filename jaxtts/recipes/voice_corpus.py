"""Teacher corpus: festival's CMU ARCTIC SLT voice reading LJSpeech's transcripts, in LJSpeech layout.

    apt-get install festival festvox-us-slt-hts
    python -m jaxtts.recipes.voice_corpus ../shared/data/ljspeech/transcripts.txt corpus/slt --limit 600

The teacher reads the text that `jaxtts.text.normalize` makes of each transcript, so the audio says
the words the model's ids say. Licence chain: LJSpeech's transcripts are public domain; festival
(University of Edinburgh) and the voice `festvox-us-slt-hts` (CMU ARCTIC SLT, Carnegie Mellon
University, EST-2003 / EST-2000 / BSD-3-clause) allow use, modification and redistribution with
their notices kept; the voice's copyright file is copied into the corpus as `TEACHER_COPYRIGHT`.

Output, in OUT:
    metadata.csv       id|transcript|normalized text, the sentences rendered so far, in input order
    wavs/ID.wav        mono PCM16 at 22,050 Hz (festival's 32 kHz resampled, the rate of the vocoders)
    phones/ID.json     festival's phones and words with their end times in seconds: the aligner's truth
    corpus.json        voice, counts, and this run's speed (sentences/s, wall and CPU realtime factors)
Each file is written under a temporary name and renamed, the WAV last: a sentence whose WAV exists is
done, so a killed run resumes where it stopped. Sentences go to festival in chunks, one festival
process per chunk, `--jobs` chunks at a time.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from jaxtts import files
from jaxtts.errors import InputError

VOICE = "cmu_us_slt_arctic_hts"
APT = "festival festvox-us-slt-hts"
VOICE_COPYRIGHT = Path("/usr/share/doc/festvox-us-slt-hts/copyright")
SAMPLE_RATE = 22_050


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str        # the transcript as given
    normalized: str  # what festival reads


def read_transcripts(path: Path, start: int = 0, limit: int | None = None) -> list[Sentence]:
    """`id|text` lines (LJSpeech's transcripts.txt or metadata.csv), normalized by jaxtts; lines
    whose normalization leaves nothing to say are dropped."""
    from jaxtts.text import normalize

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read transcripts {path}: {e.strerror}") from None
    sentences = []
    for number, line in enumerate(lines[start:], start + 1):
        if limit is not None and len(sentences) >= limit:
            break
        fields = line.split("|")
        if len(fields) < 2 or not fields[0]:
            raise InputError(f"{path}:{number}: expected 'id|text', got {line[:60]!r}")
        text = fields[1].strip()
        normalized = " ".join(normalize(text).split())
        if any(c.isalnum() for c in normalized):
            sentences.append(Sentence(fields[0], text, normalized))
    return sentences


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _render(chunk: Sequence[Sentence], work: Path) -> tuple[dict[str, Path], str]:
    """Run one festival process over `chunk`; the stems of the files it wrote, and its stderr."""
    lines = [f"(voice_{VOICE})"]
    for s in chunk:
        stem = _scheme_string(str(work / s.id))[:-1]
        lines += [f"(set! utt (utt.synth (Utterance Text {_scheme_string(s.normalized)})))",
                  f"(utt.save.wave utt {stem}.wav\" 'riff)",
                  f"(utt.save.segs utt {stem}.segs\")",
                  f"(utt.save.words utt {stem}.words\")"]
    script = work / "render.scm"
    script.write_text("\n".join(lines) + "\n", encoding="ascii", errors="replace")
    done = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True, errors="replace")
    stems = {s.id: work / s.id for s in chunk
             if all((work / f"{s.id}.{ext}").is_file() for ext in ("wav", "segs", "words"))}
    return stems, done.stderr


def _xlabel(path: Path) -> list[tuple[str, float]]:
    """(name, end time) of each item of a festival xlabel file (header up to the line '#')."""
    body = path.read_text(encoding="latin-1").split("#\n", 1)[-1]
    items = []
    for line in body.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            items.append((" ".join(fields[2:]), round(float(fields[0]), 4)))
    return items


def _write_atomic(path: Path, data: bytes) -> None:
    with files.atomic_write(path) as tmp:
        tmp.write_bytes(data)


def _save(sentence: Sentence, stem: Path, out: Path) -> float:
    """Resample festival's WAV into OUT/wavs, its labels into OUT/phones; the audio's duration."""
    import io

    import soundfile
    from scipy.signal import resample_poly

    audio, rate = soundfile.read(f"{stem}.wav", dtype="float64")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = np.gcd(rate, SAMPLE_RATE)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g)
    labels = {"text": sentence.normalized, "phones": _xlabel(Path(f"{stem}.segs")),
              "words": _xlabel(Path(f"{stem}.words"))}
    _write_atomic(out / "phones" / f"{sentence.id}.json", json.dumps(labels).encode())
    wav = io.BytesIO()
    soundfile.write(wav, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16", format="WAV")
    _write_atomic(out / "wavs" / f"{sentence.id}.wav", wav.getvalue())
    return len(audio) / SAMPLE_RATE


def _chunk_job(chunk: Sequence[Sentence], out: Path) -> tuple[float, list[str], str]:
    """Render and save a chunk; (seconds of audio, ids that failed, festival's stderr)."""
    with tempfile.TemporaryDirectory(prefix=".festival-", dir=out) as tmp:
        stems, stderr = _render(chunk, Path(tmp))
        if len(stems) < len(chunk) and len(chunk) > 1:  # one bad sentence stops festival: the rest go alone
            for s in chunk:
                if s.id not in stems:
                    single, err = _render([s], Path(tmp))
                    stems.update(single)
                    stderr += err
        seconds = sum(_save(s, stems[s.id], out) for s in chunk if s.id in stems)
    return seconds, [s.id for s in chunk if s.id not in stems], stderr


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (festival): on a shared machine it
    measures the work, where wall time also measures the neighbours."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _chunks(items: Sequence[Sentence], size: int) -> Iterator[Sequence[Sentence]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def build(sentences: Sequence[Sentence], out: Path, *, jobs: int = 0, chunk: int = 16,
          progress: bool = True) -> dict:
    """Render every sentence not yet in OUT, then rewrite metadata.csv and corpus.json; the summary."""
    from tqdm import tqdm

    if shutil.which("festival") is None:
        raise InputError(f"festival is not installed: `apt-get install {APT}`")
    for sub in ("wavs", "phones"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if VOICE_COPYRIGHT.is_file():
        _write_atomic(out / "TEACHER_COPYRIGHT", VOICE_COPYRIGHT.read_bytes())
    todo = [s for s in sentences if not (out / "wavs" / f"{s.id}.wav").is_file()]
    jobs = jobs or os.cpu_count() or 1
    failed: list[str] = []
    audio_seconds = 0.0
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    with ThreadPoolExecutor(jobs) as pool, tqdm(total=len(todo), unit="sentence", disable=not progress) as bar:
        for part, (seconds, bad, stderr) in zip(_chunks(todo, chunk),
                                                pool.map(lambda c: _chunk_job(c, out), _chunks(todo, chunk))):
            if len(bad) == len(part) and audio_seconds == 0.0 and not failed:
                raise InputError(f"festival rendered none of the first sentences; is the voice installed "
                                 f"(`apt-get install {APT}`)? festival said: {' '.join(stderr.split())[-300:]}")
            audio_seconds += seconds
            failed += bad
            bar.update(len(part))
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
    done = [s for s in sentences if (out / "wavs" / f"{s.id}.wav").is_file()]
    rows = "".join(f"{s.id}|{s.text}|{s.normalized}\n" for s in done)
    _write_atomic(out / "metadata.csv", rows.encode("utf-8"))
    rendered = len(todo) - len(failed)
    speed = {"sentences": rendered, "audio_s": round(audio_seconds, 2), "wall_s": round(wall, 2),
             "cpu_s": round(cpu, 2), "jobs": jobs,
             "sentences_per_s": round(rendered / wall, 3) if wall and rendered else None,
             "realtime_factor": round(wall / audio_seconds, 4) if audio_seconds else None,
             "cpu_realtime_factor": round(cpu / audio_seconds, 4) if audio_seconds else None}
    summary = {"voice": VOICE, "apt": APT, "sample_rate": SAMPLE_RATE, "sentences": len(done), "failed": failed,
               "this_run": speed}
    _write_atomic(out / "corpus.json", (json.dumps(summary, indent=2) + "\n").encode())
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxtts.recipes.voice_corpus", description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", type=Path, help="id|text lines (LJSpeech's transcripts.txt or metadata.csv)")
    parser.add_argument("out", type=Path, help="corpus directory (created; an existing one is resumed)")
    parser.add_argument("--start", type=int, default=0, help="skip this many lines first")
    parser.add_argument("--limit", type=int, help="render at most this many sentences")
    parser.add_argument("--jobs", type=int, default=0, help="festival processes at once (default: one per CPU)")
    parser.add_argument("--chunk", type=int, default=16, help="sentences per festival process")
    args = parser.parse_args(argv)
    summary = build(read_transcripts(args.transcripts, args.start, args.limit), args.out, jobs=args.jobs, chunk=args.chunk)
    print(json.dumps(summary["this_run"]), file=sys.stderr)
    if summary["failed"]:
        print(f"festival could not render {len(summary['failed'])} sentences: {', '.join(summary['failed'][:10])}",
              file=sys.stderr)
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
