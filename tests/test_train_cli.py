"""`jaxtts train` as a user runs it: a process killed with SIGKILL and resumed ends where an
uninterrupted run ends, and the validation loss is logged. Tiny models on a tiny prepared set of
generated voice-like clips in one coarse bucket (one step shape to compile), so the runs take
seconds after compiling."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test_train_data import ljspeech, prepare

ROOT = Path(__file__).resolve().parents[1]
ONE_BUCKET = {"token_step": 32, "frame_step": 128}  # every tiny clip below pads to one shape


def _tiny_fastpitch() -> dict:
    from jaxtts.train.fastpitch_loop import SMALL

    fields = {}
    for side in ("in", "out"):
        fields.update({f"{side}_fft_n_layers": 1, f"{side}_fft_n_heads": 1, f"{side}_fft_d_head": 8,
                       f"{side}_fft_conv1d_filter_size": 32, f"{side}_fft_output_size": 16})
    for p in ("dur", "pitch", "energy"):
        fields[f"{p}_predictor_filter_size"] = 16
    return dataclasses.replace(SMALL, symbols_embedding_dim=16, **fields).to_dict()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(training set, held-out set, tiny FastPitch config file)."""
    tmp = tmp_path_factory.mktemp("train_cli")
    names = [f"u{i}" for i in range(8)]
    prepare(ljspeech(tmp / "ds", names), tmp / "train")
    prepare(ljspeech(tmp / "ds_val", ["v0", "v1", "v2"]), tmp / "val")
    config = tmp / "tiny.json"
    config.write_text(json.dumps(_tiny_fastpitch()))
    return tmp / "train", tmp / "val", config


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "jaxtts", "train", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _metrics(run: Path) -> list[dict]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in rows]


def _checkpoint(run: Path, step: int) -> list[np.ndarray]:
    import jax
    import orbax.checkpoint as ocp

    with ocp.StandardCheckpointer() as c:
        state = c.restore((run / "checkpoints" / str(step) / "default").resolve())
    return [np.asarray(x) for x in jax.tree.leaves(state)]


