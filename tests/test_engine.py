"""The synthesis engine: bounded compilations, streaming, batches, sharding, bad input, WAV output.

Small random-weight models (seeded) keep it fast; the duration predictor's bias is set so that a
token lasts a few frames, as with a trained model, instead of the ~0 of a fresh initialisation.
"""
import dataclasses
import os
import random
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import soundfile

from jaxtts import engine
from jaxtts.errors import ConfigError, InputError, TextError
from jaxtts.models import buckets, denoiser
from jaxtts.models import fastpitch as fp
from jaxtts.models import hifigan as hg
from jaxtts.text import to_ids
from jaxtts.text.encoder import TextEncoder
from jaxtts.text.symbols import SPACE_ID, SYMBOL_SETS, SYMBOLS

from compiles import programs_built

BUCKETS = {"token_buckets": (64, 128, 256), "frame_buckets": (256, 512, 1024, 2048, 4096), "batch_buckets": (2,)}
TEXT = ("The quick brown fox jumps over the lazy dog. Dr. Smith paid $3.50 for 2 coffees! "
        "Was it worth it? Nobody knows. She sells sea shells by the sea shore; the shells are real. The end.")


def small_models(seed: int = 0) -> tuple[fp.FastPitch, hg.HiFiGAN]:
    """FastPitch 1.1 and HiFi-GAN shrunk to a few thousand parameters each (hop 16, not 256: the
    engine reads the hop from the config, and the tests make hours of audio)."""
    fc = dataclasses.replace(
        fp.PUBLISHED, symbols_embedding_dim=32, in_fft_output_size=32, out_fft_output_size=32, in_fft_n_layers=1,
        out_fft_n_layers=1, in_fft_d_head=8, out_fft_d_head=8, in_fft_conv1d_filter_size=32,
        out_fft_conv1d_filter_size=32, dur_predictor_filter_size=16, pitch_predictor_filter_size=16,
        energy_predictor_filter_size=16)
    params = jax.tree.map(np.asarray, jax.jit(fp.init_params, static_argnums=0)(fc, jax.random.key(seed)))
    params["duration_predictor"]["fc"]["bias"] = np.full((1,), 1.5, np.float32)  # e^1.5 - 1 ≈ 3.5 frames a token
    params["pitch_mean"], params["pitch_std"] = np.array([214.7], np.float32), np.array([65.7], np.float32)
    hc = hg.HiFiGANConfig((4, 4), (8, 8), 16, "2", (3,), ((1, 2),))
    hparams = jax.jit(hg.Generator(hc).init)(jax.random.key(seed + 1), jnp.zeros((1, 8, 80)))["params"]
    return fp.FastPitch(fc, params), hg.HiFiGAN(hc, hparams)


@pytest.fixture(scope="module")
def models():
    return small_models()


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    """JAX's persistent cache in a temporary directory for this module; JAX's settings restored after."""
    from jax.experimental.compilation_cache import compilation_cache as cc

    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs",
             "jax_persistent_cache_min_entry_size_bytes")
    saved = {name: getattr(jax.config, name) for name in names}
    jax.config.update("jax_compilation_cache_dir", None)
    cc.reset_cache()
    directory = tmp_path_factory.mktemp("xla")
    yield directory
    for name, value in saved.items():
        jax.config.update(name, value)
    cc.reset_cache()


@pytest.fixture(scope="module")
def synth(models, compilation_cache):
    return engine.Synthesizer(*models, **BUCKETS, compilation_cache=compilation_cache)


def random_text(rng: random.Random) -> str:
    words = ["the", "a", "cat", "Dr.", "St.", "NASA", "FBI", "Henry", "VIII", "café", "naïve", "😀", "3.14", "$12.50",
             "1/2", "22nd", "1999", "7:30", "pm", "100%", "e-mail", "x@y.com", "...", "!", "?", ",", ";", "—", "\n",
             "\t", "\x07", "ünïcödé", "東京", "Привет", "12345678901234567890", "(", ")", '"', "'"]
    text = ""
    target = rng.randint(1, 400)
    while len(text) < target:
        text += rng.choice(words) + rng.choice([" ", " ", " ", ". ", ", ", "! ", "? ", ""])
    return text[:target]


