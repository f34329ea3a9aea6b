"""tools/compare.py: per-seed metrics, merged report files, the margin verdict and its refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "compare.py"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

import compare  # noqa: E402


def _report(path: Path, algo: str, curves: dict[int, list[float]], steps: int = 1000, **extra: Any) -> str:
    """A learning.py-shaped report: evaluations at steps 0, 100, 200, ... per seed, success values as given."""
    runs = [{"seed": seed, "total_steps": steps, "stop_reason": "n_steps",
             "curve": [{"step": 100 * i, "success": s} for i, s in enumerate(values)]}
            for seed, values in curves.items()]
    for run in runs:
        run.update(extra)
    path.write_text(json.dumps({"env": "NoisyPlatforms", "algo": algo, "steps": steps, "overrides": [],
                                "test_frequency": 40, "test_episodes": 20, "runs": runs}))
    return str(path)


def test_seed_metrics_split_the_curve_at_from_step() -> None:
    run = {"seed": 3, "total_steps": 1000, "curve": [{"step": 100 * (i + 1), "success": s}
                                                     for i, s in enumerate([0.0, 0.0, None, 0.5, 1.0, 1.0, 0.5])]}
    metrics = compare.seed_metrics(run, from_step=400)
    assert metrics == {"seed": 3, "mean": round(3 / 7, 4), "late": 0.75, "last5": 0.6, "evaluations": 7,
                       "total_steps": 1000}


def test_sides_merge_files_and_the_margin_judges_the_chosen_metric(tmp_path: Path) -> None:
    a1 = _report(tmp_path / "a1.json", "EAT", {1: [0.0] * 5 + [0.4] * 5, 2: [0.0] * 5 + [0.2] * 5})
    a2 = _report(tmp_path / "a2.json", "EAT", {3: [0.0] * 5 + [0.3] * 5})
    b = _report(tmp_path / "b.json", "HiTS", {1: [0.1] * 10, 2: [0.1] * 10, 3: [0.1] * 10})
    report = compare.compare([a1, a2], [b], from_step=None, margin=0.1, metric="late", allow_partial=False)
    assert report["from_step"] == 500 and report["a"]["seeds"] == [1, 2, 3]
    assert report["a"]["late"]["mean"] == 0.3 and report["b"]["late"]["mean"] == 0.1
    assert report["difference"]["late"]["a_minus_b"] == 0.2 and report["meets_margin"]
    low, high = report["a"]["late"]["ci95"]
    assert 0.2 <= low <= 0.3 <= high <= 0.4
    assert report["difference"]["mean"]["a_minus_b"] == 0.05
    assert not compare.compare([a1, a2], [b], None, 0.1, "mean", False)["meets_margin"]
    assert compare.compare([a1, a2], [b], None, 0.1, "late", False) == report  # a fixed bootstrap generator


def test_a_renamed_override_path_is_the_same_agent_and_a_different_value_is_not(tmp_path: Path) -> None:
    old = "level_params_list[1].algo_kwargs.flat_algo_kwargs.alpha=0.54"    # as reports before b26504b name it
    new = "level_params_list[1].model_kwargs.alpha=0.54"
    penalty = "level_params_list[1].algo_kwargs.child_failure_penalty=-4.32"  # not renamed: kept as it is
    a1 = _report(tmp_path / "a1.json", "EAT", {1: [0.5] * 10})
    a2 = _report(tmp_path / "a2.json", "EAT", {2: [0.5] * 10})
    b = _report(tmp_path / "b.json", "HiTS", {1: [0.1] * 10, 2: [0.1] * 10})
    for path, overrides in ((a1, [penalty, old]), (a2, [penalty, new])):
        report = json.loads(Path(path).read_text())
        Path(path).write_text(json.dumps({**report, "overrides": overrides}))
    merged = compare.compare([a1, a2], [b], None, 0.1, "late", False)
    assert merged["a"]["seeds"] == [1, 2] and merged["a"]["overrides"] == [penalty, new]
    report = json.loads(Path(a2).read_text())
    Path(a2).write_text(json.dumps({**report, "overrides": [penalty, new.replace("0.54", "0.55")]}))
    with pytest.raises(compare.CompareError, match="overrides .* differs from"):
        compare.compare([a1, a2], [b], None, 0.1, "late", False)


@pytest.mark.parametrize("case, culprit", [
    ("duplicate seed", "seed 1 appears twice"),
    ("mixed budgets", "steps 2000 differs from 1000"),
    ("partial", "--b: seeds [1] stopped before 1000 steps"),
    ("not json", "not JSON"),
    ("bad out", "is a directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str, culprit: str) -> None:
    a = _report(tmp_path / "a.json", "EAT", {1: [0.5] * 10})
    b = [_report(tmp_path / "b.json", "HiTS", {1: [0.5] * 10})]
    if case == "duplicate seed":
        b.append(_report(tmp_path / "b2.json", "HiTS", {1: [0.5] * 10}))
    elif case == "mixed budgets":
        b.append(_report(tmp_path / "b2.json", "HiTS", {2: [0.5] * 10}, steps=2000))
    elif case == "partial":
        b = [_report(tmp_path / "b.json", "HiTS", {1: [0.5] * 10}, total_steps=600, stop_reason="max_runtime")]
    elif case == "not json":
        (tmp_path / "b.json").write_text("{")
    out = ["--out", str(tmp_path)] if case == "bad out" else []  # a directory
    proc = subprocess.run([sys.executable, str(SCRIPT), "--a", a, "--b", *b, *out], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert culprit in proc.stderr.strip().splitlines()[-1] and "Traceback" not in proc.stderr
    if case == "partial":
        ok = subprocess.run([sys.executable, str(SCRIPT), "--a", a, "--b", *b, "--allow-partial"],
                            capture_output=True, text=True, timeout=60, check=True)
        assert json.loads(ok.stdout)["b"]["partial"] == [1]
