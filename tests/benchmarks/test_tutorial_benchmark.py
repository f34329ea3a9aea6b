"""benchmarks/tutorial.py refuses bad input in one line before running anything (its run is ~9 minutes).

That it reads the lessons' figures from the notebook's run directories is checked on the shortened notebook run, in
tests/notebooks/test_tutorial_notebook.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("nbclient")
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "tutorial.py"


@pytest.mark.parametrize("args, culprit", [
    (["--scale", "0"], "argument --scale: must be > 0, got 0"),
    (["--scale", "x"], "argument --scale: not a number: 'x'"),
    (["--runs-dir", "{full}"], "--runs-dir {full}: not empty (the notebook clears its folder)"),
    (["--out", "{tmp}/missing/r.json"], "--out {tmp}/missing/r.json: no directory {tmp}/missing"),
])
def test_bad_input_is_one_line_and_exit_2_and_leaves_the_runs_dir_alone(
    tmp_path: Path, args: list[str], culprit: str,
) -> None:
    full = tmp_path / "earlier"
    full.mkdir()
    (full / "keep.txt").write_text("earlier results")
    names = {"full": str(full), "tmp": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(SCRIPT), *(a.format(**names) for a in args)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1] == f"tutorial.py: error: {culprit.format(**names)}"
    assert (full / "keep.txt").read_text() == "earlier results"