def test_no_compilation_after_warmup_for_200_random_texts(synth):
    synth.warmup()
    compiled = synth.compile_count
    rng = random.Random(0)
    spoken = 0
    for _ in range(200):
        try:
            audio = synth.synthesize(random_text(rng))
        except TextError:
            continue
        assert audio.dtype == np.float32 and np.isfinite(audio).all()
        spoken += 1
    assert spoken > 150
    assert synth.compile_count == compiled


def test_compile_count_is_bounded_by_the_bucket_tables(synth):
    synth.warmup()
    b, n, t = (len(BUCKETS[k]) for k in ("batch_buckets", "token_buckets", "frame_buckets"))
    assert synth.compile_count == b * n + b * t + b * len(synth.vocoder_windows)
    assert synth.program_bound == synth.compile_count + b * len(synth.denoise_windows)  # and with the denoiser
    assert synth.warmup() == 0


def test_streamed_chunks_concatenate_to_the_one_shot_result(synth):
    chunks = list(synth.stream(TEXT))
    assert len(chunks) == 6  # one per sentence
    assert np.array_equal(np.concatenate(chunks), synth.synthesize(TEXT))


def test_first_chunk_comes_after_the_first_sentence_only(synth):
    before = synth.stats["sentences"]
    chunks = synth.stream(TEXT * 50)
    next(chunks)
    assert synth.stats["sentences"] - before == 1
    chunks.close()


def _all_cuts(n: int, biggest: int, start: int = 0):
    """Every way to cut rows start..n into consecutive groups of at most `biggest`: their end indices."""
    if start == n:
        yield []
    for end in range(start + 1, min(n, start + biggest) + 1):
        for rest in _all_cuts(n, biggest, end):
            yield [end, *rest]


@pytest.mark.parametrize("seed", range(20))
def test_batches_are_cut_where_padding_costs_least(seed):
    rng = random.Random(seed)
    lengths = sorted(rng.choice([3, 15, 40, 90, 250, 500]) for _ in range(rng.randint(1, 8)))
    batches, tokens = (1, 2, 4), buckets.TOKEN_BUCKETS["accelerator"]

    def cost(ends):
        return sum(buckets.pick(j - i, batches) * buckets.pick(lengths[j - 1], tokens) + buckets.LAUNCH_COST
                   for i, j in zip([0, *ends], ends))

    ends = buckets.partition(lengths, batches, tokens)
    assert ends[-1] == len(lengths) and all(0 < j - i <= 4 for i, j in zip([0, *ends], ends))
    assert cost(ends) == min(cost(e) for e in _all_cuts(len(lengths), 4))


def test_a_batch_of_long_sentences_stays_within_the_memory_budget():
    batches, tokens = (1, 2, 4, 8, 16, 32), buckets.TOKEN_BUCKETS["accelerator"]
    for length in (100, 250, 500):
        ends = buckets.partition([length] * 64, batches, tokens, max_slots=4096)
        sizes = [j - i for i, j in zip([0, *ends], ends)]
        assert sum(sizes) == 64 and max(sizes) * buckets.pick(length, tokens) <= 4096
    assert buckets.partition([500, 500], batches, tokens, max_slots=512) == [1, 2]
    assert buckets.partition([500], batches, tokens, max_slots=256) == [1]  # one sentence always runs


def test_short_sentences_are_not_padded_to_a_long_ones_batch():
    ends = buckets.partition([12] * 10 + [480, 500], (1, 2, 4, 8, 16, 32), buckets.TOKEN_BUCKETS["accelerator"])
    assert 10 in ends and ends[-1] == 12  # the two long ones form their own batch
    assert buckets.partition([12] * 5, (1,), buckets.TOKEN_BUCKETS["accelerator"]) == [1, 2, 3, 4, 5]


def test_silence_separates_sentences(synth, models):
    quiet = engine.Synthesizer(*models, **BUCKETS, silence_s=0.0, compilation_cache=False)
    two = "Hello there. Goodbye now."
    gap = len(synth.synthesize(two)) - len(quiet.synthesize(two))
    assert gap == round(0.2 * synth.sample_rate)


def test_an_utterance_sounds_the_same_alone_and_in_a_batch(synth):
    texts = ["Hi.", "A much longer sentence, with several clauses, that sets the buckets of the batch.", "Okay then."]
    batch = synth.synthesize_batch(texts)
    for text, audio in zip(texts, batch):
        alone = synth.synthesize(text)
        assert audio.shape == alone.shape
        np.testing.assert_allclose(audio, alone, atol=1e-5)


