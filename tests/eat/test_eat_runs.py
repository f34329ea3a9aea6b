"""Whole EAT runs on EasyPlatforms: strategy ``never`` with HiTS's objective writes HiTS's bytes (through train.py);
a changing-Q run logs its terminations and, stopped halfway and resumed, writes the uninterrupted run's logs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import envs  # noqa: F401 - registers the Platforms environments
from graph_rl.session import RunRequest, train
from graph_rl.session.run import LOG_FILES

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
STEPS = 1000
RUN = [f"n_steps={STEPS}", "test_frequency=2", "n_test_episodes=1", f"model_save_frequency={STEPS // 2}"]
GRAPH = [f"level_params_list[{i}].algo_kwargs.learning_starts={STEPS // 4}" for i in range(2)]

EASY_EAT_REFERENCE = [
    "eat.strategy=changing_q",
    "eat.q_std_multiplier=1.0",
    "eat.intra_action_samples=0",
    "eat.protect_subgoal_tests=false",
    "level_params_list[1].model_kwargs.gamma=0.99",
]
"""What restores the reference values in EasyPlatforms' EAT file (docs/research/eat.md: they never learn EasyPlatforms)."""


def hits_as_eat(data: Path) -> None:
    """``data/EasyPlatforms/{HiTS,EAT}``: the shipped HiTS files, and the same agent as EAT with strategy never
    and HiTS's objective."""
    shutil.copytree(DATA / "EasyPlatforms" / "HiTS", data / "EasyPlatforms" / "HiTS")
    shutil.copytree(DATA / "EasyPlatforms" / "HiTS", data / "EasyPlatforms" / "EAT")
    path = data / "EasyPlatforms" / "EAT" / "graph_params.json"
    params = json.loads(path.read_text())
    params.update(algorithm="EAT", eat={"strategy": "never", "time_discounted": False})
    path.write_text(json.dumps(params))


def test_never_with_the_hits_objective_writes_the_hits_run_byte_for_byte(tmp_path: Path) -> None:
    hits_as_eat(tmp_path / "data")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    procs = {
        algo: subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run" / "train.py"), "--env", "EasyPlatforms", "--algo", algo,
             "--seed", "3", "--data_dir", str(tmp_path / "data"), "--logdir", str(tmp_path / algo), "--no-progress",
             "--run_params", *RUN, "--graph_params", *GRAPH],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for algo in ("HiTS", "EAT")
    }
    for algo, proc in procs.items():
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{algo}: {err}"
    assert json.loads((tmp_path / "EAT" / "config.json").read_text())["algo"] == "EAT"
    metrics = (tmp_path / "HiTS" / "metrics.jsonl").read_bytes()
    assert b'"split": "learner"' in metrics and b"terminations" not in metrics
    for name in LOG_FILES:
        assert (tmp_path / "EAT" / name).read_bytes() == (tmp_path / "HiTS" / name).read_bytes(), name


def eat_run(logdir: Path | None, extra: tuple[str, ...] = (), **kwargs: object) -> tuple[Path, object]:
    request = RunRequest(
        env="EasyPlatforms", algo="EAT", seed=0, logdir=logdir, progress=False, run_overrides=RUN,
        graph_overrides=[*GRAPH, "eat.warmup_steps=200", *extra], **kwargs,
    )
    return train(request, data_root=DATA)


# The shipped k = 3 terminates nothing in so short a run; k = 1 keeps its other mechanisms in the test.
@pytest.mark.parametrize("extra", [("eat.q_std_multiplier=1.0",), tuple(EASY_EAT_REFERENCE)], ids=["shipped-k1", "reference"])
def test_changing_q_logs_terminations_and_resumes_exactly(tmp_path: Path, extra: tuple[str, ...]) -> None:
    full, _ = eat_run(tmp_path / "full", extra)
    records = [json.loads(line) for line in (full / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r["split"] == "train"]
    assert all("hac_1/terminations" in r and "hac_1/termination_rate" in r for r in train)
    assert sum(r["hac_1/terminations"] for r in train if r["step"] > 200) > 0
    assert all(r["hac_1/terminations"] == 0 for r in train if r["step"] <= 200)
    part, stopped = eat_run(tmp_path / "part", extra, stop_at=500)
    assert stopped.stop_reason == "stop_at" and stopped.total_step < STEPS
    _, resumed = eat_run(None, extra, resume=str(part))
    assert resumed.stop_reason == "n_steps"
    for name in LOG_FILES:
        assert (part / name).read_bytes() == (full / name).read_bytes(), name
