"""FastPitch 1.1 training maths against NVIDIA's own training step (../shared/golden/training).

The golden step is DLE's `FastPitch.forward` + `FastPitchLoss` + train.py's KL term, run in float32
on three real LJSpeech clips with the small random-weight checkpoint, dropout off. Tolerances, and
why (the golden README's float64 probe of the same step measures float32's own error):
- MAS (`attn_hard`, durations), `pitch_tgt` and the decoder mask: exactly equal.
- Other forward outputs: within 1e-5 of each tensor's largest magnitude. The probe moves mel_out
  by 4.2e-6 (of values ~2) just from float32 rounding order; torch and XLA order sums differently.
- Losses: 1e-5 relative (the probe: ≤ 1.9e-7).
- Gradients: relative L2 error per tensor ≤ 1e-4. The probe's worst tensor (the aligner's first key
  convolution, reached through two softmaxes and the CTC recursion) moves by 2.6e-5 in float32.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

CLIP_ORDER = ("text_padded", "input_lengths", "mel_padded", "output_lengths", "pitch_padded", "energy_padded",
              "speaker", "attn_prior")
EXACT = ("dec_mask", "attn_hard", "attn_hard_dur", "pitch_tgt")


def _batch(d: np.lib.npyio.NpzFile):
    from jaxtts.train.fastpitch import Batch

    arrays = [d[f"batch__{k}"] for k in CLIP_ORDER]
    return Batch(*(a.astype(np.int32) if a.dtype == np.int64 else a for a in arrays))


@pytest.fixture(scope="module")
def golden_step(golden: Path) -> dict:
    import converters.fastpitch as cfp
    from converters.load import load_torch

    from jaxtts.train import fastpitch as tf

    path = golden / "fastpitch_small" / "FastPitch_checkpoint_10.pt"
    ckpt = load_torch(path)
    config, _ = cfp.from_checkpoint(ckpt, path)
    params = tf.params_from_state_dict(ckpt["state_dict"], config)
    step = np.load(golden / "training" / "fastpitch_small_step.npz")
    grads = np.load(golden / "training" / "fastpitch_small_grads.npz")
    batch = _batch(step)
    losses = tf.LossConfig(**{k: step[f"scale__{k}"].item() for k in (
        "dur_predictor_loss_scale", "pitch_predictor_loss_scale", "energy_predictor_loss_scale", "attn_loss_scale",
        "kl_loss_start_epoch", "kl_loss_warmup_epochs", "kl_loss_weight")})
    kl_weight = losses.kl_weight(int(step["kl_epoch"]))
    module = tf.FastPitchTraining(config, padding_invariant=False)  # NVIDIA's padding behaviour

    def loss_fn(p):
        out = module.apply({"params": p}, batch)
        loss, meta = tf.fastpitch_loss(out, batch, losses, kl_weight)
        return loss, (out, meta)

    (loss, (out, meta)), g = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))(params)
    return dict(config=config, params=params, batch=batch, step=step, grads=grads, losses=losses,
                kl_weight=kl_weight, loss=loss, out=out, meta=meta, g=g)


def test_kl_weight_is_train_sh_schedule_at_epoch_50(golden_step):
    assert golden_step["kl_weight"] == pytest.approx(float(golden_step["step"]["kl_weight"]))
    losses = golden_step["losses"]
    assert losses.kl_weight(0) == 0.0 and losses.kl_weight(100) == losses.kl_weight(500) == 1.0


def test_forward_outputs_match_nvidia(golden_step):
    step = golden_step["step"]
    for name, ours in golden_step["out"]._asdict().items():
        ref, ours = step[f"out__{name}"], np.asarray(ours)
        assert ours.shape == ref.shape, name
        if name in EXACT:
            np.testing.assert_array_equal(ours, ref, err_msg=name)
        else:
            err = np.abs(ours.astype(np.float64) - ref).max() / np.abs(ref).max()
            assert err <= 1e-5, f"{name}: {err:.2e} of its largest value"


def test_durations_sum_to_mel_lengths(golden_step):
    dur = np.asarray(golden_step["out"].attn_hard_dur)
    np.testing.assert_array_equal(dur.sum(axis=1), golden_step["step"]["batch__output_lengths"])


def test_every_loss_term_matches_nvidia(golden_step):
    step, meta = golden_step["step"], golden_step["meta"]
    names = [k[len("meta__"):] for k in step.files if k.startswith("meta__")]
    assert set(names) | {"binarization_loss"} == set(meta)
    for name in names:
        assert float(meta[name]) == pytest.approx(float(step[f"meta__{name}"]), rel=1e-5), name
    assert float(meta["binarization_loss"]) == pytest.approx(float(step["binarization_loss"]), rel=1e-5)
    assert float(golden_step["loss"]) == pytest.approx(float(step["loss_total"]), rel=1e-5)


def test_gradients_of_every_parameter_match_nvidia(golden_step):
    import converters.fastpitch as cfp
    from converters.load import get

    grads, g = golden_step["grads"], golden_step["g"]
    table = cfp.rename_table(golden_step["config"], aligner=True)
    assert len(grads.files) == 94
    for name in grads.files:
        path, reverse = table[name]
        ours = np.asarray(get(g, path), np.float64)
        ours = ours.T if reverse else ours
        ref = grads[name]
        assert ours.shape == ref.shape, name
        norm = np.linalg.norm(ref)
        if norm == 0:  # attention.attn_proj: never read, so no gradient
            assert not ours.any(), name
            continue
        err = np.linalg.norm(ours - ref) / norm
        assert err <= 1e-4, f"{name}: relative L2 error {err:.2e}"


def test_mas_is_nvidia_mas_on_its_own_soft_attention(golden: Path):
    from jaxtts.train.fastpitch import mas_width1

    d = np.load(golden / "training" / "fastpitch_small_step.npz")
    with np.errstate(divide="ignore"):
        log_attn = np.log(d["out__attn_soft"][:, 0])
    hard = jax.jit(mas_width1)(log_attn, d["batch__input_lengths"].astype(np.int32),
                               d["batch__output_lengths"].astype(np.int32))
    np.testing.assert_array_equal(np.asarray(hard), d["out__attn_hard"][:, 0])
    np.testing.assert_array_equal(np.asarray(hard), d["b_mas"][:, 0])


def _mas_reference(log_attn: np.ndarray) -> np.ndarray:
    """NVIDIA's mas_width1, written out plainly: Viterbi over (frame, token), diagonal on ties."""
    t, n = log_attn.shape
    log_p = log_attn.astype(np.float32).copy()
    log_p[0, 1:] = -np.inf
    for i in range(1, t):
        for j in range(n):
            best = max(log_p[i - 1, j - 1] if j > 0 else -np.inf, log_p[i - 1, j])
            log_p[i, j] = np.float32(log_p[i, j] + np.float32(best))
    opt, j = np.zeros_like(log_p), n - 1
    for i in range(t - 1, 0, -1):
        opt[i, j] = 1
        if j > 0 and log_p[i - 1, j - 1] >= log_p[i - 1, j]:
            j -= 1
    opt[0, j] = 1
    return opt


