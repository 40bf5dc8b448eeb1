"""Counting XLA programs: JAX reports each backend compilation and each persistent-cache hit as a
monitoring event; the listeners are registered once, on import."""
import collections

import jax

_EVENTS = collections.Counter()
jax.monitoring.register_event_duration_secs_listener(
    lambda event, _secs, **_: _EVENTS.update(compiles=event == "/jax/core/compile/backend_compile_duration"))
jax.monitoring.register_event_listener(
    lambda event, **_: _EVENTS.update(cache_hits=event == "/jax/compilation_cache/cache_hits"))


def programs_built() -> int:
    """Every XLA program this process built so far, compiled or loaded from the persistent cache."""
    return _EVENTS["compiles"] + _EVENTS["cache_hits"]
