"""`jaxtts.torch`: code written for NVIDIA's PyTorch models runs unchanged and gives NVIDIA's outputs.

Golden data is NVIDIA's own code on random-weight checkpoints in NVIDIA's own formats (FastPitch
small, speaker 1; HiFi-GAN small): ../shared/golden/README.md.
"""
from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxtts.torch import Denoiser, FastPitch, HiFiGAN, to_jax, to_torch

FASTPITCH = "fastpitch_small/FastPitch_checkpoint_10.pt"
HIFIGAN = "hifigan_small/hifigan_gen_checkpoint_10000.pt"
TEXTS = ("short", "long", "numbers", "punct", "mixed")
TOL = 1e-4


@pytest.fixture(scope="module")
def models(golden: Path) -> tuple[FastPitch, HiFiGAN, Denoiser]:
    generator = HiFiGAN.from_checkpoint(golden / HIFIGAN).eval()
    return FastPitch.from_checkpoint(golden / FASTPITCH).eval().to("cpu"), generator, Denoiser(generator, win_length=1024)


def _golden(golden: Path, name: str) -> dict[str, np.ndarray]:
    with np.load(golden / "outputs" / f"{name}.npz") as d:
        return dict(d)


def _close(got: torch.Tensor, want: np.ndarray) -> None:
    np.testing.assert_allclose(got.numpy(), want, atol=TOL, rtol=0)


def nvidia_custom(pitch, pitch_lens, mean, std):
    """inference.py's --pitch-transform-custom around fastpitch/pitch_transform.py, as NVIDIA wrote them."""
    weights = torch.arange(pitch.size(1), dtype=torch.float32, device=pitch.device)
    weights = weights.unsqueeze(0) / pitch_lens.unsqueeze(1)
    weights += 0.5
    return ((pitch * std + mean) * weights - mean) / std


VARIANTS = {  # golden variant: (pace, pitch transform as inference.py's `build_pitch_transformation` builds it)
    "base": (1.0, None),
    "pace1.3_shift50": (1.3, lambda pitch, pitch_lens, mean, std: (pitch) + 50.0 / std),
}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", ["short", "punct"])  # all five texts: the batch test below
def test_nvidia_inference_loop_reproduces_golden(models, golden, name, variant):
    fastpitch, generator, denoiser = models
    pace, transform = VARIANTS[variant]
    d = _golden(golden, name)
    text = torch.from_numpy(d["ids"])[None]
    hop, max_wav_value, fade_out = 256, 32768.0, 10

    # inference.py, batch of one, as NVIDIA wrote it.
    with torch.no_grad():
        mel, mel_lens, dur_pred, pitch_pred, energy_pred = fastpitch.infer(
            text, pace=pace, pitch_transform=transform, speaker=1)
        audios = generator(mel).float()
        if variant == "base":
            denoised = denoiser(audios.squeeze(1), 0.01)
    audio = audios.squeeze(1)[0]

    assert mel.shape == (1, 80, int(d[f"{variant}__mel_len"])) and mel_lens.dtype == torch.int64
    assert mel_lens.tolist() == [int(d[f"{variant}__mel_len"])]
    assert pitch_pred.shape == (1, 1, len(d["ids"])) and dur_pred.shape == energy_pred.shape == (1, len(d["ids"]))
    _close(mel[0], d[f"{variant}__mel"])
    _close(dur_pred[0], d[f"{variant}__dur_pred"])
    _close(pitch_pred[0], d[f"{variant}__pitch_pred"])
    _close(energy_pred[0], d[f"{variant}__energy_pred"])
    _close(audio, d[f"{variant}__audio"])
    if variant == "base":
        assert denoised.shape == (1, 1, audio.shape[0])
        _close(denoised[0, 0], d["base__audio_denoised_0.01"])
        # inference.py's save path: scale, trim, linear fade-out, peak-normalise.
        post = (denoised.squeeze(1) * max_wav_value)[0][: mel_lens[0].item() * hop]
        post[-fade_out * hop:] *= torch.linspace(1.0, 0.0, fade_out * hop)
        post = post / post.abs().max()
        _close(post, d["base__audio_post"])


def test_pitch_transform_is_torch_code_called_as_nvidia_calls_it(models, golden):
    """NVIDIA's example transform works on torch tensors (torch.arange, .size, .unsqueeze)."""
    fastpitch, _, _ = models
    d = _golden(golden, "pitch_transforms")
    with torch.no_grad():
        mel, _, _, pitch_pred, energy_pred = fastpitch.infer(torch.from_numpy(d["ids"])[None], pitch_transform=nvidia_custom,
                                                             speaker=1)
    _close(mel[0], d["custom__mel"])
    _close(pitch_pred[0], d["custom__pitch_pred"])
    _close(energy_pred[0], d["custom__energy_pred"])


