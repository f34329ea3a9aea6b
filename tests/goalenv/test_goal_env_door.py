"""Goal envs not shaped like Platforms: flat-Box observations, 0/1 and -1/0 rewards, explicit success, unbounded
goal spaces, ``module:Id`` and generic defaults, through the builder, the session and train.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import toy_envs  # noqa: E402

from graph_rl import api  # noqa: E402
from graph_rl.config import ConfigError  # noqa: E402
from graph_rl.graph import build_graph  # noqa: E402
from graph_rl.rng import RngRegistry  # noqa: E402
from graph_rl.session.session import step_success  # noqa: E402
from graph_rl.spaces import GoalEnvShapeError, adapt_goal_env  # noqa: E402
from tests.cli.cli_helpers import TRAIN, run_script  # noqa: E402

toy_envs.register()
ENV = "toy_envs:BoxPoint-v0"
ROOT = Path(__file__).resolve().parents[2]


def test_flat_box_observation_is_read_as_named_entries_and_slices() -> None:
    env = adapt_goal_env(gym.make("BoxPoint-v0"), {"position": [0, 2], "velocity": [2, 4]})
    assert set(env.observation_space["observation"].spaces) == {"observation", "position", "velocity", "achieved_goal"}
    obs, _ = env.reset(seed=1)
    inner = obs["observation"]
    np.testing.assert_array_equal(inner["position"], inner["observation"][:2])
    np.testing.assert_array_equal(inner["achieved_goal"], obs["achieved_goal"])
    assert inner["position"].dtype == np.float32
    with pytest.raises(GoalEnvShapeError, match=r"observation_slices.bad: \[3, 9\]"):
        adapt_goal_env(gym.make("BoxPoint-v0"), {"bad": [3, 9]})
    with pytest.raises(GoalEnvShapeError, match="needs Dict observations with 'desired_goal'"):
        adapt_goal_env(gym.make("Pendulum-v1"))


def test_platforms_envs_pass_through_unwrapped() -> None:
    import envs  # noqa: F401

    env = gym.make("EasyPlatforms-v1")
    assert adapt_goal_env(env) is env


def test_success_is_the_envs_flag_or_a_reward_threshold_never_a_zero_reward() -> None:
    assert step_success(0.0, {"success": False}, 0.0) is False  # a 0/1 env's miss with success_reward 0
    assert step_success(0.0, {"is_success": True}, None) is True
    assert step_success(1.0, {}, 1.0) is True and step_success(0.0, {}, 1.0) is False
    assert step_success(0.0, {}, None) is False


@pytest.mark.parametrize("reward, expected", [("0/1", 1.0), ("-1/0", 0.0)])
def test_generic_defaults_derive_success_threshold_and_subgoal_space(reward: str, expected: float) -> None:
    gym.register(f"BoxPoint{reward.replace('/', '')}-v0", entry_point=toy_envs.BoxPoint, max_episode_steps=50,
                 kwargs={"reward": reward, "info_flag": False})
    config = api.load_config(f"toy_envs:BoxPoint{reward.replace('/', '')}-v0", "HiTS", data_dir=ROOT / "data")
    assert config.run.success_reward == expected
    low, top = config.graph.level_params_list
    assert low.subtask_spec_params.goal_keys == ["achieved_goal"]
    assert low.subtask_spec_params.goal_thresholds["achieved_goal"] == pytest.approx(toy_envs.RADIUS, abs=1e-4)
    assert top.subtask_spec_params.max_n_actions == 7 and low.subtask_spec_params.delta_t_max == pytest.approx(100 / 7, abs=1e-3)
    assert top.subtask_spec_params.env_goal_key == "achieved_goal"
    assert top.model_kwargs.force_negative and not low.model_kwargs.force_negative, "HiTS's lower level earns 1"
    api.build(config)


@pytest.mark.parametrize("algo, level, culprit", [("HiTS", 0, "TimedGoalSubtask rewards an achieved goal with 1.0"),
                                                  ("SAC", 0, "learns from env rewards, which reach 1.0")])
def test_a_critic_bounded_by_0_is_refused_where_rewards_reach_above_0(algo: str, level: int, culprit: str) -> None:
    """A HiTS lower level earns 1 per achieved subgoal: with force_negative its critic could never value success
    (it trained, silently, without learning: the generic defaults once shipped exactly that)."""
    graph = [f"level_params_list[{level}].model_kwargs.force_negative=true"]
    if algo == "SAC":
        graph.append(f"level_params_list[{level}].subtask_spec_params.env_reward_weight=1.0")
    config = api.load_config(ENV, algo, graph=graph, data_dir=ROOT / "data")
    with pytest.raises(ConfigError, match=rf"^level_params_list\[{level}\].model_kwargs.force_negative: .*{culprit}"):
        api.build(config)


def test_a_0_1_env_never_succeeds_after_one_step_by_misreading_its_reward(tmp_path: Path) -> None:
    """With info['success'] absent and the old rule (reward == 0 means success) every episode would succeed at once."""
    gym.register("BoxPointNoFlag-v0", entry_point=toy_envs.BoxPoint, max_episode_steps=50, kwargs={"info_flag": False})
    config = api.load_config("toy_envs:BoxPointNoFlag-v0", "SAC", seed=1, data_dir=ROOT / "data",
                             run={"n_steps": 400, "test_frequency": 2, "n_test_episodes": 3})
    run = api.train(config, logdir=tmp_path / "r")
    train = run.metrics("train")
    assert (train["length"] > 1).all() and train["success"].mean() < 0.5
    bad = api.load_config("toy_envs:BoxPointNoFlag-v0", "SAC", run={"success_reward": 0.0}, data_dir=ROOT / "data")
    with pytest.raises(ConfigError, match=r"run_params.success_reward: 0.0 does not separate .* reached: 1.0"):
        api.build(bad)


def test_unbounded_goal_space_needs_subgoal_bounds() -> None:
    gym.register("BoxPointInf-v0", entry_point=toy_envs.BoxPoint, max_episode_steps=50, kwargs={"unbounded": True})
    config = api.load_config("toy_envs:BoxPointInf-v0", "HAC", data_dir=ROOT / "data")
    with pytest.raises(ConfigError, match=r"^level_params_list\[0\].subtask_spec_params.subgoal_bounds: goal keys "
                                          r"\['achieved_goal'\] are unbounded"):
        api.build(config)
    bounded = api.load_config("toy_envs:BoxPointInf-v0", "HAC", data_dir=ROOT / "data", graph={
        "level_params_list[0].subtask_spec_params.subgoal_bounds": {"achieved_goal": [[-1, -1], [1, 1]]}})
    graph = api.build(bounded).graph
    np.testing.assert_array_equal(graph.nodes[0].algorithm.action_map.high, [1, 1])


def test_build_graph_refuses_an_unadapted_env() -> None:
    config = api.load_config(ENV, "SAC", data_dir=ROOT / "data")
    with pytest.raises(ConfigError, match="adapt_goal_env"):
        build_graph("SAC", gym.make("BoxPoint-v0"), config.graph, RngRegistry(0))


def test_train_py_takes_a_module_id_and_writes_the_derived_config(tmp_path: Path) -> None:
    env = {"PYTHONPATH": f"{Path(__file__).parent}:{ROOT}"}
    proc = run_script(TRAIN, "--env", ENV, "--algo", "HiTS", "--logdir", tmp_path / "run", "--no-progress",
                      "--run_params", "n_steps=300", "test_frequency=2", "n_test_episodes=1", env=env)
    assert proc.returncode == 0, proc.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["env"] == ENV and config["run_params"]["success_reward"] == 1.0
    assert config["graph_params"]["level_params_list"][1]["subtask_spec_params"]["env_goal_key"] == "achieved_goal"
    for args, culprit in ((["--env", "nomodule_xyz:Foo-v0"], "cannot import 'nomodule_xyz'"),
                          (["--env", "toy_envs:Nope-v0"], "unknown environment")):
        proc = run_script(TRAIN, *args, "--algo", "SAC", "--logdir", tmp_path / "x", env=env)
        assert proc.returncode == 2 and culprit in proc.stderr.strip().splitlines()[-1], proc.stderr
        assert not (tmp_path / "x").exists()


def test_an_env_without_a_subgoal_hook_still_records_videos(tmp_path: Path) -> None:
    config = api.load_config(ENV, "SAC", seed=2, data_dir=ROOT / "data", run={"n_steps": 200, "n_test_episodes": 0})
    run = api.train(config, logdir=tmp_path / "r")
    agent = api.load_agent(run.run_dir, render_mode="rgb_array")
    assert not hasattr(agent.env.unwrapped, "set_subgoals")
    gif, result, _ = api.record_episode(agent, tmp_path / "ep.gif", every=5)
    assert gif.stat().st_size > 0 and result.episodes == 1
