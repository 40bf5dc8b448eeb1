"""Torch-vs-JAX parity on your own checkpoints, as pytest (what `jaxtts parity` prints, as assertions):

    pytest tests/test_user_parity.py --fastpitch F --hifigan H          # reference eagerly on the CPU
    pytest tests/test_user_parity.py --fastpitch F --hifigan H -m xla  # reference through torch_xla

Without --fastpitch/--hifigan the checks run on small generated checkpoints in NVIDIA's formats.
"""
from __future__ import annotations

import pytest

from jaxtts import parity


def test_reference_and_jax_agree_stage_by_stage(parity_checkpoints):
    report = parity.run(parity_checkpoints["fastpitch"], parity_checkpoints["hifigan"])
    print(report)
    assert report.passed, str(report)
    assert [t.durations_equal for t in report.texts] == [t.symbols for t in report.texts]
    assert all(set(t.errors) == set(parity.STAGES) for t in report.texts)  # FastPitch 1.1: energy too


@pytest.mark.xla
def test_reference_on_the_xla_device_agrees(parity_checkpoints):
    pytest.importorskip("torch_xla")
    report = parity.run(parity_checkpoints["fastpitch"], parity_checkpoints["hifigan"], parity.TEXTS[:1], xla=True)
    print(report)
    assert "xla" in report.reference and report.passed, str(report)


def test_a_stage_over_its_tolerance_or_a_differing_duration_fails():
    ok = parity.TextParity("Hi.", 3, 3, (9, 9), {"pitch": 1e-6, "energy": 1e-6, "mel": 1e-6, "audio": 1e-6})
    report = parity.ParityReport("torch", "jax", parity.TOLERANCES, (ok,))
    assert report.passed and str(report).endswith("PASS")

    loud = parity.TextParity("Hi.", 3, 3, (9, 9), {**ok.errors, "mel": 0.5})
    nan = parity.TextParity("Hi.", 3, 3, (9, 9), {**ok.errors, "audio": float("nan")})
    late = parity.TextParity("Hi.", 3, 2, (9, 10), ok.errors)
    report = parity.ParityReport("torch", "jax", parity.TOLERANCES, (ok, loud, nan, late))
    assert not report.passed
    assert report.failures == ["text 2: mel error 5.00e-01 > 1e-04", "text 3: audio error nan > 1e-04",
                               "text 4: 1 of 3 durations differ (mel frames 9 vs 10)"]
    assert str(report).splitlines()[-3:] == [f"FAIL: {f}" for f in report.failures]