def test_mas_matches_reference_on_random_maps_with_ties_and_padding():
    from jaxtts.train.fastpitch import mas_width1

    rng = np.random.default_rng(0)
    b, t, n = 6, 40, 12
    # Quantised scores make ties common; lengths cover T == N and a one-frame item.
    log_attn = (np.round(rng.normal(size=(b, t, n)) * 2) / 2).astype(np.float32)
    text_lens = np.array([12, 5, 12, 1, 7, 3], np.int32)
    mel_lens = np.array([40, 17, 12, 9, 7, 3], np.int32)
    hard = np.asarray(jax.jit(mas_width1)(log_attn, text_lens, mel_lens))
    for k in range(b):
        want = np.zeros((t, n), np.float32)
        want[:mel_lens[k], :text_lens[k]] = _mas_reference(log_attn[k, :mel_lens[k], :text_lens[k]])
        np.testing.assert_array_equal(hard[k], want, err_msg=f"item {k}")


def test_prefix_sum_rounds_like_torch_cumsum():
    import torch

    from jaxtts.train.fastpitch import prefix_sum

    x = (np.random.default_rng(1).normal(size=(4, 3, 900)) * 3).astype(np.float32)
    x[..., ::7] = 0  # unvoiced frames
    want = torch.cumsum(torch.from_numpy(x), dim=2).numpy()
    np.testing.assert_array_equal(np.asarray(jax.jit(prefix_sum)(x)), want)


