"""Mechanism check of a trained EAT agent: do its terminations follow the platform freezes they are meant for?

    python benchmarks/learning.py --env NoisyPlatforms --algo EAT --steps 1000000 --checkpoint-dir ckpt
    python tools/eat_mechanism.py ckpt/seed-1 --episodes 50

The expectation (``eat_reference.md``, section 3 item 12): on NoisyPlatforms, terminations cluster within about 10
env steps after a freeze onset, and on the same task without freezes the agent terminates less.

The agent runs deterministic test episodes (as in ``scripts/run/evaluate.py``) twice: on its own env and on the
same env with freezes off. Every env step at which the top level's termination policy is consulted is a *check*;
a check *fires* when it ends the running subgoal. A check is *in a window* when it lies 0 to ``--window`` steps after
a freeze onset (a platform frozen now that was not at the previous step). Printed JSON, per env: success rate,
terminations per episode, firing rate per check; with freezes also the firing rate in and out of windows and its
ratio (uniform timing gives 1), and the share of terminations in windows next to the share of checks there.

A third pass, ``with_freezes_termination_suppressed``, runs the with-freezes test from the same env seed with the
policy still consulted but never allowed to end a subgoal (the freezes need not fall as before: they share the env's
stream with platform1's, which depend on the ball): its success rate next to ``with_freezes``'s says whether
terminating helps this agent at all (the reference's "dummy" ablation, at test time on the same weights).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402  (the benchmarks' shared CLI helpers)


class _CheckRecorder:
    """Wraps the top level's termination policy: records (episode step, fired) of every check.

    With ``suppress`` set the policy is still consulted (its statistics move as usual) but never ends a subgoal.
    """

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.suppress = False
        self.checks: list[tuple[int, bool]] = []

    def __call__(self, pending: Any, observe: Any, child_finished: Any, env_obs: Mapping[str, Any], *, ep_step: int,
                 total_step: int, testing: bool) -> bool:
        fired = bool(self.policy(pending, observe, child_finished, env_obs, ep_step=ep_step, total_step=total_step,
                                 testing=testing))
        fired = fired and not self.suppress
        self.checks.append((ep_step, fired))
        return fired

    def metrics(self) -> dict[str, float]:
        return self.policy.metrics()


def onsets(frozen: np.ndarray) -> np.ndarray:
    """Episode steps at which some platform is frozen and was not one step earlier; ``frozen`` is (steps, platforms)
    with row t the state the agent acted on at step t."""
    previous = np.vstack([np.zeros((1, frozen.shape[1]), bool), frozen[:-1]])
    return np.flatnonzero((frozen & ~previous).any(axis=1))


def window_counts(starts: np.ndarray, checks: list[tuple[int, bool]], window: int) -> dict[str, int]:
    """Checks and firings of one episode, in and out of the windows [onset, onset + window]."""
    counts = {"checks_in": 0, "fired_in": 0, "checks_out": 0, "fired_out": 0}
    for step, fired in checks:
        inside = bool(np.any((starts <= step) & (step <= starts + window)))
        side = "in" if inside else "out"
        counts[f"checks_{side}"] += 1
        counts[f"fired_{side}"] += fired
    return counts


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def summarise(episodes: list[dict[str, Any]], window: int) -> dict[str, Any]:
    """Totals over episodes, each ``{"success", "frozen", "checks"}``."""
    n = len(episodes)
    totals = {"checks_in": 0, "fired_in": 0, "checks_out": 0, "fired_out": 0}
    n_onsets = 0
    for ep in episodes:
        starts = onsets(ep["frozen"])
        n_onsets += len(starts)
        for key, value in window_counts(starts, ep["checks"], window).items():
            totals[key] += value
    checks = totals["checks_in"] + totals["checks_out"]
    fired = totals["fired_in"] + totals["fired_out"]
    out: dict[str, Any] = {
        "episodes": n,
        "success_rate": round(sum(ep["success"] for ep in episodes) / n, 4),
        "freeze_onsets_per_episode": round(n_onsets / n, 3),
        "terminations_per_episode": round(fired / n, 3),
        "checks": checks,
        "terminations": fired,
        "termination_rate_per_check": _ratio(fired, checks),
    }
    if n_onsets:
        p_in, p_out = _ratio(totals["fired_in"], totals["checks_in"]), _ratio(totals["fired_out"], totals["checks_out"])
        out.update({
            **totals,
            "termination_rate_in_windows": p_in,
            "termination_rate_out_of_windows": p_out,
            "rate_ratio_in_vs_out": _ratio(p_in or 0.0, p_out) if p_in is not None else None,
            "share_of_terminations_in_windows": _ratio(totals["fired_in"], fired),
            "share_of_checks_in_windows": _ratio(totals["checks_in"], checks),
        })
    return out


def run_episodes(agent: Any, recorder: _CheckRecorder, n_episodes: int, seed: int) -> list[dict[str, Any]]:
    """Deterministic test episodes; per episode its success, freeze states and checks."""
    from graph_rl.session.evaluate import evaluate

    platforms = agent.env.unwrapped
    episodes: list[dict[str, Any]] = []
    frozen: list[tuple[bool, bool]] = []

    def on_act() -> None:
        frozen.append(platforms.frozen_platforms)

    def on_episode_end() -> None:
        episodes.append({"frozen": np.array(frozen, bool).reshape(-1, 2), "checks": list(recorder.checks)})
        frozen.clear()
        recorder.checks.clear()

    recorder.checks.clear()
    result = evaluate(agent, n_episodes=n_episodes, seed=seed, on_act=on_act, on_episode_end=on_episode_end)
    for ep, success in zip(episodes, result.successes):
        ep["success"] = success
    return episodes


def main(argv: list[str] | None = None) -> int:
    parser = bench_cli.parser(__doc__, episodes=50)
    parser.add_argument("--window", type=bench_cli.at_least(0), default=10,
                        help="env steps after a freeze onset (default 10)")
    args, agent = bench_cli.parse_and_load(parser, argv)
    from graph_rl.session.run import make_env

    top = agent.graph.root.algorithm
    if agent.config.algo != "EAT" or getattr(top, "termination", None) is None:
        return bench_cli.fail(parser.prog, f"{args.source}: not an EAT agent (algo {agent.config.algo})")
    if not hasattr(agent.env.unwrapped, "frozen_platforms"):
        return bench_cli.fail(parser.prog, f"{args.source}: env {agent.config.run.env} is not a Platforms env")
    recorder = _CheckRecorder(top.termination)
    top.termination = recorder
    seed = agent.config.seed if args.seed is None else args.seed
    calm = dataclasses.replace(agent, env=make_env(agent.config.run, use_freeze=False))
    report = {
        "checkpoint": str(agent.checkpoint.path),
        "step": agent.checkpoint.step,
        "env": agent.config.run.env,
        "strategy": agent.config.graph.eat.strategy if agent.config.graph.eat is not None else None,
        "seed": seed,
        "window": args.window,
        "with_freezes": summarise(run_episodes(agent, recorder, args.episodes, seed), args.window),
        "without_freezes": summarise(run_episodes(calm, recorder, args.episodes, seed), args.window),
    }
    recorder.suppress = True
    report["with_freezes_termination_suppressed"] = summarise(
        run_episodes(agent, recorder, args.episodes, seed), args.window)
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
