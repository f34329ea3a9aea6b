"""NoisyPlatforms freeze statistics of the original Box2D env and of graph_rl's pymunk port, on the same actions.

    VENV/bin/python tools/differential/freeze_stats.py --side original --src SRC --out orig.json
    python tools/differential/freeze_stats.py --side ours --out ours.json
    python tools/differential/freeze_stats.py --summarise orig.json ours.json

Each side runs ``--episodes`` episodes in a row on one env instance, as training does (so state the original carries
across episodes shows). Episode ``k`` sends the actions of a generator seeded ``k`` (uniform in [-0.2, 1]: the ball
drifts right across platform1's trigger), the same on both sides. The freeze draws themselves are each side's own
(the original's global numpy RNG, the port's ``np_random``), so statistics, not single episodes, are compared.
Per platform (0: the moving lift, also platform2's trigger; 1: the triggered lift) and episode: the number of freezes,
their start steps and durations. Runs under Python 3.8 (the original's venv) and graph_rl's; imports nothing of either
library besides its env.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np


def _frozen_original(env) -> tuple:
    triggers = env.unwrapped.triggers
    return bool(triggers[0].is_frozen), bool(triggers[1].is_frozen)


def _frozen_ours(env) -> tuple:
    return tuple(bool(f) for f in env.unwrapped.frozen_platforms)


def run(side: str, episodes: int, src: str | None, seed: int, legacy: bool = False) -> dict:
    if side == "original":
        sys.path[:0] = [os.path.join(src, "dynamic-rl-benchmarks")]
        import types

        for name in ["roboball2d", "roboball2d.physics", "roboball2d.robot", "roboball2d.ball", "roboball2d.ball_gun",
                     "roboball2d.utils"]:  # fmt: skip
            module = types.ModuleType(name)
            module.__getattr__ = lambda attr: type(attr, (), {})
            sys.modules[name] = module
        import dyn_rl_benchmarks  # noqa: F401
        import gym

        np.random.seed(seed)
        env = gym.make("NoisyPlatforms-v1")
        frozen = _frozen_original

        def reset():
            env.reset()

        def step(a):
            _, _, done, _ = env.step(np.array([a]))
            return done
    else:
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        import gymnasium

        import envs  # noqa: F401

        env = gymnasium.make("NoisyPlatforms-v1", legacy_quirks=legacy)
        frozen = _frozen_ours
        first = [True]

        def reset():
            env.reset(seed=seed if first[0] else None)
            first[0] = False

        def step(a):
            _, _, terminated, truncated, _ = env.step(np.array([a], dtype=np.float32))
            return terminated or truncated

    out = []
    for k in range(episodes):
        actions = np.random.Generator(np.random.PCG64(k)).uniform(-0.2, 1.0, 500)
        reset()
        starts = [[], []]
        durations = [[], []]
        prev = (False, False)
        t = 0
        for t, a in enumerate(actions):
            done = step(float(a))
            now = frozen(env)
            for p in range(2):
                if now[p] and not prev[p]:
                    starts[p].append(t)
                    durations[p].append(0)
                if now[p]:
                    durations[p][-1] += 1
            prev = now
            if done:
                break
        out.append({"length": t + 1, "starts": starts, "durations": durations})
    return {"side": side + (" (legacy_quirks)" if legacy else ""), "episodes": out}


def summarise(paths: list) -> dict:
    """Per side and platform: freezes per episode (mean, 95% bootstrap interval), share of episodes with one,
    mean duration and start step."""
    rng = np.random.Generator(np.random.PCG64(0))
    table = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        rows = {}
        for p in range(2):
            counts = np.array([len(e["starts"][p]) for e in data["episodes"]], dtype=float)
            durations = [d for e in data["episodes"] for d in e["durations"][p]]
            starts = [s for e in data["episodes"] for s in e["starts"][p]]
            boot = [rng.choice(counts, len(counts)).mean() for _ in range(2000)]
            rows[f"platform{p}"] = {
                "freezes_per_episode": round(float(counts.mean()), 3),
                "ci95": [round(float(np.percentile(boot, 2.5)), 3), round(float(np.percentile(boot, 97.5)), 3)],
                "episodes_with_freeze": round(float((counts > 0).mean()), 3),
                "mean_duration": round(float(np.mean(durations)), 2) if durations else None,
                "max_duration": int(max(durations)) if durations else None,
                "mean_start_step": round(float(np.mean(starts)), 1) if starts else None,
            }
        first_half = [len(e["starts"][1]) for e in data["episodes"][: len(data["episodes"]) // 2]]
        second_half = [len(e["starts"][1]) for e in data["episodes"][len(data["episodes"]) // 2 :]]
        rows["platform1_freezes_first_vs_second_half"] = [float(np.mean(first_half)), float(np.mean(second_half))]
        rows["mean_length"] = float(np.mean([e["length"] for e in data["episodes"]]))
        table[data["side"]] = rows
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", choices=["original", "ours"])
    ap.add_argument("--src", help="checkout of pczernec/hits-herald1 (--side original)")
    ap.add_argument("--episodes", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--legacy", action="store_true", help="--side ours with legacy_quirks=True (the original's Q1/Q5/Q6)"
    )
    ap.add_argument("--out")
    ap.add_argument("--summarise", nargs="*", metavar="JSON")
    args = ap.parse_args()
    if args.summarise:
        print(json.dumps(summarise(args.summarise), indent=1))
        return
    result = run(args.side, args.episodes, args.src, args.seed, args.legacy)
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
