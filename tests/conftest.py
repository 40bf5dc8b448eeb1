"""Shared fixtures. `../shared` (golden outputs of NVIDIA's code) is optional: tests that need it skip cleanly."""
import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Models, downloads and the XLA compilation cache that tests create never land in the user's ~/.cache.
if "JAXTTS_CACHE" not in os.environ:
    os.environ["JAXTTS_CACHE"] = tempfile.mkdtemp(prefix="jaxtts-test-cache-")
    atexit.register(shutil.rmtree, os.environ["JAXTTS_CACHE"], ignore_errors=True)

pytest_plugins = ["_parity_options"]  # --fastpitch/--hifigan: parity on your own checkpoints

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "golden").is_dir():
        pytest.skip("../shared is absent (golden reference data lives beside the project)")
    return SHARED


@pytest.fixture(scope="session")
def golden(shared: Path) -> Path:
    return shared / "golden"
