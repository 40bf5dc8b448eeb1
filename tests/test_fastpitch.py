"""FastPitch: NVIDIA's outputs, our PyTorch reference, padding invariance, controls, bad input, conversion.

Golden data (../shared/golden) is NVIDIA's own code run on random-weight checkpoints in NVIDIA's own
file formats, at batch size 1: the small config (D=64, 2+2 layers, 2 heads, 3 speakers, energy on),
speaker 1.
"""
from __future__ import annotations

from pathlib import Path

import checkpoints
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import jaxtts
from converters import fastpitch as converter
from converters.load import load_torch
from converters.reference.fastpitch import FastPitch as Reference
from converters.reference.fastpitch import pitch_transformation, seeded
from jaxtts.checkpoint import convert
from jaxtts.errors import CheckpointError, ConfigError, InputError
from jaxtts.models.buckets import bucket_length
from jaxtts.models.controls import Controls
from jaxtts.models.fastpitch import PUBLISHED, FastPitch, FastPitchConfig
from jaxtts.text.encoder import TEXT_SETUP, TextEncoder
from jaxtts.text.symbols import SYMBOL_SETS

LAYOUTS = {
    "current": "fastpitch_small/FastPitch_checkpoint_10.pt",
    "legacy2021": "fastpitch_small/fastpitch_legacy2021_layout.pt",
}
TEXTS = ("short", "long", "numbers", "punct", "mixed")
VARIANTS = {"base": {}, "pace1.3_shift50": {"pace": 1.3, "pitch_shift": 50.0}}


def nvidia_custom_transform(pitch, n_tokens, mean, std):
    """inference.py's --pitch-transform-custom as it runs on the model's (B, 1, N) pitch: the example
    ramp `arange(pitch.size(1)) / n + 0.5` sees size(1) = 1, so it scales Hz by a constant 0.5."""
    weights = jnp.arange(pitch.shape[1], dtype=jnp.float32)[None, :] / n_tokens[:, None] + 0.5
    return ((pitch * std + mean) * weights[:, :, None] - mean) / std


TRANSFORMS = {
    "none": {},
    "flatten": {"pitch_flatten": True},
    "invert": {"pitch_invert": True},
    "amplify2": {"pitch_amplify": 2.0},
    "shift-30_amplify1.5": {"pitch_shift": -30.0, "pitch_amplify": 1.5},
    "custom": {"pitch_transform": nvidia_custom_transform},
}


def _np(x) -> np.ndarray:
    return np.asarray(x)


@pytest.fixture(scope="module", params=list(LAYOUTS))
def layout_model(request, golden: Path) -> FastPitch:
    path = golden / LAYOUTS[request.param]
    return FastPitch(*converter.from_checkpoint(load_torch(path), path))


@pytest.fixture(scope="module")
def small(golden: Path) -> FastPitch:
    path = golden / LAYOUTS["current"]
    return FastPitch(*converter.from_checkpoint(load_torch(path), path))


def _golden(golden: Path, text: str) -> dict:
    with np.load(golden / "outputs" / f"{text}.npz") as d:
        return dict(d)


