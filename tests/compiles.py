"""Counting XLA programs: JAX reports each program it builds as one backend-compile event, whether
XLA compiled it or the persistent cache supplied it (the event times the cache lookup too, so
counting cache hits as well would count a cached program twice). The listener is registered once,
on import."""
import collections

import jax

_EVENTS = collections.Counter()
jax.monitoring.register_event_duration_secs_listener(
    lambda event, _secs, **_: _EVENTS.update(programs=event == "/jax/core/compile/backend_compile_duration"))


def programs_built() -> int:
    """Every XLA program this process built so far, compiled or loaded from the persistent cache."""
    return _EVENTS["programs"]
