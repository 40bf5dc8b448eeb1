"""A run's `metrics.jsonl`: one JSON object per logged step, appended as training goes, trimmed back to
the last checkpoint when a run resumes (what a killed run logged after it is logged again)."""
from __future__ import annotations

import json
from pathlib import Path

from jaxtts import files

METRICS = "metrics.jsonl"


def _logged_step(line: str) -> float:
    """The step of a metrics line; infinite for a blank line or one a kill cut short (so it is dropped)."""
    try:
        return json.loads(line)["step"]
    except (ValueError, KeyError, TypeError):
        return float("inf")


def trim(path: Path, last_step: int) -> None:
    """Keep the lines of steps up to `last_step` (atomically); nothing to do without a file."""
    if not path.exists():
        return
    keep = [ln for ln in path.read_text().splitlines() if _logged_step(ln) <= last_step]
    with files.atomic_write(path) as tmp:
        tmp.write_text("".join(ln + "\n" for ln in keep))
