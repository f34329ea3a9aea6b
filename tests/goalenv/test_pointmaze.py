"""The shipped PointMaze presets (gymnasium-robotics, the ``robotics`` extra) train end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("gymnasium_robotics")

from graph_rl import api  # noqa: E402
from tests.cli.cli_helpers import TRAIN, run_script  # noqa: E402


@pytest.mark.parametrize("algo", ["SAC", "HAC"])
def test_preset_trains_and_reads_the_mazes_success_flag(algo: str, tmp_path: Path) -> None:
    proc = run_script(TRAIN, "--env", "PointMaze_UMaze", "--algo", algo, "--logdir", tmp_path / "run", "--no-progress",
                      "--run_params", "n_steps=1200", "test_frequency=2", "n_test_episodes=1")
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["run_params"]["env"] == "gymnasium_robotics:PointMaze_UMaze-v3"
    train = api.metrics(tmp_path / "run", "train")
    assert len(train) >= 2 and set(train["success"]) <= {0, 1} and (train["length"] > 1).all()