@pytest.fixture(scope="module")
def invariant(golden_step) -> dict:
    from jaxtts.train import fastpitch as tf

    module = tf.FastPitchTraining(golden_step["config"], padding_invariant=True)

    def run(params, batch):
        out = module.apply({"params": params}, batch)
        return out, tf.fastpitch_loss(out, batch, golden_step["losses"], golden_step["kl_weight"])

    run = jax.jit(run)
    return dict(run=lambda batch: run(golden_step["params"], batch), tf=tf)


def test_padding_invariant_forward_is_nvidia_on_an_unpadded_item(golden_step, invariant):
    """Item 0 is the batch's longest in both axes, so NVIDIA's padding never reaches it."""
    out, _ = invariant["run"](golden_step["batch"])
    step = golden_step["step"]
    for name, ours in out._asdict().items():
        ref, ours = step[f"out__{name}"][0], np.asarray(ours)[0]
        err = np.abs(ours.astype(np.float64) - ref).max() / max(np.abs(ref).max(), 1e-30)
        assert err <= 1e-5, f"{name}: {err:.2e}"


def test_padding_invariant_losses_do_not_depend_on_the_bucket(golden_step, invariant):
    batch = golden_step["batch"]
    padded = invariant["tf"].pad_batch(batch, token_step=16, frame_step=64)
    assert padded.text.shape[1] > batch.text.shape[1] and padded.mel.shape[2] > batch.mel.shape[2]
    (out, (loss, meta)), (out_p, (loss_p, meta_p)) = invariant["run"](batch), invariant["run"](padded)
    n, t = batch.text.shape[1], batch.mel.shape[2]
    np.testing.assert_array_equal(np.asarray(out_p.attn_hard)[:, :, :t, :n], np.asarray(out.attn_hard))
    valid = np.asarray(out.dec_mask)
    np.testing.assert_allclose(np.asarray(out_p.mel_out)[:, :t] * valid, np.asarray(out.mel_out) * valid, atol=1e-5)
    for name in meta:
        assert float(meta_p[name]) == pytest.approx(float(meta[name]), rel=1e-5), name


# ---------------------------------------------------------------------------------------------
# Optimizer.


def test_learning_rate_is_train_py_schedule():
    from jaxtts.train.optim import OptimConfig, learning_rate

    sched = learning_rate(OptimConfig())
    for total_iter in (1, 10, 999, 1000, 1001, 5000):  # train.py's total_iter = optax count + 1
        want = 0.1 * (total_iter / 1000 ** 1.5 if total_iter <= 1000 else total_iter ** -0.5)
        assert float(sched(total_iter - 1)) == pytest.approx(want, rel=1e-6)
    assert float(learning_rate(OptimConfig(warmup_steps=0))(7)) == pytest.approx(0.1)


