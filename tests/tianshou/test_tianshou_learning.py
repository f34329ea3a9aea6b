"""A tianshou-backed node learns: the core's flat SAC learning test with ``flat_algo_name = "tianshou.SAC"``."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

pytest.importorskip("tianshou")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from point_env import PointGoalEnv  # noqa: E402
from test_sac_learning import PARAMS, evaluate, train_episode  # noqa: E402

from graph_rl.config import from_dict  # noqa: E402
from graph_rl.config.graph_params import GraphParams  # noqa: E402
from graph_rl.graph import build_graph  # noqa: E402
from graph_rl.learners.tianshou_adapter import TianshouLearner  # noqa: E402
from graph_rl.rng import RngRegistry  # noqa: E402
from torch_threads import one_torch_thread  # noqa: E402,F401  (autouse: one torch thread)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tianshou.SAC"])
def test_tianshou_node_reaches_random_goals(name: str) -> None:
    params = copy.deepcopy(PARAMS)
    params["level_params_list"][0]["algo_kwargs"]["flat_algo_name"] = name
    env = PointGoalEnv(dim=1, max_episode_length=20, step_size=0.1, radius=0.05)
    test_env = PointGoalEnv(dim=1, max_episode_length=20, step_size=0.1, radius=0.05)
    graph = build_graph("SAC", env, from_dict(GraphParams, params), RngRegistry(0), n_steps=6000)
    assert all(isinstance(node.algorithm.learner, TianshouLearner) for node in graph.nodes)
    assert evaluate(graph, test_env, 20) < 0.5  # untrained: mostly fails
    obs, _ = env.reset(seed=0)
    total, success, losses = 0, [], []
    while total < 5000:
        obs, total = train_episode(graph, env, obs, total)
        stats = graph.learn(total)
        losses += [v for k, v in stats.items() if k.endswith("/loss_critic")]
        if total > 2000:
            success.append(evaluate(graph, test_env, 20))
            if success[-1] >= 0.95:
                break
    assert losses, "the learner must have been updated and reported its stats"
    assert success and max(success) >= 0.95, success


def test_two_level_hits_with_a_tianshou_level_learns_through_graph_learn() -> None:
    """graph.learn batches same-step updates with update_many; a tianshou level must take its own path."""
    import json

    import gymnasium as gym
    import numpy as np

    import envs  # noqa: F401

    root = Path(__file__).resolve().parents[2]
    data = json.loads((root / "data" / "EasyPlatforms" / "HiTS" / "graph_params.json").read_text())
    for level in data["level_params_list"]:
        level["algo_kwargs"].update(learning_starts=0, batch_size=8)
    data["level_params_list"][0]["algo_kwargs"]["flat_algo_name"] = "tianshou.SAC"
    env = gym.make("EasyPlatforms-v1")
    graph = build_graph("HiTS", env, from_dict(GraphParams, data), RngRegistry(0), n_steps=2000)
    assert isinstance(graph.nodes[-1].algorithm.learner, TianshouLearner)
    obs, _ = env.reset(seed=0)
    graph.reset()
    stats: dict[str, float] = {}
    for step in range(1, 1001):
        action = graph.act(obs, ep_step=step - 1, total_step=step - 1, testing=False)
        obs, reward, terminated, truncated, info = env.step(action)
        done = graph.observe(obs, float(reward), terminated, truncated, info, ep_step=step, total_step=step, testing=False)
        if done or terminated or truncated:
            break
    stats = graph.learn(step)
    names = {n.name for n in graph.nodes}
    assert {key.split("/")[0] for key in stats} == names
    assert all(np.isfinite(v) for v in stats.values())