def test_controls_change_the_audio_without_recompiling(synth):
    synth.warmup()
    compiled = synth.compile_count
    base = synth.synthesize("Pitch and pace.")
    slow = synth.synthesize("Pitch and pace.", pace=0.5)
    assert len(slow) > 1.5 * len(base)
    assert not np.allclose(synth.synthesize("Pitch and pace.", pitch_shift=50.0), base)
    synth.synthesize("Pitch and pace.", pitch_flatten=True, pitch_invert=True, pitch_amplify=2.0)
    assert synth.compile_count == compiled


@pytest.mark.parametrize("text", ["", "   \n\t ", "?!... ,;", "😀🎉👍", "\x00\x07\x1b"])
def test_nothing_to_speak_is_a_text_error(synth, text):
    with pytest.raises(TextError, match="nothing to speak"):
        synth.synthesize(text)


def test_pronunciations_in_braces_are_spoken_and_bad_ones_named(synth):
    assert len(synth.synthesize("Say {T AH0 M EY1 T OW2}.")) > 0
    with pytest.raises(InputError, match="unknown ARPAbet phone AH9"):
        synth.synthesize("Fine. Then say {HH AH9}.")


def test_control_characters_inside_text_are_ignored(synth):
    audio = synth.synthesize("Hello\x00 wor\x07ld\x1b, bye\u200b now.")
    assert len(audio) > 0 and np.isfinite(audio).all()


def test_100k_characters_stream_in_bounded_steps(synth):
    text = (TEXT + " 12345678901234567890 " + "word " * 120 + "\n\n") * 170
    assert len(text) >= 100_000
    before = synth.stats["sentences"]
    total = 0
    for i, chunk in enumerate(synth.stream(text)):
        if i == 0:
            assert synth.stats["sentences"] - before == 1  # nothing else was synthesized yet
        assert np.isfinite(chunk).all()
        total += len(chunk)
    assert total > 60 * synth.sample_rate


@pytest.mark.parametrize("controls", [{"pace": 0.0}, {"pace": float("nan")}, {"speaker": 3}, {"denoise": -1.0},
                                      {"pitch_flatten": "yes"}, {"volume": 2.0}])
def test_bad_controls_are_input_errors(synth, controls):
    with pytest.raises(InputError):
        synth.synthesize("Hello.", **controls)


def test_wav_directory_has_one_file_per_speakable_line(synth, tmp_path):
    lines = ["Hello world.", "", "This line has two sentences. Here is the second.", "?!", "Last line."]
    result = synth.synthesize_to_dir(lines, tmp_path)
    assert result == engine.DirResult(written=3, skipped=[2, 4])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000001.wav", "000003.wav", "000005.wav"]
    for name, text in [("000001.wav", lines[0]), ("000003.wav", lines[2]), ("000005.wav", lines[4])]:
        audio, rate = soundfile.read(tmp_path / name, dtype="float32")
        assert rate == synth.sample_rate
        np.testing.assert_allclose(audio, synth.synthesize(text), atol=1 / 32768 + 1e-6)


def test_a_model_whose_vocabulary_the_front_end_does_not_know_is_refused(models):
    acoustic, vocoder = models
    other = fp.FastPitch(dataclasses.replace(acoustic.config, n_symbols=60, padding_idx=0), acoustic.params)
    with pytest.raises(ConfigError, match="60 input symbols and no vocabulary the text front-end knows"):
        engine.Synthesizer(other, vocoder)
    odd = dataclasses.replace(acoustic.config, n_symbols=3, padding_idx=0)
    with pytest.raises(ConfigError, match="vocabulary lacks"):
        engine.Synthesizer(fp.FastPitch(odd, acoustic.params, TextEncoder(symbols=("<pad>", " ", "a"))), vocoder)


