"""What the diagnostic CLIs that load a trained agent share: arguments, loading with one-line errors, JSON output.

Used by ``eat_mechanism.py`` and ``top_level_probe.py`` (run as ``python benchmarks/NAME.py``, so this folder is on
``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def parser(description: str | None, episodes: int) -> argparse.ArgumentParser:
    """``CHECKPOINT_OR_RUNDIR --episodes N --seed S --out FILE``; callers add their own options."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, metavar="CHECKPOINT_OR_RUNDIR")
    p.add_argument("--episodes", type=int, default=episodes)
    p.add_argument("--seed", type=int, help="seed of the evaluation env stream (default: the run's seed)")
    p.add_argument("--out", default=None, help="also write the JSON here")
    return p


def fail(prog: str, message: str) -> int:
    """Print ``PROG: error: MESSAGE`` on one line to stderr; the exit status for bad input."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def load(prog: str, source: Path) -> Any:
    """The agent at ``source`` (with the Platforms envs registered); exits 2 after a one-line error if it is bad."""
    import envs  # noqa: F401 - registers the Platforms environments
    from graph_rl.checkpoint import CheckpointError
    from graph_rl.config import ConfigError
    from graph_rl.session.evaluate import load_agent

    try:
        return load_agent(source)
    except (CheckpointError, ConfigError) as err:
        raise SystemExit(fail(prog, str(err))) from None


def emit(prog: str, report: dict[str, Any], out: str | None) -> int:
    """Print ``report`` as JSON, then write it to ``out``; 0, or 2 after a one-line error if ``out`` cannot be
    written (the printed report is not lost)."""
    text = json.dumps(report, indent=1)
    print(text)
    if out:
        try:
            Path(out).write_text(text + "\n")
        except OSError as err:
            return fail(prog, f"--out {out}: {err.strerror or err}")
    return 0
