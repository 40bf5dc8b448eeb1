"""HiFi-GAN training maths against one training iteration of NVIDIA's own code (golden/training).

The golden iteration (README section 4) runs `hifigan_small` and the published-size MPD + MSD
(70 M parameters, regenerated bit-exactly from their recipe) through DLE train.py's inner loop.

Tolerances, from the golden's own float64 probe of the same iteration:
- losses: 1e-5 relative (the float64 run moves them by at most 1.4e-7);
- discriminator outputs and feature maps: 1e-4 of the tensor's largest magnitude (float64 moves
  them by 2.4e-6 relative);
- gradients: per tensor, relative L2 ‖g − g_ref‖ / ‖g_ref‖ ≤ 1e-4 for the great majority, and
  ≤ 1e-2 for every tensor. float32 rounding flips a few leaky-ReLU branches between any two float32
  implementations, and the float64 probe puts NVIDIA's own float32 gradients that far (worst
  3.3e-3 generator, 8.7e-4 discriminator) from the exact ones.
"""
from __future__ import annotations

import hashlib
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from converters import discriminator as conv_d
from converters.load import load_torch
from jaxtts.models import discriminator as D
from jaxtts.models.hifigan import HiFiGANConfig, Generator
from jaxtts.train import hifigan as T

LOSS_RTOL = 1e-5
OUT_TOL = 1e-4
GRAD_RTOL = 1e-4  # the target, met by the median tensor; the bound below is for every tensor
GRAD_RTOL_ANY = 1e-2


def rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def scaled_err(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


# ---------------------------------------------------------------------------------------------
# Golden fixtures


@pytest.fixture(scope="module")
def gold(golden):
    d = golden / "training"
    if not (d / "hifigan_step.npz").is_file():
        pytest.skip("golden/training has no HiFi-GAN iteration")
    return d


@pytest.fixture(scope="module")
def step(gold):
    return dict(np.load(gold / "hifigan_step.npz"))


@pytest.fixture(scope="module")
def disc_state_dicts(gold):
    """NVIDIA's MPD/MSD state_dicts rebuilt from the recipe and checked against their hashes."""
    recipe = json.loads((gold / "hifigan_discrim_recipe.json").read_text())
    small = np.load(gold / "hifigan_discrim_init_small.npz")
    out = {}
    for name in ("mpd", "msd"):
        sd = {}
        for key in recipe["state_dict_order"][name]:
            if key in recipe["tensors"]:
                t = recipe["tensors"][key]
                k = np.random.RandomState(t["seed"]).randint(-32768, 32768, size=int(np.prod(t["shape"])), dtype=np.int64)
                w = (k.astype(np.float32) * np.float32(2 ** -15)).reshape(t["shape"])
            else:
                w = small[key]
            assert hashlib.sha256(np.ascontiguousarray(w, "<f4").tobytes()).hexdigest() == recipe["sha256_all"][key], key
            sd[key.removeprefix(name + ".")] = w
        out[name] = sd
    return out


@pytest.fixture(scope="module")
def disc(disc_state_dicts):
    return conv_d.from_state_dicts(disc_state_dicts["mpd"], disc_state_dicts["msd"], D.NVIDIA)


@pytest.fixture(scope="module")
def gen(golden):
    ckpt = load_torch(golden / "hifigan_small" / "hifigan_gen_checkpoint_10000.pt")
    config = HiFiGANConfig.from_dict(ckpt["config"])
    return config, T.generator_train_params(ckpt["generator"], config)


@pytest.fixture(scope="module")
def dpass(disc, step):
    """Our D pass on the golden batch: (loss, spectral after, metrics, grads, outputs)."""
    params, spectral = disc
    y, y_g_hat = step["y"][:, 0], step["y_g_hat"][:, 0]

    @jax.jit
    def run(params, spectral):
        (loss, (sp, m)), g = jax.value_and_grad(T.discriminator_pass, has_aux=True)(params, spectral, y, y_g_hat, D.NVIDIA)
        return loss, sp, m, g

    outputs = jax.jit(lambda p, s: T.discriminate(p, s, y, y_g_hat, D.NVIDIA))(params, spectral)
    loss, sp, m, g = run(params, spectral)
    return loss, sp, m, g, outputs


@pytest.fixture(scope="module")
def gpass(gen, disc, dpass, step):
    """Our G pass from the golden mel with the discriminators as the D pass left them (no D step,
    as the golden): (y_g_hat, spectral after, metrics, generator grads, outputs)."""
    config, gp = gen
    params = disc[0]
    spectral = dpass[1]
    x, y, y_mel = step["x"], step["y"][:, 0], step["y_mel"]
    train = T.TrainConfig()

    @jax.jit
    def run(gp, params, spectral):
        y_g_hat, pull = jax.vjp(lambda p: T.generate(p, x, config), gp)
        (_, (sp, m)), dy = jax.value_and_grad(T.generator_pass, has_aux=True)(y_g_hat, params, spectral, y, y_mel, D.NVIDIA, train)
        return y_g_hat, sp, m, pull(dy)[0]

    y_g_hat, sp, m, grads = run(gp, params, spectral)
    outputs = jax.jit(lambda p, s, yh: T.discriminate(p, s, y, yh, D.NVIDIA))(params, spectral, y_g_hat)
    return y_g_hat, sp, m, grads, outputs


# ---------------------------------------------------------------------------------------------
# Mel, generator forward


def test_mel_spectrogram_is_hifigans_own(gold):
    """The jittable mel equals DLE's `mel_spectrogram` (= jik876's) on whole real clips: the
    generator-input mel (fmax 8000) and the loss mel (fmax None), of the raw and of the
    peak-normalised audio (DLE's pre-training input)."""
    mel = jax.jit(lambda audio, fmax: T.TrainConfig().mel(audio, fmax), static_argnames=("fmax",))
    for f in sorted((gold / "hifigan_data").glob("*.npz")):
        d = np.load(f)
        wav = _clip(gold, str(d["clip"]))
        normalized = wav / np.float32(d["dataset_peak"]) * np.float32(0.95)
        for audio, prefix in ((wav, ""), (normalized, "dataset_")):
            for key, fmax in (("mel", 8000.0), ("mel_loss", None)):
                got = np.asarray(mel(audio[None], fmax=fmax))[0]
                assert got.shape == d[prefix + key].shape == (80, int(d["n_samples"]) // 256)
                assert mel_close(got, d[prefix + key]), (f.name, prefix + key)


def _clip(gold, clip: str) -> np.ndarray:
    import soundfile

    audio, rate = soundfile.read(gold.parents[1] / "data" / "ljspeech" / "wavs" / f"{clip}.wav", dtype="int16")
    assert rate == 22050
    return audio.astype(np.float32) / 32768.0


def mel_close(got, want) -> bool:
    """float32 FFT rounding: ≤ 1e-6 of the peak in magnitude; the log amplifies it only in bins
    near the 1e-5 floor, so the mean log error stays ≤ 1e-5."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    linear = np.max(np.abs(np.exp(got) - np.exp(want))) / np.max(np.exp(want))
    return linear < 1e-6 and np.mean(np.abs(got - want)) < 1e-5


def test_mel_of_the_golden_segments(step):
    """The three mels of the iteration: input x (fmax 8000), y_mel and the mel of y_g_hat (fmax None)."""
    train = T.TrainConfig()
    y = step["y"][:, 0]
    assert mel_close(train.mel(y, train.fmax), step["x"])
    assert mel_close(train.mel(y, train.fmax_loss), step["y_mel"])
    assert mel_close(train.mel(step["y_g_hat"][:, 0], train.fmax_loss), step["y_g_hat_mel"])


def test_weight_norm_generator_is_the_inference_generator(gen, gpass, step):
    """Training runs the inference Generator on folded g, v: NVIDIA's y_g_hat from the golden mel."""
    assert np.max(np.abs(np.asarray(gpass[0]) - step["y_g_hat"][:, 0])) < 1e-5


def test_fold_unfold_round_trip(gen):
    config, gp = gen
    params = T.fold(gp)
    again = T.fold(T.unfold(params))
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(again)):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= 1e-6 * max(1.0, float(np.max(np.abs(a))))
    mel = np.asarray(np.random.default_rng(0).normal(-5, 2, (1, 80, 8)), np.float32)
    out = Generator(config).apply({"params": params}, jnp.swapaxes(mel, 1, 2))
    assert np.allclose(out, T.generate(gp, mel, config), atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Discriminators


def test_discriminator_state_dicts_convert_and_round_trip(disc, disc_state_dicts):
    back = conv_d.to_state_dicts(*disc)
    for name in ("mpd", "msd"):
        assert list(back[name]) == list(disc_state_dicts[name])  # upstream's key order
        for k, v in disc_state_dicts[name].items():
            assert np.array_equal(back[name][k], v), k


def test_d_pass_outputs(dpass, step):
    (mpd, msd, _) = dpass[4]
    for i in range(5):
        assert scaled_err(mpd[0][i], step[f"dpass__mpd_r{i}"]) < OUT_TOL
        assert scaled_err(mpd[1][i], step[f"dpass__mpd_g{i}"]) < OUT_TOL
    for i in range(3):
        assert scaled_err(msd[0][i], step[f"dpass__msd_r{i}"]) < OUT_TOL
        assert scaled_err(msd[1][i], step[f"dpass__msd_g{i}"]) < OUT_TOL


def test_spectral_norm_advances_twice_per_call(disc, dpass, gpass, step):
    """MSD-0's power iteration runs once per forward, in the D pass and in the G pass (u₀ → u₂ → u₄)."""
    for stage, spectral in (("init", disc[1]), ("after_dpass", dpass[1]), ("after_gpass", gpass[1])):
        d0 = spectral["msd"]["discriminators_0"]
        for k in range(8):
            layer = d0[f"convs_{k}" if k < 7 else "conv_post"]
            for vec in ("u", "v"):
                assert np.max(np.abs(np.asarray(layer[f"weight_{vec}"]) - step[f"sn__l{k}_{vec}_{stage}"])) < 1e-5, (stage, k, vec)


def test_d_pass_losses(dpass, step):
    m = dpass[2]
    for key in ("loss_disc_f", "loss_disc_s", "loss_disc_all"):
        assert rel(m[key], step[key]) < LOSS_RTOL, key


def test_g_pass_outputs_and_feature_terms(gpass, step):
    (mpd, msd, _) = gpass[4]
    for i in range(5):
        assert scaled_err(mpd[1][i], step[f"gpass__mpd_g{i}"]) < OUT_TOL
    for i in range(3):
        assert scaled_err(msd[1][i], step[f"gpass__msd_g{i}"]) < OUT_TOL
    for name, outs in (("mpd", mpd), ("msd", msd)):
        terms = np.asarray(T.feature_terms(outs[2], outs[3]))
        assert scaled_err(terms, step[f"gpass__{name}_fm_terms"]) < OUT_TOL


def test_g_pass_losses(gpass, step):
    m = gpass[2]
    for key in ("loss_mel", "loss_fm_f", "loss_fm_s", "loss_gen_f", "loss_gen_s", "loss_gen_all"):
        assert rel(m[key], step[key]) < LOSS_RTOL, key


def _grad_report(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> dict[str, float]:
    assert set(got) == set(want)
    return {k: rel(got[k], want[k]) for k in want}


def test_generator_gradients(gpass, gold):
    want = dict(np.load(gold / "hifigan_gen_grads.npz"))
    got = {conv_d.path_to_key(p): np.asarray(v) for p, v in _leaves(gpass[3])}
    errs = _grad_report(got, want)
    assert np.median(list(errs.values())) < GRAD_RTOL
    assert max(errs.values()) < GRAD_RTOL_ANY, max(errs.items(), key=lambda kv: kv[1])


def test_discriminator_gradients(dpass, gold):
    g = np.load(gold / "hifigan_discrim_grads.npz")
    flat = {f"{p[0]}.{conv_d.path_to_key(p[1:])}": np.asarray(v) for p, v in _leaves(dpass[3])}
    names = [str(n) for n in g["names"]]
    assert set(flat) == set(names)
    errs = {}
    for n, norm in zip(names, g["norm"]):
        got = flat[n]
        if f"full__{n}" in g:
            errs[n] = rel(got, g[f"full__{n}"])
        else:  # the sampled values and the norm of the whole tensor
            errs[n] = max(rel(got.reshape(-1)[g[f"sample_idx__{n}"]], g[f"sample__{n}"]),
                          abs(np.linalg.norm(got.astype(np.float64)) - norm) / norm)
    assert np.median(list(errs.values())) < GRAD_RTOL
    assert max(errs.values()) < GRAD_RTOL_ANY, max(errs.items(), key=lambda kv: kv[1])


def _leaves(tree, prefix=()):
    for k, v in tree.items():
        if isinstance(v, dict):
            yield from _leaves(v, (*prefix, k))
        else:
            yield (*prefix, k), v


# ---------------------------------------------------------------------------------------------
# Optimiser, converters, the train step


def test_optimizer_is_torch_adamw_with_exponential_lr_per_epoch():
    """optax's schedule + AdamW take the steps torch.optim.AdamW + ExponentialLR (stepped after
    each epoch) take, weight decay included, over three epochs of two steps."""
    train = T.TrainConfig(learning_rate=0.05, lr_decay=0.5)  # large, so a wrong schedule shows
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 4)).astype(np.float32)
    grads = rng.normal(size=(6, 3, 4)).astype(np.float32)
    p = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    opt_t = torch.optim.AdamW([p], lr=train.learning_rate, betas=train.adam_betas)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt_t, gamma=train.lr_decay)
    opt = T.optimizer(train, steps_per_epoch=2)
    w, state = jnp.asarray(w0), opt.init(jnp.asarray(w0))
    for i, g in enumerate(grads):
        p.grad = torch.from_numpy(g.copy())
        opt_t.step()
        updates, state = opt.update(jnp.asarray(g), state, w)
        w = optax.apply_updates(w, updates)
        if i % 2 == 1:
            sched.step()
        assert np.max(np.abs(np.asarray(w) - p.detach().numpy())) < 1e-6, i


