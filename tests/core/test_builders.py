"""Builders from the shipped parameter files: wiring, dimensions, derived values, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from point_env import FakePlatformsEnv

from graph_rl.algorithms import HAC, HiTS
from graph_rl.config import ConfigError, apply_overrides, from_dict
from graph_rl.config.graph_params import GraphParams
from graph_rl.graph import build_graph
from graph_rl.rng import RngRegistry
from graph_rl.subtasks import DeltaTAchReward, EnvGoalSubtask, ShortestPathSubtask, TimedGoalSubtask

DATA = Path(__file__).resolve().parents[2] / "data"


def load(env: str, algo: str) -> dict:
    return json.loads((DATA / env / algo / "graph_params.json").read_text())


def build(raw: dict, algo: str, n_steps: int = 300_000):
    return build_graph(algo, FakePlatformsEnv(), from_dict(GraphParams, raw), RngRegistry(0), n_steps=n_steps)


HITS_TUNING = [
    "level_params_list[0].subtask_spec_params.delta_t_max=50",
    "level_params_list[1].subtask_spec_params.max_n_actions=20",
    "level_params_list[1].algo_kwargs.grad_steps_per_env_step=1.0",
    "+level_params_list[1].algo_kwargs.child_failure_penalty=-10.0",
]
"""Where the EasyPlatforms and Platforms HiTS files depart from the reference values, which NoisyPlatforms keeps
(docs/research/hits_easyplatforms.md and platforms.md: 20 subgoals of at most 50 steps)."""
EASY_HITS_TUNING = [
    *HITS_TUNING,
    "level_params_list[1].model_kwargs.learning_rate=0.00038804",
    "level_params_list[1].model_kwargs.alpha=0.43",
]
"""EasyPlatforms' top level also learns at 2 times the reference rate with alpha 0.43 instead of 1.117, which keeps its
entropy bonus from outweighing its step cost (the held-out screens on seeds 11-20 in
docs/research/hits_easyplatforms.md); Platforms was not measured with them."""


@pytest.mark.parametrize("env", ["EasyPlatforms", "Platforms", "NoisyPlatforms"])
@pytest.mark.parametrize("algo", ["SAC", "HAC", "HiTS"])
def test_shipped_files_load_and_build(env: str, algo: str) -> None:
    raw = load(env, algo)
    # The original ships identical graph files per algorithm; we depart from them only where docs/research says.
    tuning = {("EasyPlatforms", "HiTS"): EASY_HITS_TUNING, ("Platforms", "HiTS"): HITS_TUNING}.get((env, algo), [])
    assert raw == apply_overrides(load("NoisyPlatforms", algo), tuning)
    graph = build(raw, algo, n_steps=1000)
    assert graph.root is graph.nodes[0]


@pytest.mark.parametrize("env", ["EasyPlatforms", "Platforms"])
def test_tuned_hits_budget_and_schedule(env: str) -> None:
    top, low = build(load(env, "HiTS"), "HiTS").nodes
    assert top.subtask.max_n_actions == 20 and low.subtask.time.delta_t_max == 50.0  # not 500 / 20
    assert top.algorithm.child_failure_penalty == -10.0  # not -budget
    assert top.algorithm.params.grad_steps_per_env_step == 1.0 and low.algorithm.params.grad_steps_per_env_step == 0.5
    assert top.algorithm.buffer.capacity == int(300_000 / 500 * 20) * 4


def test_hits_reference_layout_and_derived_values() -> None:
    graph = build(load("NoisyPlatforms", "HiTS"), "HiTS")
    top, low = graph.nodes
    assert (top.name, low.name) == ("hac_1", "hits_0")
    assert isinstance(top.subtask, EnvGoalSubtask) and isinstance(top.algorithm, HAC)
    assert isinstance(low.subtask, TimedGoalSubtask) and isinstance(low.algorithm, HiTS)
    # LL: partial 13 (ang_vel, platform0, platform1, position, velocity) + goal 4 + time 1;
    # HL: 17 + 2 + budget left 1 (observe_budget); HL action 5
    assert low.subtask.obs_dim == 18 and low.algorithm.action_map.dim == 1
    assert top.subtask.obs_dim == 20 and top.algorithm.action_map.dim == 5 and top.subtask.observe_budget
    assert top.algorithm.action_map.low.tolist() == [-1.0] * 5  # delta_t_min 0 -> time in [-1, 1]
    assert low.subtask.time.delta_t_max == 50.0  # 500 / 10
    assert top.subtask.max_n_actions == 10 and low.subtask.max_n_actions is None
    assert top.algorithm.child_failure_penalty == -10.0
    (aux,) = top.subtask.aux_rewards
    assert isinstance(aux, DeltaTAchReward) and aux.index == 0 and aux.weight == pytest.approx(0.05323384864151526)
    assert low.algorithm.buffer.capacity == 300_000 * 4
    assert top.algorithm.buffer.capacity == int(300_000 / 500 * 10) * 4
    assert low.algorithm.learner.config.gamma == 0.99 and top.algorithm.learner.config.gamma == 0.97
    assert top.algorithm.learner.config.force_negative and not low.algorithm.learner.config.force_negative


def test_hac_and_sac_derived_budgets() -> None:
    top, low = build(load("Platforms", "HAC"), "HAC").nodes
    assert isinstance(low.subtask, ShortestPathSubtask) and low.subtask.max_n_actions == 50.0  # 500 / 10
    assert top.algorithm.child_failure_penalty == -10.0
    assert low.algorithm.buffer.capacity == 300_000 * 4
    assert top.algorithm.action_map.dim == 4  # goal = position + velocity
    (sac,) = build(load("Platforms", "SAC"), "SAC").nodes
    assert sac.name == "sac_0" and sac.subtask.max_n_actions == 500 and sac.subtask.obs_dim == 19
    assert sac.algorithm.buffer.capacity == 300_000 * 4


def test_rng_streams_are_named_per_node() -> None:
    rng = RngRegistry(3)
    build_graph("HiTS", FakePlatformsEnv(), from_dict(GraphParams, load("NoisyPlatforms", "HiTS")), rng, n_steps=1000)
    assert {f"node/{n}/{s}" for n in ("hac_1", "hits_0") for s in ("init", "explore", "replay", "her", "policy")} == set(rng.names())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (lambda p: p["level_params_list"][0]["subtask_spec_params"].update(partial_obs_keys=["position", "velocity", "ang_vell"]),
         r"level_params_list\[0\]\.subtask_spec_params\.partial_obs_keys"),
        (lambda p: p["level_params_list"][0]["subtask_spec_params"]["goal_thresholds"].pop("velocity"),
         r"level_params_list\[0\]\.subtask_spec_params\.goal_thresholds: no threshold for \['velocity'\]"),
        (lambda p: p["level_params_list"][1]["subtask_spec_params"].update(env_goal_key="velocityy"),
         r"level_params_list\[1\]\.subtask_spec_params\.env_goal_key"),
        (lambda p: p["level_params_list"][1]["subtask_spec_params"].update(max_n_actions=None),
         r"level_params_list\[0\]\.subtask_spec_params\.delta_t_max: -1 needs a top-level budget"),
        (lambda p: p["level_params_list"][1]["algo_kwargs"].update(flat_algo_name="PPO"),
         r"level_params_list\[1\]\.algo_kwargs\.flat_algo_name: unknown 'PPO'"),
        (lambda p: p["level_params_list"][0]["algo_kwargs"].update(goal_sampling_strategy="episode"),
         r"level_params_list\[0\]\.algo_kwargs\.goal_sampling_strategy"),
    ],
)
def test_build_errors_name_the_parameter(override, message: str) -> None:
    raw = load("NoisyPlatforms", "HiTS")
    override(raw)
    with pytest.raises(ConfigError, match=message):
        build(raw, "HiTS", n_steps=1000)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.update(n_layers=3), r"level_params_list: has 2 entries but n_layers is 3"),
        (lambda p: p["level_params_list"][0]["algo_kwargs"].update(testing_fraction=1.5),
         r"level_params_list\[0\]\.algo_kwargs\.testing_fraction: must be in \[0, 1\]"),
        (lambda p: p["level_params_list"][1]["subtask_spec_params"].pop("env_goal_key"),
         r"level_params_list\[1\]\.subtask_spec_params\.env_goal_key: the top level needs"),
        (lambda p: p["level_params_list"][0]["subtask_spec_params"].pop("delta_t_max"),
         r"level_params_list\[0\]\.subtask_spec_params\.delta_t_max: HiTS levels need"),
        (lambda p: p["level_params_list"][0]["model_kwargs"].update(lr=0.1),
         r"level_params_list\[0\]\.model_kwargs\.lr: unknown parameter"),
    ],
)
def test_config_validation_names_the_parameter(edit, message: str) -> None:
    raw = load("NoisyPlatforms", "HiTS")
    edit(raw)
    with pytest.raises(ConfigError, match=message):
        from_dict(GraphParams, raw)


def test_algorithm_must_match_the_parameters() -> None:
    with pytest.raises(ConfigError, match="parameters are for 'HiTS'"):
        build_graph("HAC", FakePlatformsEnv(), from_dict(GraphParams, load("NoisyPlatforms", "HiTS")), RngRegistry(0))


def test_learnt_goal_tolerances_widen_the_higher_action_and_lower_observation() -> None:
    from graph_rl.subtasks import GoalTolReward

    raw = load("EasyPlatforms", "HiTS")
    raw["level_params_list"][1]["subtask_spec_params"].update(
        learn_goal_ach_thresholds=True, goal_tol_rew=2.0, max_goal_thresholds={"position": 0.2})
    top, low = build(raw, "HiTS", n_steps=1000).nodes
    assert top.algorithm.action_map.dim == 7 and low.subtask.obs_dim == 20  # + one threshold per goal key
    np.testing.assert_allclose(top.algorithm.action_map.high[-2:], [0.2, 1.0])  # position: 0.2, velocity: default 1
    assert any(isinstance(a, GoalTolReward) for a in top.subtask.aux_rewards)
    raw["level_params_list"][1]["subtask_spec_params"]["max_goal_thresholds"] = {"ang_vel": 0.1}
    with pytest.raises(ConfigError, match=r"level_params_list\[1\]\.subtask_spec_params\.max_goal_thresholds"):
        build(raw, "HiTS", n_steps=1000)


def test_summary_says_how_each_level_judges_its_goal() -> None:
    """The root's goal is judged by the env's compute_reward, not by a distance threshold: the summary says so."""
    top, low = build(load("NoisyPlatforms", "HiTS"), "HiTS").nodes
    assert "goal         desired_goal (reached when compute_reward >= 0)" in top.summary()
    assert "thresholds" not in top.summary()
    assert "goal         position, velocity (thresholds {'position': 0.05, 'velocity': 0.2})" in low.summary()
