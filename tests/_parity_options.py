"""pytest plugin (loaded by conftest.py): checkpoints for the user-facing tests.

`pytest tests/test_user_parity.py --fastpitch F --hifigan H` runs the torch-vs-JAX parity checks on
your own checkpoints (`.pt`, `.nemo` or converted directories). Without the options those tests,
the CLI's and the notebook's use `small_checkpoints`: seeded models of every code path at toy
width, written in NVIDIA's own file formats, so they still prove something in CI.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jaxtts", "jaxtts parity on your own checkpoints")
    group.addoption("--fastpitch", metavar="PATH", help="FastPitch checkpoint for tests/test_user_parity.py")
    group.addoption("--hifigan", metavar="PATH", help="HiFi-GAN generator checkpoint for tests/test_user_parity.py")


def write_small_checkpoints(directory: Path, seed: int = 0) -> dict[str, Path]:
    """{"fastpitch": .pt, "hifigan": .pt}: FastPitch 1.1 (energy, 2 speakers, 148 symbols) and a
    HiFi-GAN with hop 256, seeded, in the files NVIDIA's trainers write (aligner and weight norm included)."""
    import checkpoints
    from converters.reference import fastpitch as fastpitch_ref
    from converters.reference import hifigan as hifigan_ref
    from jaxtts.models.fastpitch import PUBLISHED
    from jaxtts.models.hifigan import HiFiGANConfig

    fp = dataclasses.replace(
        PUBLISHED, symbols_embedding_dim=32, in_fft_output_size=32, out_fft_output_size=32, in_fft_n_layers=1,
        out_fft_n_layers=1, in_fft_n_heads=2, out_fft_n_heads=2, in_fft_d_head=8, out_fft_d_head=8,
        in_fft_conv1d_filter_size=32, out_fft_conv1d_filter_size=32, dur_predictor_filter_size=16,
        pitch_predictor_filter_size=16, energy_predictor_filter_size=16, n_speakers=2)
    hg = HiFiGANConfig((8, 8, 4), (16, 16, 8), 32, "1", (3, 5), ((1, 3, 5), (1, 3, 5)))
    config = fp.nvidia_config()
    state = fastpitch_ref.seeded(fp, seed).state_dict() | checkpoints.fastpitch_aligner(config, seed)
    directory.mkdir(parents=True, exist_ok=True)
    return {
        "fastpitch": checkpoints.fastpitch_checkpoint(directory / "FastPitch_checkpoint_10.pt", config, state),
        "hifigan": checkpoints.write_nvidia_hifigan(directory / "hifigan_gen_checkpoint_10000.pt",
                                                    checkpoints.hifigan_state_dict(hifigan_ref.seeded(hg, seed)), hg),
    }


@pytest.fixture(scope="session")
def small_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_small_checkpoints(tmp_path_factory.mktemp("small_checkpoints"))


@pytest.fixture(scope="session")
def parity_checkpoints(request: pytest.FixtureRequest) -> dict[str, Path]:
    """--fastpitch/--hifigan when given (both or neither), else `small_checkpoints`."""
    given = {kind: request.config.getoption(f"--{kind}") for kind in ("fastpitch", "hifigan")}
    if any(given.values()):
        if not all(given.values()):
            raise pytest.UsageError("pass both --fastpitch and --hifigan (or neither, for small generated checkpoints)")
        return {kind: Path(path).expanduser() for kind, path in given.items()}
    return request.getfixturevalue("small_checkpoints")
