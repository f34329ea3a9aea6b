"""HAC relabelling on hand-built node episodes: hindsight actions, testing penalties, hindsight goals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import StubLearner, make_algorithm

from graph_rl.algorithms import HAC, Transition
from graph_rl.spaces import DictLayout
from graph_rl.subtasks import DeltaTAchReward, PartialObs, ShortestPathSubtask

# A 1-D point: partial obs = (position, velocity), goal = position (threshold 0.05); obs = [pos, vel, goal].
LAYOUT = DictLayout({"position": ([-1.0], [1.0]), "velocity": ([-1.0], [1.0])})


def subtask(aux=()) -> ShortestPathSubtask:
    return ShortestPathSubtask(PartialObs(LAYOUT, None), ["position"], {"position": 0.05}, 10, aux)


def tr(pos, new_pos, goal, action, *, reward, achieved=False, test=False, child_ok=True, hindsight=None, t=(0, 1),
       env_return=-1.0) -> Transition:
    return Transition(
        obs=np.array([pos, 0.1, goal], np.float32), action=np.array(action, np.float32), reward=reward,
        new_obs=np.array([new_pos, 0.1, goal], np.float32), achieved=achieved, done=achieved,
        achieved_goal=np.array([new_pos], np.float32), t0=t[0], t1=t[1], env_return=env_return, test_child=test,
        child_achieved=child_ok, child_hindsight=None if hindsight is None else np.array(hindsight, np.float32),
    )


def inner_episode() -> list[Transition]:
    """A higher level's 3 subgoals towards goal 0.5: (tested, failed), (succeeded), (tested, failed, but env goal reached)."""
    return [
        tr(0.0, 0.2, 0.5, [0.3], reward=-1.0, test=True, child_ok=False, hindsight=[0.2], t=(0, 4)),
        tr(0.2, 0.4, 0.5, [0.4], reward=-1.0, child_ok=True, hindsight=[0.4], t=(4, 6)),
        tr(0.4, 0.5, 0.5, [0.9], reward=0.0, achieved=True, test=True, child_ok=False, hindsight=[0.5], t=(6, 9)),
    ]


@pytest.mark.parametrize("bootstrap", [True, False])
def test_hindsight_actions_and_testing_penalties(bootstrap: bool) -> None:
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), goal_sampling_strategy="final", n_hindsight_goals=1,
                          child_failure_penalty=-10.0, bootstrap_testing_transitions=bootstrap)
    batch = algo.relabel(inner_episode())
    # rows: 3 real (hindsight actions where the child failed) + 2 testing + 3 hindsight goals ('final' = 0.5)
    assert len(batch) == 8
    np.testing.assert_allclose(batch.act[:, 0], [0.2, 0.4, 0.5, 0.3, 0.9, 0.2, 0.4, 0.5])
    np.testing.assert_array_equal(batch.rew, [-1, -1, 0, -10, -10, -1, -1, 0])
    testing_done = [0, 1] if bootstrap else [1, 1]
    np.testing.assert_array_equal(batch.done, [0, 0, 1, *testing_done, 0, 0, 1])
    np.testing.assert_allclose(batch.obs[:, 2], [0.5] * 8)  # final goal == real goal here
    np.testing.assert_array_equal(batch.discount_exponent, np.ones(8))
    assert algo.n_test_penalties == 2


def test_future_goals_are_later_achieved_goals_drawn_from_the_her_stream() -> None:
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), goal_sampling_strategy="future", n_hindsight_goals=2, seed=5)
    batch = algo.relabel(inner_episode())
    # transition 0 gets min(2, 2) goals from {1, 2}, transition 1 gets min(2, 1) from {2}, transition 2 none
    src = np.array([0, 0, 1])
    tgt = np.random.default_rng(5 + 3).integers(src + 1, 3)
    achieved = np.array([0.2, 0.4, 0.5], np.float32)
    her = slice(5, 8)
    np.testing.assert_allclose(batch.obs[her, 2], achieved[tgt])
    np.testing.assert_allclose(batch.next_obs[her, 2], achieved[tgt])
    np.testing.assert_allclose(batch.obs[her, 0], [0.0, 0.0, 0.2])
    hit = np.isclose(achieved[src], achieved[tgt])
    np.testing.assert_array_equal(batch.rew[her], np.where(hit, 0.0, -1.0))
    np.testing.assert_array_equal(batch.done[her], hit.astype(np.float32))
    np.testing.assert_allclose(batch.act[her, 0], [0.2, 0.2, 0.4])  # copies keep the hindsight action


