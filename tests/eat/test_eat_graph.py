"""Termination inside a graph (relabelling, bootstrapping, budget, subgoal tests) and the time-discounted top level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from graph_rl.algorithms import EpisodeArrays, Transition
from graph_rl.learners import SACConfig, SACLearner
from graph_rl.config.graph_params import FidelityParams
from graph_rl.replay import ReplayBatch
from tests.eat.helpers import GAMMA, Chain, StepTermination, unit


def spy(algorithm: Any) -> list[tuple[list[Transition], Any]]:
    """Record every (node episode, relabelled batch) the algorithm stores."""
    seen: list[tuple[list[Transition], Any]] = []
    relabel = algorithm.relabel

    def recording(episode: list[Transition]) -> Any:
        batch = relabel(episode)
        seen.append((list(episode), batch))
        return batch

    algorithm.relabel = recording
    return seen


def test_termination_closes_the_child_relabels_the_parent_and_is_not_charged() -> None:
    chain = Chain([unit(10, 0.9)], lambda child, amap, lrn: StepTermination(child, amap, lrn, {3}), budget=2, goal=-0.75,
                  testing_fraction=1.0)
    root_seen, leaf_seen = spy(chain.root_algo), spy(chain.leaf.algorithm)
    rewards = chain.run_episode()
    # subgoal 1 is terminated at step 3; the fresh subgoals 2 and 3 run to their deadlines (13, 23) and spend the
    # budget of 2: the interrupted one was not charged.
    assert len(rewards) == 23
    (episode, batch), = root_seen
    assert [(tr.t0, tr.t1, tr.interrupted) for tr in episode] == [(0, 3, True), (3, 13, False), (13, 23, False)]
    u = np.random.default_rng(0).random()  # the child's first hindsight-time draw
    np.testing.assert_allclose(episode[0].child_hindsight, [chain.child_task.time.convert(3 - u), 0.3], atol=1e-6)
    np.testing.assert_allclose(batch.act[0], episode[0].child_hindsight)   # what was reached, when it was reached
    # all three actions tested the child and all failed, but only the two that ran out their time are penalised
    assert [(tr.test_child, tr.child_completed) for tr in episode] == [(True, False), (True, True), (True, True)]
    np.testing.assert_array_equal(batch.rew[3:5], [-5.0, -5.0])
    metrics = chain.graph.episode_metrics()
    assert metrics["hac_1/terminations"] == 1 and metrics["hac_1/termination_rate"] == pytest.approx(1 / 3)
    assert metrics["hac_1/n_actions"] == 3 and metrics["hac_1/budget_use"] == 1.0
    assert metrics["hac_1/testing_penalties"] == 2
    # the child's cut segment was flushed on its own, its last transition bootstraps; a deadline does not
    first, second = leaf_seen[0][1], leaf_seen[1][1]
    assert len(first) == 3 and first.done.tolist() == [0.0, 0.0, 0.0]
    assert len(second) == 10 and second.done[-1] == 1.0


def test_full_interrupted_test_penalty_penalises_the_terminated_test_too() -> None:
    chain = Chain([unit(10, 0.9)], lambda child, amap, lrn: StepTermination(child, amap, lrn, {3}), budget=2, goal=-0.75,
                  testing_fraction=1.0)
    chain.root_algo.fidelity = FidelityParams(penalise_interrupted_tests=True)
    root_seen = spy(chain.root_algo)
    chain.run_episode()
    (episode, batch), = root_seen
    assert [(tr.t0, tr.t1, tr.interrupted) for tr in episode] == [(0, 3, True), (3, 13, False), (13, 23, False)]
    # three failed tests, the interrupted one included, each with the original action and the full penalty
    np.testing.assert_array_equal(batch.rew[3:6], [-5.0, -5.0, -5.0])
    np.testing.assert_allclose(batch.act[3], chain.root_algo.action_map.to_unit(episode[0].action), atol=1e-6)
    assert chain.graph.episode_metrics()["hac_1/testing_penalties"] == 3


def test_no_termination_on_the_step_the_subgoal_began() -> None:
    chain = Chain([unit(10, 0.9)], lambda child, amap, lrn: StepTermination(child, amap, lrn, set(range(40))), goal=-0.75)
    root_seen = spy(chain.root_algo)
    chain.run_episode()
    (episode, _), = root_seen
    assert [tr.t1 - tr.t0 for tr in episode] == [1] * 40   # every subgoal lasts exactly one step, never zero


def test_warmup_counts_training_steps() -> None:
    chain = Chain([unit(10, 0.9)], lambda child, amap, lrn: StepTermination(child, amap, lrn, {3}, warmup_steps=1000),
                  goal=-0.75)
    chain.run_episode(total_step=900)
    assert chain.graph.episode_metrics()["hac_1/terminations"] == 0
    chain.run_episode(total_step=1000)
    assert chain.graph.episode_metrics()["hac_1/terminations"] == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_discounted_return_of_the_top_level_is_the_env_return(seed: int) -> None:
    c = 4.0
    chain = Chain(
        lambda n: unit(3 + n % 5, 0.9),
        lambda child, amap, lrn: StepTermination(child, amap, lrn, set(np.flatnonzero(
            np.random.default_rng(seed).random(40) < 0.3).tolist())),
        normalization=c, goal=0.7, leaf_push=0.2,
    )
    root_seen = spy(chain.root_algo)
    rewards = chain.run_episode()
    (episode, batch), = root_seen
    assert rewards[-1] == 0.0 and 20 < len(rewards) < 40                   # reached the goal, terminated
    assert sum(tr.interrupted for tr in episode) >= 2
    env_return = sum(GAMMA**t * r for t, r in enumerate(rewards))
    level_return = sum(GAMMA**tr.t0 * tr.reward for tr in episode)
    assert level_return * c == pytest.approx(env_return, rel=1e-6)
    lasted = [tr.t1 - tr.t0 for tr in episode]
    np.testing.assert_array_equal(batch.discount_exponent[: len(episode)], lasted)
    assert batch.done[len(episode) - 1] == 1.0 and not batch.done[: len(episode) - 1].any()


def test_hindsight_goal_rescores_only_the_last_step() -> None:
    chain = Chain([unit(2, 0.9)], normalization=4.0)
    gs = chain.root_task.goal_slice
    obs = np.zeros((1, chain.root_task.obs_dim), np.float32)
    obs[0, gs] = 0.7                                              # the env goal
    ep = EpisodeArrays(obs=obs, new_obs=obs.copy(), act=np.zeros((1, 2), np.float32), rew=np.zeros(1, np.float32),
                       done=np.zeros(1, np.float32), achieved_goal=np.array([[0.3]], np.float32),
                       env_return=np.array([-1.0 - GAMMA], np.float32), t0=np.array([4.0]), t1=np.array([6.0]))
    goals = np.array([[0.32], [0.5]], np.float32)                 # reached / missed hindsight goals
    returns = chain.root_algo.hindsight_env_returns(ep, np.array([0, 0]), goals)
    np.testing.assert_allclose(returns, [-1.0, -1.0 - GAMMA], rtol=1e-6)   # last step -1 -> 0 only when reached
    rew, achieved = chain.root_task.relabel(ep.achieved_goal[[0, 0]], goals, ep.act[[0, 0]], returns)
    np.testing.assert_allclose(rew, [-0.25, (-1.0 - GAMMA) / 4], rtol=1e-6)
    assert achieved.tolist() == [True, False]


def test_without_time_discount_the_top_level_is_hits() -> None:
    chain = Chain([unit(4, 0.9)], discounted=False, budget=3, goal=-0.75)
    root_seen = spy(chain.root_algo)
    chain.run_episode()
    (episode, batch), = root_seen
    assert chain.root.env_reward_discount == 1.0
    assert [tr.reward for tr in episode] == [-1.0] * 3
    np.testing.assert_array_equal(batch.discount_exponent, np.ones(len(batch)))
    assert "hac_1/terminations" not in chain.graph.episode_metrics()


def learner(gamma: float) -> SACLearner:
    return SACLearner(3, 2, SACConfig(gamma=gamma, hidden_layers=[8]), init_generator=torch.Generator().manual_seed(1),
                      explore_generator=torch.Generator().manual_seed(2))


def test_learner_bootstraps_with_gamma_to_the_steps_an_action_lasted() -> None:
    g = torch.Generator().manual_seed(0)
    obs, next_obs = torch.rand(16, 3, generator=g), torch.rand(16, 3, generator=g)
    act, rew = torch.rand(16, 2, generator=g) * 2 - 1, -torch.rand(16, generator=g)
    done = torch.zeros(16)
    assert 0.997**50 == pytest.approx(0.8605, abs=5e-5)
    long, short = learner(0.997), learner(0.997**50)
    long.update(ReplayBatch(obs, act, rew, next_obs, done, torch.full((16,), 50.0)))
    short.update(ReplayBatch(obs, act, rew, next_obs, done, torch.ones(16)))
    a, b = long.state_dict(), short.state_dict()
    torch.testing.assert_close(a["critic"], b["critic"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a["actor"], b["actor"], rtol=1e-5, atol=1e-6)
    one_step = Chain([unit(4, 0.9)]).root_algo.discount_exponents(np.array([3.0, 7.0]), np.array([4.0, 8.0]))
    np.testing.assert_array_equal(one_step, [1.0, 1.0])                  # 1-step actions: plain SAC's target


@pytest.mark.parametrize(("testing_fraction", "terminated"), [(1.0, False), (0.0, True)])
def test_protected_subgoal_tests_run_to_their_deadline(testing_fraction: float, terminated: bool) -> None:
    def protected(child: Any, amap: Any, learner: Any) -> StepTermination:
        policy = StepTermination(child, amap, learner, {3})
        policy.protect_tests = True
        return policy

    chain = Chain([unit(10, 0.9)], protected, goal=-0.75, episode_length=20, testing_fraction=testing_fraction)
    root_seen = spy(chain.root_algo)
    chain.run_episode()
    (episode, _), = root_seen
    assert [tr.t1 for tr in episode] == ([3, 13, 20] if terminated else [10, 20])
    assert [tr.interrupted for tr in episode] == ([True, False, False] if terminated else [False, False])