def test_a_model_on_nvidias_lowercase_table_gets_the_same_symbols_at_its_own_ids(models):
    """english_basic_lowercase puts '"' among the punctuation, so the space and every later id
    moves; the engine writes each symbol at the model's own id, in ARPAbet and letters alike."""
    acoustic, vocoder = models
    table = SYMBOL_SETS["english_basic_lowercase"]
    for arpabet in (True, False):
        config = dataclasses.replace(acoustic.config, n_symbols=len(table))
        text_setup = TextEncoder(symbols=table, p_arpabet=float(arpabet))
        synth = engine.Synthesizer(fp.FastPitch(config, acoustic.params, text_setup), vocoder, **BUCKETS)
        text = "Hello, World: 2 GPUs (ok)."
        (ids,) = synth._sentence_ids(text)
        assert [table[i] for i in ids] == [SYMBOLS[i] for i in to_ids(text, arpabet=arpabet)]
        assert ids[to_ids(text, arpabet=arpabet).index(SPACE_ID)] == table.index(" ") == SPACE_ID + 1


def test_text_is_encoded_as_the_checkpoint_was_trained(models, compilation_cache):
    """Letters only for a FastPitch trained without ARPAbet, space ids around each text when its
    training put them there; the published kind gets ARPAbet and no spaces."""
    acoustic, vocoder = models
    setup = {"p_arpabet": 0.0, "prepend_space_to_text": True, "append_space_to_text": True}
    other = fp.FastPitch(acoustic.config, acoustic.params, TextEncoder(**setup))
    ids = lambda model: list(engine.Synthesizer(model, vocoder, **BUCKETS)._sentence_ids("Hi there."))  # noqa: E731
    assert ids(acoustic) == [to_ids("Hi there.")]
    assert ids(other) == [[SPACE_ID, *to_ids("Hi there.", arpabet=False), SPACE_ID]]


def test_audio_and_wavs_are_at_the_vocoders_own_rate(models, compilation_cache, tmp_path):
    acoustic, vocoder = models
    fast = hg.HiFiGAN(dataclasses.replace(vocoder.config, sampling_rate=44_100), vocoder.params)
    synth44 = engine.Synthesizer(acoustic, fast, **BUCKETS, silence_s=0.5, compilation_cache=compilation_cache)
    assert synth44.sample_rate == 44_100 and len(synth44.silence) == 22_050
    synth44.synthesize_to_dir(["Hello world."], tmp_path)
    assert soundfile.info(tmp_path / "000001.wav").samplerate == 44_100


def test_processes_split_the_lines_and_fill_one_directory(synth, tmp_path):
    """Single-process simulation of a multi-host job: each process index takes its share of lines."""
    lines = [f"Sentence number {i}." for i in range(1, 8)]
    alone = synth.synthesize_to_dir(lines, tmp_path / "one")
    shares = [synth.synthesize_to_dir(lines, tmp_path / "many", process_index=i, process_count=3) for i in range(3)]
    assert [s.written for s in shares] == [2, 3, 2] and sum(s.written for s in shares) == alone.written
    for path in sorted((tmp_path / "one").iterdir()):
        assert soundfile.read(path)[0].tolist() == soundfile.read(tmp_path / "many" / path.name)[0].tolist()


def test_compiled_programs_land_in_the_persistent_cache(synth, compilation_cache):
    synth.synthesize("Hello.")
    assert jax.config.jax_compilation_cache_dir == str(compilation_cache)
    assert len(list(compilation_cache.iterdir())) >= synth.compile_count


SHARDED = """
import sys, numpy as np, jax
sys.path.insert(0, {tests!r})
from test_engine import BUCKETS, TEXT, small_models
from jaxtts import engine
assert jax.local_device_count() == 4
models = small_models()
texts = [s + "." for s in TEXT.split(".") if s.strip()] + ["One more line, the seventh."]
one = engine.Synthesizer(*models, **BUCKETS, devices=jax.local_devices()[:1], compilation_cache=False)
four = engine.Synthesizer(*models, **BUCKETS, compilation_cache=False)
assert four.batch_buckets == (4,), four.batch_buckets
for a, b in zip(one.synthesize_batch(texts), four.synthesize_batch(texts)):
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=1e-5)
print("ok", len(texts))
"""


def test_batches_sharded_over_four_devices_equal_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    script = SHARDED.format(tests=str(Path(__file__).parent))
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["ok", "7"]


