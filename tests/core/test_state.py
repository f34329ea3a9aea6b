"""Graph state: a run resumed from ``state_dict`` (mid-episode too) continues bit-identically."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import torch
from point_env import PointGoalEnv

from graph_rl.checkpoint.codec import decode, encode
from graph_rl.config import from_dict
from graph_rl.config.graph_params import GraphParams
from graph_rl.graph import build_graph
from graph_rl.rng import RngRegistry


def small_params(algo: str, learn_tolerances: bool = False) -> GraphParams:
    level = {"algo_kwargs": {"batch_size": 16, "learning_starts": 30, "grad_steps_per_env_step": 0.5,
                             "n_hindsight_goals": 2, "testing_fraction": 0.5, "fully_random_fraction": 0.2},
             "model_kwargs": {"hidden_layers": [8]}}
    low = copy.deepcopy(level)
    low["subtask_spec_params"] = {"goal_keys": ["position"], "goal_thresholds": {"position": 0.05}}
    if algo == "HiTS":
        low["subtask_spec_params"]["delta_t_max"] = -1
    top = copy.deepcopy(level)
    top["subtask_spec_params"] = {"env_goal_key": "position", "max_n_actions": 4, "weight_delta_t_ach_aux": 0.1}
    if algo == "HAC":
        top["subtask_spec_params"].pop("weight_delta_t_ach_aux")
    if learn_tolerances:
        top["subtask_spec_params"].update(learn_goal_ach_thresholds=True, goal_tol_rew=0.5)
    return from_dict(GraphParams, {"algorithm": algo, "n_layers": 2, "level_params_list": [low, top]})


class Run:
    def __init__(self, algo: str, seed: int = 3) -> None:
        self.env = PointGoalEnv(dim=1, max_episode_length=20)
        self.rng = RngRegistry(seed)
        params = small_params(algo.split("+")[0], learn_tolerances=algo.endswith("+tol"))
        self.graph = build_graph(algo.split("+")[0], self.env, params, self.rng, n_steps=2000)
        self.obs, _ = self.env.reset(seed=seed)
        self.graph.reset()
        self.ep_step = self.total = 0
        self.trace: list = []

    def steps(self, n: int) -> None:
        for _ in range(n):
            action = self.graph.act(self.obs, ep_step=self.ep_step, total_step=self.total, testing=False)
            self.trace.append(action.tolist())
            self.obs, r, term, trunc, info = self.env.step(action)
            self.ep_step += 1
            self.total += 1
            done = self.graph.observe(self.obs, r, term, trunc, info, ep_step=self.ep_step, total_step=self.total,
                                      testing=False)
            if done or term or trunc:
                self.trace.append(sorted(self.graph.episode_metrics().items()))
                self.trace.append(sorted(self.graph.learn(self.total).items()))
                self.obs, _ = self.env.reset()
                self.graph.reset()
                self.ep_step = 0

    def snapshot(self) -> bytes:
        buf = io.BytesIO()
        torch.save(encode({"graph": self.graph.state_dict(), "rng": self.rng.state_dict()}), buf)
        return buf.getvalue()

    def restore(self, blob: bytes, env: PointGoalEnv, obs: dict, ep_step: int, total: int) -> None:
        state = decode(torch.load(io.BytesIO(blob), weights_only=True))
        self.graph.load_state_dict(state["graph"])
        self.rng.load_state_dict(state["rng"])
        self.env, self.obs, self.ep_step, self.total = env, obs, ep_step, total


@pytest.mark.parametrize("algo", ["HiTS", "HAC", "HiTS+tol"])
def test_resume_mid_episode_is_bit_identical(algo: str) -> None:
    a = Run(algo)
    a.steps(157)  # past learning_starts, in the middle of an episode and of a timed subgoal
    assert a.ep_step > 0 and len(a.graph.state_dict()["path"]) == 2
    blob, env, obs, ep_step, total = a.snapshot(), copy.deepcopy(a.env), copy.deepcopy(a.obs), a.ep_step, a.total
    a.steps(120)
    b = Run(algo)  # fresh graph and registry, same seed
    b.restore(blob, env, obs, ep_step, total)
    b.trace = []
    b.steps(120)
    assert b.trace == a.trace[-len(b.trace):]
    for na, nb in zip(a.graph.nodes, b.graph.nodes):
        sa, sb = na.algorithm.learner.state_dict(), nb.algorithm.learner.state_dict()
        for key in sa:
            if isinstance(sa[key], torch.Tensor):
                assert torch.equal(sa[key], sb[key]), key
        assert torch.equal(na.algorithm.buffer.state_dict()["rows"], nb.algorithm.buffer.state_dict()["rows"])


def test_same_seed_same_run_other_seed_differs() -> None:
    a, b, c = Run("HiTS", seed=1), Run("HiTS", seed=1), Run("HiTS", seed=2)
    for run in (a, b, c):
        run.steps(80)
    assert a.trace == b.trace
    assert a.trace != c.trace
    assert np.isfinite(np.array(a.trace[0])).all()
