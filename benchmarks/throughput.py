"""Training throughput: env steps per second of an agent in its learning phase, printed as JSON.

    python benchmarks/throughput.py                               # HiTS on EasyPlatforms, shipped config
    python benchmarks/throughput.py --algo SAC --steps 3000 --repeats 3
    python benchmarks/throughput.py --profile prof.out            # cProfile of the timed phase
    python benchmarks/throughput.py --override 'level_params_list[1].algo_kwargs.grad_steps_per_env_step=0.5'
    python benchmarks/throughput.py --env PointMaze_UMaze --algo SAC        # a preset of a gymnasium-robotics maze
    python benchmarks/throughput.py --env gymnasium_robotics:PointMaze_Open-v3 --algo HiTS   # generic defaults

``--env`` and ``--algo`` are read as ``train.py`` reads them: a params folder under ``data/`` or any gymnasium id
(``module:Id`` imports the module first; without a folder, the generic defaults). Protocol: one torch thread, CPU;
the run's ``graph_params`` (with any ``--override``) except
that ``learning_starts`` is set to the end of a warm-up of ``--warmup`` env steps (acting and storing only, so the
replay buffers hold enough for a batch). Then ``--steps`` timed env steps of the full training loop: act,
``env.step``, ``observe``, and ``graph.learn`` after each episode (each level's ``grad_steps_per_env_step``;
levels due together share one batched update). The figure is the median over ``--repeats`` timed
phases (wall clock); target >= 500 steps/s on the 2-core dev machine (the original research code: 44-56).
``env_steps_per_cpu_s`` divides by the process's CPU time instead: on a shared machine it shows what the
loop would do on a core of its own.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
sys.path.insert(0, str(ROOT))

import bench_cli  # noqa: E402  (benchmarks/ is on sys.path when run as a script)
import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

import envs  # noqa: E402,F401
from graph_rl.config import ConfigError  # noqa: E402
from graph_rl.graph import Graph, build_graph  # noqa: E402
from graph_rl.rng import RngRegistry  # noqa: E402
from graph_rl.session import RunConfig, RunRequest, make_goal_env  # noqa: E402
from graph_rl.session.setup import load_params  # noqa: E402

TARGET_STEPS_PER_S = 500


class Loop:
    """The training loop's per-step work, without logging: act, step, observe, learn at episode ends."""

    def __init__(self, graph: Graph, env: gym.Env, seed: int) -> None:
        self.graph, self.env = graph, env
        self.obs, _ = env.reset(seed=seed)
        graph.reset()
        self.ep_step = self.total_step = self.updates = 0

    def run(self, n_steps: int, learn: bool) -> None:
        graph, env = self.graph, self.env
        end = self.total_step + n_steps
        while self.total_step < end:
            action = graph.act(self.obs, ep_step=self.ep_step, total_step=self.total_step, testing=False)
            self.obs, reward, terminated, truncated, info = env.step(action)
            self.ep_step += 1
            self.total_step += 1
            done = graph.observe(self.obs, reward, terminated, truncated, info, ep_step=self.ep_step,
                                 total_step=self.total_step, testing=False)
            if done or terminated or truncated:
                graph.episode_metrics()
                if learn:
                    stats = graph.learn(self.total_step)
                    self.updates += int(sum(v for k, v in stats.items() if k.endswith("/n_updates")))
                self.obs, _ = env.reset()
                graph.reset()
                self.ep_step = 0


def _config(args: argparse.Namespace, n_total: int) -> RunConfig:
    """The run ``train.py`` would resolve (CPU, ``n_steps`` = the whole measurement), every level learning from the
    end of the warm-up; a bad ``--env``, ``--algo`` or ``--override`` is a ConfigError naming it."""
    request = RunRequest(env=args.env, algo=args.algo, seed=args.seed, device="cpu", threads=1,
                         run_overrides=[f"n_steps={n_total}"], graph_overrides=list(args.override))
    n_levels = len(load_params(request, DATA).graph.level_params_list)
    request.graph_overrides += [f"level_params_list[{i}].algo_kwargs.learning_starts={args.warmup}"
                                for i in range(n_levels)]
    return load_params(request, DATA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="EasyPlatforms")
    parser.add_argument("--algo", default="HiTS", help="SAC, HAC, HiTS or EAT")
    parser.add_argument("--steps", type=bench_cli.at_least(1), default=5000, help="timed env steps per repeat")
    parser.add_argument("--warmup", type=bench_cli.at_least(0), default=8000, help="env steps before learning starts")
    parser.add_argument("--repeats", type=bench_cli.at_least(1), default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default=None, help="write a cProfile of the timed phases here")
    parser.add_argument("--override", nargs="*", default=[], help="graph_params overrides, KEY=VALUE")
    args = parser.parse_args()

    torch.set_num_threads(1)
    code = bench_cli.code_version()
    n_total = args.warmup + args.steps * args.repeats
    try:
        config = _config(args, n_total)
        env = make_goal_env(config)
        graph = build_graph(config.algo, env, config.graph, RngRegistry(args.seed), n_steps=n_total,
                            success_reward=config.run.success_reward)
    except (ConfigError, ValueError) as err:
        parser.error(str(err))
    loop = Loop(graph, env, args.seed)
    start = time.perf_counter()
    loop.run(args.warmup, learn=True)
    warmup_rate = args.warmup / (time.perf_counter() - start)
    profiler = cProfile.Profile() if args.profile else None
    rates, cpu_rates, updates = [], [], []
    for _ in range(args.repeats):
        before = loop.updates
        if profiler:
            profiler.enable()
        start, cpu_start = time.perf_counter(), time.process_time()
        loop.run(args.steps, learn=True)
        rates.append(args.steps / (time.perf_counter() - start))
        cpu_rates.append(args.steps / (time.process_time() - cpu_start))
        if profiler:
            profiler.disable()
        updates.append(loop.updates - before)
    if profiler:
        profiler.dump_stats(args.profile)
    median = statistics.median(rates)
    print(json.dumps({
        "env": config.env, "algo": config.algo, "overrides": args.override, "levels": len(graph.nodes),
        "batch_sizes": [lv.algo_kwargs.batch_size for lv in config.graph.level_params_list],
        "grad_steps_per_env_step": [lv.algo_kwargs.grad_steps_per_env_step for lv in config.graph.level_params_list],
        "torch_threads": torch.get_num_threads(), "timed_steps": args.steps, "repeats": args.repeats,
        "env_steps_per_s": round(median, 1), "per_repeat": [round(r, 1) for r in rates],
        "env_steps_per_cpu_s": round(statistics.median(cpu_rates), 1),
        "gradient_updates_per_repeat": updates, "warmup_steps_per_s_no_learning": round(warmup_rate, 1),
        "target_env_steps_per_s": TARGET_STEPS_PER_S, "meets_target": median >= TARGET_STEPS_PER_S,
        "code": code,
        "machine": {**bench_cli.host(), "load_avg": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "torch": torch.__version__},
    }, indent=2))


if __name__ == "__main__":
    main()
