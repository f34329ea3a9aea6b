"""Probe a trained agent's top level at the states it decides in: does its critic rank actions, and what dominates Q?

    python benchmarks/learning.py --env NoisyPlatforms --algo HiTS --steps 1000000 --checkpoint-dir ckpt
    python tools/top_level_probe.py ckpt/seed-1 --episodes 10

Why: on NoisyPlatforms HiTS's low level can reach most of its subgoals while the agent never lands on the goal, so
the failure is the top level's planning. The agent runs deterministic test episodes (as ``scripts/run/evaluate.py``)
and every observation its root acts on is kept. At those states, printed as JSON:

- ``q_deterministic``: mean and spread over states of min(Q1, Q2) at the deterministic action;
- ``q_best_uniform_minus_deterministic``: the best of ``--samples`` uniform actions minus that, averaged over
  states (negative: the actor sits on a maximum of its critic; positive: the actor lags its critic);
- ``q_spread_uniform`` / ``q_spread_policy``: the within-state standard deviation of Q over uniform actions and
  over policy samples (near 0: the critic cannot tell actions apart);
- ``log_pi`` and ``entropy_term``: the mean log-probability of policy samples and ``-alpha log pi``, the soft
  value's per-decision entropy part, to compare with the level's per-decision reward (-1 for HiTS);
- per action dimension, the actor's mean ``|tanh(mu)|`` and the spread of its samples;
- ``goal_sensitivity_per_dim``: per action dimension, how much the deterministic action moves when the state stays
  and the desired goal is swapped for the other goals met in the episodes (the within-state standard deviation,
  averaged over states; near 0 in a dimension: the level does not condition that part of its action on the goal);
- ``entropy_term_bound``: ``alpha * act_dim * ln 2``, the bonus per decision of a uniform policy on the action box,
  the largest there is. Above the level's per-decision cost, a broad policy earns more by not finishing than by
  finishing, so soft targets exceed 0 (docs/research/hits_easyplatforms.md#saturation);
- ``critic_saturation`` (force-negative critics, ``Q = logsigmoid(z)``; null otherwise): over the level's replay
  buffer, the share of stored (observation, action) pairs with ``z > 5`` and ``z > 10``, where ``dQ/dz = 1 - exp(Q)``
  is under 0.007 and 0.00005. Targets above 0 drive ``z`` there and leave it: the critic reads 0 for every action
  and gives the actor no gradient.

Every random number comes from a generator seeded by ``--seed`` (default: the run's seed), never the agent's own.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402  (the benchmarks' shared CLI helpers)


class _ObsRecorder:
    """Wraps a node's policy: keeps a copy of every observation it is asked to act on."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.observations: list[np.ndarray] = []

    def __call__(self, obs: np.ndarray, deterministic: bool) -> tuple[int, np.ndarray]:
        self.observations.append(np.array(obs, np.float32))
        return self.policy(obs, deterministic)


def goal_sensitivity(learner: Any, obs: torch.Tensor, goal_slice: slice) -> list[float]:
    """Per action dimension: the std of the deterministic action over the distinct goals in ``obs``, each state
    keeping its own other entries, averaged over states (0 where only one goal was met)."""
    goals = torch.unique(obs[:, goal_slice], dim=0)
    if len(goals) < 2:
        return [0.0] * learner.act_dim
    spreads = []
    for state in obs:
        swapped = state.repeat(len(goals), 1)
        swapped[:, goal_slice] = goals
        actions = np.stack([learner.act(o.numpy(), True) for o in swapped])
        spreads.append(actions.std(0))
    return [round(float(x), 3) for x in np.mean(spreads, 0)]