def test_episode_strategy_counts() -> None:
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), goal_sampling_strategy="episode", n_hindsight_goals=5)
    src, tgt = algo.hindsight_indices(3)
    np.testing.assert_array_equal(src, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert set(tgt.tolist()) <= {0, 1, 2}


def test_hindsight_action_reward_is_recomputed_with_its_aux_terms() -> None:
    # aux penalty -w * (a + 1) / 2 on action column 0 (like the desired-time penalty of HiTS' higher level)
    sub = subtask([DeltaTAchReward(1.0, 0)])
    algo = make_algorithm(sub, ([-1.0], [1.0]), goal_sampling_strategy="final", n_hindsight_goals=0)
    episode = [tr(0.0, 0.2, 0.5, [0.6], reward=-1.0 - 0.8, child_ok=False, hindsight=[0.2])]
    batch = algo.relabel(episode)
    np.testing.assert_allclose(batch.rew, [-1.0 - 0.6])  # original's stale -1.8 fixed: -1 - (0.2 + 1) / 2


def test_leaf_episode_stores_real_and_hindsight_goal_transitions_only() -> None:
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), goal_sampling_strategy="final", n_hindsight_goals=3)
    episode = [tr(0.0, 0.1, 0.9, [1.0], reward=-1.0), tr(0.1, 0.2, 0.9, [1.0], reward=-1.0, t=(1, 2))]
    batch = algo.relabel(episode)
    assert len(batch) == 4
    np.testing.assert_allclose(batch.obs[2:, 2], [0.2, 0.2])
    np.testing.assert_array_equal(batch.rew, [-1, -1, -1, 0])
    np.testing.assert_array_equal(batch.done, [0, 0, 0, 1])


def test_stored_actions_are_normalised_to_unit_box() -> None:
    algo = make_algorithm(subtask(), ([0.0], [2.0]), cls=HAC, goal_sampling_strategy="final", n_hindsight_goals=0)
    algo.add(tr(0.0, 0.1, 0.9, [1.5], reward=-1.0))
    algo.end_episode(store=True)
    sample = algo.buffer.sample(4)
    np.testing.assert_allclose(sample.act.numpy()[:, 0], [0.5] * 4)
    np.testing.assert_allclose(sample.rew.numpy(), [-1.0] * 4)


def test_episode_q_is_asked_on_the_learners_device() -> None:
    # A cuda learner got host tensors here once (crash on the first episode of every --device cuda run).
    learner = StubLearner(1, device="meta")
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), learner=learner, n_hindsight_goals=0)
    algo.add(tr(0.0, 0.1, 0.9, [0.5], reward=-1.0))
    algo.end_episode(store=False)
    assert learner.q_input_devices == [torch.device("meta")] * 2


def test_no_testing_penalty_for_a_child_cut_short() -> None:
    algo = make_algorithm(subtask(), ([-1.0], [1.0]), n_hindsight_goals=0, child_failure_penalty=-10.0)
    episode = inner_episode()
    episode[2].child_completed = False  # the env goal was reached before the child's subgoal test was over
    batch = algo.relabel(episode)
    np.testing.assert_array_equal(batch.rew, [-1, -1, 0, -10])  # only the first (completed) failed test
    np.testing.assert_allclose(batch.act[:, 0], [0.2, 0.4, 0.5, 0.3])  # hindsight action still applies
