"""The training data pipeline: features against NVIDIA's own pipeline (../shared/golden/training),
dataset readers and `prepare` on small generated datasets.

Tolerances. NVIDIA computes the FastPitch STFT as a float32 convolution with a DFT basis, and
HiFi-GAN's with float32 `torch.stft`; ours is float64, rounded once. The two differ by float32
rounding: on the linear mel scale about 1e-6 of a frame's loudest band (bound: 1e-5). In the log
domain that is invisible except in bands near the 1e-5 clamp, where a relative error is an
absolute one (bound: 1e-3 FastPitch, 5e-3 HiFi-GAN; mean over all bins 1e-5). pYIN is librosa's
own, so pitch in Hz, its voicing, the normalised pitch, the prior and the ids must match exactly.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from jaxtts import cli
from jaxtts.errors import DataError, TextError
from jaxtts.text import to_ids
from jaxtts.train import data, features
from jaxtts.train.features import AudioConfig

CLIPS = ["LJ001-0008", "LJ001-0002", "LJ001-0013", "LJ001-0011", "LJ001-0030", "LJ001-0001"]
SHORT = CLIPS[:2]  # pYIN is slow: the exact pitch checks use the two shortest clips
NVIDIA_PITCH_MEAN, NVIDIA_PITCH_STD = 214.72203, 65.72038  # train.py's defaults, as the goldens use


# ---------------------------------------------------------------- against NVIDIA's pipeline

@pytest.fixture(scope="module")
def golden_data(golden: Path) -> Path:
    return golden / "training"


@pytest.fixture(scope="module")
def wavs(shared: Path) -> Path:
    return shared / "data" / "ljspeech" / "wavs"


def fastpitch_golden(golden_data: Path, clip: str):
    return np.load(golden_data / "fastpitch_data" / f"{clip}.npz")


def assert_mel_close(ours: np.ndarray, theirs: np.ndarray, max_log: float) -> None:
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    linear = np.abs(np.exp(ours) - np.exp(theirs)) / np.exp(theirs).max(axis=0, keepdims=True)
    assert linear.max() < 1e-5
    assert np.abs(ours - theirs).max() < max_log
    assert np.abs(ours - theirs).mean() < 1e-5


@pytest.mark.parametrize("clip", CLIPS)
def test_fastpitch_mel_is_nvidias_tacotron_stft(golden_data, wavs, clip):
    g = fastpitch_golden(golden_data, clip)
    audio = features.load_audio(wavs / f"{clip}.wav")
    assert audio.size == g["n_samples"]
    mel = features.fastpitch_mel(audio)
    assert mel.shape == (80, 1 + audio.size // 256)
    assert_mel_close(mel, g["mel"], max_log=1e-3)


@pytest.mark.parametrize("clip", CLIPS)
def test_hifigan_mels_are_nvidias(golden_data, wavs, clip):
    g = np.load(golden_data / "hifigan_data" / f"{clip}.npz")
    audio = features.load_audio(wavs / f"{clip}.wav")
    loss_config = dataclasses.replace(AudioConfig(), mel_fmax=None)
    mel = features.hifigan_mel(audio)
    assert mel.shape == (80, audio.size // 256)
    assert_mel_close(mel, g["mel"], max_log=5e-3)
    assert_mel_close(features.hifigan_mel(audio, loss_config), g["mel_loss"], max_log=5e-3)
    normalized = features.peak_normalize(audio)  # MelDataset's pre-training input
    assert np.abs(audio).max() == g["dataset_peak"]
    assert_mel_close(features.hifigan_mel(normalized), g["dataset_mel"], max_log=5e-3)
    assert_mel_close(features.hifigan_mel(normalized, loss_config), g["dataset_mel_loss"], max_log=5e-3)


def test_the_mel_check_tells_the_two_variants_apart(golden_data, wavs):
    """HiFi-GAN's frames sit half a hop later than FastPitch's: the check above must reject them."""
    clip = SHORT[0]
    audio = features.load_audio(wavs / f"{clip}.wav")
    with pytest.raises(AssertionError):
        assert_mel_close(features.hifigan_mel(audio), fastpitch_golden(golden_data, clip)["mel"][:, :-1], max_log=5e-3)


def test_hifigan_mel_runs_in_jax_for_a_loss_on_generated_audio(golden_data, wavs):
    import jax
    import jax.numpy as jnp

    clip = SHORT[0]
    g = np.load(golden_data / "hifigan_data" / f"{clip}.npz")
    audio = features.load_audio(wavs / f"{clip}.wav")
    mel = jax.jit(lambda a: features.hifigan_mel(a, xp=jnp))(jnp.stack([audio, audio]))  # batched, traced
    assert mel.shape == (2, 80, audio.size // 256)
    assert_mel_close(np.asarray(mel[1]), g["mel"], max_log=5e-3)
    assert_mel_close(np.asarray(features.fastpitch_mel(audio, xp=jnp)), fastpitch_golden(golden_data, clip)["mel"],
                     max_log=5e-3)


@pytest.mark.parametrize("clip", CLIPS)
def test_energy_is_the_l2_norm_of_each_log_mel_frame(golden_data, wavs, clip):
    g = fastpitch_golden(golden_data, clip)
    np.testing.assert_allclose(features.energy(g["mel"]), g["energy"], rtol=1e-6)  # the formula: float32 sums
    mel = features.fastpitch_mel(features.load_audio(wavs / f"{clip}.wav"))
    np.testing.assert_allclose(features.energy(mel), g["energy"], rtol=1e-5)  # plus the mel's rounding


@pytest.mark.parametrize("clip", SHORT)
def test_pyin_pitch_is_nvidias_estimate_pitch_exactly(golden_data, wavs, clip):
    g = fastpitch_golden(golden_data, clip)
    pitch = features.estimate_pitch(features.load_audio(wavs / f"{clip}.wav"), g["mel"].shape[1])
    np.testing.assert_array_equal(pitch, g["pitch_hz"][0])


def pyin_like_transition(n_bins: int, width: int) -> np.ndarray:
    import librosa

    local = librosa.sequence.transition_local(n_bins, width, window="triangle", wrap=False)
    return np.kron(librosa.sequence.transition_loop(2, 0.99), local)


@pytest.mark.parametrize("case", ["random", "sparse observations", "jumps only zero transitions allow",
                                  "an unreachable state"])
def test_sparse_viterbi_is_librosas_viterbi(case):
    import librosa

    rng = np.random.default_rng(7)
    transition = pyin_like_transition(40, 7)
    n_states, n_steps = transition.shape[0], 60
    prob = rng.uniform(size=(n_states, n_steps))
    if case == "sparse observations":
        prob[rng.uniform(size=prob.shape) < 0.9] = 0.0
    if case == "jumps only zero transitions allow":  # one state per frame, each far outside the last one's band
        prob = np.zeros((n_states, n_steps))
        prob[(np.arange(n_steps) * 17) % n_states, np.arange(n_steps)] = 1.0
    if case == "an unreachable state":
        transition[:, 3] = 0.0
        transition /= transition.sum(axis=1, keepdims=True)
    expected = librosa.sequence.viterbi(prob, transition)
    np.testing.assert_array_equal(features.sparse_viterbi(prob, transition), expected)
    p_init = rng.dirichlet(np.ones(n_states))
    np.testing.assert_array_equal(features.sparse_viterbi(prob[None], transition, p_init=p_init),
                                  librosa.sequence.viterbi(prob[None], transition, p_init=p_init))


def test_pyin_with_the_sparse_decoder_is_librosas_pyin():
    import librosa

    audio = np.concatenate([voice(0.3, 150.0), np.zeros(2000, np.float32), voice(0.3, 240.0, seed=1)])
    expected, _, _ = librosa.pyin(audio, fmin=features.PITCH_FMIN, fmax=features.PITCH_FMAX, frame_length=1024)
    n_frames = 1 + audio.size // 256
    np.testing.assert_array_equal(features.estimate_pitch(audio, n_frames), np.nan_to_num(expected).astype(np.float32))


@pytest.mark.parametrize("clip", CLIPS)
def test_pitch_normalization_keeps_unvoiced_frames_at_zero(golden_data, clip):
    g = fastpitch_golden(golden_data, clip)
    normalized = features.normalize_pitch(g["pitch_hz"][0], NVIDIA_PITCH_MEAN, NVIDIA_PITCH_STD)
    np.testing.assert_array_equal(normalized, g["pitch"][0])
    assert np.array_equal(normalized == 0, g["pitch_hz"][0] == 0)


@pytest.mark.parametrize("clip", CLIPS)
def test_attention_prior_is_dles_interpolated_one_and_the_exact_one(golden_data, clip):
    g = fastpitch_golden(golden_data, clip)
    shape = g["attn_prior"].shape
    np.testing.assert_allclose(features.attention_prior(*shape), g["attn_prior"], rtol=0, atol=1e-12)
    exact = features.attention_prior(*shape, interpolate=False)
    np.testing.assert_allclose(exact, g["attn_prior_exact"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("clip", CLIPS)
def test_grapheme_ids_are_nvidias(golden_data, clip):
    """p_arpabet 0 needs no pronouncing dictionary, so the default encoder must give NVIDIA's ids exactly;
    the ARPAbet ids depend on the cmudict file, so those are taken from the goldens (next test)."""
    g = fastpitch_golden(golden_data, clip)
    assert to_ids(str(g["text"]), arpabet=False) == g["ids_p_arpabet_0"].tolist()


def test_prepared_examples_are_dles_dataset_items(golden_data, shared, tmp_path):
    """prepare + PreparedDataset end to end, from an NVIDIA filelist with a speaker column, give what
    DLE's TTSDataset[i] gave: ids (through the encoder), mel, normalised pitch, energy, speaker, prior."""
    goldens = {clip: fastpitch_golden(golden_data, clip) for clip in SHORT}
    by_text = {str(g["text"]): g["ids"].tolist() for g in goldens.values()}
    filelist = tmp_path / "train.txt"
    filelist.write_text("".join(f"wavs/{c}.wav|pitch/{c}.pt|{g['text']}|{int(g['speaker'])}\n"
                                for c, g in goldens.items()))
    report = data.prepare(filelist, tmp_path / "out", root=shared / "data" / "ljspeech", encode=by_text.__getitem__,
                          workers=1, progress=False)
    assert (report.prepared, report.computed, report.skipped) == (2, 2, {})
    dataset = data.PreparedDataset(tmp_path / "out", pitch_mean=NVIDIA_PITCH_MEAN, pitch_std=NVIDIA_PITCH_STD)
    assert dataset.n_speakers == 1 + max(int(g["speaker"]) for g in goldens.values())
    for example in (dataset[0], dataset[1]):
        g = goldens[example.id]
        np.testing.assert_array_equal(example.ids, g["ids"])
        assert example.speaker == int(g["speaker"])
        assert_mel_close(example.mel, g["mel"], max_log=1e-3)
        np.testing.assert_array_equal(example.pitch, g["pitch"])
        np.testing.assert_allclose(example.energy, g["energy"], rtol=1e-5)
        np.testing.assert_allclose(example.attn_prior, g["attn_prior"], rtol=0, atol=1e-12)
    voiced = np.concatenate([g["pitch_hz"][0][g["pitch_hz"][0] > 0] for g in goldens.values()]).astype(np.float64)
    assert report.pitch_mean == pytest.approx(voiced.mean(), rel=1e-9)
    assert report.pitch_std == pytest.approx(voiced.std(), rel=1e-6)
    own = data.PreparedDataset(tmp_path / "out")[0]  # default: normalised with the dataset's own statistics
    np.testing.assert_allclose(own.pitch, features.normalize_pitch(goldens[own.id]["pitch_hz"], report.pitch_mean,
                                                                   report.pitch_std))


