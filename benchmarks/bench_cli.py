"""What the benchmark command lines share: one-line errors, and a JSON report that is printed before ``--out`` is
written, so a long run's result survives a bad ``--out``. For the diagnostics that load a trained agent
(``eat_mechanism.py``, ``top_level_probe.py``) also their common arguments and the loading.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def at_least(low: int) -> Callable[[str], int]:
    """An argparse type for an int >= ``low``, so a bad value is argparse's one-line error naming the option."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def parser(description: str | None, episodes: int) -> argparse.ArgumentParser:
    """``CHECKPOINT_OR_RUNDIR --episodes N --seed S --out FILE``; callers add their own options."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, metavar="CHECKPOINT_OR_RUNDIR")
    p.add_argument("--episodes", type=at_least(1), default=episodes)
    p.add_argument("--seed", type=int, help="seed of the evaluation env stream (default: the run's seed)")
    p.add_argument("--out", default=None, help="also write the JSON here")
    return p


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``parser.parse_args`` with ``--out`` checked (see :func:`check_out`)."""
    args = parser.parse_args(argv)
    check_out(parser, args.out)
    return args


def fail(prog: str, message: str) -> int:
    """Print ``PROG: error: MESSAGE`` on one line to stderr; the exit status for bad input."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def check_out(parser: argparse.ArgumentParser, out: str | None) -> None:
    """Exit 2 with one line if ``--out`` cannot be written: checked before the work starts, not after hours of it."""
    if out is None:
        return
    path = Path(out)
    if path.is_dir():
        parser.error(f"--out {out}: is a directory")
    if not path.parent.is_dir():
        parser.error(f"--out {out}: no directory {path.parent}")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        parser.error(f"--out {out}: not writable")


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


def parse_and_load(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> tuple[argparse.Namespace, Any]:
    """The diagnostics' arguments and the agent at their ``source``; bad input exits 2 after one line."""
    args = parse_args(parser, argv)
    return args, load(parser.prog, args.source)


REPO = Path(__file__).resolve().parents[1]
CODE_PATHS = ("graph_rl", "envs", "data", "benchmarks", "scripts")
"""What a measurement depends on; a change elsewhere (docs, tests) does not make a report's code differ."""


def code_version(root: Path = REPO) -> dict[str, Any]:
    """The commit a report's numbers come from, and the tracked files under :data:`CODE_PATHS` that differ from it.

    Any change to the numerics (an operation's order, a random stream) moves every learning curve, so a report is
    only comparable with one from the same code; without this a stale figure cannot be told from a current one.
    Both are None outside a git checkout. Take it when the measurement starts: the tree may change during a run.
    """

    def git(*argv: str) -> str:
        return subprocess.run(["git", "-C", str(root), *argv], capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "modified": None}
    return {"commit": commit, "modified": sorted(line[3:] for line in status.splitlines())}


def host(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """The CPU a report ran on (``graph_rl.session.setup.cpu_features``: the same code and seed give other curves on
    another CPU)."""
    from graph_rl.session.setup import cpu_features

    model, simd = cpu_features(cpuinfo)
    return {"cpus": os.cpu_count(), "cpu_model": model, "simd": simd}


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
