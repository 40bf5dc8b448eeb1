"""HiFi-GAN vocoder: NVIDIA/jik876 parity, every checkpoint layout, bad input, model behaviour."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import jaxtts
from converters.hifigan import from_checkpoint, from_state_dict, rename_table, to_state_dict
from converters.load import load_torch
from converters.reference import hifigan as reference
from jaxtts.checkpoint import convert
from jaxtts.errors import CheckpointError, ConfigError, InputError
from jaxtts.models import denoiser
from jaxtts.models.hifigan import (
    PUBLISHED, WINOGRAD_MIN_CHANNELS, Generator, HiFiGAN, HiFiGANConfig, generate, plan_windows, prepare,
)

from compiles import programs_built
from checkpoints import (
    fastpitch_1_0_config, fastpitch_checkpoint, hifigan_state_dict, write_jik876_hifigan, write_nvidia_hifigan,
)

TOL = 1e-4
# Small but complete: both stage kinds, 2 kernels per stage (so nothing may assume 3), odd order.
SMALL = HiFiGANConfig((4, 2, 2), (8, 4, 4), 16, "1", (7, 3), ((1, 3, 5), (1, 2, 3)))
SMALL_V3 = HiFiGANConfig((4, 4), (8, 8), 8, 2, (3, 5, 7), ((1, 2), (2, 6), (3, 12)))
# Stage 0 wide enough for the Winograd form on CPU, stage 1 not.
WIDE = HiFiGANConfig((4, 2), (8, 4), 2 * WINOGRAD_MIN_CHANNELS, "1", (3, 7, 11), ((1, 3, 5),) * 3)
WIDE_V3 = HiFiGANConfig((4, 2), (8, 4), 2 * WINOGRAD_MIN_CHANNELS, "2", (3, 5, 7), ((1, 2), (2, 6), (3, 12)))


def max_err(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def random_mel(frames: int, batch: int = 1, seed: int = 0) -> np.ndarray:
    """Log-mel-like input (natural-log magnitudes sit around -11 .. 2)."""
    return np.random.default_rng(seed).normal(-5.0, 2.0, (batch, 80, frames)).astype(np.float32)


def reference_audio(model: torch.nn.Module, mel: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(mel))[:, 0].numpy()


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------

def test_config_reads_checkpoint_dicts_and_round_trips():
    d = {"resblock": 1, "upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4],
         "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
         "resblock_dilation_sizes": [[1, 3, 5]] * 3, "hop_size": 256, "learning_rate": 2e-4}
    cfg = HiFiGANConfig.from_dict(d)
    assert cfg == PUBLISHED["v1"] and cfg.resblock == "1" and cfg.hop_length == 256
    assert HiFiGANConfig.from_dict(cfg.to_dict()) == cfg
    assert [PUBLISHED[v].hop_length for v in ("v1", "v2", "v3")] == [256] * 3
    assert cfg.sampling_rate == 22050  # NVIDIA's rate when the config does not say
    assert HiFiGANConfig.from_dict(d | {"sample_rate": 44100}).sampling_rate == 44100  # NeMo's key


def test_a_vocoder_trained_at_another_rate_keeps_it_from_file_to_wav(tmp_path, small_model):
    """A 44.1 kHz generator (e.g. NeMo's HiFiTTS) makes 44.1 kHz audio: the rate travels from the
    checkpoint through conversion to the engine and its WAV files."""
    config = dataclasses.replace(SMALL, sampling_rate=44100)
    src = write_nvidia_hifigan(tmp_path / "hifigan_gen_checkpoint_5.pt", hifigan_state_dict(small_model), config)
    assert jaxtts.load_hifigan(src).config.sampling_rate == 44100
    assert jaxtts.load_hifigan(convert(src, tmp_path / "converted")).config.sampling_rate == 44100


@pytest.mark.parametrize("change, message", [
    ({"upsample_rates": None}, "missing upsample_rates"),
    ({"hop_length": 300}, "product of upsample_rates"),
    ({"resblock": "3"}, "resblock must be '1' or '2'"),
    ({"upsample_kernel_sizes": [16, 16, 4]}, "equally long"),
    ({"resblock_dilation_sizes": [[1, 3]] * 3}, "3 positive dilations"),
    ({"resblock_kernel_sizes": [3, 6, 11]}, "odd kernels"),
    ({"upsample_kernel_sizes": [15, 16, 4, 4]}, "kernel - rate even"),
    ({"upsample_initial_channel": 100}, "divisible by 2**4"),
    ({"sampling_rate": "fast"}, "sampling_rate must be an integer"),
    ({"sampling_rate": 0}, "sampling_rate 0 is outside"),
])
def test_config_errors_name_the_problem(change, message):
    d = PUBLISHED["v1"].to_dict() | change
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        HiFiGANConfig.from_dict(d)


@pytest.mark.parametrize("config", [SMALL, SMALL_V3], ids=["type1", "type2"])
def test_receptive_field_is_exact(config):
    """Mel frame n reaches the audio of frames n - R .. n + R, and R itself is reached."""
    r = config.receptive_field_frames
    frames, n = 2 * r + 8, r + 4
    params = from_state_dict(reference.seeded(config).state_dict(), config)
    poke = np.zeros((1, 80, frames), np.float32)
    poke[:, :, n] = 1.0
    # The linearisation shows every dependency; a finite poke can round away at the far edges.
    linearised = jax.jit(lambda m, t: jax.jvp(lambda m: generate(params, m, config=config), (m,), (t,))[1])
    moved = linearised(random_mel(frames), poke)
    touched = np.flatnonzero(np.abs(np.asarray(moved))[0].reshape(frames, -1).max(axis=1))
    assert n - r <= touched.min() and touched.max() <= n + r
    assert r in (n - touched.min(), touched.max() - n)


# ----------------------------------------------------------------------------------------------
# Golden: outputs of NVIDIA's and jik876's own code
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def short(golden):
    return np.load(golden / "outputs" / "short.npz")


@pytest.mark.parametrize("file, audio", [
    ("hifigan_small/hifigan_gen_checkpoint_10000.pt", "base__audio"),
    ("hifigan_small/hifigan_gen_legacy_flat_nhwc.pt", "base__audio"),
    ("hifigan_small_v3/hifigan_gen_checkpoint_10000.pt", "base__audio_hifigan_small_v3"),
])
def test_golden_nvidia(golden, short, file, audio):
    vocoder = jaxtts.load_hifigan(golden / file)
    out = vocoder(short["base__mel"][None])
    assert out.shape == (1, short["base__mel"].shape[1] * 256) and out.dtype == jnp.float32
    assert max_err(out[0], short[audio]) <= TOL


def test_golden_denoiser(golden, short):
    vocoder = jaxtts.load_hifigan(golden / "hifigan_small/hifigan_gen_checkpoint_10000.pt")
    assert max_err(vocoder(short["base__mel"][None], denoise=0.01)[0], short["base__audio_denoised_0.01"]) <= TOL
    # The denoiser alone, on NVIDIA's own generator output.
    alone = jax.jit(denoiser.denoise)(short["base__audio"][None], vocoder.bias_spectrum, 0.01)
    assert max_err(alone[0], short["base__audio_denoised_0.01"]) <= TOL


def test_golden_intermediate_taps(golden, short):
    file = golden / "hifigan_small/hifigan_gen_checkpoint_10000.pt"
    cfg, params = from_checkpoint(load_torch(file), file)
    mel = jnp.asarray(short["base__mel"].T[None])
    _, taps = jax.jit(lambda p, m: Generator(cfg).apply({"params": p}, m, mutable=["intermediates"]))(params, mel)
    for name, (value,) in taps["intermediates"].items():
        assert max_err(value[0].T, short[f"base__{name}"]) <= TOL, name


@pytest.mark.parametrize("file", ["v1/g_00000000", "v2/g_00000000", "v3/g_00000000", "v1/g_00000000_legacy_serialization"])
def test_golden_jik876(golden, file):
    expected = np.load(golden / "jik876" / file.split("/")[0] / "outputs.npz")
    vocoder = jaxtts.load_hifigan(golden / "jik876" / file)  # config.json found beside the file
    assert max_err(vocoder(expected["mel"]), expected["audio"][:, 0]) <= TOL


# ----------------------------------------------------------------------------------------------
# Our PyTorch reference at the published sizes (random weights)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_reference_parity_published_sizes(version):
    cfg = PUBLISHED[version]
    model = reference.seeded(cfg, seed=1)
    mel = random_mel(10, seed=2)
    expected = reference_audio(model, mel)
    assert expected.std() > 0.1  # a real signal, not ~0
    vocoder = HiFiGAN(cfg, from_state_dict(model.state_dict(), cfg))
    assert max_err(vocoder(mel), expected) <= TOL


# ----------------------------------------------------------------------------------------------
# Conversion: every layout, the inverse map, Orbax round trip
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model():
    return reference.seeded(SMALL, seed=3)


@pytest.fixture(scope="module")
def small_params(small_model):
    return from_state_dict({k: v for k, v in small_model.state_dict().items()}, SMALL)


@pytest.mark.parametrize("weight_norm", [None, "weight_g", "parametrizations"])
@pytest.mark.parametrize("layout", ["nested", "flat", "nhwc"])
def test_every_layout_converts_to_the_same_params(tmp_path, small_model, small_params, weight_norm, layout):
    sd = hifigan_state_dict(small_model, weight_norm=weight_norm, layout=layout)
    file = write_nvidia_hifigan(tmp_path / "g.pt", sd, SMALL)
    cfg, params = from_checkpoint(load_torch(file), file)
    assert cfg == SMALL
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7), params, small_params)


def test_jik876_layouts_and_config_sources(tmp_path, small_model, small_params):
    sd = hifigan_state_dict(small_model, layout="flat")
    ckpt = write_jik876_hifigan(tmp_path / "g_00100000", sd, SMALL)
    cfg, params = from_checkpoint(load_torch(ckpt), ckpt)
    assert cfg == SMALL
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (tmp_path / "config.json").rename(moved / "config.json")
    for config in (moved / "config.json", str(moved / "config.json"), SMALL.to_dict()):
        assert from_checkpoint(load_torch(ckpt), ckpt, config=config)[0] == SMALL
    np.testing.assert_allclose(params["ups_0"]["kernel"], small_params["ups_0"]["kernel"], rtol=1e-6)


def test_prefixed_bare_state_dict(tmp_path, small_model, small_params):
    sd = {f"module.{k}": v for k, v in hifigan_state_dict(small_model).items()}
    torch.save(sd, tmp_path / "bare.pt")
    _, params = from_checkpoint(load_torch(tmp_path / "bare.pt"), tmp_path / "bare.pt", config=SMALL.to_dict())
    np.testing.assert_allclose(params["conv_post"]["kernel"], small_params["conv_post"]["kernel"], rtol=1e-6)


def test_inverse_map_is_the_table_backwards(small_model, small_params):
    sd = to_state_dict(small_params, SMALL)
    assert list(sd) == list(rename_table(SMALL)) == list(small_model.state_dict())
    fresh = reference.seeded(SMALL, seed=99)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    mel = random_mel(6)
    assert max_err(reference_audio(fresh, mel), reference_audio(small_model, mel)) == 0.0


def test_converted_directory_round_trip(tmp_path, small_model):
    src = write_nvidia_hifigan(tmp_path / "hifigan_gen_checkpoint_5.pt", hifigan_state_dict(small_model), SMALL)
    dst = convert(src, tmp_path / "converted")
    mel = random_mel(5)
    assert max_err(jaxtts.load_hifigan(dst)(mel), jaxtts.load_hifigan(src)(mel)) == 0.0
    assert max_err(jaxtts.load_hifigan(dst)(mel), reference_audio(small_model, mel)) <= TOL


# ----------------------------------------------------------------------------------------------
# Bad input: every failure is a CheckpointError that names the problem
# ----------------------------------------------------------------------------------------------

@pytest.fixture()
def nvidia_file(tmp_path, small_model):
    return write_nvidia_hifigan(tmp_path / "hifigan_gen_checkpoint_5.pt", hifigan_state_dict(small_model), SMALL)


def test_truncated_file(tmp_path, nvidia_file):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(nvidia_file.read_bytes()[: nvidia_file.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        jaxtts.load_hifigan(cut)


def test_random_bytes(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        jaxtts.load_hifigan(junk)


class _RunsCode:
    def __reduce__(self):
        return os.system, ("touch pwned",)


def test_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pt"
    torch.save({"generator": _RunsCode()}, evil)
    with pytest.raises(CheckpointError, match="refused"):
        jaxtts.load_hifigan(evil)
    assert not (tmp_path / "pwned").exists()


def test_generated_fastpitch_file_given_as_vocoder(tmp_path):
    path = fastpitch_checkpoint(tmp_path / "FastPitch_checkpoint_10.pt", fastpitch_1_0_config(),
                                {"encoder.word_emb.weight": torch.zeros(148, 32)})
    with pytest.raises(CheckpointError, match="fastpitch"):
        jaxtts.load_hifigan(path)


def test_golden_fastpitch_given_as_vocoder(golden):
    with pytest.raises(CheckpointError, match="FastPitch|fastpitch"):
        jaxtts.load_hifigan(golden / "fastpitch_small" / "FastPitch_checkpoint_10.pt")


@pytest.mark.parametrize("ckpt", [
    {"epoch": 1, "config": {}, "state_dict": {"encoder.word_emb.weight": torch.zeros(4, 2)}},
    {"module.encoder.word_emb.weight": torch.zeros(4, 2)},
], ids=["dle", "bare-ddp"])
def test_fastpitch_given_as_vocoder(ckpt):
    with pytest.raises(CheckpointError, match="is a FastPitch checkpoint, not a HiFi-GAN vocoder"):
        from_checkpoint(ckpt, Path("FastPitch_checkpoint_1.pt"))


def test_shape_mismatch_lists_every_problem_at_once(small_model):
    sd = hifigan_state_dict(small_model)
    del sd["conv_post.bias"]
    sd["resblocks.9.0.convs1.0.bias"] = torch.zeros(3)
    wider = dataclasses.replace(SMALL, upsample_initial_channel=32)
    with pytest.raises(CheckpointError) as e:
        from_checkpoint({"generator": sd, "config": wider.to_dict()}, Path("g.pt"))
    msg = str(e.value)
    assert "missing (1): conv_post/bias" in msg
    assert "unexpected (1): resblocks.9.0.convs1.0.bias" in msg
    assert "wrong shape" in msg and "conv_pre/kernel: checkpoint (7, 80, 16) vs model (7, 80, 32)" in msg


def test_missing_jik876_config_says_how_to_fix(tmp_path, small_model):
    ckpt = write_jik876_hifigan(tmp_path / "g_00000001", hifigan_state_dict(small_model, layout="flat"), SMALL,
                                config_json=False)
    with pytest.raises(CheckpointError, match="config.json beside the checkpoint or pass it explicitly"):
        jaxtts.load_hifigan(ckpt)
    with pytest.raises(CheckpointError, match="does not exist"):
        jaxtts.load_hifigan(ckpt, config=tmp_path / "nope.json")


def test_bad_mel_shape_is_an_input_error(small_params):
    vocoder = HiFiGAN(SMALL, small_params)
    for bad in (np.zeros((80, 5)), np.zeros((1, 64, 5)), np.zeros((1, 80, 0))):
        with pytest.raises(InputError, match=r"\(batch, 80, frames\)"):
            vocoder(bad)


# ----------------------------------------------------------------------------------------------
# Model behaviour
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", [SMALL, SMALL_V3], ids=["type1", "type2"])
def test_padded_batch_with_lengths_equals_each_item_alone(config):
    vocoder = HiFiGAN(config, from_state_dict(reference.seeded(config).state_dict(), config))
    hop, lengths = config.hop_length, [7, 12, 3]
    mel = random_mel(16, batch=3, seed=5)  # padding frames hold garbage on purpose
    batch = np.asarray(vocoder(mel, lengths=lengths))
    assert batch.shape == (3, 16 * hop)
    for i, n in enumerate(lengths):
        alone = np.asarray(vocoder(mel[i : i + 1, :, :n]))[0]
        assert alone.shape == (n * hop,)
        assert max_err(batch[i, : n * hop], alone) <= 1e-5


@pytest.mark.parametrize("config", [WIDE, WIDE_V3], ids=["type1", "type2"])
def test_winograd_form_of_the_wide_stages_gives_the_reference_audio(config):
    """`prepare` moves only the resblocks at least WINOGRAD_MIN_CHANNELS wide; a padded batch
    through them still gives each item's reference audio."""
    model = reference.seeded(config, seed=4)
    params = from_state_dict(model.state_dict(), config)
    prepared = prepare(params, use_winograd=True)
    assert all(isinstance(conv["kernel"], tuple) for j in range(3) for conv in prepared[f"resblocks_0_{j}"].values())
    assert all(prepared[f"resblocks_1_{j}"] is params[f"resblocks_1_{j}"] for j in range(3))
    hop, lengths = config.hop_length, [9, 4]
    mel = random_mel(9, batch=2, seed=6)
    batch = np.asarray(generate(prepared, mel, np.array(lengths), config=config))
    for i, n in enumerate(lengths):
        assert max_err(batch[i, : n * hop], reference_audio(model, mel[i : i + 1, :, :n])[0]) <= TOL


def test_prepare_picks_the_backend_and_refuses_twice():
    params = Generator(WIDE).init(jax.random.key(0), jnp.zeros((1, 4, 80)))["params"]
    assert prepare(params, use_winograd=False) is params
    prepared = prepare(params)
    assert (prepared is params) == (jax.default_backend() != "cpu")
    with pytest.raises(ValueError, match="prepared twice"):
        prepare(prepare(params, use_winograd=True), use_winograd=True)


def test_generate_is_jittable_with_static_config(small_params):
    mel = random_mel(4)
    run = jax.jit(generate, static_argnames=("config", "dtype"))
    out = run(small_params, mel, config=SMALL)
    assert out.shape == (1, 4 * SMALL.hop_length) and out.dtype == jnp.float32


def test_bfloat16_path_is_close(small_model, small_params):
    mel = random_mel(8)
    out = HiFiGAN(SMALL, small_params, dtype=jnp.bfloat16)(mel)
    expected = reference_audio(small_model, mel)
    assert out.dtype == jnp.float32
    assert np.linalg.norm(np.asarray(out) - expected) <= 0.05 * np.linalg.norm(expected)


# ----------------------------------------------------------------------------------------------
# Windowed vocoding: a few programs for every length, whole-utterance results
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reach", [1, 13, 20])
@pytest.mark.parametrize("sizes", [(64, 256), (256,), (96, 128, 512)])
def test_windows_tile_the_utterance_and_keep_only_exact_audio(sizes, reach):
    """Kept parts tile [0, T) in order; each is at least `reach` frames from a cut edge of its
    window (an utterance edge is no cut); windows start inside the utterance."""
    for frames in [*range(1, 600), 4096, 8192, 30_011]:
        windows = plan_windows(frames, sizes, reach)
        assert windows[0].keep_from == 0 and windows[-1].keep_to == frames
        for w, after in zip(windows, windows[1:]):
            assert w.keep_to == after.keep_from
        for w in windows:
            assert w.size in sizes and 0 <= w.start and w.keep_from < w.keep_to
            assert w.start == 0 or w.keep_from >= w.start + reach
            assert w.start + w.size >= frames or w.keep_to <= w.start + w.size - reach
        assert len(windows) == 1 or sum(w.size for w in windows) < frames + 2 * reach * len(windows) + max(sizes)


@pytest.mark.parametrize("config", [SMALL, SMALL_V3], ids=["v1-like", "v3-like"])
def test_windowed_vocoding_equals_whole_utterance_vocoding(config):
    """Lengths below one window, at window and junction boundaries, and spanning many windows, in
    one batch with their true lengths. Windows compute the same sums as the whole utterance, only
    cut at other places, so they agree to float32 rounding of sums of a few hundred terms (~1e-6
    on audio in [-1, 1]); 1e-5 leaves room for XLA's choice of summation order."""
    r = config.receptive_field_frames
    vocoder = HiFiGAN(config, from_state_dict(reference.seeded(config).state_dict(), config), windows=(4 * r + 16, 256))
    small, big = vocoder.windows
    lengths = [1, 7, small - 1, small, small + 1, 2 * small - 2 * r, 2 * small - 2 * r + 1, big, big + 1,
               2 * big - 2 * r, 2 * big - 2 * r + 1, 3 * big + 5]
    whole = jax.jit(lambda p, m: generate(p, m, config=config))
    hop, longest = config.hop_length, max(lengths)
    mel = random_mel(longest, batch=len(lengths), seed=9)
    audio = np.asarray(vocoder(mel, lengths=lengths))
    assert audio.shape == (len(lengths), longest * hop)
    for i, n in enumerate(lengths):
        alone = np.asarray(whole(vocoder.inference_params, mel[i : i + 1, :, :n]))[0]
        np.testing.assert_allclose(audio[i, : n * hop], alone, atol=1e-5, err_msg=f"{n} frames")
        assert not audio[i, n * hop :].any()  # zeros past the item's end


def test_direct_calls_compile_per_window_size_not_per_length():
    vocoder = HiFiGAN(SMALL, from_state_dict(reference.seeded(SMALL).state_dict(), SMALL))
    assert len(vocoder.windows) == 2
    whole = jax.jit(lambda p, m: generate(p, m, config=SMALL))
    built = []
    for n in (3, 40, 255, 300, 777, 5, 64, 129, 1000, 2):  # five lengths, then five more
        mel = random_mel(n, seed=n)
        before = programs_built()
        audio = np.asarray(vocoder(mel))
        built.append(programs_built() - before)
        np.testing.assert_allclose(audio[0], np.asarray(whole(vocoder.inference_params, mel))[0], atol=1e-5)
    assert 1 <= sum(built[:5]) <= len(vocoder.windows)  # one program per window size (batch bucket 1 on a CPU)
    assert sum(built[5:]) == 0
