"""The ``eat`` section: validation, what the builder wires for each setting, Q statistics in the graph checkpoint."""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import pytest

import envs  # noqa: F401 - registers the Platforms environments
from graph_rl.config import ConfigError, apply_overrides, from_dict, resolve
from graph_rl.config.graph_params import GraphParams
from graph_rl.graph import build_graph
from graph_rl.algorithms.eat import ChangingQ, ChangingQGap, ChangingTarget, DiscountedEnvGoalSubtask
from graph_rl.rng import RngRegistry
from graph_rl.subtasks import EnvGoalSubtask
from tests.eat.test_eat_runs import DATA, EASY_EAT_REFERENCE


NOISY_EAT_REFERENCE = [
    "level_params_list[1].algo_kwargs.grad_steps_per_env_step=0.5",
    "level_params_list[1].algo_kwargs.child_failure_penalty=-10.0",
    "level_params_list[1].model_kwargs.alpha=1.25",
]
"""Undoes data/NoisyPlatforms/EAT's three departures from the EAT reference values (docs/research/eat.md)."""
NOISY_VERDICT = DATA.parent / "docs" / "research" / "reports" / "noisyplatforms_2m" / "verdict_pen432_a054_5seeds.json"


def shipped(env: str = "EasyPlatforms", algo: str = "EAT") -> dict[str, Any]:
    return json.loads((DATA / env / algo / "graph_params.json").read_text())


@pytest.mark.parametrize(("algo", "eat", "message"), [
    ("EAT", None, "eat: required for EAT"),
    ("HiTS", {"strategy": "never"}, "eat: only for EAT, not HiTS"),
])
def test_eat_section_only_and_always_for_eat(algo: str, eat: Any, message: str) -> None:
    raw = shipped()
    raw["algorithm"] = algo
    raw["eat"] = eat
    with pytest.raises(ConfigError, match=message):
        from_dict(GraphParams, raw)


@pytest.mark.parametrize(("override", "message"), [
    ("eat.strategy=sometimes", "eat.strategy: 'sometimes' is not one of"),
    ("eat.q_smoothing=1.0", "eat.q_smoothing: must be in"),
    ("eat.reward_normalization=0", "eat.reward_normalization: must be > 0"),
    ("eat.strategy=random", "eat.strategy: 'random' is not one of"),
    ("fidelity.penalise_interrupted_tests=maybe", "fidelity.penalise_interrupted_tests: expected true/false"),
])
def test_bad_eat_parameters_name_their_path(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(GraphParams, shipped(), [override])


def build(*overrides: str, env: str = "EasyPlatforms") -> Any:
    params = resolve(GraphParams, shipped(env), list(overrides))
    return build_graph("EAT", gym.make(f"{env}-v1"), params, RngRegistry(0), n_steps=1000)


def test_shipped_configs_build_changing_q_over_a_time_discounted_top() -> None:
    noisy, easy = build(env="NoisyPlatforms"), build(*EASY_EAT_REFERENCE)
    for graph, gamma, c, warmup in ((noisy, 0.997, 60.0, 50_000), (easy, 0.99, 50.0, 20_000)):
        root, leaf = graph.nodes
        assert (root.name, leaf.name) == ("hac_1", "hits_0")      # HiTS's names: same streams, same metric keys
        assert type(root.algorithm.termination) is ChangingQ and root.algorithm.termination.warmup_steps == warmup
        assert root.algorithm.termination.multiplier == 1.0 and not root.algorithm.termination.protect_tests
        assert isinstance(root.subtask, DiscountedEnvGoalSubtask) and root.subtask.reward_normalization == c
        assert root.env_reward_discount == gamma and root.algorithm.time_discounted
        assert root.subtask.max_n_actions == 1000 and leaf.subtask.time.delta_t_max == 50


def test_noisyplatforms_ships_the_agent_of_its_five_seed_verdict() -> None:
    """The file is the reference values plus exactly the overrides the pre-registered comparison ran and passed."""
    verdict = json.loads(NOISY_VERDICT.read_text())
    assert verdict["a"]["seeds"] == [1, 2, 3, 4, 5] and verdict["meets_margin"]
    raw = shipped("NoisyPlatforms")
    reference = apply_overrides(raw, NOISY_EAT_REFERENCE)
    assert reference != raw and apply_overrides(reference, verdict["a"]["overrides"]) == raw
    assert not resolve(GraphParams, raw, []).level_params_list[1].model_kwargs.auto_alpha  # a fixed alpha
    top, low = build(env="NoisyPlatforms").nodes
    assert top.algorithm.child_failure_penalty == -4.32 and top.algorithm.params.grad_steps_per_env_step == 1.0
    assert top.algorithm.learner.alpha == pytest.approx(0.54)
    assert low.algorithm.params.grad_steps_per_env_step == 0.5  # the lower level keeps the reference rate


def test_easyplatforms_ships_the_tuned_termination_and_discount() -> None:
    root = build().nodes[0]
    hook = root.algorithm.termination
    assert type(hook) is ChangingQGap and hook.multiplier == 3.0 and hook.protect_tests
    assert root.algorithm.hook is root.algorithm
    assert root.env_reward_discount == 0.997 and root.algorithm.intra_samples == 4 and root.algorithm.trace is not None


def test_never_and_the_dummy_ablation() -> None:
    hits_like = build("eat.strategy=never", "eat.time_discounted=false", "eat.intra_action_samples=0").nodes[0]
    assert hits_like.algorithm.termination is None and type(hits_like.subtask) is EnvGoalSubtask
    assert hits_like.algorithm.hook is None  # nothing to watch per step: the node only waits, as HiTS's does
    assert hits_like.env_reward_discount == 1.0 and not hits_like.algorithm.time_discounted
    dummy = build("eat.strategy=never").nodes[0]                    # EAT's objective without termination
    assert dummy.algorithm.termination is None and isinstance(dummy.subtask, DiscountedEnvGoalSubtask)
    target = build("eat.strategy=changing_target", "eat.target_threshold=0.3").nodes[0].algorithm.termination
    assert isinstance(target, ChangingTarget) and target.threshold == 0.3
    assert not build().nodes[0].algorithm.fidelity.penalise_interrupted_tests
    assert build("fidelity.penalise_interrupted_tests=true").nodes[0].algorithm.fidelity.penalise_interrupted_tests


def test_q_statistics_are_part_of_the_graph_state() -> None:
    graph, fresh = build(), build()
    for x in (-1.0, -0.5, -0.8):
        graph.nodes[0].algorithm.termination.stats.update(x)
    fresh.load_state_dict(graph.state_dict())
    stats = fresh.nodes[0].algorithm.termination.stats
    assert stats.state_dict() == graph.nodes[0].algorithm.termination.stats.state_dict() and stats.n == 3


def test_protect_subgoal_tests_reaches_the_policy() -> None:
    assert build("eat.protect_subgoal_tests=true").nodes[0].algorithm.termination.protect_tests
    assert not build("eat.protect_subgoal_tests=false").nodes[0].algorithm.termination.protect_tests
