"""HiTS: timed-goal subtask math, timed hindsight goals, elapsed-time hindsight actions, budget exhaustion."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Recorder, SpyHAC, make_algorithm, run_episode
from point_env import PointGoalEnv

from graph_rl.algorithms import HiTS, Transition
from graph_rl.graph import Graph
from graph_rl.nodes import Node
from graph_rl.spaces import DictLayout
from graph_rl.subtasks import DeltaTAchReward, EnvGoalSubtask, PartialObs, TimedGoalSubtask

LAYOUT = DictLayout({"position": ([-1.0], [1.0]), "velocity": ([-1.0], [1.0])})
OBS = {"observation": {"position": np.array([0.3], np.float32), "velocity": np.array([0.1], np.float32)}}


def timed(seed: int = 0, delta_t_max: float = 10.0, delta_t_min: float = 0.0) -> TimedGoalSubtask:
    return TimedGoalSubtask(PartialObs(LAYOUT, None), ["position"], {"position": 0.05}, delta_t_max, delta_t_min,
                            np.random.default_rng(seed))


def test_time_normalisation_and_parent_action_layout() -> None:
    sub = timed(delta_t_min=2.0)
    assert sub.time.convert(0.0) == -1.0 and sub.time.convert(10.0) == 1.0 and sub.time.unconvert(0.0) == 5.0
    assert sub.parent_action_layout.keys == ("delta_t_ach", "goal")
    np.testing.assert_allclose(sub.parent_action_layout.low, [-0.6, -1.0])  # convert(2) = -0.6
    goal = sub.start(np.array([0.0, 0.7], np.float32), OBS, step=3)  # delta 0 -> T = 5 steps
    assert goal.duration == 5.0 and goal.t0 == 3 and goal.desired.tolist() == pytest.approx([0.7])
    # observation: partial (0.3, 0.1), goal 0.7, remaining time convert(5 - (5 - 3)) = convert(3) = -0.4
    np.testing.assert_allclose(sub.observe(OBS, goal, step=5), [0.3, 0.1, 0.7, -0.4], atol=1e-6)


@pytest.mark.parametrize(("position", "step", "reward", "ended"), [
    (0.3, 7, 0.0, False),   # goal reached early: no reward, keep going
    (0.3, 8, 1.0, True),    # at the deadline, within 0.05: reward 1, done
    (0.5, 8, 0.0, True),    # at the deadline but away: 0, done anyway
    (0.3, 9, 1.0, True),    # (after an interruption-free overshoot the check is the same)
])
def test_reward_only_at_the_deadline(position: float, step: int, reward: float, ended: bool) -> None:
    sub = timed()
    goal = sub.start(np.array([0.0, 0.3], np.float32), OBS, step=3)  # T = 5 -> deadline at step 8
    obs = {"observation": {"position": np.array([position], np.float32), "velocity": np.array([0.0], np.float32)}}
    out = sub.evaluate(obs, goal, step, 1, np.zeros(1), 0.0, False, False)
    assert (out.reward, out.ended, out.done, out.achieved) == (reward, ended, ended, reward == 1.0)
    assert sub.finished(obs, goal, step) == ended
    assert out.new_obs[-1] == pytest.approx(sub.time.convert(5 - (step - 3)))


def test_hindsight_action_is_the_state_reached_and_the_time_elapsed() -> None:
    sub = timed(seed=7)
    goal = sub.start(np.array([0.6, 0.9], np.float32), OBS, step=2)
    out = sub.hindsight_action(goal, np.array([0.35], np.float32), step=6)
    u = np.random.default_rng(7).random()
    np.testing.assert_allclose(out, [sub.time.convert(4 - u), 0.35], rtol=1e-6)


def ll_episode(n: int = 4, goal: float = 0.9) -> list[Transition]:
    """n one-step LL transitions from t=10; position 0.1 * (k + 1); deadline at the last one."""
    eps = []
    for k in range(n):
        left0, left1 = n - k, n - k - 1
        eps.append(Transition(
            obs=np.array([0.1 * k, 0.1, goal, left0 / 5 - 1], np.float32), action=np.array([1.0], np.float32),
            reward=0.0, new_obs=np.array([0.1 * (k + 1), 0.1, goal, left1 / 5 - 1], np.float32), achieved=False,
            done=k == n - 1, achieved_goal=np.array([0.1 * (k + 1)], np.float32), t0=10 + k, t1=11 + k,
        ))
    return eps


def test_timed_hindsight_goals_final() -> None:
    algo = make_algorithm(timed(), ([-1.0], [1.0]), cls=HiTS, goal_sampling_strategy="final", n_hindsight_goals=3, seed=2)
    batch = algo.relabel(ll_episode())
    assert len(batch) == 8
    np.testing.assert_array_equal(batch.rew[:4], [0, 0, 0, 0])
    np.testing.assert_array_equal(batch.done[:4], [0, 0, 0, 1])
    u = np.random.default_rng(2 + 3).random(4)
    her = slice(4, 8)
    np.testing.assert_allclose(batch.obs[her, 2], [0.4] * 4)  # goal achieved after the last action
    # remaining time: obs t1_j - t0_i - u = 4 - i - u; next 3 - i - u (steps), normalised with delta_t_max 10
    i = np.arange(4)
    np.testing.assert_allclose(batch.obs[her, 3], 2 * (4 - i - u) / 10 - 1, rtol=1e-5)
    np.testing.assert_allclose(batch.next_obs[her, 3], 2 * (3 - i - u) / 10 - 1, rtol=1e-5)
    np.testing.assert_array_equal(batch.rew[her], [0, 0, 0, 1])  # only the last reaches the deadline (in the goal)
    np.testing.assert_array_equal(batch.done[her], [0, 0, 0, 1])


def test_timed_hindsight_goals_future_counts_and_targets() -> None:
    algo = make_algorithm(timed(), ([-1.0], [1.0]), cls=HiTS, goal_sampling_strategy="future", n_hindsight_goals=3, seed=4)
    batch = algo.relabel(ll_episode())
    rng = np.random.default_rng(4 + 3)
    x = 2.0 * (4 - np.arange(4)) / 4 * 3  # 6, 4.5, 3, 1.5
    counts = (np.floor(x) + (rng.random(4) < x - np.floor(x))).astype(int)
    src = np.repeat(np.arange(4), counts)
    tgt = rng.integers(src, 4)
    u = rng.random(len(src))
    her = slice(4, None)
    assert len(batch) == 4 + counts.sum()
    np.testing.assert_allclose(batch.obs[her, 2], 0.1 * (tgt + 1), rtol=1e-6)
    np.testing.assert_allclose(batch.next_obs[her, 3], 2 * (tgt - src - u) / 10 - 1, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(batch.rew[her], (tgt == src).astype(np.float32))  # j == i: deadline, in goal
    np.testing.assert_array_equal(batch.done[her], (tgt == src).astype(np.float32))


def hits_graph(log: list, budget: int, delta: float, env_goal: float = 0.75, weight: float = 0.0):
    env = PointGoalEnv(dim=1, max_episode_length=100, goal=np.array([env_goal]))
    layout = DictLayout.from_space(env.observation_space["observation"])
    low = TimedGoalSubtask(PartialObs(layout, None), ["position"], {"position": 0.05}, 10.0, 0.0, np.random.default_rng(1))
    bounds = (env.observation_space["desired_goal"].low, env.observation_space["desired_goal"].high)
    aux = [DeltaTAchReward(weight, 0)] if weight else []
    top = EnvGoalSubtask(PartialObs(layout, None), "position", bounds, env.compute_reward, budget, aux)
    leaf = Node("hits_0", low, make_algorithm(low, ([-1.0], [1.0]), cls=HiTS), Recorder(log, "hits_0", [1.0]))
    top_algo = make_algorithm(top, (low.parent_action_layout.low, low.parent_action_layout.high), cls=SpyHAC,
                              testing_fraction=0.0, n_hindsight_goals=0)
    root = Node("hac_1", top, top_algo, Recorder(log, "hac_1", [delta, 0.9]))
    root.add_child(leaf)
    return Graph(root), env, top_algo


def test_timed_child_returns_after_ceil_T_and_budget_ends_episode(log: list) -> None:
    # delta -0.3 -> T = 3.5 steps -> control returns after 4 steps; budget 2 -> episode over after 8 steps
    graph, env, top_algo = hits_graph(log, budget=2, delta=-0.3, env_goal=-0.75)
    out = run_episode(graph, env)
    assert out["dones"] == [False] * 7 + [True] and out["steps"] == 8
    assert [who for who, _ in log] == ["hac_1"] + ["hits_0"] * 4 + ["hac_1"] + ["hits_0"] * 4
    (episode,) = top_algo.episodes
    assert [(t.t0, t.t1) for t in episode] == [(0, 4), (4, 8)]
    # the child never reached 0.9: hindsight action = (time actually elapsed - U, position reached)
    u = np.random.default_rng(1).random(2)
    scale = graph.nodes[1].subtask.time
    hind = np.stack([t.child_hindsight for t in episode])
    np.testing.assert_allclose(hind[:, 0], scale.convert(4 - u), rtol=1e-6)
    np.testing.assert_allclose(hind[:, 1], [0.4, 0.8], atol=1e-6)
    metrics = graph.episode_metrics()
    assert metrics["hac_1/budget_use"] == 1.0 and metrics["hits_0/goal_duration"] == pytest.approx(3.5)
    assert metrics["hits_0/success_rate"] == 0.0


def test_higher_level_reward_has_the_desired_time_penalty(log: list) -> None:
    graph, env, top_algo = hits_graph(log, budget=1, delta=0.2, weight=0.5)
    run_episode(graph, env)
    (episode,) = top_algo.episodes
    assert (episode[0].t0, episode[0].t1) == (0, 6)  # float32 delta 0.2 decodes to 6.0000002 steps: still 6
    assert episode[0].reward == pytest.approx(-1.0 - 0.5 * 0.6)  # -1 - w * (delta + 1) / 2
    batch = top_algo.batches[0]
    # hindsight action with elapsed time 6 - U (T = 6): reward recomputed with the relabelled delta
    delta = float(batch.act[0, 0])
    assert batch.rew[0] == pytest.approx(-1.0 - 0.5 * (delta + 1) / 2)


def test_subgoals_for_rendering(log: list) -> None:
    graph, env, _ = hits_graph(log, budget=2, delta=-0.3, env_goal=-0.75)
    obs, _ = env.reset(seed=0)
    graph.reset()
    assert graph.subgoals() == []
    graph.act(obs, ep_step=0, total_step=0, testing=False)
    obs, r, term, trunc, info = env.step(np.array([1.0], np.float32))
    graph.observe(obs, r, term, trunc, info, ep_step=1, total_step=1, testing=False)
    (shown,) = graph.subgoals()
    assert list(shown["goal"]) == ["position"]  # every goal key is handed over; the env picks what it draws
    np.testing.assert_allclose(shown["goal"]["position"], [0.9])
    assert shown["time_left"] == pytest.approx(2.5) and shown["tolerance"] == {"position": 0.05}


def test_env_reward_aux_with_discounted_env_rewards(log: list) -> None:
    from graph_rl.subtasks import EnvReward

    graph, env, top_algo = hits_graph(log, budget=1, delta=-0.4, env_goal=-0.75)  # T = 3 steps
    root = graph.root
    root.subtask.aux_rewards.append(EnvReward(0.1))
    root.env_reward_discount = 0.5  # a time-discounted level's algorithm sets this (EAT)
    run_episode(graph, env)
    (episode,) = top_algo.episodes
    assert episode[0].env_return == pytest.approx(-1 - 0.5 - 0.25)
    assert episode[0].reward == pytest.approx(-1.0 + 0.1 * -1.75)


def test_learnt_tolerances_are_chosen_by_the_parent_observed_and_kept_in_hindsight() -> None:
    from graph_rl.subtasks import GoalTolReward

    sub = TimedGoalSubtask(PartialObs(LAYOUT, None), ["position"], {"position": 0.05}, 10.0, 0.0,
                           np.random.default_rng(3), max_thresholds={"position": 0.5})
    assert sub.parent_action_layout.keys == ("delta_t_ach", "goal", "goal_tol")
    np.testing.assert_allclose(sub.parent_action_layout.high, [1.0, 1.0, 0.5])
    goal = sub.start(np.array([-0.8, 0.5, 0.25], np.float32), OBS, step=0)  # T = 1, tolerance 0.25
    assert sub.obs_dim == 5 and sub.tol_slice == slice(3, 4)
    np.testing.assert_allclose(sub.observe(OBS, goal, 0), [0.3, 0.1, 0.5, 0.25, -0.8], atol=1e-6)
    out = sub.evaluate(OBS, goal, 1, 1, np.zeros(1), 0.0, False, False)  # |0.3 - 0.5| = 0.2 < 0.25
    assert out.achieved and out.reward == 1.0
    np.testing.assert_allclose(sub.hindsight_action(goal, np.array([0.3], np.float32), 1)[2], 0.25)
    rew, ach = sub.relabel(np.array([[0.3], [0.3]]), np.array([[0.5], [0.5]]), np.zeros((2, 1)), np.zeros(2),
                           np.array([True, True]), np.array([[0.25], [0.1]]))
    np.testing.assert_array_equal(rew, [1.0, 0.0])
    penalty = GoalTolReward(2.0, slice(2, 3))
    np.testing.assert_allclose(penalty(np.array([[0.0, 0.0, 0.25]]), np.zeros(1)), [-0.5])
