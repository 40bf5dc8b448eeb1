"""Intelligibility by ear: an offline recognizer hears the audio, and its words are scored against
the text as jaxtts normalised it (word error rate).

The recognizer is pocketsphinx 5 with the en-us model inside its wheel (no download, no network),
fed 16 kHz int16 audio. It is a weak recognizer even on real speech, so its WER is a relative
measure: compare voices on the same sentences, never against a number from another recognizer.
Needs the `eval` extra: `pip install 'jaxtts[eval]'`.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jaxtts.errors import InputError

RATE = 16_000  # the en-us acoustic model's rate
EXTRA = "pip install 'jaxtts[eval]'  (pocketsphinx, jiwer)"
_NOT_A_WORD = re.compile(r"[^a-z']+")


def words(text: str) -> str:
    """Text as the scorer compares it: jaxtts-normalised, lowercase, letters and apostrophes only
    ('Dr. Smith paid $5.' → 'doctor smith paid five dollars')."""
    from jaxtts.text import normalize

    return " ".join(w.strip("'") for w in _NOT_A_WORD.sub(" ", normalize(text).lower()).split() if w.strip("'"))


def to_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float audio resampled to the recognizer's 16 kHz (polyphase, scipy)."""
    from scipy.signal import resample_poly

    audio = np.asarray(audio, np.float64)
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    if audio.ndim != 1 or sample_rate < 1:
        raise InputError(f"audio must be mono samples at a positive rate, got shape {audio.shape} at {sample_rate} Hz")
    if sample_rate != RATE:
        g = np.gcd(int(sample_rate), RATE)
        audio = resample_poly(audio, RATE // g, int(sample_rate) // g)
    return audio


class Recognizer:
    """pocketsphinx's en-us decoder; `recognizer(audio, sample_rate)` → the words it heard."""

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError:
            raise InputError(f"the recognizer needs pocketsphinx: {EXTRA}") from None
        self._decoder = pocketsphinx.Decoder(loglevel="FATAL")

    def __call__(self, audio: np.ndarray, sample_rate: int) -> str:
        pcm = np.clip(np.round(to_16k(audio, sample_rate) * 32767.0), -32768, 32767).astype("<i2")
        self._decoder.start_utt()
        self._decoder.process_raw(pcm.tobytes(), full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return "" if hyp is None else " ".join(_NOT_A_WORD.sub(" ", hyp.hypstr.lower()).split())


@dataclasses.dataclass(frozen=True)
class Utterance:
    id: str
    reference: str   # `words` of the text
    hypothesis: str  # what the recognizer heard
    wer: float


@dataclasses.dataclass(frozen=True)
class Report:
    utterances: list[Utterance]
    wer: float  # errors over all reference words (not the mean of per-utterance WERs)
    words: int

    def __str__(self) -> str:
        return f"WER {self.wer:.3f} over {len(self.utterances)} utterances ({self.words} words)"

    def to_dict(self) -> dict[str, Any]:
        return {"wer": self.wer, "words": self.words, "utterances": [dataclasses.asdict(u) for u in self.utterances]}


def score(items: Iterable[tuple[str, str, np.ndarray, int]], recognizer: Recognizer | None = None,
          progress: bool = False) -> Report:
    """Recognize each (id, text, audio, sample_rate) and score it against `words(text)`; items whose
    text has no words are skipped."""
    try:
        import jiwer
    except ImportError:
        raise InputError(f"scoring needs jiwer: {EXTRA}") from None
    from tqdm import tqdm

    recognizer = recognizer or Recognizer()
    utterances = []
    for id_, text, audio, rate in tqdm(items, unit="utt", disable=not progress):
        reference = words(text)
        if not reference:
            continue
        hypothesis = recognizer(audio, rate)
        utterances.append(Utterance(id_, reference, hypothesis, jiwer.wer(reference, hypothesis)))
    if not utterances:
        raise InputError("nothing to score: no utterance has words in its text")
    refs, hyps = [u.reference for u in utterances], [u.hypothesis for u in utterances]
    return Report(utterances, float(jiwer.wer(refs, hyps)), sum(len(r.split()) for r in refs))


def read_corpus(directory: str | Path, limit: int | None = None) -> Iterator[tuple[str, str, np.ndarray, int]]:
    """(id, text, audio, rate) of a corpus in LJSpeech layout: `metadata.csv` (`id|text[|normalized]`;
    the last column is read) beside `wavs/ID.wav`."""
    import soundfile

    directory = Path(directory).expanduser()
    metadata = directory / "metadata.csv"
    try:
        lines = metadata.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read {metadata} ({e.strerror}): give a directory in LJSpeech layout, "
                         "metadata.csv (id|text|normalized) beside wavs/") from None
    rows = [line.split("|") for line in lines if line.strip()]
    for number, row in enumerate(rows[:limit], 1):
        if len(row) < 2:
            raise InputError(f"{metadata}:{number}: expected 'id|text', got {'|'.join(row)[:60]!r}")
        wav = directory / "wavs" / f"{row[0]}.wav"
        if not wav.is_file():
            raise InputError(f"{wav} is missing ({metadata}:{number} names it)")
        audio, rate = soundfile.read(wav, dtype="float32")
        yield row[0], row[-1], audio, rate


def synthesized(synth: Any, texts: Sequence[str]) -> Iterator[tuple[str, str, np.ndarray, int]]:
    """(line number, text, audio, rate) of each non-empty text, spoken by a `Synthesizer`."""
    for number, text in enumerate(texts, 1):
        if words(text):
            yield str(number), text, synth.synthesize(text), synth.sample_rate
