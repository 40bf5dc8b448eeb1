"""The program store: a warm process loads its compiled programs whole (no tracing, no compiling)
and computes exactly what a cold one does; a damaged, missing or foreign entry only costs a compile."""
import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxtts import programs

TESTS = Path(__file__).parent
SPEAK = """
import json, sys, numpy as np
sys.path.insert(0, {tests!r})
from test_engine import BUCKETS, TEXT, small_models
from jaxtts import engine
synth = engine.Synthesizer(*small_models(), **BUCKETS, compilation_cache={cache!r})
np.save({out!r}, np.concatenate(synth.synthesize_batch([TEXT, "A second, shorter text."])))
print(json.dumps({{"compiles": synth.stats["compiles"], "loaded": synth.stats["loaded"]}}))
"""


def speak(cache: Path, out: Path) -> dict:
    script = SPEAK.format(tests=str(TESTS), cache=str(cache), out=str(out))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def stored(cache: Path) -> list[Path]:
    return sorted(cache.glob(f"*{programs.SUFFIX}"))


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """One process on an empty cache: (cache, its counts, its audio)."""
    root = tmp_path_factory.mktemp("programs")
    counts = speak(root / "xla", root / "cold.npy")
    return root / "xla", counts, np.load(root / "cold.npy")


def test_a_cold_process_compiles_and_stores_every_program(cold):
    cache, counts, _ = cold
    assert counts["loaded"] == 0 and counts["compiles"] > 0
    assert len(stored(cache)) == counts["compiles"]


def test_a_warm_process_loads_every_program_and_speaks_the_same(cold, tmp_path):
    cache, counts, audio = cold
    assert speak(cache, tmp_path / "warm.npy") == {"compiles": counts["compiles"], "loaded": counts["compiles"]}
    np.testing.assert_array_equal(np.load(tmp_path / "warm.npy"), audio)


def test_damaged_or_missing_entries_are_compiled_again_and_run(cold, tmp_path):
    """A missing entry whose program JAX's own cache still holds is compiled afresh, not taken from
    that cache (such an executable would store without its kernels and fail in the next process)."""
    cache, counts, audio = cold
    damaged, missing = stored(cache)[:2]
    damaged.write_bytes(damaged.read_bytes()[:1000])
    missing.unlink()
    assert speak(cache, tmp_path / "mended.npy") == {"compiles": counts["compiles"], "loaded": counts["compiles"] - 2}
    assert speak(cache, tmp_path / "next.npy") == {"compiles": counts["compiles"], "loaded": counts["compiles"]}
    for name in ("mended.npy", "next.npy"):
        np.testing.assert_array_equal(np.load(tmp_path / name), audio)


@pytest.fixture
def cache_dir(tmp_path):
    """JAX's compilation cache directory set to a temporary one for the test, restored after."""
    saved = jax.config.jax_compilation_cache_dir
    jax.config.update("jax_compilation_cache_dir", str(tmp_path))
    yield tmp_path
    jax.config.update("jax_compilation_cache_dir", saved)


def double(x):
    return 2 * x


def test_the_key_holds_the_static_values_and_the_argument_shapes(cache_dir):
    x = jax.ShapeDtypeStruct((4,), jnp.float32)
    first, loaded = programs.compile(("double", 1), double, x)
    assert not loaded
    again, loaded = programs.compile(("double", 1), double, x)
    assert loaded and np.array_equal(again(np.arange(4, dtype=np.float32)), first(np.arange(4, dtype=np.float32)))
    assert not programs.compile(("double", 2), double, x)[1]  # another static value
    assert not programs.compile(("double", 1), double, jax.ShapeDtypeStruct((5,), jnp.float32))[1]  # another shape
    assert len(stored(cache_dir)) == 3


def test_nothing_is_stored_without_a_stable_key_or_a_cache_directory(cache_dir):
    x = jax.ShapeDtypeStruct((3,), jnp.float32)
    assert not programs.compile(("double",), double, x, store=False)[1]
    assert stored(cache_dir) == []
    jax.config.update("jax_compilation_cache_dir", None)
    assert not programs.compile(("double",), double, x)[1]
    assert stored(cache_dir) == []
