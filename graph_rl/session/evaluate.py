"""Evaluate a checkpoint: rebuild its graph, run deterministic test episodes, optionally record frames.

The evaluation env is seeded from the ``env/eval`` stream, distinct from training (``env/train``) and the
session's test blocks (``env/test``), so evaluating never replays episodes the agent was tested on during training
unless asked to with the same stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from graph_rl.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from graph_rl.rng import RngRegistry, seed_everything
from graph_rl.session.run import GraphFactory, default_graph_factory, make_goal_env
from graph_rl.session.session import GraphLike, step_success
from graph_rl.session.setup import RunConfig
from graph_rl.session.video import FrameRecorder

__all__ = ["Agent", "EvalResult", "load_agent", "evaluate", "FrameRecorder"]


@dataclass
class Agent:
    """A graph restored from a checkpoint, with the env it was trained on."""

    config: RunConfig
    checkpoint: Checkpoint
    graph: GraphLike
    env: gym.Env


@dataclass
class EvalResult:
    """Outcome of deterministic test episodes."""

    episodes: int
    success_rate: float | None
    mean_return: float
    mean_length: float
    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "success_rate": self.success_rate,
            "mean_return": self.mean_return,
            "mean_length": self.mean_length,
            "returns": self.returns,
            "lengths": self.lengths,
            "successes": self.successes,
        }


def load_agent(
    source: Path,
    *,
    device: str = "cpu",
    render_mode: str | None = None,
    graph_factory: GraphFactory = default_graph_factory,
) -> Agent:
    """Load the checkpoint at ``source`` (checkpoint or run dir) and rebuild its graph on ``device``."""
    checkpoint = load_checkpoint(source)
    config = RunConfig.from_dict(checkpoint.config, str(checkpoint.path))
    config.device = device
    seed_everything(config.seed)
    torch.set_num_threads(config.run.torch_num_threads)
    env = make_goal_env(config, render_mode=render_mode) if render_mode else make_goal_env(config)
    rng = RngRegistry(config.seed)
    graph = graph_factory(config, env, rng)
    try:
        graph.load_state_dict(checkpoint.state["graph"])
        rng.load_state_dict(checkpoint.state["rng"])
    except (KeyError, ValueError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"{checkpoint.path}: does not fit the graph ({type(err).__name__}: {err})") from None
    return Agent(config=config, checkpoint=checkpoint, graph=graph, env=env)


def evaluate(
    agent: Agent,
    *,
    n_episodes: int,
    seed: int,
    on_act: Callable[[], None] | None = None,
    on_episode_end: Callable[[], None] | None = None,
) -> EvalResult:
    """Run ``n_episodes`` deterministic episodes; ``on_act`` runs after each action is chosen (for rendering)."""
    graph, env, params = agent.graph, agent.env, agent.config.run
    total_step = agent.checkpoint.step
    returns, lengths, successes = [], [], []
    reset_seed: int | None = RngRegistry(seed).int_seed("env/eval")
    for _ in range(n_episodes):
        obs, _ = env.reset(seed=reset_seed)
        reset_seed = None
        graph.reset()
        ep_return, ep_step, success, done = 0.0, 0, False, False
        while not done:
            action = graph.act(obs, ep_step=ep_step, total_step=total_step, testing=True)
            if on_act is not None:
                on_act()
            obs, reward, terminated, truncated, info = env.step(action)
            ep_step += 1
            ep_return += float(reward)
            success = success or step_success(float(reward), info, params.success_reward)
            graph_done = graph.observe(
                obs, float(reward), terminated, truncated, info, ep_step=ep_step, total_step=total_step, testing=True
            )
            done = terminated or truncated or graph_done
        if on_episode_end is not None:
            on_episode_end()
        returns.append(ep_return)
        lengths.append(ep_step)
        successes.append(success)
    return EvalResult(
        episodes=n_episodes,
        success_rate=float(np.mean(successes)) if params.success_reward is not None else None,
        mean_return=float(np.mean(returns)),
        mean_length=float(np.mean(lengths)),
        returns=returns,
        lengths=lengths,
        successes=successes,
    )
