"""Who acts, who returns control, and which interruption wins, on hand-wired graphs with scripted policies."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Recorder, SpyHAC, StubLearner, make_algorithm, run_episode
from point_env import PointGoalEnv

from graph_rl.config.graph_params import FidelityParams
from graph_rl.graph import Graph
from graph_rl.nodes import Node
from graph_rl.spaces import DictLayout
from graph_rl.subtasks import EnvGoalSubtask, PartialObs, ShortestPathSubtask


def env_and_layout(goal: float = 0.75) -> tuple[PointGoalEnv, DictLayout]:
    env = PointGoalEnv(dim=1, max_episode_length=50, goal=np.array([goal]))
    return env, DictLayout.from_space(env.observation_space["observation"])


def root_subtask(env: PointGoalEnv, layout: DictLayout, budget: float | None) -> EnvGoalSubtask:
    bounds = (env.observation_space["desired_goal"].low, env.observation_space["desired_goal"].high)
    return EnvGoalSubtask(PartialObs(layout, None), "position", bounds, env.compute_reward, budget)


def position_subtask(layout: DictLayout, budget: float | None) -> ShortestPathSubtask:
    return ShortestPathSubtask(PartialObs(layout, ["position", "velocity"]), ["position"], {"position": 0.05}, budget)


def goal_bounds(sub: ShortestPathSubtask) -> tuple[np.ndarray, np.ndarray]:
    return sub.parent_action_layout.low, sub.parent_action_layout.high


ENV_ACTION = (np.array([-1.0]), np.array([1.0]))


def test_budgets_return_control_and_end_the_episode(log: list) -> None:
    env, layout = env_and_layout()
    leaf_task, root_task = position_subtask(layout, 2), root_subtask(env, layout, 3)
    leaf = Node("leaf", leaf_task, make_algorithm(leaf_task, ENV_ACTION), Recorder(log, "leaf", [1.0]))
    root_algo = make_algorithm(root_task, goal_bounds(leaf_task), cls=SpyHAC, testing_fraction=0.0)
    root = Node("root", root_task, root_algo, Recorder(log, "root", [0.2]))
    root.add_child(leaf)
    graph = Graph(root)
    out = run_episode(graph, env)
    # The leaf reaches 0.2 after 2 steps (goal achieved), then twice spends its 2-action budget; the root's
    # budget of 3 subgoals then ends the episode although the env is not done.
    assert log == [("root", 0), ("leaf", 0), ("leaf", 1), ("root", 1), ("leaf", 2), ("leaf", 3),
                   ("root", 2), ("leaf", 4), ("leaf", 5)]
    assert out["dones"] == [False] * 5 + [True]
    (episode,) = root_algo.episodes
    assert [(tr.t0, tr.t1) for tr in episode] == [(0, 2), (2, 4), (4, 6)]
    assert [tr.child_achieved for tr in episode] == [True, False, False]
    np.testing.assert_allclose([tr.child_hindsight[0] for tr in episode], [0.2, 0.4, 0.6], atol=1e-6)
    batch = root_algo.batches[0]
    np.testing.assert_allclose(batch.act[:3, 0], [0.2, 0.4, 0.6], atol=1e-6)  # hindsight actions
    np.testing.assert_array_equal(batch.rew[:3], [-1, -1, -1])
    metrics = graph.episode_metrics()
    assert metrics["root/budget_use"] == 1.0 and metrics["root/n_actions"] == 3
    assert metrics["leaf/n_activations"] == 3 and metrics["leaf/success_rate"] == pytest.approx(1 / 3)
    assert metrics["leaf/budget_use"] == 1.0


def three_levels(log: list, hooks: dict, mid_goal: float = -0.9, budget: int = 10) -> Graph:
    env, layout = env_and_layout()
    leaf_task, mid_task, root_task = position_subtask(layout, budget), position_subtask(layout, budget), root_subtask(env, layout, budget)
    leaf = Node("leaf", leaf_task, make_algorithm(leaf_task, ENV_ACTION), Recorder(log, "leaf", [1.0]))
    mid_algo, root_algo = make_algorithm(mid_task, goal_bounds(leaf_task)), make_algorithm(root_task, goal_bounds(mid_task))
    mid_algo.hook, root_algo.hook = hooks.get("mid"), hooks.get("root")
    mid = Node("mid", mid_task, mid_algo, Recorder(log, "mid", [0.9]))
    root = Node("root", root_task, root_algo, Recorder(log, "root", [mid_goal]))
    root.add_child(mid).add_child(leaf)
    return Graph(root), env


class Hook:
    def __init__(self, fire_at: int) -> None:
        self.fire_at, self.calls = fire_at, []

    def on_step(self, pending, observe, child_finished, env_obs: dict, *, ep_step: int, total_step: int,
                testing: bool) -> bool:
        self.calls.append(ep_step)
        return ep_step == self.fire_at


def steps_of(log: list, name: str) -> int:
    return sum(1 for who, _ in log if who == name)


@pytest.mark.parametrize("who_fires", [("root", "mid"), ("mid",), ("root",)])
def test_highest_interrupting_ancestor_wins(log: list, who_fires: tuple) -> None:
    hooks = {name: Hook(3 if name in who_fires else -1) for name in ("root", "mid")}
    graph, env = three_levels(log, hooks)
    run_episode(graph, env, max_steps=5)
    assert hooks["root"].calls == hooks["mid"].calls == [1, 2, 3, 4, 5]  # every step while their actions run
    head = [("root", 0), ("mid", 0), ("leaf", 0), ("leaf", 1), ("leaf", 2)]
    if "root" in who_fires:  # root wins: mid and leaf return control, the root emits a fresh subgoal
        tail = [("root", 1), ("mid", 1), ("leaf", 3), ("leaf", 4)]
    else:  # mid interrupts its child only and stays active
        tail = [("mid", 1), ("leaf", 3), ("leaf", 4)]
    assert log == head + tail


def test_reached_goal_of_an_ancestor_returns_control_through_it(log: list) -> None:
    # mid's goal is 0.3; the leaf chases 0.9 and passes 0.3 at step 3: mid ends (achieved), root re-plans.
    graph, env = three_levels(log, {}, mid_goal=0.3)
    run_episode(graph, env, max_steps=4)
    assert log == [("root", 0), ("mid", 0), ("leaf", 0), ("leaf", 1), ("leaf", 2), ("root", 1), ("mid", 1), ("leaf", 3)]
    mid_episode = graph.nodes[1].algorithm.episode
    assert mid_episode == []  # mid's first activation was flushed when it returned control


def test_policy_picks_the_edge_among_several_children(log: list) -> None:
    env, layout = env_and_layout()
    root_task = root_subtask(env, layout, 4)
    kids = []
    for name, action in (("left", [-1.0]), ("right", [1.0])):
        task = position_subtask(layout, 1)
        kids.append(Node(name, task, make_algorithm(task, ENV_ACTION), Recorder(log, name, action)))
    bounds = goal_bounds(kids[0].subtask)
    root = Node("root", root_task, make_algorithm(root_task, bounds), Recorder(log, "root", [0.0], child=lambda n: n % 2))
    for kid in kids:
        root.add_child(kid)
    graph = Graph(root)
    assert [n.name for n in graph.nodes] == ["root", "left", "right"]
    out = run_episode(graph, env)
    assert log == [("root", 0), ("left", 0), ("root", 1), ("right", 0), ("root", 2), ("left", 1), ("root", 3), ("right", 1)]
    np.testing.assert_array_equal(np.concatenate(out["actions"]), [-1, 1, -1, 1])
    assert out["dones"] == [False, False, False, True]


def test_env_end_returns_control_everywhere(log: list) -> None:
    env, layout = env_and_layout(goal=0.2)
    leaf_task, root_task = position_subtask(layout, 10), root_subtask(env, layout, 10)
    leaf = Node("leaf", leaf_task, make_algorithm(leaf_task, ENV_ACTION), Recorder(log, "leaf", [1.0]))
    root_algo = make_algorithm(root_task, goal_bounds(leaf_task), cls=SpyHAC)
    root = Node("root", root_task, root_algo, Recorder(log, "root", [0.9]))
    root.add_child(leaf)
    graph = Graph(root)
    out = run_episode(graph, env)
    assert out["steps"] == 2 and out["dones"] == [False, True]
    assert graph.state_dict()["path"] == []
    (episode,) = root_algo.episodes
    assert episode[0].done and episode[0].achieved and episode[0].reward == 0.0
    assert graph.episode_metrics()["root/success_rate"] == 1.0


def test_duplicate_names_and_mismatched_edges_are_rejected() -> None:
    env, layout = env_and_layout()
    task = position_subtask(layout, 1)
    a = Node("x", task, make_algorithm(task, ENV_ACTION))
    root_task = root_subtask(env, layout, 2)
    root = Node("x", root_task, make_algorithm(root_task, goal_bounds(task)))
    root.add_child(a)
    with pytest.raises(ValueError, match="unique"):
        Graph(root)
    wrong = Node("w", root_task, make_algorithm(root_task, (np.array([0.0, 0.0]), np.array([1.0, 1.0]))))
    with pytest.raises(ValueError, match="does not match"):
        wrong.add_child(Node("c", task, make_algorithm(task, ENV_ACTION)))


@pytest.mark.parametrize("really_deterministic", [True, False])
def test_subgoal_testing_makes_the_tested_child_deterministic(really_deterministic: bool) -> None:
    env, layout = env_and_layout()
    leaf_task, root_task = position_subtask(layout, 2), root_subtask(env, layout, 2)
    leaf_learner = StubLearner(1)
    leaf_algo = make_algorithm(leaf_task, ENV_ACTION, learner=leaf_learner, fully_random_fraction=1.0,
                               fidelity=FidelityParams(tested_subgoals_explore=not really_deterministic))
    leaf = Node("leaf", leaf_task, leaf_algo)
    root_algo = make_algorithm(root_task, goal_bounds(leaf_task), cls=SpyHAC, testing_fraction=1.0,
                               fully_random_fraction=0.0, learner=StubLearner(1, action=[0.9]))
    root = Node("root", root_task, root_algo)
    root.add_child(leaf)
    graph = Graph(root)
    out = run_episode(graph, env)
    assert out["steps"] == 4
    if really_deterministic:  # tested child: learner's deterministic action, no random actions
        assert [det for _, det in leaf_learner.calls] == [True] * 4
    else:  # the original's behaviour: the flag only produces penalties, the child keeps exploring
        assert leaf_learner.calls == []
    assert [det for _, det in root_algo.learner.calls] == [False, False]  # the tester itself explores
    # both tested subgoals (position 0.9) failed -> one testing transition each, with the default penalty -1
    batch = root_algo.batches[0]
    assert list(batch.rew[2:4]) == [-1.0, -1.0]
    np.testing.assert_allclose(batch.act[2:4, 0], [0.9, 0.9], atol=1e-6)  # testing transitions keep the action
    assert graph.episode_metrics()["root/testing_penalties"] == 2.0


def test_testing_episodes_are_deterministic_and_store_nothing(log: list) -> None:
    env, layout = env_and_layout()
    leaf_task, root_task = position_subtask(layout, 2), root_subtask(env, layout, 2)
    leaf_algo = make_algorithm(leaf_task, ENV_ACTION, fully_random_fraction=1.0)
    leaf = Node("leaf", leaf_task, leaf_algo)
    root_algo = make_algorithm(root_task, goal_bounds(leaf_task), testing_fraction=1.0, fully_random_fraction=1.0,
                               learner=StubLearner(1, action=[0.9]))
    root = Node("root", root_task, root_algo)
    root.add_child(leaf)
    graph = Graph(root)
    run_episode(graph, env, testing=True)
    assert [d for _, d in leaf_algo.learner.calls] == [True] * 4
    assert [d for _, d in root_algo.learner.calls] == [True] * 2
    assert len(leaf_algo.buffer) == 0 and len(root_algo.buffer) == 0
    assert graph.episode_metrics()["root/testing_penalties"] == 0.0


def test_observed_budget_is_in_the_observation_and_its_end_is_terminal(log: list) -> None:
    env, layout = env_and_layout()
    leaf_task = position_subtask(layout, 2)
    bounds = (env.observation_space["desired_goal"].low, env.observation_space["desired_goal"].high)
    root_task = EnvGoalSubtask(PartialObs(layout, None), "position", bounds, env.compute_reward, 3, observe_budget=True)
    assert root_task.obs_dim == 4  # position, velocity, desired goal, budget left
    leaf = Node("leaf", leaf_task, make_algorithm(leaf_task, ENV_ACTION), Recorder(log, "leaf", [1.0]))
    root_algo = make_algorithm(root_task, goal_bounds(leaf_task), cls=SpyHAC, testing_fraction=0.0,
                               goal_sampling_strategy="final", n_hindsight_goals=1)
    root = Node("root", root_task, root_algo, Recorder(log, "root", [0.2]))
    root.add_child(leaf)
    out = run_episode(Graph(root), env)
    assert out["dones"] == [False] * 5 + [True]
    (episode,) = root_algo.episodes
    np.testing.assert_allclose([tr.obs[3] for tr in episode], [1.0, 2 / 3, 1 / 3], atol=1e-6)
    np.testing.assert_allclose([tr.new_obs[3] for tr in episode], [2 / 3, 1 / 3, 0.0], atol=1e-6)
    assert [tr.done for tr in episode] == [False, False, True]  # spending the observed budget is terminal
    batch = root_algo.batches[0]
    np.testing.assert_array_equal(batch.done[3:], [0, 0, 1])  # hindsight goals keep that terminal