def test_denoise_is_nvidias_except_for_the_tail_and_batch_invariant(models):
    hc = hg.HiFiGANConfig((16, 16), (32, 32), 16, "2", (3,), ((1, 2),))  # NVIDIA's denoiser needs hop 256
    vocoder = hg.HiFiGAN(hc, jax.jit(hg.Generator(hc).init)(jax.random.key(2), jnp.zeros((1, 8, 80)))["params"])
    synth = engine.Synthesizer(models[0], vocoder, **BUCKETS, compilation_cache=False)
    text = "Denoise this sentence, please."
    plain, clean = synth.synthesize(text), synth.synthesize(text, denoise=0.05)
    assert clean.shape == plain.shape and not np.allclose(clean, plain)
    nvidia = np.asarray(denoiser.denoise(plain[None], vocoder.bias_spectrum, 0.05))[0]
    np.testing.assert_allclose(clean[: -denoiser.N_FFT // 2], nvidia[: -denoiser.N_FFT // 2], atol=1e-5)
    batch = synth.synthesize_batch([text, "A far longer neighbour that widens the frame bucket of the batch."], denoise=0.05)
    np.testing.assert_allclose(batch[0], clean, atol=1e-5)


def test_a_pitch_transform_function_is_applied(models):
    synth = engine.Synthesizer(*models, **BUCKETS, compilation_cache=False)
    text = "Raise my voice."
    shifted = synth.synthesize(text, pitch_shift=40.0)
    assert np.allclose(synth.synthesize(text, pitch_transform=lambda p, n, mean, std: p + 40.0 / std), shifted, atol=1e-6)


def test_one_line_entry_keeps_one_synthesizer_per_model_pair(synth, models):
    import jaxtts

    first = jaxtts.synthesize("Hello there.", fastpitch=models[0], hifigan=models[1])
    kept = engine._SYNTHESIZERS[models]
    compiled = kept.compile_count
    np.testing.assert_array_equal(jaxtts.synthesize("Hello there.", fastpitch=models[0], hifigan=models[1]), first)
    assert engine._SYNTHESIZERS[models] is kept and kept.compile_count == compiled


def test_bfloat16_gives_finite_audio_of_about_the_same_length(models, synth):
    half = engine.Synthesizer(*models, **BUCKETS, dtype=jnp.bfloat16, compilation_cache=False)
    text = "Half precision for accelerators."
    low, full = half.synthesize(text), synth.synthesize(text)
    assert np.isfinite(low).all() and abs(len(low) - len(full)) < 0.1 * len(full)


def test_default_cpu_synthesizer_can_compile_at_most_24_programs(models):
    """The bound follows from the default tables: encoders per token bucket, decoders per frame
    bucket, vocoders per window size with and without the denoiser (batch bucket 1 on a CPU), for
    a vocoder at NVIDIA's hop and receptive field."""
    hc = dataclasses.replace(hg.PUBLISHED["v1"], upsample_initial_channel=16)  # its hop and reach, fewer channels
    vocoder = hg.HiFiGAN(hc, jax.tree.map(lambda p: np.zeros(p.shape, p.dtype), hg.param_shapes(hc)))
    synth = engine.Synthesizer(models[0], vocoder, compilation_cache=False, devices=jax.devices("cpu")[:1])
    assert synth.token_buckets == buckets.TOKEN_BUCKETS["cpu"] and synth.batch_buckets == (1,)
    assert synth.frame_buckets == buckets.FRAME_BUCKETS["cpu"]
    assert synth.frame_buckets[-1] == buckets.MAX_SENTENCE_FRAMES  # no frame count falls past the table
    assert synth.vocoder_windows == buckets.VOCODER_WINDOWS == (64, 256)
    assert synth.program_bound == 5 + 15 + 2 * 2 == 24


def test_no_new_compilation_after_40_random_texts_without_warmup(models):
    """Default settings, no warmup(): the next 60 random texts (1-400 characters) build nothing,
    counted both by the engine and by JAX's own compile events."""
    synth = engine.Synthesizer(*models, compilation_cache=False, devices=jax.devices("cpu")[:1])
    rng = random.Random(16)
    texts = [random_text(rng) for _ in range(100)]

    def speak(batch: list[str]) -> None:
        for text in batch:
            try:
                synth.synthesize(text)
            except TextError:
                pass

    speak(texts[:40])
    programs, built = synth.compile_count, programs_built()
    assert 0 < programs <= synth.program_bound
    speak(texts[40:])
    assert synth.compile_count == programs
    assert programs_built() == built
