"""NVIDIA's published checkpoints: where they live, a local cache, download once, convert once.

The cache is `$JAXTTS_CACHE`, else `$XDG_CACHE_HOME/jaxtts`, else `~/.cache/jaxtts`:

    <file>.pt          the checkpoint exactly as published (or as placed there by hand)
    <file>.pt.json     its size and sha256, recorded when it arrived, checked whenever it is reused
    <stem>.jaxtts/     the converted model (`jaxtts.checkpoint`), made once from <file>.pt
    .<file>.pt.lock    held while one process downloads and converts; others sharing the cache wait

A download streams into a hidden temporary file beside its target (`files.atomic_write`) and is
renamed into place only after the byte count, the hash and a safe `torch.load` have all checked out, so an interrupted,
truncated or corrupted download leaves nothing behind. NVIDIA publishes no hashes, so unless the
registry pins one the first good download's hash is recorded and later reuse is held to it.
Reusing a converted model reads two small JSON files and imports neither torch nor the network.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterable

from jaxtts import checkpoint, files
from jaxtts.errors import CheckpointError

_NGC = "https://api.ngc.nvidia.com/v2/models/nvidia/dle/"


@dataclasses.dataclass(frozen=True)
class Published:
    """One published checkpoint file. `sha256` None: not pinned, recorded on first download."""

    model: str  # "fastpitch" | "hifigan"
    filename: str
    url: str
    sha256: str | None = None


REGISTRY: dict[str, Published] = {
    # The torch.hub single files of NVIDIA's inference_example.sh pair (reference notes §1).
    "fastpitch": Published(
        "fastpitch", "nvidia_fastpitch_210824+cfg.pt",
        _NGC + "fastpitch__pyt_ckpt/versions/21.12.1_amp/files/nvidia_fastpitch_210824+cfg.pt",
    ),
    "hifigan": Published(
        "hifigan", "hifigan_gen_checkpoint_10000_ft.pt",
        _NGC + "hifigan__pyt_ckpt_mode-finetune_ds-ljs22khz/versions/21.08.0_amp/files/hifigan_gen_checkpoint_10000_ft.pt",
    ),
}
DEFAULT = ("fastpitch", "hifigan")
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class Unreachable(CheckpointError):
    """Published checkpoints that are neither usable in the cache nor downloadable.

    The message says which files to fetch from where and where to put them.
    """

    def __init__(self, files: Iterable[tuple[str, str]], reason: str) -> None:
        self.files, self.reason = tuple(files), reason
        names = ", ".join(name for name, _ in self.files)
        sources = "; ".join(f"{name} from {url}" for name, url in self.files)
        it = "it" if len(self.files) == 1 else "them"
        super().__init__(
            f"cannot download {names} ({reason}). Fetch {it} on a machine with network access ({sources}) and "
            f"place {it} in {cache_dir()}, or set JAXTTS_CACHE to a directory that holds {it}"
        )


def cache_dir() -> Path:
    """Where downloads and converted models live: $JAXTTS_CACHE, $XDG_CACHE_HOME/jaxtts, ~/.cache/jaxtts."""
    if os.environ.get("JAXTTS_CACHE"):
        return Path(os.environ["JAXTTS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "jaxtts"


def url_for(name: str, base_url: str | None = None) -> str:
    """The URL `name` downloads from: `<base_url>/<filename>` for a mirror ($JAXTTS_HUB_URL), else NVIDIA's."""
    entry = _entry(name)
    base = base_url or os.environ.get("JAXTTS_HUB_URL")
    return f"{base.rstrip('/')}/{urllib.parse.quote(entry.filename)}" if base else entry.url


def download(name: str, *, base_url: str | None = None, progress: bool = True, timeout: float = 30.0) -> Path:
    """Path of the verified original checkpoint `name` in the cache, downloading it if needed.

    A cached copy is reused only if its size and sha256 match what was recorded (and the pinned
    hash, if any); a file placed by hand is accepted once it loads as the right model. A copy that
    fails is removed and downloaded again.
    """
    entry, root = _entry(name), cache_dir()
    path = root / entry.filename
    url = url_for(name, base_url)
    stale = ""
    if path.exists():
        problem = _verify(path, entry)
        if problem is None:
            return path
        _remove(path)
        stale = f"the cached {path} {problem} and was removed; "
    root.mkdir(parents=True, exist_ok=True)
    try:
        sha, size = _fetch(url, path, entry, progress=progress, timeout=timeout)
    except _NETWORK_ERRORS as e:
        reason = e if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", e)
        raise Unreachable([(entry.filename, url)], f"{stale}{reason}") from None
    except CheckpointError as e:
        raise CheckpointError(f"{stale}{e}") from None
    _write_manifest(path, url=url, size=size, sha256=sha)
    return path


def ensure(name: str, *, base_url: str | None = None, progress: bool = True) -> Path:
    """The converted model directory of published checkpoint `name`, downloading and converting once."""
    entry, root = _entry(name), cache_dir()
    src, dst = root / entry.filename, root / f"{Path(entry.filename).stem}.jaxtts"
    if _current(dst, src, entry):
        return dst
    import filelock

    root.mkdir(parents=True, exist_ok=True)
    # One process downloads and converts; the others sharing the cache wait, then reuse its result
    # instead of replacing the model under a process that is already reading it.
    with filelock.FileLock(root / f".{entry.filename}.lock"):
        if _current(dst, src, entry):
            return dst
        if src.is_file() and _read_manifest(src) is None:  # placed by hand
            sha = files.sha256(src)
            if entry.sha256 in (None, sha):
                # Converting it is the proof that it loads as the right model (`download` would
                # load it once more to check): a file that fails is left to `download` to replace.
                try:
                    converted = _convert(src, dst, entry, progress)
                except CheckpointError:
                    pass
                else:
                    _write_manifest(src, url=None, size=src.stat().st_size, sha256=sha)
                    return converted
        return _convert(download(name, base_url=base_url, progress=progress), dst, entry, progress)


