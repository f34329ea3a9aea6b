"""The shipped PointMaze presets (gymnasium-robotics, the ``robotics`` extra) train end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("gymnasium_robotics")

from graph_rl import api  # noqa: E402
from tests.cli.cli_helpers import TRAIN, run_script  # noqa: E402


@pytest.mark.parametrize("algo", ["SAC", "HAC", "HiTS"])
def test_preset_trains_and_reads_the_mazes_success_flag(algo: str, tmp_path: Path) -> None:
    proc = run_script(TRAIN, "--env", "PointMaze_UMaze", "--algo", algo, "--logdir", tmp_path / "run", "--no-progress",
                      "--run_params", "n_steps=1200", "test_frequency=2", "n_test_episodes=1")
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["run_params"]["env"] == "gymnasium_robotics:PointMaze_UMaze-v3"
    train = api.metrics(tmp_path / "run", "train")
    assert len(train) >= 2 and set(train["success"]) <= {0, 1} and (train["length"] > 1).all()


_PRESET_DEPARTURES = {
    ("Medium", "HiTS"): ["level_params_list[0].subtask_spec_params.delta_t_max=25"],
    ("UMaze", "SAC"): ["level_params_list[0].model_kwargs.gamma=0.99", "level_params_list[0].model_kwargs.tau=0.02",
                       "level_params_list[0].model_kwargs.hidden_layers=[128,128]"],
    ("UMaze", "HiTS"): ["level_params_list[1].algo_kwargs.child_failure_penalty=-2.0"],
}


@pytest.mark.parametrize("maze, n_steps, half_width", [("UMaze", 100_000, 1.5), ("Medium", 1_000_000, 3.0)])
@pytest.mark.parametrize("algo", ["SAC", "HAC", "HiTS"])
def test_presets_are_the_generic_defaults_with_the_mazes_subgoal_bounds(
        maze: str, n_steps: int, half_width: float, algo: str) -> None:
    """The presets depart from the generic defaults by the subgoal bounds of the maze's free area (its goal space is
    unbounded), so what the defaults' docstring promises is what the presets train; Medium's HiTS subgoals last
    at most L / H = 600 / 24 = 25 steps, not the defaults' 2 L / H; the UMaze's flat SAC discounts by 0.99, not
    0.98, with [128, 128] networks, not [64, 64], and Polyak tau 0.02, not 0.005; the UMaze's HiTS top level pays
    -2 for a failed subgoal test, not the defaults' -budget = -17 (docs/research/pointmaze.md, 3 seeds each, the
    UMaze ones on 3 more)."""
    preset = api.load_config(f"PointMaze_{maze}", algo)
    bounds = {"achieved_goal": [[-half_width] * 2, [half_width] * 2]}
    graph = [] if algo == "SAC" else [f"level_params_list[0].subtask_spec_params.subgoal_bounds={json.dumps(bounds)}"]
    graph += _PRESET_DEPARTURES.get((maze, algo), [])
    generic = api.load_config(f"gymnasium_robotics:PointMaze_{maze}-v3", algo, run={"n_steps": n_steps}, graph=graph)
    assert preset.to_dict()["graph_params"] == generic.to_dict()["graph_params"]
    assert preset.run.env == generic.run.env and preset.run.n_steps == n_steps
