"""NeMo `.nemo` archives: NeMo's own outputs reproduced, and archives read without trusting them.

Golden data: ../shared/golden/nemo (archives written by NeMo 3.0.0's `save_to()`, outputs from its
`generate_spectrogram()` / `convert_spectrogram_to_audio()`; see its README). The safety tests
build their own small archives and need nothing from ../shared.
"""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import jax
import numpy as np
import pytest
import torch
import yaml

import converters
import jaxtts
from converters import hifigan as hifigan_converter
from converters import nemo
from jaxtts import checkpoint, engine, text
from jaxtts.errors import CheckpointError, ConfigError
from jaxtts.models.hifigan import HiFiGANConfig
from jaxtts.text import Lexicon

TOL = 1e-4


@pytest.fixture(scope="module")
def outputs(golden: Path):
    return np.load(golden / "nemo" / "outputs.npz")


@pytest.fixture(scope="module")
def nemo_fastpitch(golden: Path) -> jaxtts.FastPitch:
    return jaxtts.load_fastpitch(golden / "nemo" / "fastpitch_small.nemo")


@pytest.fixture(scope="module")
def nemo_hifigan(golden: Path) -> jaxtts.HiFiGAN:
    return jaxtts.load_hifigan(golden / "nemo" / "hifigan_small.nemo")


def _max_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    return float(np.abs(a - b).max())


# ---- parity with NeMo ---------------------------------------------------------------------------

def test_hifigan_archive_reproduces_nemo_audio(nemo_hifigan, outputs):
    config = nemo_hifigan.config
    assert config.resblock == "1" and config.resblock_kernel_sizes == (3, 7, 11)  # NeMo's `resblock: 1`, an int
    assert _max_err(nemo_hifigan(outputs["hifigan_mel_random"]), outputs["hifigan_audio_random"]) <= TOL
    for i in range(3):
        assert _max_err(nemo_hifigan(outputs[f"mel_{i}"]), outputs[f"audio_{i}"]) <= TOL


def test_fastpitch_archive_reads_nemos_vocabulary_and_pitch_statistics(nemo_fastpitch, outputs):
    config, params, text = nemo_fastpitch.config, nemo_fastpitch.params, nemo_fastpitch.text
    assert (config.n_symbols, config.padding_idx) == (len(outputs["vocab_tokens"]), int(outputs["pad_id"])) == (114, 112)
    assert list(text.symbols) == [str(t) for t in outputs["vocab_tokens"]]  # rebuilt from the tokenizer's flags
    assert text.prepend_space_to_text and text.append_space_to_text  # pad_with_space
    assert not config.energy_conditioning and config.n_speakers == 1
    # NeMo leaves its pitch_mean/pitch_std buffers at zero; the real values come from the config.
    np.testing.assert_allclose([params["pitch_mean"][0], params["pitch_std"][0]], [212.35873413085938, 68.52806091308594])


@pytest.mark.parametrize("i", range(3))
def test_fastpitch_archive_reproduces_nemo_durations_pitch_and_mel(nemo_fastpitch, outputs, i):
    out = nemo_fastpitch.infer(outputs[f"tokens_{i}"])
    np.testing.assert_array_equal(out.durations, np.floor(outputs[f"durs_pred_{i}"] + 0.5))
    np.testing.assert_array_equal(out.mel_lens, outputs[f"mel_len_{i}"])
    assert _max_err(out.pitch, outputs[f"pitch_pred_{i}"]) <= TOL
    assert _max_err(out.mel, outputs[f"mel_{i}"]) <= TOL
    assert _max_err(nemo_fastpitch.infer(outputs[f"tokens_{i}"], pace=1.3).mel, outputs[f"mel_pace1.3_{i}"]) <= TOL


