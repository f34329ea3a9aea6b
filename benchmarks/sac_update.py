"""Cost of the per-node SAC learner on one CPU thread: updates, stacked updates, acting, replay.

Prints one JSON object. Times are medians over ``--repeats`` blocks of ``--iters`` calls each (wall clock
and process CPU time), plus the fastest block's CPU time; on a shared machine trust the CPU figures. The HiTS target is 2 nodes at [32, 32] / 512,
one update per env step in total plus 1-2 ``act`` calls, at >= 500 env steps/s.

    python benchmarks/sac_update.py [--iters 300] [--repeats 5] [--batch 512] [--hidden 32 32]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from graph_rl.learners import SACConfig, SACLearner, update_many
from graph_rl.replay import ReplayBuffer

NODES = {"obs18_act1": (18, 1), "obs15_act5": (15, 5)}


def measure(fn: Callable[[], object], iters: int, repeats: int) -> dict[str, float]:
    """Median milliseconds per call (wall and CPU) over ``repeats`` blocks of ``iters`` calls."""
    for _ in range(max(10, iters // 10)):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            fn()
        wall.append((time.perf_counter() - w0) / iters * 1e3)
        cpu.append((time.process_time() - c0) / iters * 1e3)
    return {
        "wall_ms": round(statistics.median(wall), 4),
        "cpu_ms": round(statistics.median(cpu), 4),
        "cpu_ms_min": round(min(cpu), 4),
    }


def filled_buffer(obs_dim: int, act_dim: int, seed: int, size: int = 20_000) -> ReplayBuffer:
    rng = np.random.default_rng(seed)
    buffer = ReplayBuffer(100_000, obs_dim, act_dim, np.random.default_rng(seed + 1))
    buffer.add_batch(
        rng.standard_normal((size, obs_dim)).astype(np.float32),
        rng.uniform(-1, 1, (size, act_dim)).astype(np.float32),
        -rng.uniform(0, 1, size),
        rng.standard_normal((size, obs_dim)).astype(np.float32),
        rng.uniform(0, 1, size) < 0.05,
        rng.integers(1, 5, size),
    )
    return buffer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    args = parser.parse_args()
    torch.set_num_threads(1)

    config = SACConfig(hidden_layers=args.hidden, auto_alpha=True)
    learners, buffers = {}, {}
    for i, (name, (obs_dim, act_dim)) in enumerate(NODES.items()):
        learners[name] = SACLearner(
            obs_dim,
            act_dim,
            config,
            init_generator=torch.Generator().manual_seed(i),
            explore_generator=torch.Generator().manual_seed(100 + i),
        )
        buffers[name] = filled_buffer(obs_dim, act_dim, seed=i)
    batches = {name: buffers[name].sample(args.batch) for name in NODES}
    pair, pair_batches = list(learners.values()), list(batches.values())

    def sequential() -> None:
        for learner, batch in zip(pair, pair_batches):
            learner.update(batch)

    obs = np.zeros(NODES["obs18_act1"][0], dtype=np.float32)
    transition = (obs, np.zeros(1, np.float32), -1.0, obs, False, 1.0)
    learner18, buffer18 = learners["obs18_act1"], buffers["obs18_act1"]
    it, rep = args.iters, args.repeats
    results = {
        "config": {"hidden": args.hidden, "batch": args.batch, "auto_alpha": True, "torch_threads": 1},
        **{f"update_{name}": measure(lambda n=name: learners[n].update(batches[n]), it, rep) for name in NODES},
        "update_both_sequential": measure(sequential, it, rep),
        "update_many_both": measure(lambda: update_many(pair, pair_batches), it, rep),
        "sample_and_update_many_both": measure(
            lambda: update_many(pair, [buffers[n].sample(args.batch) for n in NODES]), it, rep
        ),
        "act_stochastic": measure(lambda: learner18.act(obs, False), 10 * it, rep),
        "act_deterministic": measure(lambda: learner18.act(obs, True), 10 * it, rep),
        "replay_add": measure(lambda: buffer18.add(*transition), 10 * it, rep),
        "replay_sample": measure(lambda: buffer18.sample(args.batch), it, rep),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
