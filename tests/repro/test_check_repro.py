"""scripts/check_repro.py end to end: separate processes, byte comparison, stop-and-resume, JSON verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.repro.tiny import ROOT

SCRIPT = ROOT / "scripts" / "check_repro.py"


def test_check_repro_passes_for_sac(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--env", "EasyPlatforms", "--algo", "SAC", "--steps", "1000", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict = json.loads(proc.stdout.strip().splitlines()[-1])
    assert verdict["ok"] and verdict["same_seed_identical"] and verdict["resume_identical"] and verdict["lines"] > 3
    assert verdict["first_difference"] is None


def test_first_difference_names_the_line(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    from check_repro import first_difference

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "m.jsonl").write_text('{"step": 1}\n{"step": 2, "x": 1.0}\n')
    (tmp_path / "b" / "m.jsonl").write_text('{"step": 1}\n{"step": 2, "x": 1.5}\n')
    diff = first_difference(tmp_path / "a" / "m.jsonl", tmp_path / "b" / "m.jsonl")
    assert diff == {"line": 2, "a": '{"step": 2, "x": 1.0}', "b": '{"step": 2, "x": 1.5}'}
    assert first_difference(tmp_path / "a" / "m.jsonl", tmp_path / "a" / "m.jsonl") is None
