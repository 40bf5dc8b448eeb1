"""Our PyTorch FastPitch on an XLA device (torch_xla) against the Flax model, at the published size.

Run in the XLA venv: `PJRT_DEVICE=CPU .venv-xla/bin/python -m pytest -m xla tests/test_fastpitch_xla.py`.
"""
from __future__ import annotations

import numpy as np
import pytest

torch_xla = pytest.importorskip("torch_xla")
import torch

from converters.fastpitch import from_state_dict
from converters.reference.fastpitch import pitch_transformation, seeded
from jaxtts.models.fastpitch import PUBLISHED, FastPitch

pytestmark = pytest.mark.xla


@pytest.mark.parametrize("n_tokens, pace, shift", [(97, 1.0, 0.0), (31, 1.3, 50.0)])
def test_reference_on_xla_matches_flax_at_published_size(n_tokens: int, pace: float, shift: float):
    """Same bar and basis as test_fastpitch.test_matches_reference_at_published_size: fp32 on both
    sides, sums ordered differently (XLA's CPU backend vs Eigen under JAX), so ~1e-6 apart; 1e-4
    bound; durations identical, the texts checked to keep every d/pace 1e-4 away from a .5 boundary."""
    device = torch_xla.device()
    ref = seeded(PUBLISHED, seed=1234)
    model = FastPitch(PUBLISHED, from_state_dict(ref.state_dict(), PUBLISHED))
    ids = np.random.default_rng(n_tokens).integers(1, 148, (1, n_tokens)).astype(np.int32)
    with torch.no_grad():
        mel, _, dur, _, _ = ref.to(device).infer(torch.from_numpy(ids).to(device), pace=pace,
                                                         pitch_transform=pitch_transformation(shift=shift))
        mel, dur = mel.cpu().numpy(), dur.cpu().numpy()
    assert np.abs((dur / np.float32(pace)) % 1.0 - 0.5).min() > 1e-4, "a duration sits on a rounding boundary"
    out = model.infer(ids, pace=pace, pitch_shift=shift)
    np.testing.assert_array_equal(np.asarray(out.durations), np.floor(dur / np.float32(pace) + 0.5))
    assert out.mel.shape == mel.shape
    np.testing.assert_allclose(np.asarray(out.mel), mel, atol=1e-4, rtol=0)