def _convert(src: Path, dst: Path, entry: Published, progress: bool) -> Path:
    if progress:
        print(f"jaxtts: converting {src.name} for jaxtts (once) ...", file=sys.stderr, flush=True)
    return checkpoint.convert(src, dst, expect=entry.model, overwrite=True)


def cached(names: Iterable[str] = DEFAULT) -> bool:
    """Whether every named checkpoint is already in the cache (converted, or as a file to convert),
    so that `ensure_models(names)` needs no network. Reads only file metadata and small JSON files."""
    for name in names:
        entry, root = _entry(name), cache_dir()
        src, dst = root / entry.filename, root / f"{Path(entry.filename).stem}.jaxtts"
        if not (src.is_file() or _current(dst, src, entry)):
            return False
    return True


def ensure_models(names: Iterable[str] = DEFAULT, *, base_url: str | None = None,
                  progress: bool = True) -> dict[str, Path]:
    """{model kind: converted directory} for the default FastPitch + HiFi-GAN pair (or `names`).

    Offline with an empty cache, the error names every file still missing, not just the first.
    """
    found: dict[str, Path] = {}
    missing: list[tuple[str, str]] = []
    reason = ""
    for name in names:
        try:
            found[_entry(name).model] = ensure(name, base_url=base_url, progress=progress)
        except Unreachable as e:
            missing += e.files
            reason = reason or e.reason
    if missing:
        raise Unreachable(missing, reason)
    return found


def _entry(name: str) -> Published:
    if name not in REGISTRY:
        raise CheckpointError(f"no published checkpoint named {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def _current(dst: Path, src: Path, entry: Published) -> bool:
    """Whether `dst` is a conversion of the cached `src` (or `src` is gone: the conversion is all we need)."""
    try:
        meta = checkpoint.read_meta(dst)
    except CheckpointError:
        return False
    if meta["model"] != entry.model:
        return False
    if not src.exists():
        return True
    recorded = _read_manifest(src)
    return recorded is not None and meta.get("source", {}).get("sha256") == recorded["sha256"]


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _read_manifest(path: Path) -> dict | None:
    try:
        m = json.loads(_manifest_path(path).read_text())
        return m if isinstance(m.get("bytes"), int) and isinstance(m.get("sha256"), str) else None
    except (OSError, ValueError, AttributeError):
        return None


def _write_manifest(path: Path, *, url: str | None, size: int, sha256: str) -> None:
    record = {"file": path.name, "url": url, "bytes": size, "sha256": sha256}
    with files.atomic_write(_manifest_path(path)) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    _manifest_path(path).unlink(missing_ok=True)


def _verify(path: Path, entry: Published) -> str | None:
    """Why the cached `path` cannot be reused, or None (recording a hand-placed file's size and hash)."""
    size = path.stat().st_size
    recorded = _read_manifest(path)
    if recorded is not None and size != recorded["bytes"]:
        return f"is {size} bytes, but {recorded['bytes']} were recorded"
    sha = files.sha256(path)
    for expected in (recorded and recorded["sha256"], entry.sha256):
        if expected and sha != expected:
            return f"has sha256 {sha}, expected {expected}"
    if recorded is None:  # placed by hand, or its record was lost: accept it only if it loads
        problem = _unusable(path, entry)
        if problem:
            return problem
        _write_manifest(path, url=None, size=size, sha256=sha)
    return None


def _unusable(path: Path, entry: Published) -> str | None:
    """Why `path` does not load safely as `entry`'s model, or None."""
    import converters  # torch: only for an original file
    from converters.load import load_torch

    try:
        model = converters.detect(load_torch(path), path)
    except CheckpointError as e:  # "<path> is truncated or corrupt …": keep the predicate, the caller names the file
        return str(e).removeprefix(str(path)).strip()
    return None if model == entry.model else f"holds a {model} checkpoint, not the {entry.model} one"


def _fetch(url: str, dst: Path, entry: Published, *, progress: bool, timeout: float) -> tuple[str, int]:
    """Stream `url` into `dst` atomically and return (sha256, bytes); on any failure nothing is left."""
    from tqdm import tqdm

    with files.atomic_write(dst) as tmp:
        h, size = hashlib.sha256(), 0
        request = urllib.request.Request(url, headers={"User-Agent": "jaxtts"})
        # A fresh opener per call reads the proxy settings of the environment as they are now.
        with tmp.open("wb") as out, urllib.request.build_opener().open(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024, desc=entry.filename,
                      disable=not progress) as bar:
                while block := resp.read(1 << 20):
                    out.write(block)
                    h.update(block)
                    size += len(block)
                    bar.update(len(block))
        if expected is not None and size != expected:
            raise CheckpointError(
                f"download of {url} was cut short: {size} of {expected} bytes arrived; nothing was kept, try again"
            )
        sha = h.hexdigest()
        if entry.sha256 and sha != entry.sha256:
            raise CheckpointError(
                f"{url} sent a corrupted file: sha256 {sha}, expected {entry.sha256}; nothing was kept, try again "
                "or check that the URL serves the published file"
            )
        problem = _unusable(tmp, entry)
        if problem:
            raise CheckpointError(f"the file downloaded from {url} {problem}; nothing was kept")
    return sha, size