def test_discriminator_checkpoints_of_both_trainers(disc_state_dicts, tmp_path):
    """NVIDIA's file (with train_state) trains MSD with its pooling padding 1, jik876's `do_` with 2;
    a generator file passed as the discriminator is refused with the fix."""
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in disc_state_dicts["mpd"].items()}, \
        {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in disc_state_dicts["msd"].items()}
    nvidia = {"mpd": sd[0], "msd": sd[1], "mpd_ema": None, "msd_ema": None, "optim_g": {}, "optim_d": {},
              "scaler_g": {}, "scaler_d": {}, "train_state": {"epoch": 10, "iters_all": 70}, "steps": 70, "epoch": 10}
    config, params, spectral, state = conv_d.from_checkpoint(nvidia, tmp_path / "hifigan_discrim_checkpoint_10.pt")
    assert config == D.NVIDIA and state == {"epoch": 10, "iters_all": 70}
    jik = {"mpd": sd[0], "msd": {f"module.{k}": v for k, v in sd[1].items()}, "optim_g": {}, "optim_d": {}, "steps": 5, "epoch": 1}
    config, params_j, _, state = conv_d.from_checkpoint(jik, tmp_path / "do_00000005")
    assert config == D.JIK876 and state == {"steps": 5, "epoch": 1}
    assert np.array_equal(params_j["msd"]["discriminators_1"]["convs_3"]["weight_v"], params["msd"]["discriminators_1"]["convs_3"]["weight_v"])
    from jaxtts.errors import CheckpointError
    with pytest.raises(CheckpointError, match="generator file"):
        conv_d.from_checkpoint({"generator": {}, "config": {}}, tmp_path / "hifigan_gen_checkpoint_10.pt")
    broken = dict(nvidia, mpd={k: v for k, v in sd[0].items() if "discriminators.4" not in k})
    with pytest.raises(CheckpointError, match="missing"):
        conv_d.from_checkpoint(broken, tmp_path / "x.pt")


