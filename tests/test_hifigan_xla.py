"""Our PyTorch reference generator on an XLA device (torch_xla) vs the Flax model, at the published sizes."""
from __future__ import annotations

import numpy as np
import pytest

torch_xla = pytest.importorskip("torch_xla")

import torch  # noqa: E402

from converters.hifigan import from_state_dict  # noqa: E402
from converters.reference import hifigan as reference  # noqa: E402
from jaxtts.models.hifigan import PUBLISHED, HiFiGAN  # noqa: E402

pytestmark = pytest.mark.xla


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_reference_on_xla_device_matches_jax(version):
    cfg = PUBLISHED[version]
    model = reference.seeded(cfg, seed=1)
    mel = np.random.default_rng(2).normal(-5.0, 2.0, (1, 80, 10)).astype(np.float32)
    device = torch_xla.device()
    with torch.no_grad():
        expected = model.to(device)(torch.from_numpy(mel).to(device))[:, 0].cpu().numpy()
    params = from_state_dict({k: v.cpu() for k, v in model.state_dict().items()}, cfg)
    assert expected.std() > 0.1
    assert np.max(np.abs(np.asarray(HiFiGAN(cfg, params)(mel)) - expected)) <= 1e-4