@pytest.mark.parametrize("i", range(3))
def test_text_to_audio_through_the_engine_is_nemos(nemo_fastpitch, nemo_hifigan, outputs, i):
    """Raw text in NeMo's vocabulary, read with the archive's own dictionary ("Nvidia's" is EH0 N V
    IH1 D IY0 AH0 Z there): the engine's tokens are NeMo's `parse`, and its audio NeMo's."""
    synth = engine.Synthesizer(nemo_fastpitch, nemo_hifigan, compilation_cache=False)
    text = str(outputs["texts"][i])
    assert list(synth._sentence_ids(text)) == [outputs[f"tokens_{i}"][0].tolist()]
    assert _max_err(synth.synthesize(text), outputs[f"audio_{i}"][0]) <= TOL


def test_fastpitch_archive_batched_with_nemos_pad_id_equals_batch_one(nemo_fastpitch, outputs):
    """Rows right-padded with id 112 give each text's batch-1 output (NeMo's own batch does not: see README)."""
    out = nemo_fastpitch.infer(outputs["batch_tokens"])
    for i in range(3):
        n = int(outputs[f"mel_len_{i}"][0])
        assert int(out.mel_lens[i]) == n
        assert _max_err(out.mel[i : i + 1, :, :n], outputs[f"mel_{i}"]) <= TOL


def test_the_archives_dictionary_and_heteronyms_read_the_words(nemo_fastpitch):
    """NeMo's G2P rules over its own files: a listed heteronym and an ambiguous word are spelled,
    a plural the dictionary lacks is its stem + Z; our CMUdict reads all three otherwise."""
    lexicon = nemo_fastpitch.text.lexicon
    assert len(lexicon.entries) == 125_847 and len(lexicon.heteronyms) == 204
    assert lexicon.pronounce("read") is None and lexicon.pronounce("of") is None  # heteronym; two readings
    assert lexicon.pronounce("nvidia's") == "EH0 N V IH1 D IY0 AH0 Z"
    assert text.to_phonemes("Nvidia's", lexicon=lexicon) == "{EH0 N V IH1 D IY0 AH0 Z}"
    assert text.to_phonemes("Nvidia's") == "{EH1 N V IH1 D IY0 AH0 Z}"


def test_a_lexicon_with_unknown_phones_is_named():
    bad = Lexicon("HELLO  HH AH0 L OW9\n", [])
    with pytest.raises(ConfigError, match="line 1.*unknown phones OW9"):
        text.to_ids("hello", lexicon=bad)


def test_nemo_fastpitch_converts_with_its_lexicon(golden, tmp_path, nemo_fastpitch):
    dst = checkpoint.convert(golden / "nemo" / "fastpitch_small.nemo", tmp_path / "fastpitch")
    loaded = jaxtts.load_fastpitch(dst)
    assert loaded.config == nemo_fastpitch.config and loaded.text == nemo_fastpitch.text
    assert loaded.text.lexicon.to_dict() == nemo_fastpitch.text.lexicon.to_dict()


def test_nemo_archive_converts_once_into_a_directory(golden, tmp_path, nemo_hifigan):
    dst = checkpoint.convert(golden / "nemo" / "hifigan_small.nemo", tmp_path / "hifigan")
    model, config, params, _ = checkpoint.load(dst)
    assert model == "hifigan" and config == nemo_hifigan.config
    assert jax.tree.all(jax.tree.map(np.array_equal, params, nemo_hifigan.params))


def test_a_gzipped_copy_of_a_nemo_archive_loads_the_same(golden, tmp_path, nemo_hifigan):
    gz = tmp_path / "hifigan_small.nemo"
    with tarfile.open(golden / "nemo" / "hifigan_small.nemo") as src, tarfile.open(gz, "w:gz") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m) if m.isfile() else None)
    _, config, params, _ = nemo.from_archive(gz)
    assert config == nemo_hifigan.config
    assert jax.tree.all(jax.tree.map(np.array_equal, params, nemo_hifigan.params))


def test_options_meant_for_other_formats_are_refused(golden):
    with pytest.raises(CheckpointError, match="NeMo archive.*ema cannot apply"):
        jaxtts.load_fastpitch(golden / "nemo" / "fastpitch_small.nemo", ema=True)


