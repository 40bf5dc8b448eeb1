"""Compiled programs kept across processes, so that a warm start neither traces nor compiles.

JAX's persistent compilation cache saves XLA's compile, but its key is the lowered program, so a
new process still traces every Flax model in Python and lowers it before it can look: most of a
warm start. This store keys each program by what determines it before tracing instead: the
caller's name for it, the abstract arguments (tree, shapes, dtypes, shardings), the jaxtts source,
the jax and jaxlib versions, the backend, its devices and the XLA flags. A hit deserializes the
executable (`jax.experimental.serialize_executable`); a miss compiles as usual and stores it.

The store lives in JAX's compilation cache directory (`engine.enable_compilation_cache`) and is
off while that is unset. Its files are pickles written by this user's own processes, as trusted
as the XLA cache beside them; one that fails its checksum or does not load is compiled again and
replaced. A program that closes over a Python callable (a custom pitch transform) has no stable
key and is not stored, nor is one placed on only some of the local devices.
"""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
from jax._src import config as jax_config  # the thread-local switch of JAX's persistent cache
from jax.experimental import serialize_executable

from jaxtts import files

SUFFIX = ".jaxtts-program"  # JAX's own entries end in "-cache": the two never mix
_MAGIC = b"jaxtts-program-1\n"


def compile(key: tuple, fn: Callable, *args: Any, out_shardings: Any = None, store: bool = True) -> tuple[Any, bool]:
    """`jax.jit(fn, out_shardings=...).lower(*args).compile()`, from the store when it holds it:
    (compiled, whether it was loaded). `key` names the program and holds every static value `fn`
    closes over (config, dtype, sizes), with a repr that is the same in every process; the
    arguments' trees, shapes, dtypes and shardings are added to it here. `store=False` for a program
    without such a key (one that closes over a Python callable)."""
    path = _path(key, args, out_shardings) if store else None
    if path is not None and path.exists():
        compiled = _load(path)
        if compiled is not None:
            return compiled, True
    if path is None:
        return jax.jit(fn, out_shardings=out_shardings).lower(*args).compile(), False
    # Compiled afresh, not taken from JAX's cache: an executable that was itself deserialized
    # serializes without its kernels on CPU ("Function ... not found" when the next process runs it).
    with jax_config.enable_compilation_cache(False):
        compiled = jax.jit(fn, out_shardings=out_shardings).lower(*args).compile()
    _save(path, compiled)
    return compiled, False


def _path(key: tuple, args: tuple, out_shardings: Any) -> Path | None:
    directory = jax.config.jax_compilation_cache_dir
    if not directory:
        return None
    leaves, tree = jax.tree.flatten(args)
    devices = set(jax.local_devices())
    shardings = [getattr(a, "sharding", None) for a in leaves]
    if any((len(devices) > 1) if s is None else (s.device_set != devices) for s in shardings):
        return None  # an executable loads onto all local devices: a program on some of them is not stored
    described = repr((key, str(tree), [(a.shape, str(a.dtype), str(s)) for a, s in zip(leaves, shardings)],
                      str(out_shardings), _environment(), sorted((d.id, d.device_kind) for d in devices)))
    return Path(directory) / f"{key[0]}-{hashlib.sha256(described.encode()).hexdigest()}{SUFFIX}"


@functools.cache
def _environment() -> tuple:
    """What decides how a program traces and compiles beyond its arguments."""
    import jaxlib

    source = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        source.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    client = jax.local_devices()[0].client
    return (source.hexdigest(), jax.__version__, jaxlib.__version__, client.platform, client.platform_version,
            os.environ.get("XLA_FLAGS", ""), jax.config.jax_enable_x64, str(jax.config.jax_default_matmul_precision),
            sys.version_info[:2])


def _load(path: Path) -> Any | None:
    try:
        data = path.read_bytes()
        head = len(_MAGIC) + 32
        if data[: len(_MAGIC)] != _MAGIC or hashlib.sha256(data[head:]).digest() != data[len(_MAGIC):head]:
            return None
        payload, in_tree, out_tree = pickle.loads(data[head:])
        return serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    except Exception:  # a stale or foreign entry is only a miss: the caller compiles and replaces it
        return None


def _save(path: Path, compiled: Any) -> None:
    try:
        body = pickle.dumps(serialize_executable.serialize(compiled), protocol=pickle.HIGHEST_PROTOCOL)
        with files.atomic_write(path) as tmp:
            tmp.write_bytes(_MAGIC + hashlib.sha256(body).digest() + body)
    except OSError:  # a full or read-only cache costs the next process a compile, never this one its result
        pass
