"""Import NVIDIA's own modules from a DeepLearningExamples checkout, to time them beside ours.

Their model files import training-only dependencies (librosa, numba) at module level; empty
stand-ins serve when those are not installed, since inference never calls them.
"""
from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

_STAND_INS = {
    "librosa": {},
    "librosa.filters": {"mel": None},
    "librosa.util": {"pad_center": None, "tiny": None},
    "numba": {"jit": lambda *a, **k: (lambda f: f), "prange": range},
}


def import_from(checkout: Path, module: str) -> types.ModuleType:
    """`module` from `checkout` (e.g. DeepLearningExamples' PyTorch/SpeechSynthesis/HiFiGAN)."""
    if not checkout.is_dir():
        raise SystemExit(f"--nvidia {checkout}: not a directory; give DeepLearningExamples' "
                         "PyTorch/SpeechSynthesis/<model> directory")
    for name, attrs in _STAND_INS.items():
        try:
            importlib.import_module(name)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
        for attr, value in attrs.items():
            if not hasattr(sys.modules[name], attr):
                setattr(sys.modules[name], attr, value)
    sys.path.insert(0, str(checkout))
    return importlib.import_module(module)
