"""A model's own calls bucket shapes like the engine: `FastPitch.infer`, `HiFiGAN(mel)` and the
`jaxtts.torch` modules compile per bucket, never per length, and give the unbucketed results."""
import functools

import jax
import numpy as np
import torch

from jaxtts import torch as jtorch
from jaxtts.models import buckets
from jaxtts.models import fastpitch as fp

from compiles import programs_built
from test_engine import small_models

LENGTHS = (3, 9, 17, 30, 44)  # tokens: five lengths, two token buckets
TABLES = {name: table[buckets.kind(jax.default_backend())] for name, table in
          (("tokens", buckets.TOKEN_BUCKETS), ("frames", buckets.FRAME_BUCKETS), ("batch", buckets.BATCH_BUCKETS))}


def ids_of(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 40, (1, n)).astype(np.int32)


def unbucketed(model: fp.FastPitch, ids: np.ndarray) -> fp.FastPitchOutput:
    """encode and decode at the exact token and frame counts: what bucketing must reproduce."""
    encode = jax.jit(functools.partial(fp.encode, config=model.config))
    decode = jax.jit(functools.partial(fp.decode, config=model.config), static_argnames="n_frames")
    lengths = np.array([ids.shape[1]], np.int32)
    e = encode(model.inference_params, ids, lengths, fp.Controls().arrays())
    mel, mel_lens = decode(model.inference_params, e.enc, e.reps, n_frames=int(e.mel_lens[0]))
    return fp.FastPitchOutput(mel, mel_lens, e.reps, e.pitch[:, 0], e.energy, e.dur_pred)


def count(calls) -> list[int]:
    """Programs built by each call."""
    built = []
    for call in calls:
        before = programs_built()
        call()
        built.append(programs_built() - before)
    return built


def test_fastpitch_infer_compiles_per_bucket_and_equals_unbucketed():
    model, _ = small_models(seed=3)
    inputs = [ids_of(n, n) for n in LENGTHS]
    outs = []
    built = count([lambda ids=ids: outs.append(model.infer(ids)) for ids in inputs])
    frames = [int(o.mel_lens[0]) for o in outs]
    token_buckets = {buckets.pick(n, TABLES["tokens"]) for n in LENGTHS}
    frame_buckets = {buckets.pick(t, TABLES["frames"]) for t in frames}
    assert sum(built) <= len(token_buckets) + len(frame_buckets)
    assert len(set(frames)) == len(frames)  # five lengths in, five out
    for ids, out in zip(inputs, outs):
        want = unbucketed(model, ids)
        assert out.mel.shape == want.mel.shape
        np.testing.assert_allclose(out.mel, want.mel, atol=1e-5)
        np.testing.assert_array_equal(out.durations, want.durations)
        np.testing.assert_allclose(out.pitch, want.pitch, atol=1e-5)
        np.testing.assert_allclose(out.dur_pred, want.dur_pred, rtol=1e-5)  # exp of the prediction: relative rounding


def test_torch_modules_compile_per_bucket_and_equal_unbucketed():
    model, vocoder = small_models(seed=4)
    fastpitch, generator = jtorch.FastPitch.wrap(model), jtorch.HiFiGAN.wrap(vocoder)
    mels = []

    def speak(n: int) -> None:
        with torch.no_grad():
            mel, mel_lens, *_ = fastpitch.infer(torch.from_numpy(ids_of(n, n)))
            mels.append((mel, generator(mel)))

    speak(LENGTHS[0])  # compiles the first buckets and the vocoder's window programs
    built = count([lambda n=n: speak(n) for n in LENGTHS[1:]])
    # The remaining lengths may reach new token and frame buckets, never a new vocoder program.
    assert sum(built) <= len(TABLES["tokens"]) + len(TABLES["frames"])
    assert len({mel.shape[2] for mel, _ in mels}) == len(LENGTHS)
    whole = jax.jit(lambda p, m: jax_generate(p, m, vocoder.config))
    for mel, audio in mels:
        want = np.asarray(whole(vocoder.inference_params, mel.numpy()))
        assert audio.shape == (1, 1, want.shape[1])
        np.testing.assert_allclose(audio[:, 0].numpy(), want, atol=1e-5)


def jax_generate(params, mel, config):
    from jaxtts.models import hifigan

    return hifigan.generate(params, mel, config=config)
