"""A tianshou-backed node learns: the core's flat SAC learning test with ``flat_algo_name = "tianshou.SAC"``."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

pytest.importorskip("tianshou")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from point_env import PointGoalEnv  # noqa: E402
from test_sac_learning import PARAMS, evaluate  # noqa: E402

from graph_rl.config import from_dict  # noqa: E402
from graph_rl.config.graph_params import GraphParams  # noqa: E402
from graph_rl.graph import build_graph  # noqa: E402
from graph_rl.learners.tianshou_adapter import TianshouLearner  # noqa: E402
from graph_rl.rng import RngRegistry  # noqa: E402


@pytest.fixture(autouse=True)
def single_torch_thread() -> Iterator[None]:
    """One torch thread, as train.py runs: tianshou's many tiny ops slow down about 15x when two intra-op
    threads compete with other processes for the cores (no conftest.py: its module name would shadow
    tests/core's conftest imports)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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
        graph.reset()
        step = 0
        while True:
            action = graph.act(obs, ep_step=step, total_step=total, testing=False)
            obs, r, term, trunc, info = env.step(action)
            step += 1
            total += 1
            if graph.observe(obs, r, term, trunc, info, ep_step=step, total_step=total, testing=False) or term or trunc:
                break
        stats = graph.learn(total)
        losses += [v for k, v in stats.items() if k.endswith("/loss_critic")]
        obs, _ = env.reset()
        if total > 2000:
            success.append(evaluate(graph, test_env, 20))
            if success[-1] >= 0.95:
                break
    assert losses, "the learner must have been updated and reported its stats"
    assert success and max(success) >= 0.95, success