def test_generator_train_params_from_every_layout(golden):
    """jik876's flat resblocks, DDP's `module.` and a folded checkpoint give the same generator;
    a weight-norm checkpoint keeps its own g and v."""
    from converters.load import fold_weight_norm

    ckpt = load_torch(golden / "hifigan_small" / "hifigan_gen_checkpoint_10000.pt")
    config = HiFiGANConfig.from_dict(ckpt["config"])
    sd = ckpt["generator"]
    nested = T.generator_train_params(sd, config)
    assert np.array_equal(nested["resblocks_1_2"]["convs1_0"]["weight_g"], sd["resblocks.1.2.convs1.0.weight_g"].numpy())
    k = len(config.resblock_kernel_sizes)
    flat = {("module." + key.replace(f"resblocks.{key.split('.')[1]}.{key.split('.')[2]}.",
                                      f"resblocks.{int(key.split('.')[1]) * k + int(key.split('.')[2])}.")
             if key.startswith("resblocks.") else "module." + key): v for key, v in sd.items()}
    assert jax.tree.all(jax.tree.map(np.array_equal, T.generator_train_params(flat, config), nested))
    folded = T.generator_train_params(fold_weight_norm(sd), config)
    for a, b in zip(jax.tree.leaves(T.fold(folded)), jax.tree.leaves(T.fold(nested))):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) < 1e-6
    from jaxtts.errors import CheckpointError
    with pytest.raises(CheckpointError, match="weight-norm generator"):
        T.generator_train_params({k: v for k, v in sd.items() if not k.startswith("ups.1")}, config)