def probe(learner: Any, obs: torch.Tensor, n_samples: int, generator: torch.Generator) -> dict[str, Any]:
    """The statistics above, but goal sensitivity, for a learner at observations ``obs`` (B, obs_dim)."""
    n, act_dim = obs.shape[0], learner.act_dim
    repeated = obs.repeat_interleave(n_samples, 0)
    deterministic = torch.from_numpy(np.stack([learner.act(o.numpy(), True) for o in obs]))
    q_det = learner.q_values(obs, deterministic)
    uniform = torch.rand(n * n_samples, act_dim, generator=generator) * 2 - 1
    q_uniform = learner.q_values(repeated, uniform).view(n, n_samples)
    samples, log_pi = learner.sample_with_log_prob(obs, n_samples, generator)
    q_policy = learner.q_values(repeated, samples.reshape(-1, act_dim)).view(n, n_samples)
    alpha = learner.alpha
    return {
        "states": n,
        "alpha": round(alpha, 4),
        "q_deterministic": {"mean": round(float(q_det.mean()), 3), "std_over_states": round(float(q_det.std()), 3)},
        "q_best_uniform_minus_deterministic": round(float((q_uniform.max(1).values - q_det).mean()), 3),
        "q_spread_uniform": round(float(q_uniform.std(1).mean()), 3),
        "q_spread_policy": round(float(q_policy.std(1).mean()), 3),
        "log_pi": round(float(log_pi.mean()), 3),
        "entropy_term": round(-alpha * float(log_pi.mean()), 3),
        "abs_tanh_mu_per_dim": [round(float(x), 3) for x in deterministic.abs().mean(0)],
        "sample_std_per_dim": [round(float(x), 3) for x in samples.std(1).mean(0)],
    }


SATURATION_LOGITS = (5.0, 10.0)


def critic_saturation(learner: Any, obs: torch.Tensor, act: torch.Tensor) -> dict[str, Any] | None:
    """Shares of (obs, act) rows where a force-negative critic's logit is above each of ``SATURATION_LOGITS``.

    ``Q = logsigmoid(z)`` is monotone in ``z``, so ``z > c`` is ``Q > logsigmoid(c)``: read from ``q_values``
    (the smaller twin) without touching the learner's internals. None for a critic without that head.
    """
    if not getattr(getattr(learner, "config", None), "force_negative", False):
        return None
    q = learner.q_values(obs, act)
    shares = {f"share_logit_above_{c:g}": round(float((q > F.logsigmoid(torch.tensor(c))).float().mean()), 3)
              for c in SATURATION_LOGITS}
    return {"transitions": int(obs.shape[0]), **shares}


def main(argv: list[str] | None = None) -> int:
    parser = bench_cli.parser(__doc__, episodes=10)
    parser.add_argument("--samples", type=bench_cli.at_least(2), default=64,
                        help="uniform actions and policy samples per state")
    args, agent = bench_cli.parse_and_load(parser, argv)
    from graph_rl.session.evaluate import evaluate

    root = agent.graph.root
    if not root.children:
        return bench_cli.fail(
            parser.prog, f"{args.source}: a one-node agent ({agent.config.algo}) has no top level to probe")
    recorder = _ObsRecorder(root.policy)
    root.policy = recorder
    seed = agent.config.seed if args.seed is None else args.seed
    result = evaluate(agent, n_episodes=args.episodes, seed=seed)
    obs = torch.from_numpy(np.stack(recorder.observations))
    learner = root.algorithm.learner
    stored = root.algorithm.buffer.transitions()
    report = {
        "checkpoint": str(agent.checkpoint.path),
        "step": agent.checkpoint.step,
        "env": agent.config.run.env,
        "algo": agent.config.algo,
        "node": root.name,
        "episodes": args.episodes,
        "success_rate": result.success_rate,
        "mean_length": result.mean_length,
        **probe(learner, obs, args.samples, torch.Generator().manual_seed(seed)),
        "goal_sensitivity_per_dim": goal_sensitivity(learner, obs, root.subtask.goal_slice),
        "entropy_term_bound": round(learner.alpha * learner.act_dim * math.log(2.0), 3),
        "critic_saturation": critic_saturation(learner, stored.obs, stored.act),
    }
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
