"""Training datasets: reading them, preparing their features once, and serving prepared examples.

Two layouts are read (`read_dataset`):
- LJSpeech: a directory with `metadata.csv` (`id|text|normalized[|speaker]`) and `wavs/<id>.wav`;
  the normalized column is the text, as in NVIDIA's filelists.
- NVIDIA's filelists: `wavs/x.wav|pitch/x.pt|text[|speaker]` or `wavs/x.wav|text[|speaker]`, paths
  relative to the dataset root (default: the filelist's parent directory). The pitch column is
  read past: `prepare` computes pitch from the audio as NVIDIA's `prepare_dataset.py` does.

`prepare(data, out)` computes every utterance's mel, pitch (Hz) and energy in worker processes and
caches each as `out/features/<id>.npz`, written to a temporary file and renamed, so an interrupted
run leaves only whole files and the next run computes only what is missing. Text ids are not
cached: `encode` runs again on every run (it is fast), so a changed text encoder never leaves
stale ids. `out/dataset.json` indexes the usable utterances and the dataset's pitch mean/std; bad,
silent and unreadable files are listed there with the reason, and skipped.

`PreparedDataset(out)[i]` is what DLE's `TTSDataset[i]` returns: ids, mel, normalised pitch, energy,
speaker and the attention prior (computed from the two lengths, as DLE computes it).
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from jaxtts import files
from jaxtts.errors import DataError, JaxTTSError
from jaxtts.train import features
from jaxtts.train.features import AudioConfig, PitchMethod

if TYPE_CHECKING:
    from jaxtts.text.encoder import TextEncoder

Encoder = Callable[[str], list[int]]

FORMAT = 1  # of dataset.json and the feature files
SILENCE_PEAK = 1e-3  # -60 dBFS: below this a recording holds no usable speech


@dataclass(frozen=True)
class Utterance:
    """One line of a dataset. `id` (the wav's stem) names its cached features, so it is unique."""

    id: str
    wav: Path
    text: str
    speaker: int = 0


def read_dataset(path: str | Path, *, root: str | Path | None = None) -> list[Utterance]:
    """The utterances of an LJSpeech-layout directory or of an NVIDIA filelist, in file order."""
    path = Path(path).expanduser()
    if path.is_dir():
        metadata = path / "metadata.csv"
        if not metadata.is_file():
            raise DataError(f"{path} has no metadata.csv: give an LJSpeech-layout directory (metadata.csv + wavs/) "
                            "or an NVIDIA filelist (wavs/x.wav|pitch/x.pt|text)")
        return _unique([_ljspeech_line(line, metadata, number, Path(root or path))
                        for number, line in _lines(metadata)])
    if not path.is_file():
        raise DataError(f"{path} does not exist: give an LJSpeech-layout directory or an NVIDIA filelist")
    base = Path(root).expanduser() if root is not None else path.parent
    return _unique([_filelist_line(line, path, number, base) for number, line in _lines(path)])


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    return ((n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip())


def _speaker(value: str, where: str) -> int:
    if not value.strip().isdigit():
        raise DataError(f"{where}: speaker {value!r} is not a number; write speakers as ids 0, 1, ... in the last "
                        "column, as NVIDIA's filelists do")
    return int(value)


def _ljspeech_line(line: str, metadata: Path, number: int, root: Path) -> Utterance:
    parts = line.split("|")
    where = f"{metadata}:{number}"
    if len(parts) not in (2, 3, 4) or not parts[0]:
        raise DataError(f"{where}: expected id|text|normalized text[|speaker], found {len(parts)} column(s)")
    text = parts[2] if len(parts) > 2 and parts[2].strip() else parts[1]
    speaker = _speaker(parts[3], where) if len(parts) == 4 else 0
    return Utterance(parts[0], root / "wavs" / f"{parts[0]}.wav", text, speaker)


def _filelist_line(line: str, filelist: Path, number: int, root: Path) -> Utterance:
    wav, *rest = line.split("|")
    if rest and rest[0].endswith(".pt"):  # NVIDIA's pitch column
        rest = rest[1:]
    where = f"{filelist}:{number}"
    if len(rest) not in (1, 2) or not wav:
        raise DataError(f"{where}: expected wavs/x.wav|[pitch/x.pt|]text[|speaker], found {line.count('|') + 1} "
                        "column(s)")
    speaker = _speaker(rest[1], where) if len(rest) == 2 else 0
    return Utterance(Path(wav).stem, root / wav, rest[0], speaker)


def _unique(utterances: list[Utterance]) -> list[Utterance]:
    seen: dict[str, Utterance] = {}
    for u in utterances:
        if u.id in seen:
            raise DataError(f"two utterances are named {u.id} ({seen[u.id].wav} and {u.wav}); features are cached by "
                            "file name, so rename one")
        seen[u.id] = u
    if not utterances:
        raise DataError("the dataset lists no utterances")
    return utterances


@dataclass
class PrepareReport:
    """What `prepare` did. `skipped` maps an utterance id to why it was left out."""

    out: Path
    prepared: int
    computed: int
    cached: int
    skipped: dict[str, str]
    pitch_mean: float
    pitch_std: float


def prepare(data: str | Path, out: str | Path, *, root: str | Path | None = None,
            encode: TextEncoder | Encoder | None = None,
            config: AudioConfig = AudioConfig(), pitch_method: PitchMethod = "pyin", resample: bool = False,
            workers: int | None = None, progress: bool = True) -> PrepareReport:
    """Compute and cache the features of every utterance of `data` under `out` (resumable).

    `encode` turns a transcript into model ids: a checkpoint's `TextEncoder` (default: the published
    model's, `p_arpabet=1.0`), recorded with the dataset so that a model trained on it is exported
    with the encoder its ids came from, or any callable (then nothing is recorded). `workers` processes compute features (default: one per core; 1 computes
    in this process). Files at another sample rate are refused before any work unless `resample`.
    """
    from jaxtts.text.encoder import TextEncoder

    encoder = TextEncoder() if encode is None else encode
    text_setup = encoder.to_dict() if isinstance(encoder, TextEncoder) else None
    encode = encoder.encode if isinstance(encoder, TextEncoder) else encoder
    if pitch_method not in features.PITCH_METHODS:
        raise DataError(f"unknown pitch method {pitch_method!r}; choose one of {', '.join(features.PITCH_METHODS)}")
    utterances = read_dataset(data, root=root)
    skipped: dict[str, str] = {}
    ids: dict[str, list[int]] = {}
    for u in utterances:
        try:
            ids[u.id] = [int(i) for i in encode(u.text)]
        except JaxTTSError as e:
            skipped[u.id] = f"text: {_one_line(e)}"
    usable = []
    for u in utterances:
        problem = skipped.get(u.id) or _audio_problem(u, config, resample)
        if problem:
            skipped[u.id] = problem
        else:
            usable.append(u)
    out = Path(out).expanduser()
    store = out / "features"
    store.mkdir(parents=True, exist_ok=True)
    _check_settings(out, {"format": FORMAT, "audio": dataclasses.asdict(config), "pitch_method": pitch_method})
    for stale in store.glob(".*.jaxtts-tmp-*"):  # left by a killed run (one prepare runs on an OUT at a time)
        stale.unlink(missing_ok=True)
    pending = [u for u in usable if not (store / f"{u.id}.npz").is_file()]
    failed = _compute_all(pending, store, config, pitch_method, resample, workers, progress)
    skipped.update(failed)
    done = [u for u in usable if u.id not in failed]

    frames: dict[str, int] = {}
    voiced = np.zeros(3)  # count, sum, sum of squares over the dataset's voiced frames
    for u in done:
        with np.load(store / f"{u.id}.npz") as item:
            pitch = item["pitch_hz"].astype(np.float64)
        frames[u.id] = pitch.size
        v = pitch[pitch > 0]
        voiced += (v.size, v.sum(), (v * v).sum())
    if not done:
        raise DataError(f"no usable utterance in {data} (a filelist's paths are relative to --root, default its "
                        "directory): " + "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:3]))
    mean = voiced[1] / max(voiced[0], 1)
    std = float(np.sqrt(max(voiced[2] / max(voiced[0], 1) - mean * mean, 0.0)))
    index = {"format": FORMAT, "audio": dataclasses.asdict(config), "pitch_method": pitch_method,
             "pitch_mean": float(mean), "pitch_std": std, "n_speakers": 1 + max(u.speaker for u in done),
             "text": text_setup,
             "utterances": [{"id": u.id, "wav": str(u.wav.resolve()), "text": u.text, "speaker": u.speaker,
                             "ids": ids[u.id], "n_frames": frames[u.id]} for u in done],
             "skipped": skipped}
    _write_json(out / "dataset.json", index)
    return PrepareReport(out, len(done), len(pending) - len(failed), len(usable) - len(pending), skipped,
                         float(mean), std)


def _check_settings(out: Path, settings: dict) -> None:
    """The cache is valid only for the settings it was computed with: refuse to mix two."""
    path = out / "settings.json"
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            old = None
        if old != settings:
            differ = (", ".join(f"{k} {old.get(k)!r} (now {v!r})" for k, v in settings.items() if old.get(k) != v)
                      if isinstance(old, dict) else "an unreadable settings.json")
            raise DataError(f"{out} holds features prepared with other settings: {differ}; give a new OUT "
                            "directory, or delete this one to recompute")
        return
    _write_json(path, settings)


def _audio_problem(u: Utterance, config: AudioConfig, resample: bool) -> str | None:
    """Why the file's header rules it out (then it is skipped), if it does; a wrong rate is refused outright."""
    import soundfile

    try:
        info = soundfile.info(str(u.wav))
    except (OSError, RuntimeError, soundfile.LibsndfileError) as e:
        return f"audio: cannot read {u.wav}: {_one_line(e)}"
    if info.samplerate != config.sampling_rate and not resample:
        raise DataError(f"{u.wav} is at {info.samplerate} Hz, but features are computed at {config.sampling_rate} Hz: "
                        "pass --resample (prepare(resample=True)) to resample such files, or resample the dataset "
                        "first (e.g. `sox in.wav -r 22050 out.wav`)")
    return None


def _compute_all(pending: Sequence[Utterance], store: Path, config: AudioConfig, pitch_method: str,
                 resample: bool, workers: int | None, progress: bool) -> dict[str, str]:
    """Features of `pending`, in parallel; returns {id: reason} of those that failed."""
    from tqdm import tqdm

    failed: dict[str, str] = {}
    bar = tqdm(total=len(pending), desc="prepare", unit="utt", disable=not progress or not pending, file=sys.stderr)
    jobs = [(u.id, str(u.wav), str(store), config, pitch_method, resample) for u in pending]
    workers = min(workers or os.cpu_count() or 1, max(len(jobs), 1))

    def record(uid: str, error: str | None) -> None:
        if error is not None:
            failed[uid] = error
            bar.set_postfix(skipped=len(failed), refresh=False)
        bar.update()

    try:
        if workers <= 1:
            for job in jobs:
                record(*_compute_one(*job))
            return failed
        import multiprocessing

        if pitch_method == "pyin":
            _warm_numba_cache(config)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            futures = {pool.submit(_compute_one, *job): job[0] for job in jobs}
            for future in as_completed(futures):
                try:
                    record(*future.result())
                except BrokenProcessPool:
                    record(futures[future], "a worker process died (out of memory?); run prepare again to resume")
        finally:
            pool.shutdown(cancel_futures=True)
        return failed
    finally:
        bar.close()


def _warm_numba_cache(config: AudioConfig) -> None:
    """Run pYIN once here, before the workers start. librosa's numba kernels cache their machine
    code on disk on first use; workers compiling at once write the same cache files together, and a
    cache so corrupted crashes every later process that loads it (a segfault inside pYIN)."""
    t = np.arange(config.sampling_rate // 2, dtype=np.float32) / config.sampling_rate
    audio = (0.5 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    features.estimate_pitch(audio, len(audio) // config.hop_length + 1, config, "pyin")


def _compute_one(uid: str, wav: str, store: str, config: AudioConfig, pitch_method: PitchMethod,
                 resample: bool) -> tuple[str, str | None]:
    """Compute and store one utterance's features; every failure comes back as a reason, never raised."""
    try:
        audio = features.load_audio(wav, config, resample=resample)
        peak = float(np.max(np.abs(audio)))
        if peak < SILENCE_PEAK:
            return uid, f"audio: silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dBFS)"
        mel = features.fastpitch_mel(audio, config)
        pitch = features.estimate_pitch(audio, mel.shape[1], config, pitch_method)
        _write_npz(Path(store) / f"{uid}.npz", mel=mel, pitch_hz=pitch, energy=features.energy(mel))
        return uid, None
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the other thousands
        return uid, f"audio: {_one_line(e) if isinstance(e, JaxTTSError) else f'{type(e).__name__}: {_one_line(e)}'}"


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    with files.atomic_write(path) as tmp, tmp.open("wb") as f:
        np.savez(f, **arrays)


def _write_json(path: Path, value: dict) -> None:
    with files.atomic_write(path) as tmp:
        tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


@dataclass(frozen=True)
class Example:
    """One training example, as DLE's `TTSDataset.__getitem__` returns it."""

    id: str
    ids: np.ndarray  # (N,) int64
    mel: np.ndarray  # (n_mel_channels, T) float32
    pitch: np.ndarray  # (1, T) float32, normalised; 0 where unvoiced
    energy: np.ndarray  # (T,) float32
    speaker: int
    attn_prior: np.ndarray  # (T, N) float64


class PreparedDataset:
    """The examples of a `prepare`d directory.

    Pitch is normalised with `pitch_mean`/`pitch_std` (default: the dataset's own statistics; pass
    a checkpoint's or NVIDIA's LJSpeech values, 214.72203 / 65.72038, to train as DLE's train.sh).
    `interpolate_prior=False` gives the exact beta-binomial prior instead of DLE's interpolated one.
    """

    def __init__(self, path: str | Path, *, pitch_mean: float | None = None, pitch_std: float | None = None,
                 interpolate_prior: bool = True) -> None:
        self.path = Path(path).expanduser()
        try:
            index = json.loads((self.path / "dataset.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"{self.path} is not a prepared dataset ({_one_line(e)}); run `jaxtts prepare DATA "
                            f"{self.path}` first") from None
        if index.get("format") != FORMAT:
            raise DataError(f"{self.path} was prepared by another jaxtts version; prepare it again into a new "
                            "directory")
        from jaxtts.text.encoder import TextEncoder

        self.config = AudioConfig(**index["audio"])
        self.text: TextEncoder | None = TextEncoder.from_dict(index["text"]) if index.get("text") else None
        """The encoder the ids came from (None: a custom callable's), exported with a model trained here."""
        self.utterances: list[dict] = index["utterances"]
        self.n_speakers: int = index["n_speakers"]
        self.pitch_mean = index["pitch_mean"] if pitch_mean is None else pitch_mean
        self.pitch_std = index["pitch_std"] if pitch_std is None else pitch_std
        self.interpolate_prior = interpolate_prior

    def __len__(self) -> int:
        return len(self.utterances)

    def audio(self, i: int) -> np.ndarray:
        """Utterance i's samples as its features were computed from (HiFi-GAN trains on these); a file
        at another rate can only have been prepared with `resample`, so it is resampled the same way."""
        return features.load_audio(self.utterances[i]["wav"], self.config, resample=True)

    def __getitem__(self, i: int) -> Example:
        u = self.utterances[i]
        with np.load(self.path / "features" / f"{u['id']}.npz") as item:
            mel, pitch_hz, energy = item["mel"], item["pitch_hz"], item["energy"]
        ids = np.asarray(u["ids"], dtype=np.int64)
        return Example(u["id"], ids, mel, features.normalize_pitch(pitch_hz, self.pitch_mean, self.pitch_std)[None],
                       energy, u["speaker"],
                       features.attention_prior(mel.shape[1], ids.size, interpolate=self.interpolate_prior))