def test_init_generator_matches_the_checkpoint_tree(gen):
    config, gp = gen
    fresh = T.init_generator(config, jax.random.key(0))
    assert jax.tree.structure(fresh) == jax.tree.structure(gp)
    assert jax.tree.all(jax.tree.map(lambda a, b: a.shape == b.shape, fresh, gp))
    # weight norm starts at g = ‖v‖: the folded weight is v itself
    conv = fresh["ups_0"]
    assert np.allclose(T.fold(fresh)["ups_0"]["kernel"], np.transpose(conv["weight_v"], (2, 0, 1)), atol=1e-7)


@pytest.mark.slow  # the published-size discriminators in a whole train step compile for minutes on CPU
def test_fit_logs_every_loss_and_resumes_exactly(tmp_path):
    """A short run, killed after its step-2 checkpoint and resumed, ends bit-identical to the same
    run uninterrupted, with the same metrics.jsonl (params, both optimisers, spectral vectors and
    the data plan all restored)."""
    config = HiFiGANConfig((4, 4), (8, 8), 16, "1", (3,), ((1, 3, 5),))  # hop 16
    train = T.TrainConfig(batch_size=1, segment_size=1024, hop_size=16, win_size=512, n_fft=512)
    rng = np.random.default_rng(0)
    audios = [rng.uniform(-0.5, 0.5, n).astype(np.float32) for n in (3000, 1500, 800)]
    whole = T.fit(audios, tmp_path / "whole", generator=config, steps=4, train=train, checkpoint_every=2)
    T.fit(audios, tmp_path / "cut", generator=config, steps=2, train=train, checkpoint_every=2)
    with (tmp_path / "cut" / "metrics.jsonl").open("a") as f:  # a step logged after the checkpoint
        f.write(json.dumps({"step": 3, "loss": -1.0}) + "\n")
    resumed = T.fit(audios, tmp_path / "cut", generator=config, steps=4, train=train, checkpoint_every=2, resume=True)
    assert int(resumed.step) == 4
    assert jax.tree.all(jax.tree.map(lambda a, b: np.array_equal(a, b), whole, resumed))
    rows = [json.loads(l) for l in (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and [r["epoch"] for r in rows] == [1, 1, 1, 2]
    assert {"loss", "loss_disc_all", "loss_mel", "loss_fm_f", "loss_fm_s", "loss_gen_f", "loss_gen_s"} <= set(rows[0])
    assert all(np.isfinite(r["loss"]) for r in rows)
    assert (tmp_path / "cut" / "metrics.jsonl").read_text() == (tmp_path / "whole" / "metrics.jsonl").read_text()


def test_validation_is_jik876s_mel_error_on_whole_held_out_clips():
    """Each clip whole, peak-normalised ×0.95, generated from its own mel; the L1 of the loss log-mels
    averaged over clips (val_mel_error) and ×45 (val_loss, val_loss_mel)."""
    config = HiFiGANConfig((4, 4), (8, 8), 16, "1", (3,), ((1, 3, 5),))  # hop 16
    train = T.TrainConfig(segment_size=1024, hop_size=16, win_size=512, n_fft=512)
    params = T.init_generator(config, jax.random.key(0))
    rng = np.random.default_rng(1)
    clips = [rng.uniform(-0.3, 0.3, n).astype(np.float32) for n in (1600, 2400)]
    got = T.validate(params, clips, config, train)
    errors = []
    for clip in clips:
        y = jnp.asarray(clip / np.abs(clip).max() * 0.95)[None]
        y_hat = T.generate(params, train.mel(y, train.fmax), config)
        errors.append(float(jnp.mean(jnp.abs(train.mel(y, None) - train.mel(y_hat, None)))))
    assert got["val_mel_error"] == pytest.approx(np.mean(errors), rel=1e-5)
    assert got["val_loss"] == got["val_loss_mel"] == pytest.approx(45 * np.mean(errors), rel=1e-5)
    louder = T.validate(params, [2 * c for c in clips], config, train)  # normalised, so the level does not count
    assert louder["val_mel_error"] == pytest.approx(got["val_mel_error"], rel=1e-4)
    shifted = T.validate(T.init_generator(config, jax.random.key(1)), clips, config, train)
    assert shifted["val_mel_error"] != pytest.approx(got["val_mel_error"], rel=1e-3)


def test_export_is_nvidias_weight_norm_checkpoint_and_loads_back_to_the_same_audio(tmp_path):
    import jaxtts

    config = HiFiGANConfig((4, 4), (8, 8), 16, "1", (3,), ((1, 3, 5),), sampling_rate=16_000)
    params = T.init_generator(config, jax.random.key(3))
    params["conv_post"]["weight_g"] = params["conv_post"]["weight_g"] * 1.7  # g ≠ ‖v‖, as after training
    path = T.export_pt(params, config, tmp_path / "hifigan_gen_checkpoint_7.pt", steps=7)
    ckpt = load_torch(path)
    assert ckpt["iters_all"] == 7 and ckpt["train_setup"]["sampling_rate"] == 16_000
    assert np.array_equal(ckpt["generator"]["resblocks.1.0.convs2.2.weight_v"].numpy(),
                          params["resblocks_1_0"]["convs2_2"]["weight_v"])
    # --init reads back exactly the g and v that were trained
    assert jax.tree.all(jax.tree.map(np.array_equal, T.generator_train_params(ckpt["generator"], config), params))
    mel = jnp.asarray(np.random.default_rng(0).normal(size=(1, 80, 12)).astype(np.float32) - 4)
    loaded = jaxtts.load_hifigan(path)
    assert loaded.config == config
    want = np.asarray(T.generate(params, mel, config))
    got = np.asarray(Generator(loaded.config).apply({"params": loaded.params}, jnp.swapaxes(mel, 1, 2)))
    assert np.max(np.abs(got - want)) <= 1e-6 * np.max(np.abs(want))