def _apex_lamb(params, grads_seq, lr_seq, b1=0.9, b2=0.98, eps=1e-9, wd=1e-6, max_grad_norm=1.0):
    """apex's multi_tensor_lamb, written out in numpy (adam_w_mode, grad averaging, bias correction)."""
    p = {k: v.astype(np.float32).copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    for step, (g, lr) in enumerate(zip(grads_seq, lr_seq), start=1):
        norm = np.sqrt(sum(np.sum(x.astype(np.float64) ** 2) for x in g.values()))
        clip = norm / max_grad_norm if norm > max_grad_norm else 1.0
        for k in p:
            sg = g[k] / clip
            m[k] = m[k] * b1 + (1 - b1) * sg
            v2[k] = v2[k] * b2 + (1 - b2) * sg * sg
            update = (m[k] / (1 - b1 ** step)) / (np.sqrt(v2[k] / (1 - b2 ** step)) + eps) + wd * p[k]
            pn, un = np.linalg.norm(p[k]), np.linalg.norm(update)
            ratio = lr * pn / un if pn != 0 and un != 0 else lr
            p[k] = p[k] - ratio * update
    return p


def test_lamb_is_apex_fused_lamb():
    from jaxtts.train.optim import OptimConfig, learning_rate, make_optimizer

    rng = np.random.default_rng(2)
    params = {"w": rng.normal(size=(5, 3)).astype(np.float32), "b": np.zeros(3, np.float32),
              "s": rng.normal(size=(7,)).astype(np.float32)}
    # Large gradients (norm > 1: FusedLAMB's own clip acts), then small ones (it does not).
    grads_seq = [{k: (rng.normal(size=v.shape) * s).astype(np.float32) for k, v in params.items()}
                 for s in (5.0, 3.0, 0.01, 0.02)]
    cfg = OptimConfig(warmup_steps=3)
    tx = make_optimizer(cfg, jax.tree.map(lambda _: True, params))
    state, p = tx.init(params), jax.tree.map(jnp.asarray, params)
    for g in grads_seq:
        updates, state = tx.update(g, state, p)
        p = optax.apply_updates(p, updates)
    want = _apex_lamb(params, grads_seq, [float(learning_rate(cfg)(i)) for i in range(len(grads_seq))])
    for k in params:
        np.testing.assert_allclose(np.asarray(p[k]), want[k], rtol=1e-5, atol=1e-7, err_msg=k)


def test_adamw_option_is_torch_adamw():
    import torch

    from jaxtts.train.optim import OptimConfig, make_optimizer

    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(4, 6)).astype(np.float32)
    grads = [(rng.normal(size=w0.shape) * 0.1).astype(np.float32) for _ in range(4)]
    cfg = OptimConfig(optimizer="adamw", learning_rate=1e-3, warmup_steps=0, weight_decay=1e-2)
    tx = make_optimizer(cfg, {"w": True})
    p, state = {"w": jnp.asarray(w0)}, tx.init({"w": w0})
    tw = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt = torch.optim.AdamW([tw], lr=1e-3, betas=(0.9, 0.98), eps=1e-9, weight_decay=1e-2)
    for g in grads:
        updates, state = tx.update({"w": g}, state, p)
        p = optax.apply_updates(p, updates)
        tw.grad = torch.from_numpy(g)
        opt.step()
    np.testing.assert_allclose(np.asarray(p["w"]), tw.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_frozen_leaves_never_move_and_count_in_no_norm():
    from jaxtts.train.optim import OptimConfig, make_optimizer

    params = {"a": np.ones(3, np.float32), "buf": np.full(2, 5.0, np.float32)}
    cfg = OptimConfig(warmup_steps=0)
    frozen = make_optimizer(cfg, {"a": True, "buf": False})
    alone = make_optimizer(cfg, {"a": True})
    g = {"a": np.array([3.0, -1.0, 2.0], np.float32), "buf": np.full(2, 100.0, np.float32)}
    up, _ = frozen.update(g, frozen.init(params), params)
    up_alone, _ = alone.update({"a": g["a"]}, alone.init({"a": params["a"]}), {"a": params["a"]})
    assert not np.asarray(up["buf"]).any()
    np.testing.assert_array_equal(np.asarray(up["a"]), np.asarray(up_alone["a"]))


def test_grad_accumulation_steps_on_the_mean_gradient():
    from jaxtts.train.optim import OptimConfig, make_optimizer

    params = {"a": np.array([1.0, -2.0, 0.5], np.float32)}
    g1, g2 = {"a": np.array([0.3, 0.1, -0.2], np.float32)}, {"a": np.array([0.1, -0.5, 0.4], np.float32)}
    acc = make_optimizer(OptimConfig(grad_accumulation=2), {"a": True})
    one = make_optimizer(OptimConfig(), {"a": True})
    s = acc.init(params)
    u1, s = acc.update(g1, s, params)
    assert not np.asarray(u1["a"]).any()  # the first micro-batch only accumulates
    u2, _ = acc.update(g2, s, params)
    mean = {"a": (g1["a"] + g2["a"]) / 2}
    want, _ = one.update(mean, one.init(params), params)
    np.testing.assert_allclose(np.asarray(u2["a"]), np.asarray(want["a"]), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# The jitted step.


def test_train_step_on_the_golden_batch(golden_step):
    from jaxtts.train import fastpitch as tf
    from jaxtts.train import optim

    cfg = optim.OptimConfig(ema_decay=0.9)
    params = golden_step["params"]
    trainable = optim.trainable_mask(params, tf.frozen_paths(("encoder",)))
    tx, step = tf.make_train_step(golden_step["config"], golden_step["losses"], cfg, trainable,
                                  padding_invariant=False, deterministic=True)
    step = jax.jit(step)
    state = tf.init_state(params, tx, cfg, jax.random.key(0))
    batch = jax.tree.map(jnp.asarray, golden_step["batch"])
    new, meta = step(state, batch, jnp.float32(golden_step["kl_weight"]))
    ref, grads = golden_step["step"], golden_step["grads"]
    assert float(meta["loss"]) == pytest.approx(float(ref["meta__loss"]), rel=1e-5)
    unfrozen = [k for k in grads.files if not k.startswith("encoder.")]
    assert float(meta["grad_norm"]) == pytest.approx(
        float(np.sqrt(sum(np.sum(grads[k].astype(np.float64) ** 2) for k in unfrozen))), rel=1e-5)
    moved = jax.tree.map(lambda a, b: bool(np.any(np.asarray(a) != np.asarray(b))), new.params, state.params)
    assert moved["decoder"]["layers_0"]["pos_ff"]["CoreNet_0"]["kernel"]
    assert moved["attention"]["key_proj_0"]["conv"]["kernel"]
    assert not any(jax.tree.leaves(moved["encoder"]))  # frozen by request
    assert not any(jax.tree.leaves(moved["attention"]["attn_proj"]))  # never read
    assert not moved["pitch_mean"] and not moved["pitch_std"] and not moved["decoder"]["pos_emb"]["inv_freq"]
    ema = np.asarray(new.ema["proj"]["kernel"])
    want = 0.9 * np.asarray(params["proj"]["kernel"]) + 0.1 * np.asarray(new.params["proj"]["kernel"])
    np.testing.assert_allclose(ema, want, rtol=1e-6, atol=1e-8)
    step(new, batch, jnp.float32(1.0))  # a new KL weight is an argument, not a new program
    assert step._cache_size() == 1


DATA_PARALLEL = r'''
import json
import numpy as np, jax, jax.numpy as jnp
from jaxtts.train import fastpitch as tf, optim
from test_train_fastpitch import _tiny_config

assert jax.local_device_count() == 2
c = _tiny_config()
rng = np.random.default_rng(0)
b, n, t = 4, 12, 40
tl, ml = np.array([12, 9, 5, 7], np.int32), np.array([40, 31, 20, 25], np.int32)
tv, fv = np.arange(n)[None] < tl[:, None], np.arange(t)[None] < ml[:, None]
batch = tf.Batch(np.where(tv, rng.integers(1, 20, (b, n)), 0).astype(np.int32), tl,
                 (rng.normal(size=(b, 80, t)) * fv[:, None]).astype(np.float32), ml,
                 (rng.normal(size=(b, 1, t)) * fv[:, None]).astype(np.float32),
                 (rng.random((b, t)) * fv).astype(np.float32), np.array([0, 1, 1, 0], np.int32),
                 (rng.random((b, t, n)) * tv[:, None] * fv[..., None]).astype(np.float32))
params = tf.init_params(c, jax.random.key(1))
cfg = optim.OptimConfig()
tx, step = tf.make_train_step(c, tf.LossConfig(), cfg, optim.trainable_mask(params, tf.frozen_paths()))
step = jax.jit(step)
state = tf.init_state(params, tx, cfg, jax.random.key(2))
one, m1 = step(state, jax.tree.map(jnp.asarray, batch), jnp.float32(0.5))  # dropout on
mesh = tf.data_mesh()
two, m2 = step(tf.replicate(state, mesh), tf.shard_batch(batch, mesh), jnp.float32(0.5))
d = jax.tree.map(lambda a, b: float(np.abs(np.asarray(a) - np.asarray(b)).max()), one.params, two.params)
print(json.dumps({"devices": len(two.params["proj"]["kernel"].sharding.device_set),
                  "param_maxabs": max(jax.tree.leaves(d)), "loss": [float(m1["loss"]), float(m2["loss"])]}))
'''


def test_data_parallel_step_equals_one_device(tmp_path: Path):
    """Two forced CPU devices: the batch split over a 'data' mesh gives one device's step."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "PYTHONPATH": os.pathsep.join(map(str, (Path(__file__).resolve().parents[1], Path(__file__).parent)))}
    res = subprocess.run([sys.executable, "-c", DATA_PARALLEL], env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["devices"] == 2
    assert got["loss"][0] == pytest.approx(got["loss"][1], rel=1e-6)
    assert got["param_maxabs"] < 1e-5  # one LAMB step; only the cross-device sums' order differs


# ---------------------------------------------------------------------------------------------
# The run: checkpoints, exact resume, export.


def _tiny_config():
    from jaxtts.models.fastpitch import FastPitchConfig

    fields = {}
    for side in ("in", "out"):
        fields.update({f"{side}_fft_n_layers": 1, f"{side}_fft_n_heads": 1, f"{side}_fft_d_head": 8,
                       f"{side}_fft_conv1d_kernel_size": 3, f"{side}_fft_conv1d_filter_size": 32,
                       f"{side}_fft_output_size": 16, f"p_{side}_fft_dropout": 0.1, f"p_{side}_fft_dropatt": 0.1,
                       f"p_{side}_fft_dropemb": 0.0})
    for p in ("dur", "pitch", "energy"):
        fields.update({f"{p}_predictor_kernel_size": 3, f"{p}_predictor_filter_size": 16,
                       f"{p}_predictor_n_layers": 1, f"p_{p}_predictor_dropout": 0.1})
    return FastPitchConfig(n_mel_channels=80, n_symbols=20, symbols_embedding_dim=16, energy_conditioning=True,
                           energy_embedding_kernel_size=3, n_speakers=2, **fields)


class _Example:
    def __init__(self, rng: np.random.Generator):
        n, t = int(rng.integers(3, 12)), int(rng.integers(20, 50))
        self.ids = rng.integers(1, 20, n)
        self.mel = rng.normal(size=(80, t)).astype(np.float32) - 4
        self.pitch = np.where(rng.random((1, t)) < 0.3, 0, rng.normal(size=(1, t))).astype(np.float32)
        self.energy = rng.random(t).astype(np.float32) * 10
        self.speaker = int(rng.integers(0, 2))
        self.attn_prior = rng.random((t, n)) + 0.1


def test_collate_is_tts_collate_order_and_padding():
    from jaxtts.train.fastpitch_loop import collate

    rng = np.random.default_rng(4)
    ex = [_Example(rng) for _ in range(3)]
    batch = collate(ex)
    order = np.argsort([-len(e.ids) for e in ex], kind="stable")
    np.testing.assert_array_equal(batch.text_lens, [len(ex[i].ids) for i in order])
    first = ex[order[0]]
    np.testing.assert_array_equal(batch.mel[0, :, :first.mel.shape[1]], first.mel)
    assert not batch.mel[0, :, first.mel.shape[1]:].any() and not batch.text[0, len(first.ids):].any()
    assert batch.speaker[0] == first.speaker


def test_resumed_run_continues_exactly(tmp_path: Path):
    """A run stopped after its checkpoint at step 2 and resumed equals one that never stopped."""
    import json

    from jaxtts.train import fastpitch_loop as loop
    from jaxtts.train.optim import OptimConfig

    rng = np.random.default_rng(5)
    data = [_Example(rng) for _ in range(6)]
    config = _tiny_config()
    run = loop.RunConfig(steps=4, batch_size=2, log_every=1, checkpoint_every=2, optim=OptimConfig(ema_decay=0.5))
    whole = loop.train(data, tmp_path / "whole", config, run)
    loop.train(data, tmp_path / "stopped", config, dataclasses.replace(run, steps=2))
    with open(tmp_path / "stopped" / loop.METRICS, "a") as f:  # a line a killed run wrote past its checkpoint
        f.write(json.dumps({"step": 3, "loss": -1.0}) + "\n")
    resumed = loop.train(data, tmp_path / "stopped", config, run, resume=True)
    for a, b in zip(jax.tree.leaves((whole.params, whole.opt_state, whole.ema, whole.rng)),
                    jax.tree.leaves((resumed.params, resumed.opt_state, resumed.ema, resumed.rng))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    def metrics(name):
        rows = [json.loads(x) for x in (tmp_path / name / loop.METRICS).read_text().splitlines()]
        return [{k: v for k, v in r.items() if k != "steps_per_s"} for r in rows]

    assert metrics("whole") == metrics("stopped")
    assert [r["step"] for r in metrics("whole")] == [1, 2, 3, 4]
    assert {"loss", "mel_loss", "duration_predictor_loss", "pitch_loss", "energy_loss", "attn_loss",
            "kl_loss", "lr", "grad_norm"} <= set(metrics("whole")[0])

    pt = loop.export_pt(whole, config, tmp_path / "FastPitch_checkpoint_1.pt")
    import converters.fastpitch as cfp
    from converters.load import load_torch

    ckpt = load_torch(pt)
    _, params = cfp.from_checkpoint(ckpt, pt)
    np.testing.assert_array_equal(params["proj"]["kernel"], np.asarray(whole.params["proj"]["kernel"]))
    np.testing.assert_array_equal(ckpt["state_dict"]["attention.key_proj.0.conv.weight"].numpy(),
                                  np.asarray(whole.params["attention"]["key_proj_0"]["conv"]["kernel"]).T)


def test_small_config_is_the_golden_small_model_and_init_keeps_its_aligner(golden: Path):
    from converters.load import load_torch

    from jaxtts.train import fastpitch_loop as loop

    path = golden / "fastpitch_small" / "FastPitch_checkpoint_10.pt"
    config, params, _ = loop.load_init(path)
    assert loop.model_config("small", n_speakers=3) == config
    want = load_torch(path)["state_dict"]["attention.key_proj.0.conv.weight"].numpy()
    np.testing.assert_array_equal(params["attention"]["key_proj_0"]["conv"]["kernel"], want.T)
    legacy, legacy_params, _ = loop.load_init(golden / "fastpitch_small" / "fastpitch_legacy2021_layout.pt")
    assert legacy == config and "attention" in legacy_params  # the 2021 'module.' layout too


def test_train_flags_load_without_jax_and_set_the_recipe():
    import argparse
    import os
    import subprocess
    import sys

    code = ("import argparse, sys; from jaxtts.train import fastpitch_cli; "
            "h = fastpitch_cli.add_arguments(argparse.ArgumentParser()); print('jax' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert res.stdout.strip() == "False", res.stderr
    from jaxtts.train import fastpitch_cli

    parser = argparse.ArgumentParser()
    fastpitch_cli.add_arguments(parser)
    args = parser.parse_args(["--data", "d", "--out", "o"])
    assert (args.optimizer, args.learning_rate, args.warmup_steps, args.kl_loss_start_epoch,
            args.kl_loss_warmup_epochs) == ("lamb", 0.1, 1000, 0, 100)  # scripts/train.sh
