"""A short training run saved as a run directory with its checkpoint: the input the diagnostics in ``tools/`` read."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def saved_run(directory: Path, env: str, algo: str, *, seed: int = 1, steps: int = 600,
              overrides: Sequence[str] = ()) -> Path:
    """``benchmarks/learning.py`` for ``steps`` env steps (a test after every episode) into ``directory/seed-N``."""
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "learning.py"), "--env", env, "--algo", algo,
         "--seed-list", str(seed), "--steps", str(steps), "--test-frequency", "1", "--test-episodes", "1",
         "--checkpoint-dir", str(directory), *(["--override", *overrides] if overrides else [])],
        capture_output=True, text=True, timeout=300, check=True)
    return directory / f"seed-{seed}"