# ---------------------------------------------------------------- readers and prepare on generated data

RATE = 22050


def voice(seconds: float = 0.5, f0: float = 180.0, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """A vowel-like test signal: a few harmonics of a gliding f0 under a smooth envelope."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.sin(np.pi * t / t[-1]) ** 2
    return (0.3 * wave + 1e-3 * np.random.default_rng(seed).standard_normal(t.size)).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, audio, rate, subtype="PCM_16")


def ljspeech(root: Path, names: list[str], lines: list[str] | None = None) -> Path:
    for i, name in enumerate(names):
        write_wav(root / "wavs" / f"{name}.wav", voice(0.4 + 0.1 * i, seed=i))
    (root / "metadata.csv").write_text("\n".join(lines or [f"{n}|Text {n}.|Text number {i}." for i, n in
                                                           enumerate(names)]) + "\n")
    return root


def prepare(src: Path, out: Path, **kw):
    kw.setdefault("pitch_method", "praat")  # fast; pYIN itself is proven against the goldens above
    kw.setdefault("workers", 1)
    return data.prepare(src, out, progress=False, **kw)


def test_ljspeech_layout_reads_the_normalized_column(tmp_path):
    root = ljspeech(tmp_path, ["a1", "a2"], ["a1|Dr. Who, 1st.|Doctor Who, first.", "a2|Two.|"])
    assert data.read_dataset(root) == [data.Utterance("a1", root / "wavs" / "a1.wav", "Doctor Who, first."),
                                       data.Utterance("a2", root / "wavs" / "a2.wav", "Two.")]


def test_filelists_with_and_without_pitch_and_speaker_columns(tmp_path):
    listed = tmp_path / "lists" / "train.txt"
    listed.parent.mkdir()
    listed.write_text("wavs/x.wav|pitch/x.pt|Hello there.|3\nwavs/y.wav|Plain text.\n\nwavs/z.wav|Spoken.|1\n")
    assert data.read_dataset(listed, root=tmp_path) == [
        data.Utterance("x", tmp_path / "wavs/x.wav", "Hello there.", 3),
        data.Utterance("y", tmp_path / "wavs/y.wav", "Plain text.", 0),
        data.Utterance("z", tmp_path / "wavs/z.wav", "Spoken.", 1)]
    assert data.read_dataset(listed)[0].wav == listed.parent / "wavs/x.wav"  # default root: the filelist's directory


@pytest.mark.parametrize("content, message", [
    ("wavs/x.wav|pitch/x.pt|text|0|extra\n", r"train.txt:1: expected wavs/x.wav"),
    ("wavs/x.wav|text|zero\n", r"train.txt:1: speaker 'zero' is not a number"),
    ("wavs/x.wav|one\nother/x.wav|two\n", r"two utterances are named x"),
    ("\n", r"lists no utterances"),
])
def test_malformed_filelists_are_refused_with_the_line(tmp_path, content, message):
    (tmp_path / "train.txt").write_text(content)
    with pytest.raises(DataError, match=message):
        data.read_dataset(tmp_path / "train.txt")


def test_missing_dataset_names_both_layouts(tmp_path):
    with pytest.raises(DataError, match="metadata.csv"):
        data.read_dataset(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        data.read_dataset(tmp_path / "nope.txt")


def test_prepare_writes_features_and_an_index(tmp_path):
    root = ljspeech(tmp_path / "ds", ["u1", "u2", "u3"])
    report = prepare(root, tmp_path / "out")
    assert (report.prepared, report.computed, report.cached, report.skipped) == (3, 3, 0, {})
    index = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert [u["id"] for u in index["utterances"]] == ["u1", "u2", "u3"]
    for u in index["utterances"]:
        assert u["ids"] == to_ids(u["text"])
        audio = features.load_audio(u["wav"])
        with np.load(tmp_path / "out" / "features" / f"{u['id']}.npz") as item:
            np.testing.assert_array_equal(item["mel"], features.fastpitch_mel(audio))
            assert item["pitch_hz"].shape == (u["n_frames"],) == (1 + audio.size // 256,)
            np.testing.assert_array_equal(item["energy"], features.energy(item["mel"]))
            voiced = item["pitch_hz"][item["pitch_hz"] > 0]
            assert voiced.size > 0.5 * u["n_frames"] and np.all(np.abs(voiced - 180) < 30)
    assert 150 < report.pitch_mean < 210 and index["pitch_mean"] == report.pitch_mean


def test_bad_silent_and_unspeakable_items_are_reported_and_skipped(tmp_path):
    root = ljspeech(tmp_path / "ds", ["good", "silent", "stereo", "corrupt", "mute", "noisy"])
    write_wav(root / "wavs" / "silent.wav", np.zeros(RATE // 2, np.float32))
    write_wav(root / "wavs" / "stereo.wav", np.stack([voice(), voice()], axis=1))
    (root / "wavs" / "corrupt.wav").write_bytes(b"RIFF\x00\x00junk" * 10)
    (root / "metadata.csv").write_text("good|Fine.|Fine.\nsilent|Quiet.|Quiet.\nstereo|Two.|Two.\n"
                                       "corrupt|Broken.|Broken.\nmissing|Gone.|Gone.\nmute|...|...\n"
                                       "noisy|Noisy.|Noisy.\n")
    write_wav(root / "wavs" / "noisy.wav", np.random.default_rng(1).uniform(-1, 1, RATE).astype(np.float32))
    report = prepare(root, tmp_path / "out")
    assert report.prepared == 2  # good, noisy (noise is not a file error)
    assert set(report.skipped) == {"silent", "stereo", "corrupt", "missing", "mute"}
    assert "silent" in report.skipped["silent"]
    assert "2 channels" in report.skipped["stereo"] and "mono" in report.skipped["stereo"]
    assert "cannot read" in report.skipped["corrupt"] and "cannot read" in report.skipped["missing"]
    assert report.skipped["mute"].startswith("text: nothing speakable")
    index = json.loads((tmp_path / "out" / "dataset.json").read_text())
    assert index["skipped"] == report.skipped and [u["id"] for u in index["utterances"]] == ["good", "noisy"]
    assert sorted(p.name for p in (tmp_path / "out" / "features").iterdir()) == ["good.npz", "noisy.npz"]


def test_wrong_sample_rate_is_refused_before_any_work_or_resampled(tmp_path):
    root = ljspeech(tmp_path / "ds", ["ok", "low"])
    write_wav(root / "wavs" / "low.wav", voice(rate=16000), rate=16000)
    with pytest.raises(DataError, match=r"low.wav is at 16000 Hz.*--resample"):
        prepare(root, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    report = prepare(root, tmp_path / "out", resample=True)
    assert report.prepared == 2 and report.computed == 2
    resampled = features.load_audio(root / "wavs" / "low.wav", resample=True)
    assert abs(resampled.size - 0.5 * RATE) <= 1
    prepared = data.PreparedDataset(tmp_path / "out")
    assert prepared[1].mel.shape == (80, 1 + resampled.size // 256)
    np.testing.assert_array_equal(prepared.audio(1), resampled)
    np.testing.assert_array_equal(features.fastpitch_mel(prepared.audio(1)), prepared[1].mel)
    with pytest.raises(DataError, match="16000 Hz.*--resample"):
        features.load_audio(root / "wavs" / "low.wav")


def test_a_second_run_computes_nothing_and_touches_no_feature_file(tmp_path):
    root = ljspeech(tmp_path / "ds", ["r1", "r2"])
    prepare(root, tmp_path / "out")
    store = tmp_path / "out" / "features"
    stamps = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
    report = prepare(root, tmp_path / "out")
    assert (report.prepared, report.computed, report.cached) == (2, 0, 2)
    assert {p.name: p.stat().st_mtime_ns for p in store.iterdir()} == stamps


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    root = ljspeech(tmp_path / "ds", ["i1", "i2", "i3", "i4"])
    real = features.estimate_pitch
    calls = []

    def interrupted(audio, n_frames, config, method):
        calls.append(n_frames)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C while the third item is being computed
        return real(audio, n_frames, config, method)

    monkeypatch.setattr(features, "estimate_pitch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare(root, tmp_path / "out")
    store = tmp_path / "out" / "features"
    assert sorted(p.name for p in store.iterdir()) == ["i1.npz", "i2.npz"]  # whole files only, no temporaries
    assert not (tmp_path / "out" / "dataset.json").exists()
    (store / ".i3.npz.jaxtts-tmp-4194399-x1y2").write_bytes(b"half")  # what a SIGKILLed atomic_write leaves
    monkeypatch.setattr(features, "estimate_pitch", real)
    report = prepare(root, tmp_path / "out")
    assert (report.prepared, report.computed, report.cached) == (4, 2, 2)
    assert sorted(p.name for p in store.iterdir()) == ["i1.npz", "i2.npz", "i3.npz", "i4.npz"]


def test_worker_processes_give_the_same_features(tmp_path):
    root = ljspeech(tmp_path / "ds", ["p1", "p2", "p3"])
    prepare(root, tmp_path / "one", workers=1)
    report = prepare(root, tmp_path / "two", workers=2)
    assert report.computed == 3
    for name in ("p1", "p2", "p3"):
        with np.load(tmp_path / "one" / "features" / f"{name}.npz") as a, \
                np.load(tmp_path / "two" / "features" / f"{name}.npz") as b:
            for key in ("mel", "pitch_hz", "energy"):
                np.testing.assert_array_equal(a[key], b[key])


def test_other_settings_are_refused_on_a_prepared_directory(tmp_path):
    root = ljspeech(tmp_path / "ds", ["s1"])
    prepare(root, tmp_path / "out")
    with pytest.raises(DataError, match=r"pitch_method 'praat' \(now 'pyin'\)"):
        prepare(root, tmp_path / "out", pitch_method="pyin")
    with pytest.raises(DataError, match="unknown pitch method"):
        prepare(root, tmp_path / "other", pitch_method="crepe")


def test_the_encoder_is_pluggable_and_its_failures_skip_the_line(tmp_path):
    root = ljspeech(tmp_path / "ds", ["e1", "e2"], ["e1|Fail me.|Fail me.", "e2|Keep me.|Keep me."])

    def encode(text: str) -> list[int]:
        if text.startswith("Fail"):
            raise TextError("cannot encode this one")
        return [5, 6, 7]

    report = prepare(root, tmp_path / "out", encode=encode)
    assert report.skipped == {"e1": "text: cannot encode this one"}
    example = data.PreparedDataset(tmp_path / "out")[0]
    assert example.id == "e2" and example.ids.tolist() == [5, 6, 7] and example.attn_prior.shape == (
        example.mel.shape[1], 3)


def test_a_directory_that_is_not_prepared_says_how_to_prepare_it(tmp_path):
    with pytest.raises(DataError, match="jaxtts prepare"):
        data.PreparedDataset(tmp_path)


def test_sixteen_bit_pcm_reads_as_int16_over_32768(tmp_path):
    samples = np.array([-32768, -1, 0, 1, 12345, 32767], dtype=np.int16)
    soundfile.write(tmp_path / "x.wav", samples, RATE, subtype="PCM_16")
    np.testing.assert_array_equal(features.load_audio(tmp_path / "x.wav"), samples.astype(np.float32) / 32768.0)


def test_cli_prepare_reports_and_refuses_in_one_line(tmp_path, capsys):
    root = ljspeech(tmp_path / "ds", ["c1", "c2"])
    (root / "metadata.csv").write_text("c1|One.|One.\nc2|Two.|Two.\ngone|Three.|Three.\n")
    assert cli.main(["prepare", str(root), str(tmp_path / "out"), "--pitch", "praat", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "2 utterances (2 computed, 0 already there), 1 skipped" in captured.out
    assert "skipped gone: audio: cannot read" in captured.err
    write_wav(root / "wavs" / "c2.wav", voice(rate=44100), rate=44100)
    assert cli.main(["prepare", str(root), str(tmp_path / "new"), "--pitch", "praat", "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("jaxtts: error:") and "--resample" in err and "\n" not in err