def test_fastpitch_killed_with_sigkill_resumes_exactly(prepared, tmp_path):
    """SIGKILL right after the step-10 checkpoint, then `--resume`: the metrics, the final
    checkpoint (params, LAMB state, EMA, dropout key, step) and the exports equal those of a run
    that was never stopped (the data order and KL weight follow from the step)."""
    data, _, config = prepared
    flags = ["fastpitch", "--data", str(data), "--config", str(config), "--steps", "40", "--batch-size", "2",
             "--checkpoint-every", "10", "--log-every", "1", "--warmup-steps", "5", "--ema-decay", "0.9",
             "--val", str(prepared[1]), "--token-step", "32", "--frame-step", "128"]
    whole = subprocess.run(_cli(*flags, "--out", str(tmp_path / "whole")), env=_env(), capture_output=True,
                           text=True, timeout=1200)
    assert whole.returncode == 0, whole.stderr[-3000:]

    run = tmp_path / "killed"
    proc = subprocess.Popen(_cli(*flags, "--out", str(run)), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 1200
        while not (run / "checkpoints" / "10").is_dir() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (run / "checkpoints" / "40").exists()
    resumed = subprocess.run(_cli(*flags, "--out", str(run), "--resume"), env=_env(), capture_output=True,
                             text=True, timeout=1200)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    assert _metrics(run) == _metrics(tmp_path / "whole")
    assert [r["step"] for r in _metrics(run)] == list(range(1, 41))
    assert [r["step"] for r in _metrics(run) if "val_loss" in r] == [10, 20, 30, 40]
    for a, b in zip(_checkpoint(tmp_path / "whole", 40), _checkpoint(run, 40), strict=True):
        np.testing.assert_array_equal(a, b)
    from jaxtts import checkpoint

    a, b = checkpoint.load(tmp_path / "whole" / "model"), checkpoint.load(run / "model")
    import jax

    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not [p.name for p in (run / "checkpoints").iterdir() if "tmp" in p.name]  # no half-written checkpoint


def test_fastpitch_validation_loss_is_logged_at_checkpoints_and_leaves_training_alone(prepared, tmp_path):
    import jax

    from jaxtts.models.fastpitch import FastPitchConfig
    from jaxtts.train import data as D
    from jaxtts.train import fastpitch as tf
    from jaxtts.train import fastpitch_loop as loop

    train_dir, val_dir, config_file = prepared
    train_set = D.PreparedDataset(train_dir)
    val = D.PreparedDataset(val_dir, pitch_mean=train_set.pitch_mean, pitch_std=train_set.pitch_std)
    config = FastPitchConfig.from_dict(json.loads(config_file.read_text()))
    run = loop.RunConfig(steps=4, batch_size=2, log_every=3, checkpoint_every=2, **ONE_BUCKET)
    with_val = loop.train(train_set, tmp_path / "val", config, run, val=val)
    plain = loop.train(train_set, tmp_path / "plain", config, run)

    rows = {r["step"]: r for r in _metrics(tmp_path / "val")}
    assert sorted(rows) == [2, 3, 4]  # step 2 is logged for its validation
    terms = {"val_loss", "val_mel_loss", "val_duration_predictor_loss", "val_pitch_loss", "val_energy_loss",
             "val_attn_loss", "val_kl_loss"}
    assert terms <= set(rows[2]) and terms <= set(rows[4]) and not terms & set(rows[3])
    assert rows[2]["val_loss"] != rows[4]["val_loss"]
    plain_rows = {r["step"]: r for r in _metrics(tmp_path / "plain")}
    for step in (3, 4):  # validating changes nothing the run computes
        assert {k: v for k, v in rows[step].items() if not k.startswith("val_")} == plain_rows[step]
    for a, b in zip(jax.tree.leaves(with_val.params), jax.tree.leaves(plain.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    # The logged values are the held-out set's loss with dropout off (one batch of all three here).
    whole = tf.pad_batch(loop.collate([val[i] for i in range(len(val))]))
    epoch = rows[4]["epoch"]
    loss, meta = tf.fastpitch_loss(tf.FastPitchTraining(config).apply({"params": with_val.params}, whole, True),
                                   whole, run.loss, run.loss.kl_weight(epoch))
    got = loop.validate(with_val.params, val, config, dataclasses.replace(run, batch_size=len(val)), epoch)
    assert got["val_loss"] == pytest.approx(float(loss), rel=1e-6)
    assert got["val_mel_loss"] == pytest.approx(float(meta["mel_loss"]), rel=1e-6)
    assert rows[4]["val_mel_loss"] > 0


def test_teacher_forced_mels_follow_the_recording_and_are_cached(prepared, tmp_path):
    """FastPitch driven by each recording (MAS durations, recorded pitch and energy) gives one mel
    frame per recorded frame; it is the model's own forward on that utterance alone, computed once,
    and HiFi-GAN's fine-tuning batches cut the audio under the mel frames they take."""
    from jaxtts.models.fastpitch import FastPitchConfig
    from jaxtts.train import data as D
    from jaxtts.train import fastpitch as tf
    from jaxtts.train import fastpitch_loop as loop
    from jaxtts.train import hifigan as T

    train_dir, _, config_file = prepared
    config = FastPitchConfig.from_dict(json.loads(config_file.read_text()))
    dataset = D.PreparedDataset(train_dir)
    import jax

    params = {**tf.init_params(config, jax.random.key(1234)),  # as `jaxtts train fastpitch` stores them
              "pitch_mean": np.full((1,), dataset.pitch_mean, np.float32),
              "pitch_std": np.full((1,), dataset.pitch_std, np.float32)}
    state = loop.train(dataset, tmp_path / "fp", config, loop.RunConfig(steps=1, batch_size=4, **ONE_BUCKET),
                       init_params=params)
    ckpt = loop.export_pt(state, config, tmp_path / "FastPitch_checkpoint_1.pt")
    mels = loop.teacher_forced_mels(ckpt, train_dir, tmp_path / "cache")
    assert [m.shape for m in mels] == [dataset[i].mel.shape for i in range(len(dataset))]
    alone = tf.FastPitchTraining(config).apply({"params": state.params}, loop.collate([dataset[3]]), True).mel_out
    np.testing.assert_allclose(mels[3], np.asarray(alone)[0].T, rtol=0, atol=1e-5 * np.abs(mels[3]).max())
    cached = sorted((tmp_path / "cache").glob("*/*.npy"))
    assert len(cached) == len(dataset)
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = loop.teacher_forced_mels(ckpt, train_dir, tmp_path / "cache")
    assert [p.stat().st_mtime_ns for p in cached] == stamps
    assert all(np.array_equal(a, b) for a, b in zip(mels, again))

    train = T.TrainConfig(batch_size=2, segment_size=2048)  # 8 frames of 256 samples
    audios = [dataset.audio(i) for i in range(len(dataset))]
    y, x = T.sample_batch(audios, np.array([0, 5]), np.random.default_rng(0), train, mels)
    assert x.shape == (2, 80, 8) and y.shape == (2, 2048)
    for row, i in enumerate((0, 5)):
        start = next(s for s in range(mels[i].shape[1] - 7) if np.array_equal(mels[i][:, s:s + 8], x[row]))
        np.testing.assert_array_equal(y[row], audios[i][start * 256:start * 256 + 2048])