def test_the_wrong_kind_is_named(golden):
    with pytest.raises(CheckpointError, match="is a hifigan checkpoint, not a fastpitch"):
        converters.convert_in_memory(golden / "nemo" / "hifigan_small.nemo", expect="fastpitch")


# ---- reading archives without trusting them (generated archives, no ../shared needed) -----------

TINY = HiFiGANConfig((2, 2), (4, 4), 8, "1", (3,), ((1, 3, 5),))


def _weights_bytes() -> bytes:
    rng = np.random.default_rng(0)
    params = jax.tree.map(lambda s: rng.standard_normal(s.shape).astype(np.float32), hifigan_converter.param_shapes(TINY))
    sd = {f"generator.{k}": torch.from_numpy(v) for k, v in hifigan_converter.to_state_dict(params, TINY).items()}
    sd["mpd.discriminators.0.conv_post.weight"] = torch.zeros(1, 4, 3, 1)  # training-only, dropped
    buf = io.BytesIO()
    torch.save(sd, buf)
    return buf.getvalue()


CONFIG_YAML = yaml.safe_dump({
    "generator": {"_target_": "nemo.collections.tts.modules.hifigan_modules.Generator", "resblock": 1,
                  "upsample_rates": [2, 2], "upsample_kernel_sizes": [4, 4], "upsample_initial_channel": 8,
                  "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3, 5]]},
    "preprocessor": {"n_window_stride": 4},
    "target": "nemo.collections.tts.models.hifigan.HifiGanModel",
}).encode()
WEIGHTS = _weights_bytes()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def _archive(path: Path, members, mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


VALID = [_file("./model_config.yaml", CONFIG_YAML), _file("./model_weights.ckpt", WEIGHTS)]


def test_a_generated_archive_loads_plain_and_gzipped(tmp_path):
    plain = nemo.from_archive(_archive(tmp_path / "a.nemo", VALID))
    gzipped = nemo.from_archive(_archive(tmp_path / "b.nemo", VALID, "w:gz"))
    assert plain.model == gzipped.model == "hifigan" and plain.config == gzipped.config == TINY


def test_hostile_members_beside_the_model_are_never_extracted(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = [
        _file(f"../{outside.name}/evil", b"x"),
        _file(str(outside / "absolute_evil"), b"x"),
        _link("link", str(outside / "linked_evil")),
        _link("hard", "/etc/passwd", tarfile.LNKTYPE),
        _file("link/through_link", b"x"),
    ]
    (tmp_path / "dir").mkdir()
    archive = _archive(tmp_path / "dir" / "hostile.nemo", hostile + VALID)
    before = sorted(tmp_path.rglob("*"))
    assert nemo.from_archive(archive)[0] == "hifigan"
    assert sorted(tmp_path.rglob("*")) == before  # nothing written anywhere under tmp_path
    assert not Path("/evil").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize("members, error", [
    ([_file("./model_config.yaml", CONFIG_YAML), _link("./model_weights.ckpt", "/etc/passwd")], "not a regular file"),
    ([_file("./model_config.yaml", CONFIG_YAML), _link("./model_weights.ckpt", "model_config.yaml", tarfile.LNKTYPE)],
     "not a regular file"),
    ([_file("../model_config.yaml", CONFIG_YAML), _file("./model_weights.ckpt", WEIGHTS)], "unsafe path"),
    ([_file("/model_config.yaml", CONFIG_YAML), _file("./model_weights.ckpt", WEIGHTS)], "unsafe path"),
    ([_file("./model_weights.ckpt", WEIGHTS)], "not a NeMo model archive: no model_config.yaml"),
    ([_file("./model_config.yaml", b"!!python/object/apply:os.system ['touch pwned']"), VALID[1]], "not valid YAML"),
    ([_file("./model_config.yaml", b"- a list"), VALID[1]], "holds a list, not a model config"),
    ([VALID[0], _file("./model_weights.ckpt", WEIGHTS[: len(WEIGHTS) // 2])], r"bad.nemo \(model_weights.ckpt\) is (truncated|not a PyTorch checkpoint)"),
])
def test_a_tampered_archive_is_refused_with_a_clear_error(tmp_path, members, error):
    with pytest.raises(CheckpointError, match=error):
        nemo.from_archive(_archive(tmp_path / "bad.nemo", members))
    assert not Path("pwned").exists()


def test_a_file_that_is_not_a_tar_is_refused(tmp_path):
    (tmp_path / "x.nemo").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(CheckpointError, match="not a readable .nemo archive"):
        nemo.from_archive(tmp_path / "x.nemo")


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    buf = io.BytesIO()
    torch.save({"generator.conv_pre.weight": torch.zeros(1), "hook": print}, buf)
    # Refused by the shared weights_only loader, whose message names the archive and the member.
    with pytest.raises(CheckpointError, match=r"x.nemo \(model_weights.ckpt\) (refused|is not a PyTorch checkpoint)"):
        nemo.from_archive(_archive(tmp_path / "x.nemo", [VALID[0], _file("./model_weights.ckpt", buf.getvalue())]))


# ---- NeMo FastPitch configs beyond the golden one ---------------------------------------------

def _with_config(golden: Path, dst: Path, edit) -> Path:
    """The golden FastPitch archive with `edit(config)` applied to its model_config.yaml, without
    the G2P files (and the config's references to them)."""
    with tarfile.open(golden / "nemo" / "fastpitch_small.nemo") as tar:
        cfg = yaml.safe_load(tar.extractfile("./model_config.yaml"))
        weights = tar.extractfile("./model_weights.ckpt").read()
    for key in ("phoneme_dict", "heteronyms"):
        del cfg["text_tokenizer"]["g2p"][key]
    edit(cfg)
    return _archive(dst, [_file("./model_config.yaml", yaml.safe_dump(cfg).encode()), _file("./model_weights.ckpt", weights)])


def test_an_archive_without_its_g2p_files_falls_back_to_cmudict_with_a_warning(golden, tmp_path):
    dangling = {"phoneme_dict": "nemo:0123_cmudict-0.7b_nv22.10"}
    stripped = _with_config(golden, tmp_path / "stripped.nemo", lambda c: c["text_tokenizer"]["g2p"].update(dangling))
    with pytest.warns(UserWarning, match="lacks its G2P files 0123_cmudict-0.7b_nv22.10"):
        text = nemo.from_archive(stripped).text
    assert text.lexicon is None and text.symbols is not None


def test_padding_id_follows_nemos_tokenizer_layout(golden, tmp_path):
    """BaseTokenizer appends <pad>, then <blank> if add_blank_at is set, then <oov> to the symbols."""
    with_blank = _with_config(golden, tmp_path / "blank.nemo", lambda c: c["text_tokenizer"].update(add_blank_at="last"))
    assert nemo.from_archive(with_blank).config.padding_idx == 114 - 3
    explicit = _with_config(golden, tmp_path / "old.nemo", lambda c: c["input_fft"].update(padding_idx=0))
    assert nemo.from_archive(explicit).config.padding_idx == 0  # configs from before the tokenizer set it


@pytest.mark.parametrize("edit, named", [
    (lambda c: c.update(min_token_duration=1), "min_token_duration: 1"),
    (lambda c: c.update(speaker_emb_condition_prosody=True), "speaker_emb_condition_prosody"),
    (lambda c: c.update(speaker_encoder={"_target_": "x"}), "speaker_encoder"),
    (lambda c: c["output_fft"].update(condition_types=["layernorm"]), r"output_fft.condition_types: \['layernorm'\]"),
], ids=["min_token_duration", "prosody_conditioning", "speaker_encoder", "layernorm_conditioning"])
def test_nemo_features_the_dle_model_lacks_are_refused(golden, tmp_path, edit, named):
    with pytest.raises(CheckpointError, match=f"features that jaxtts does not implement.*{named}"):
        nemo.from_archive(_with_config(golden, tmp_path / "x.nemo", edit))
