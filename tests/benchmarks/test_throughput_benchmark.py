"""benchmarks/throughput.py measures the config it reports, overrides included, and rejects bad overrides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "throughput.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402

SHORT = ["--steps", "100", "--warmup", "600", "--repeats", "1"]


def test_override_changes_the_measured_config() -> None:
    key = "level_params_list[1].algo_kwargs.grad_steps_per_env_step"
    proc = subprocess.run([sys.executable, str(SCRIPT), *SHORT, "--override", f"{key}=0.25"],
                          capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(proc.stdout)
    assert report["overrides"] == [f"{key}=0.25"]
    assert report["grad_steps_per_env_step"][1] == 0.25
    assert report["env_steps_per_s"] > 0
    assert report["code"] == bench_cli.code_version()  # a speed figure is only comparable on the same code and CPU
    assert {k: report["machine"][k] for k in ("cpus", "cpu_model", "simd")} == bench_cli.host()


def test_unknown_override_is_a_one_line_error() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), *SHORT, "--override", "level_params_list[1].nope=1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "graph_params.level_params_list[1].nope: unknown parameter (prefix with '+' to add a new key)")


def test_unknown_env_is_a_one_line_error() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), *SHORT, "--env", "NoSuchEnv"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--env NoSuchEnv: unknown environment" in proc.stderr


@pytest.mark.parametrize("option", ["--repeats", "--steps"])
def test_a_count_below_one_is_a_one_line_error(option: str) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), option, "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].endswith(f"argument {option}: must be >= 1, got 0")


def test_a_gymnasium_id_without_a_params_folder_runs_on_the_generic_defaults() -> None:
    """The same resolution as train.py: an id with no folder under data/ gets the generic defaults."""
    pytest.importorskip("gymnasium_robotics")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--steps", "300", "--warmup", "310", "--repeats", "1",
                           "--env", "gymnasium_robotics:PointMaze_UMaze-v3", "--algo", "SAC"],
                          capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(proc.stdout)
    assert report["env"] == "gymnasium_robotics:PointMaze_UMaze-v3"
    assert report["levels"] == 1
    assert report["gradient_updates_per_repeat"][0] > 0