# --- NVIDIA parity -------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("text", TEXTS)
def test_matches_nvidia(layout_model: FastPitch, golden: Path, text: str, variant: str):
    d = _golden(golden, text)
    out = layout_model.infer(d["ids"][None], speaker=int(d["speaker"]), **VARIANTS[variant])
    want = {k.split("__")[1]: v for k, v in d.items() if k.startswith(variant + "__")}
    np.testing.assert_array_equal(_np(out.durations)[0], want["reps"])
    assert int(out.mel_lens[0]) == want["mel_len"] == out.mel.shape[2]
    np.testing.assert_allclose(_np(out.mel)[0], want["mel"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(_np(out.pitch)[0], want["pitch_pred"][0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(_np(out.energy)[0], want["energy_pred"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(_np(out.dur_pred)[0], want["dur_pred"], atol=1e-4, rtol=0)  # frames, up to ~20


@pytest.mark.parametrize("name", TRANSFORMS)
def test_pitch_transforms_match_nvidia(layout_model: FastPitch, golden: Path, name: str):
    with np.load(golden / "outputs" / "pitch_transforms.npz") as d:
        ids, mel, pitch = d["ids"], d[f"{name}__mel"], d[f"{name}__pitch_pred"]
    out = layout_model.infer(ids[None], speaker=1, **TRANSFORMS[name])
    assert out.mel.shape[2] == mel.shape[1]
    np.testing.assert_allclose(_np(out.mel)[0], mel, atol=1e-4, rtol=0)
    np.testing.assert_allclose(_np(out.pitch)[0], pitch[0], atol=1e-5, rtol=0)


def test_stages_match_nvidia_taps(small: FastPitch, golden: Path):
    """The two jitted pure stages alone: `encode` gives the conditioned encoding NVIDIA feeds the
    length regulator, `decode` into a larger frame bucket the mel, zero past its length."""
    d = _golden(golden, "mixed")
    ids = d["ids"][None].astype(np.int32)
    e = small.encode(small.params, ids, np.array([ids.shape[1]], np.int32), Controls(speaker=1))
    want_enc = d["base__enc_out"] + d["base__pitch_emb"] + d["base__energy_emb"]
    np.testing.assert_allclose(_np(e.enc)[0], want_enc, atol=1e-4, rtol=0)
    mel, mel_lens = small.decode(small.params, e.enc, e.reps, n_frames=1024)
    t = int(d["base__mel_len"])
    assert int(mel_lens[0]) == t and not _np(mel)[0, :, t:].any()
    np.testing.assert_allclose(_np(mel)[0, :, :t], d["base__mel"], atol=1e-4, rtol=0)


# --- our PyTorch reference -----------------------------------------------------------------------


def test_reference_matches_nvidia(golden: Path):
    """The reference loads NVIDIA's 2021 file strictly (aligner dropped) and reproduces it."""
    ckpt = load_torch(golden / LAYOUTS["legacy2021"])
    ref = Reference.from_nvidia(FastPitchConfig.from_dict(ckpt["config"]), ckpt["state_dict"])
    d = _golden(golden, "punct")
    with torch.inference_mode():
        mel, _, dur, _, _ = ref.infer(torch.tensor(d["ids"][None]), pace=1.3, speaker=1,
                                                      pitch_transform=pitch_transformation(shift=50.0))
    np.testing.assert_array_equal((dur / 1.3 + 0.5).long()[0].numpy(), d["pace1.3_shift50__reps"])
    np.testing.assert_allclose(mel[0].numpy(), d["pace1.3_shift50__mel"], atol=1e-5, rtol=0)


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(1, 148, (1, n)).astype(np.int32)


@pytest.fixture(scope="module")
def published() -> tuple[Reference, FastPitch]:
    ref = seeded(PUBLISHED, seed=1234)
    params = converter.from_state_dict(ref.state_dict(), PUBLISHED)
    return ref, FastPitch(PUBLISHED, params)


@pytest.mark.parametrize("n_tokens, pace, shift", [(97, 1.0, 0.0), (31, 1.3, 50.0)])
def test_matches_reference_at_published_size(published, n_tokens: int, pace: float, shift: float):
    """FastPitch 1.1 at the published size (46M parameters, seeded random weights) vs our reference.

    Tolerance basis: both sides are fp32; each output sums 3·384 to 3·1536 products per
    convolution through 6 + 6 post-LN layers, and the two frameworks order those sums differently,
    so they agree to ~1e-6 (measured ≤ 3e-6); 1e-4 is NVIDIA parity's bar with ample headroom.
    Durations must be identical: the texts are checked to have no d/pace within 1e-4 of a .5
    rounding boundary, where last-bit differences in exp() could legitimately flip a frame.
    """
    ref, model = published
    ids = _ids(np.random.default_rng(n_tokens), n_tokens)
    with torch.inference_mode():
        mel, _, dur, _, _ = ref.infer(torch.tensor(ids), pace=pace,
                                             pitch_transform=pitch_transformation(shift=shift))
    frac = (dur.numpy() / np.float32(pace)) % 1.0
    assert np.abs(frac - 0.5).min() > 1e-4, "pick another seed: a duration sits on a rounding boundary"
    out = model.infer(ids, pace=pace, pitch_shift=shift)
    np.testing.assert_array_equal(_np(out.durations), (dur / pace + 0.5).long().numpy())
    assert out.mel.shape == mel.shape
    np.testing.assert_allclose(_np(out.mel), mel.numpy(), atol=1e-4, rtol=0)


def test_fastpitch_1_0_without_energy_matches_reference(tmp_path: Path):
    """A FastPitch 1.0 file (2021 trainer: `module.` keys, config with `max_seq_len`, no energy)."""
    raw = checkpoints.fastpitch_1_0_config()
    cfg = FastPitchConfig.from_dict(raw)
    assert not cfg.energy_conditioning
    ref = seeded(cfg, seed=7)
    path = checkpoints.fastpitch_legacy2021_checkpoint(tmp_path / "fp10.pt", raw, ref.state_dict())
    model = jaxtts.load_fastpitch(path)
    assert model.config == cfg
    ids = _ids(np.random.default_rng(0), 40)
    with torch.inference_mode():
        mel, _, dur, _, energy = ref.infer(torch.tensor(ids))
    out = model.infer(ids)
    assert energy is None and out.energy is None
    np.testing.assert_array_equal(_np(out.durations), (dur + 0.5).long().numpy())
    np.testing.assert_allclose(_np(out.mel), mel.numpy(), atol=1e-4, rtol=0)
    with pytest.raises(InputError, match="no energy"):
        model.infer(ids, energy_tgt=np.zeros(ids.shape, np.float32))


def test_several_pitch_formants_match_reference(tmp_path: Path, golden: Path):
    """`pitch_conditioning_formants` > 1 (a 1.1 option): pitch is (B, F, N), targets likewise.
    Saved as the current trainer does, aligner weights included, and loaded by the public API."""
    raw = {**load_torch(golden / LAYOUTS["current"])["config"], "pitch_conditioning_formants": 2}
    cfg = FastPitchConfig.from_dict(raw)
    ref = seeded(cfg, seed=3)
    sd = ref.state_dict() | checkpoints.fastpitch_aligner(raw)
    model = jaxtts.load_fastpitch(checkpoints.fastpitch_checkpoint(tmp_path / "f2.pt", raw, sd))
    ids = _ids(np.random.default_rng(1), 23)
    tgt = np.random.default_rng(2).standard_normal((1, 2, 23)).astype(np.float32)
    with torch.inference_mode():
        mel, _, _, pitch, _ = ref.infer(torch.tensor(ids), speaker=2, pitch_tgt=torch.from_numpy(tgt))
    out = model.infer(ids, speaker=2, pitch_tgt=tgt)
    assert out.pitch.shape == (1, 2, 23)
    np.testing.assert_allclose(_np(out.pitch), pitch.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(_np(out.mel), mel.numpy(), atol=1e-4, rtol=0)


# --- padding invariance --------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["params", "inference_params"])
def test_any_bucket_and_batch_gives_the_batch_one_result(small: FastPitch, golden: Path, form: str):
    """Each golden text, batched with the others (and an empty dummy row) in three token/frame
    buckets with its own pace and speaker, equals its batch-1 result within 1e-5; with the
    checkpoint's kernels and with their Winograd form (`prepare`) alike."""
    params = getattr(small, form)
    ids = [_golden(golden, t)["ids"] for t in TEXTS]
    paces = np.array([1.0, 1.3, 0.8, 1.1, 1.0, 1.0], np.float32)
    speakers = np.array([1, 0, 2, 1, 1, 0], np.int32)
    alone = [small.infer(i[None], pace=float(p), speaker=int(s), pitch_shift=20.0)
             for i, p, s in zip(ids, paces, speakers)]
    longest = max(len(i) for i in ids)
    frames = max(int(a.mel_lens[0]) for a in alone)
    for n_tokens, n_frames in [(longest, frames), (256, bucket_length(frames, 64)), (512, 2048)]:
        batch = np.zeros((len(ids) + 1, n_tokens), np.int32)  # last row: empty, length 0
        for row, i in enumerate(ids):
            batch[row, : len(i)] = i
        lengths = np.array([len(i) for i in ids] + [0], np.int32)
        e = small.encode(params, batch, lengths, Controls(pace=paces, speaker=speakers, pitch_shift=20.0))
        mel, mel_lens = small.decode(params, e.enc, e.reps, n_frames=n_frames)
        assert int(mel_lens[-1]) == 0 and np.isfinite(_np(mel)).all()
        for row, (i, a) in enumerate(zip(ids, alone)):
            t, n = int(a.mel_lens[0]), len(i)
            assert int(mel_lens[row]) == t
            np.testing.assert_array_equal(_np(e.reps)[row, :n], _np(a.durations)[0])
            np.testing.assert_allclose(_np(mel)[row, :, :t], _np(a.mel)[0], atol=1e-5, rtol=0)
            assert not _np(mel)[row, :, t:].any()
            np.testing.assert_allclose(_np(e.pitch)[row, 0, :n], _np(a.pitch)[0], atol=1e-5, rtol=0)
            np.testing.assert_allclose(_np(e.energy)[row, :n], _np(a.energy)[0], atol=1e-5, rtol=0)


def test_infer_batches_like_single_items(small: FastPitch, golden: Path):
    ids = [_golden(golden, t)["ids"] for t in ("short", "punct")]
    batch = np.zeros((2, 64), np.int64)
    for row, i in enumerate(ids):
        batch[row, : len(i)] = i
    out = small.infer(batch, speaker=1)  # lengths from the trailing padding, as NVIDIA's mask
    assert out.mel.shape == (2, 80, int(out.mel_lens.max())) and out.durations.shape == (2, len(ids[1]))
    for row, i in enumerate(ids):
        one = small.infer(i[None], speaker=1)
        t = int(one.mel_lens[0])
        np.testing.assert_allclose(_np(out.mel)[row, :, :t], _np(one.mel)[0], atol=1e-5, rtol=0)


@pytest.mark.parametrize("n, step, bucket", [(1, 32, 32), (32, 32, 32), (33, 32, 64), (133, 32, 160),
                                             (551, 64, 576), (1283, 64, 1408)])
def test_bucket_lengths_pad_at_most_an_eighth_past_eight_steps(n: int, step: int, bucket: int):
    assert bucket_length(n, step) == bucket


# --- controls ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def punct(small: FastPitch, golden: Path) -> tuple[np.ndarray, dict]:
    d = _golden(golden, "punct")
    return d["ids"][None], d


def test_pace_divides_durations_before_rounding_half_up(small: FastPitch, punct):
    ids, d = punct
    out = small.infer(ids, speaker=1, pace=2.0)
    np.testing.assert_array_equal(_np(out.durations)[0], np.floor(d["base__dur_pred"] / 2.0 + 0.5))
    assert int(out.mel_lens[0]) == int(_np(out.durations).sum())


def test_a_value_for_every_token_computes_what_one_value_computes(small: FastPitch, punct):
    """Per-token pace and pitch shift, all equal, give the scalar controls' outputs bit for bit."""
    ids, _ = punct
    one = small.infer(ids, speaker=1, pace=1.3, pitch_shift=50.0)
    each = small.infer(ids, speaker=1, pace=np.full(ids.shape, 1.3), pitch_shift=np.full(ids.shape, 50.0))
    for a, b in zip(one, each):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_per_token_pace_and_pitch_change_only_their_span(small: FastPitch, punct):
    """A span of tokens at half pace lasts twice its predicted frames (NVIDIA's rounding), a span
    raised by 40 Hz gets 40 / std more normalised pitch; every other token is as without them."""
    ids, d = punct
    n = ids.shape[1]
    span = (np.arange(n) >= n // 3) & (np.arange(n) < 2 * n // 3)
    base = small.infer(ids, speaker=1)
    out = small.infer(ids, speaker=1, pace=np.where(span, 0.5, 1.0)[None], pitch_shift=np.where(span, 40.0, 0.0)[None])
    dur, base_dur = _np(out.durations)[0], _np(base.durations)[0]
    np.testing.assert_array_equal(dur[~span], base_dur[~span])
    np.testing.assert_array_equal(dur[span], np.floor(d["base__dur_pred"][span] / 0.5 + 0.5))
    assert dur[span].sum() > base_dur[span].sum()
    std = float(np.asarray(small.params["pitch_std"])[0])
    shift = _np(out.pitch)[0] - _np(base.pitch)[0]
    np.testing.assert_allclose(shift[span], 40.0 / std, rtol=1e-5)
    np.testing.assert_array_equal(shift[~span], 0.0)


def test_per_token_controls_recompile_for_no_value(small: FastPitch, punct):
    ids, _ = punct
    small.infer(ids, speaker=1, pace=np.full(ids.shape, 1.1))
    before = small.encode._cache_size()
    for value in (0.7, 1.9):
        small.infer(ids, speaker=1, pace=np.full(ids.shape, value), pitch_shift=np.full(ids.shape, value * 10))
    assert small.encode._cache_size() == before


def test_duration_target_replaces_the_prediction(small: FastPitch, punct):
    ids, _ = punct
    dur = np.arange(ids.shape[1]) % 4
    out = small.infer(ids, speaker=1, dur_tgt=dur[None])
    np.testing.assert_array_equal(_np(out.durations)[0], dur)
    halved = small.infer(ids, speaker=1, dur_tgt=dur[None], pace=2.0)
    np.testing.assert_array_equal(_np(halved.durations)[0], np.floor(dur / 2 + 0.5))


def test_max_duration_clamps_predictions(small: FastPitch, punct):
    ids, _ = punct
    assert _np(small.infer(ids, speaker=1, max_duration=2.0).durations).max() <= 2


def test_pitch_and_energy_targets_condition_the_decoder(small: FastPitch, punct):
    ids, _ = punct
    base = small.infer(ids, speaker=1)
    flat = small.infer(ids, speaker=1, pitch_flatten=True)
    zero_tgt = small.infer(ids, speaker=1, pitch_tgt=np.zeros(ids.shape, np.float32))
    np.testing.assert_allclose(_np(zero_tgt.mel), _np(flat.mel), atol=1e-6)
    np.testing.assert_allclose(_np(zero_tgt.pitch), _np(base.pitch))  # the prediction is still returned
    fed_back = small.infer(ids, speaker=1, energy_tgt=_np(base.energy))
    np.testing.assert_allclose(_np(fed_back.mel), _np(base.mel), atol=1e-6)
    assert np.abs(_np(small.infer(ids, speaker=1, energy_tgt=np.ones(ids.shape)).mel) - _np(base.mel)).max() > 1e-3


def test_pitch_transform_function_composes_after_the_builtin_controls(small: FastPitch, punct):
    ids, _ = punct
    twice = small.infer(ids, speaker=1, pitch_transform=lambda p, n, mean, std: p * 2.0)
    np.testing.assert_allclose(_np(twice.mel), _np(small.infer(ids, speaker=1, pitch_amplify=2.0).mel), atol=1e-6)
    both = small.infer(ids, speaker=1, pitch_shift=50.0, pitch_transform=lambda p, n, mean, std: p * 0.0)
    np.testing.assert_allclose(_np(both.pitch), 0.0)


def test_speakers_differ_and_can_vary_per_item(small: FastPitch, punct):
    ids, _ = punct
    a, b = (small.infer(ids, speaker=s) for s in (0, 2))
    assert np.abs(_np(a.mel)[..., :10] - _np(b.mel)[..., :10]).max() > 1e-3
    both = small.infer(np.repeat(ids, 2, axis=0), speaker=np.array([0, 2]))
    np.testing.assert_allclose(_np(both.mel)[1, :, : int(b.mel_lens[0])], _np(b.mel)[0], atol=1e-5)


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, match", [
    ({"ids": [[5, 148, 7]]}, r"ids\[0, 1\] = 148 is not a symbol id.*0\.\.147"),
    ({"ids": [[5, -1, 7]]}, "is not a symbol id"),
    ({"ids": np.zeros((1, 0), np.int32)}, "empty sequence"),
    ({"ids": [[0, 0, 0]]}, "empty sequence"),
    ({"ids": [[5, 6, 7]], "lengths": [0]}, "empty sequence"),
    ({"ids": np.zeros((0, 4), np.int32)}, "empty batch"),
    ({"speaker": 3}, r"speaker 3 is out of range.*0\.\.2"),
    ({"speaker": -1}, "out of range"),
    ({"speaker": 1.5}, "out of range"),
    ({"pace": 0.0}, "pace must be between 0.1 and 10"),
    ({"pace": 1e-9}, "pace must be between 0.1 and 10"),
    ({"pace": float("nan")}, "pace must be finite"),
    ({"ids": [5, 6, 7]}, r"\(batch, tokens\).*ids\[None\]"),
    ({"ids": np.ones((1, 2, 3), np.int32)}, r"\(batch, tokens\)"),
    ({"ids": [[5.0, 6.0]]}, "must be integers"),
    ({"lengths": [2, 2]}, "lengths must be 1 integers"),
    ({"lengths": [9]}, "exceeds the 3 ids"),
    ({"dur_tgt": np.ones((1, 4))}, r"dur_tgt must have shape \(1, 3\)"),
    ({"dur_tgt": -np.ones((1, 3))}, "dur_tgt must be >= 0"),
    ({"pitch_tgt": np.ones((3,))}, "pitch_tgt must have shape"),
    ({"pace": [1.0, 2.0]}, "pace must be a number or one per text"),
    ({"pace": np.ones((1, 4))}, r"pace must be .* or one per token \(1, 3\), got shape \(1, 4\)"),
    ({"pace": [[1.0, 0.05, 1.0]]}, "pace must be between 0.1 and 10"),
    ({"max_duration": np.ones((1, 3))}, r"max_duration must be a number or one per text \(1\), got"),
    ({"pitch_transform": "up"}, "pitch_transform must be a function"),
])
def test_bad_input_is_a_clear_error(small: FastPitch, kwargs: dict, match: str):
    kwargs = {"ids": [[5, 6, 7]], **kwargs}
    with pytest.raises(InputError, match=match):
        small.infer(kwargs.pop("ids"), **kwargs)


def test_single_speaker_model_has_only_speaker_zero(published):
    _, model = published
    with pytest.raises(InputError, match=r"speakers 0\.\.0"):
        model.infer([[5, 6, 7]], speaker=1)


# --- config --------------------------------------------------------------------------------------


def test_text_setup_comes_from_train_setup(tmp_path: Path, golden: Path):
    """How the training text was encoded (ARPAbet share, added spaces) is read from train_setup and
    survives conversion; files without train_setup were trained on ARPAbet, as published."""
    raw = load_torch(golden / LAYOUTS["current"])["config"]
    sd = seeded(FastPitchConfig.from_dict(raw), seed=3).state_dict() | checkpoints.fastpitch_aligner(raw)
    setup = {"p_arpabet": 0.0, "append_space_to_text": True}
    letters = checkpoints.fastpitch_checkpoint(tmp_path / "letters.pt", raw, sd, train_setup=setup)
    for model in (jaxtts.load_fastpitch(letters), jaxtts.load_fastpitch(convert(letters, tmp_path / "converted"))):
        assert (model.text.p_arpabet, model.text.prepend_space_to_text, model.text.append_space_to_text) == (
            0.0, False, True)
    published = jaxtts.load_fastpitch(golden / LAYOUTS["legacy2021"])  # no train_setup
    text = published.text
    assert (text.p_arpabet, text.prepend_space_to_text, text.append_space_to_text) == (1.0, False, False)
    assert not set(TEXT_SETUP) & set(published.config.nvidia_config())  # NVIDIA's constructor takes none of them



def test_symbol_table_comes_from_train_setup(tmp_path: Path, golden: Path):
    """A model trained on NVIDIA's english_basic_lowercase keeps that table through conversion; one
    on a table the front-end cannot write (Mandarin) loads for ids, with a warning that says so."""
    raw = load_torch(golden / LAYOUTS["current"])["config"]
    table = SYMBOL_SETS["english_basic_lowercase"]
    lower = raw | {"n_symbols": len(table)}
    sd = seeded(FastPitchConfig.from_dict(lower), seed=3).state_dict() | checkpoints.fastpitch_aligner(lower)
    path = checkpoints.fastpitch_checkpoint(tmp_path / "lower.pt", lower, sd,
                                            train_setup={"symbol_set": "english_basic_lowercase"})
    for model in (jaxtts.load_fastpitch(path), jaxtts.load_fastpitch(convert(path, tmp_path / "converted"))):
        assert model.text.symbols == table
    assert jaxtts.load_fastpitch(golden / LAYOUTS["current"]).text.symbols is None  # english_basic
    mandarin = checkpoints.fastpitch_checkpoint(tmp_path / "zh.pt", lower, sd,
                                               train_setup={"symbol_set": "english_mandarin_basic"})
    with pytest.warns(UserWarning, match="symbol_set 'english_mandarin_basic'.*give this model ids"):
        assert jaxtts.load_fastpitch(mandarin).text.symbols is None


def test_config_round_trips_and_names_what_is_missing(golden: Path):
    raw = load_torch(golden / LAYOUTS["current"])["config"]
    cfg = FastPitchConfig.from_dict(raw)
    assert FastPitchConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.n_speakers == 3 and cfg.energy_conditioning and cfg.pitch_conditioning_formants == 1
    with pytest.raises(ConfigError, match="missing in_fft_n_layers"):
        FastPitchConfig.from_dict({k: v for k, v in raw.items() if k != "in_fft_n_layers"})
    with pytest.raises(ConfigError, match="unknown bogus"):
        FastPitchConfig.from_dict({**raw, "bogus": 1})
    no_energy = {k: v for k, v in raw.items() if not k.startswith("energy_predictor")}
    with pytest.raises(ConfigError, match="energy_conditioning is on but energy_predictor_kernel_size"):
        FastPitchConfig.from_dict(no_energy)
    with pytest.raises(ConfigError, match="p_arpabet 1.5 must be a share between 0 and 1"):
        TextEncoder.from_dict({"p_arpabet": 1.5})
    with pytest.raises(ConfigError, match="2 symbols for a model with 148 input ids"):
        TextEncoder.from_dict({"symbols": ["_", "a"]}).check(cfg.n_symbols)


# --- conversion ----------------------------------------------------------------------------------


def _flat(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        out.update(_flat(v, f"{prefix}{k}/") if isinstance(v, dict) else {prefix + k: np.asarray(v)})
    return out


def test_both_layouts_convert_to_the_same_params(golden: Path):
    (cfg_a, a), (cfg_b, b) = (converter.from_checkpoint(load_torch(golden / p), golden / p) for p in LAYOUTS.values())
    assert cfg_a == cfg_b
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys() and all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert all(v.dtype == np.float32 for v in fa.values())


def test_params_map_back_to_nvidias_state_dict(golden: Path):
    ckpt = load_torch(golden / LAYOUTS["current"])
    cfg, params = converter.from_checkpoint(ckpt, golden / LAYOUTS["current"])
    sd = converter.to_state_dict(params, cfg)
    want = {k: v for k, v in ckpt["state_dict"].items() if not k.startswith("attention.")}
    assert list(sd) == list(want)
    assert all(np.array_equal(sd[k], want[k].numpy()) for k in sd)
    Reference(cfg).load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)


def test_ema_weights_when_asked(tmp_path: Path, golden: Path):
    ckpt = load_torch(golden / LAYOUTS["current"])
    ema = {k: v + 1 for k, v in ckpt["state_dict"].items()}
    path = checkpoints.fastpitch_checkpoint(tmp_path / "ema.pt", ckpt["config"], ckpt["state_dict"], ema_state_dict=ema)
    _, plain = converter.from_checkpoint(load_torch(path), path)
    _, averaged = converter.from_checkpoint(load_torch(path), path, ema=True)
    np.testing.assert_array_equal(averaged["proj"]["bias"], plain["proj"]["bias"] + 1)
    for p in (golden / LAYOUTS["legacy2021"], golden / LAYOUTS["current"]):  # ema_state_dict None / absent
        with pytest.raises(CheckpointError, match="no EMA weights"):
            converter.from_checkpoint(load_torch(p), p, ema=True)


def test_public_loader_reads_the_file_and_a_converted_directory(tmp_path: Path, golden: Path):
    path = golden / LAYOUTS["legacy2021"]
    ids = _golden(golden, "short")["ids"][None]
    direct = jaxtts.load_fastpitch(path).infer(ids, speaker=1)
    converted = jaxtts.load_fastpitch(convert(path, tmp_path / "fp")).infer(ids, speaker=1)
    np.testing.assert_array_equal(_np(direct.mel), _np(converted.mel))


def test_mismatched_weights_are_reported_together(tmp_path: Path, golden: Path):
    ckpt = load_torch(golden / LAYOUTS["current"])
    sd = dict(ckpt["state_dict"])
    del sd["proj.bias"]
    sd["decoder.layers.0.extra.weight"] = torch.zeros(3)
    sd["pitch_emb.weight"] = torch.zeros(64, 1, 5)
    with pytest.raises(CheckpointError) as e:
        converter.from_checkpoint({**ckpt, "state_dict": sd}, Path("bad.pt"))
    for part in ("missing (1): proj/bias", "unexpected (1): decoder.layers.0.extra.weight",
                 "wrong shape (1): pitch_emb/kernel: checkpoint (5, 1, 64) vs model (3, 1, 64)"):
        assert part in str(e.value)


def test_foreign_files_are_refused(golden: Path):
    hifigan = golden / "hifigan_small" / "hifigan_gen_checkpoint_10000.pt"
    with pytest.raises(CheckpointError, match="HiFi-GAN generator checkpoint, not FastPitch"):
        converter.from_checkpoint(load_torch(hifigan), hifigan)
    with pytest.raises(CheckpointError, match="hifigan"):
        jaxtts.load_fastpitch(hifigan)
    ckpt = load_torch(golden / LAYOUTS["current"])
    with pytest.raises(CheckpointError, match="no model config"):
        converter.from_checkpoint({k: v for k, v in ckpt.items() if k != "config"}, Path("x.pt"))
