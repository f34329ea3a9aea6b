"""tools/eat_mechanism.py: the in/out-of-window statistics, and a real EAT checkpoint end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

import eat_mechanism as mech  # noqa: E402
from saved_runs import saved_run  # noqa: E402


def _frozen(steps: int, spans: list[tuple[int, int, int]]) -> np.ndarray:
    """(steps, 2) freeze states with platform ``p`` frozen on [start, stop)."""
    frozen = np.zeros((steps, 2), bool)
    for p, start, stop in spans:
        frozen[start:stop, p] = True
    return frozen


def test_onsets_are_the_first_frozen_step_of_each_platform() -> None:
    frozen = _frozen(100, [(0, 0, 50), (0, 70, 80), (1, 20, 30), (1, 75, 90)])
    assert mech.onsets(frozen).tolist() == [0, 20, 70, 75]
    assert mech.onsets(_frozen(10, [])).tolist() == []


def test_window_counts_split_checks_at_the_window_edges() -> None:
    starts = np.array([10, 40])
    checks = [(9, True), (10, True), (20, False), (21, True), (45, True), (50, False), (51, False)]
    assert mech.window_counts(starts, checks, window=10) == {
        "checks_in": 4, "fired_in": 2, "checks_out": 3, "fired_out": 2}


def test_terminations_right_after_onsets_give_a_high_ratio() -> None:
    """An agent that terminates 3 steps after every onset and nowhere else: all terminations in windows."""
    frozen = _frozen(200, [(0, 30, 80), (1, 120, 170)])
    checks = [(t, t in (33, 123)) for t in range(1, 200)]
    report = mech.summarise([{"success": False, "frozen": frozen, "checks": checks}], window=10)
    assert report["freeze_onsets_per_episode"] == 2 and report["terminations"] == 2
    assert report["checks_in"] == 22 and report["share_of_checks_in_windows"] == round(22 / 199, 4)
    assert report["share_of_terminations_in_windows"] == 1.0
    assert report["termination_rate_in_windows"] == round(2 / 22, 4) and report["termination_rate_out_of_windows"] == 0
    assert report["rate_ratio_in_vs_out"] is None


def test_without_onsets_only_the_overall_rate_is_reported() -> None:
    report = mech.summarise([{"success": True, "frozen": _frozen(50, []), "checks": [(1, True), (2, False)]}] * 2, 10)
    assert report["success_rate"] == 1.0 and report["terminations_per_episode"] == 1.0
    assert report["termination_rate_per_check"] == 0.5 and "rate_ratio_in_vs_out" not in report


@pytest.fixture(scope="module")
def eat_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short NoisyPlatforms EAT run that terminates on any change of target, saved by learning.py --checkpoint-dir."""
    return saved_run(tmp_path_factory.mktemp("mech"), "NoisyPlatforms", "EAT", steps=1000,
                     overrides=["eat.strategy=changing_target", "eat.target_threshold=0.0", "eat.warmup_steps=0"])


def _mechanism(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "eat_mechanism.py"), *args],
                          capture_output=True, text=True, timeout=300)


def test_a_saved_eat_agent_is_checked_with_and_without_freezes(eat_checkpoint: Path) -> None:
    assert (eat_checkpoint / "checkpoints" / "latest").exists() and (eat_checkpoint / "metrics.jsonl").exists()
    proc = _mechanism(str(eat_checkpoint), "--episodes", "2")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["env"] == "NoisyPlatforms-v1" and report["strategy"] == "changing_target" and report["step"] >= 1000
    noisy, calm = report["with_freezes"], report["without_freezes"]
    assert noisy["episodes"] == calm["episodes"] == 2
    assert noisy["freeze_onsets_per_episode"] > 0 and calm["freeze_onsets_per_episode"] == 0
    assert noisy["checks_in"] + noisy["checks_out"] == noisy["checks"]
    assert noisy["fired_in"] + noisy["fired_out"] == noisy["terminations"]
    for side in (noisy, calm):  # threshold 0: nearly every check of an untrained top level fires
        assert side["termination_rate_per_check"] > 0.5
    suppressed = report["with_freezes_termination_suppressed"]
    assert suppressed["episodes"] == 2 and suppressed["terminations"] == 0 and suppressed["freeze_onsets_per_episode"] > 0
    assert suppressed["checks"] == 2 * 500  # never interrupted: one check per env step of two full-length episodes


def test_bad_sources_are_one_line_errors(tmp_path: Path) -> None:
    saved_run(tmp_path, "NoisyPlatforms", "HiTS", steps=500)
    for source, message in ((tmp_path / "missing", "no such checkpoint"), (tmp_path / "seed-1", "not an EAT agent")):
        proc = _mechanism(str(source))
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("eat_mechanism.py: error:") and message in proc.stderr