def test_padded_batch_gives_every_text_its_batch1_output(models, golden):
    """inference.py sorts by length and right-pads with 0. NVIDIA's outputs then drift with the
    padding (golden/batch.npz); ours are each text's batch-1 (= NVIDIA's batch-1) outputs."""
    fastpitch, _, _ = models
    rows = sorted((_golden(golden, name) for name in TEXTS), key=lambda d: -len(d["ids"]))
    text = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(d["ids"]) for d in rows], batch_first=True)
    with torch.no_grad():
        mel, mel_lens, dur_pred, pitch_pred, _ = fastpitch.infer(text, speaker=1)
    assert mel.shape[-1] == int(mel_lens.max()) and dur_pred.shape == text.shape and pitch_pred.shape == (5, 1, text.shape[1])
    for i, d in enumerate(rows):
        n, t = len(d["ids"]), int(d["base__mel_len"])
        assert int(mel_lens[i]) == t
        _close(mel[i, :, :t], d["base__mel"])
        _close(dur_pred[i, :n], d["base__dur_pred"])


def test_state_dicts_round_trip_to_the_checkpoints_tensors(models, golden):
    fastpitch, generator, _ = models
    ckpt = torch.load(golden / FASTPITCH, weights_only=True)["state_dict"]
    want = {k: v for k, v in ckpt.items() if not k.startswith("attention.")}  # the training-only aligner
    got = fastpitch.state_dict()
    assert list(got) == [k for k in want if k in got] and set(got) == set(want)
    for k, v in want.items():
        assert torch.equal(got[k], v), k

    ckpt = torch.load(golden / HIFIGAN, weights_only=True)["generator"]
    got = generator.state_dict()
    folded = {k.removesuffix("_v"): ckpt[k[:-1] + "g"] * v / v.norm(dim=(1, 2), keepdim=True)
              for k, v in ckpt.items() if k.endswith("weight_v")}
    want = {k: v for k, v in ckpt.items() if not k.endswith(("weight_g", "weight_v"))} | folded
    assert set(got) == set(want)
    for k, v in want.items():
        torch.testing.assert_close(got[k], v, atol=1e-6, rtol=1e-6, msg=k)


def test_nvidia_construct_then_load_state_dict(models, golden):
    """NVIDIA's loaders: `FastPitch(**config)` + strict load (aligner included); `Generator(config)` +
    load of a weight-normed or legacy flat channels-last state_dict + `remove_weight_norm()`."""
    fastpitch, generator, _ = models
    ids = torch.from_numpy(_golden(golden, "short")["ids"])[None]
    ckpt = torch.load(golden / FASTPITCH, weights_only=True)
    model = FastPitch(**ckpt["config"])
    assert not model.load_state_dict(ckpt["state_dict"]).missing_keys
    assert torch.equal(model.infer(ids, speaker=1)[0], fastpitch.infer(ids, speaker=1)[0])

    mel = fastpitch.infer(ids, speaker=1)[0]
    for name in (HIFIGAN, "hifigan_small/hifigan_gen_legacy_flat_nhwc.pt"):
        ckpt = torch.load(golden / name, weights_only=True)
        vocoder = HiFiGAN(ckpt["config"])
        vocoder.load_state_dict(ckpt["generator"])
        vocoder.remove_weight_norm()
        torch.testing.assert_close(vocoder(mel), generator(mel), atol=1e-6, rtol=0)


def test_load_state_dict_reports_like_torch_and_changes_nothing_on_error(models):
    _, generator, _ = models
    vocoder = HiFiGAN.wrap(generator.model)
    sd = vocoder.state_dict()
    before = sd["conv_post.weight"].clone()

    broken = {k: v + 1 for k, v in sd.items() if k != "conv_pre.bias"} | {"extra.weight": torch.zeros(1)}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\).*"conv_pre.bias"(?s:.*)Unexpected key\(s\).*"extra.weight"'):
        vocoder.load_state_dict(broken)
    result = vocoder.load_state_dict(broken, strict=False)  # loads what it can, like torch
    assert (result.missing_keys, result.unexpected_keys) == (["conv_pre.bias"], ["extra.weight"])
    assert torch.equal(vocoder.state_dict()["conv_post.weight"], before + 1)

    with pytest.raises(RuntimeError, match="size mismatch for conv_post.weight"):
        vocoder.load_state_dict(sd | {"conv_post.weight": torch.zeros(3)})
    assert torch.equal(vocoder.state_dict()["conv_post.weight"], before + 1)
    assert torch.equal(generator.state_dict()["conv_post.weight"], before)  # the wrapped model is never mutated

    parent = torch.nn.Module()
    parent.vocoder = HiFiGAN.wrap(generator.model)
    assert set(parent.state_dict()) == {f"vocoder.{k}" for k in sd}
    assert not parent.load_state_dict(parent.state_dict()).missing_keys


def test_tensors_cross_through_dlpack_without_copies():
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    x = to_jax(t)
    assert x.unsafe_buffer_pointer() == t.data_ptr()
    y = jnp.ones((2, 5)) * 3
    assert to_torch(y).data_ptr() == y.unsafe_buffer_pointer()
    assert to_torch(jnp.ones(3, jnp.bfloat16)).dtype == torch.float32
