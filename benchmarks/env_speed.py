"""Environment speed: random-action steps per second of every Platforms-family id, printed as JSON.

    python benchmarks/env_speed.py                      # 20,000 steps x 3 repeats per id
    python benchmarks/env_speed.py --steps 5000 --repeats 5 --ids Platforms-v1

(with the package installed, ``pip install -e .``, or ``PYTHONPATH=.`` from the repository root)

``raw``: ``env.unwrapped.step`` with actions drawn beforehand from a seeded generator, resetting when an episode
ends (the figure the >= 10,000 steps/s target refers to). ``make``: the ``gym.make`` env (with its default
wrappers) and ``action_space.sample()`` per step, as a training loop would see it. Each figure is the median over
the repeats (wall clock; ``raw_steps_per_cpu_s`` divides by this process's CPU time instead, which a loaded
machine disturbs less); the original Box2D implementation reached about 2,700 (raw) and 1,700 (make) steps/s on
the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import gymnasium as gym
import numpy as np
import pymunk

import envs

TARGET_RAW_STEPS_PER_S = 10_000


def _raw_rate(env_id: str, steps: int, seed: int) -> tuple[float, float, int]:
    """Steps per wall-clock second, per CPU second of this process, and finished episodes."""
    env = gym.make(env_id).unwrapped
    actions = np.random.default_rng(seed).uniform(-1.0, 1.0, (steps, 1)).astype(np.float32)
    env.reset(seed=seed)
    episodes = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
            episodes += 1
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    env.close()
    return steps / elapsed, steps / cpu, episodes


def _make_rate(env_id: str, steps: int, seed: int) -> float:
    env = gym.make(env_id)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    elapsed = time.perf_counter() - start
    env.close()
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ids", nargs="+", default=list(envs.PLATFORMS_IDS))
    args = parser.parse_args()

    results = {}
    for env_id in args.ids:
        raw, raw_cpu, make, episodes = [], [], [], 0
        for r in range(args.repeats):
            rate, cpu_rate, episodes = _raw_rate(env_id, args.steps, args.seed + r)
            raw.append(rate)
            raw_cpu.append(cpu_rate)
            make.append(_make_rate(env_id, args.steps, args.seed + r))
        results[env_id] = {
            "raw_steps_per_s": round(statistics.median(raw)),
            "raw_steps_per_cpu_s": round(statistics.median(raw_cpu)),
            "make_steps_per_s": round(statistics.median(make)),
            "raw_repeats": [round(x) for x in raw],
            "episodes_per_run": episodes,
            "meets_target": statistics.median(raw) >= TARGET_RAW_STEPS_PER_S,
        }
    report = {
        "benchmark": "env_speed",
        "steps": args.steps,
        "repeats": args.repeats,
        "target_raw_steps_per_s": TARGET_RAW_STEPS_PER_S,
        "python": platform.python_version(),
        "pymunk": pymunk.version,
        "gymnasium": gym.__version__,
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
