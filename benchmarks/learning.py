"""Learning benchmark: train an agent with its shipped parameters on several seeds, print the test curves as JSON.

    python benchmarks/learning.py --env EasyPlatforms --algo HiTS --seeds 3          # 300k steps per seed
    python benchmarks/learning.py --algo SAC --steps 100000 --seeds 1 --out sac.json
    python benchmarks/learning.py --seed-list 2 5 --jobs 2
    python benchmarks/learning.py --env NoisyPlatforms --algo EAT --steps 1000000 --jobs 3   # compare with --algo HiTS
    python benchmarks/learning.py --env NoisyPlatforms --algo HiTS --steps 1000000 --max-runtime 3600

``--checkpoint-dir DIR`` keeps each seed's final state as a checkpoint in ``DIR/seed-N`` (the run's whole state,
loadable by ``scripts/run/evaluate.py`` and ``tools/eat_mechanism.py``), so a long run's agent can be examined.
With ``--resume`` as well, a seed whose ``DIR/seed-N`` holds a checkpoint of the same benchmark (env, algo, seed,
steps, test settings, overrides) continues from it exactly as if never stopped, with its curve so far (kept in the
checkpoint), and only its newest checkpoint is kept. So a run longer than one sitting is done in pieces: run the same
command with ``--max-runtime`` and ``--resume`` until every seed reports ``stop_reason`` ``n_steps``. Without
``--resume`` a seed directory that already holds a checkpoint is an error, so an earlier run is never mixed in.

A long run can be cut short without losing it: ``--max-runtime`` (seconds per seed), Ctrl-C, or SIGTERM to a seed's
process stops that seed at the end of its episode, and the report still has its curve so far, with ``stop_reason``
saying why. SIGTERM to the benchmark itself stops every seed that way (with ``--jobs`` > 1, seeds not yet started
stop after their first episode), so no worker outlives it.

Each seed is a full ``graph_rl.session.Session`` run (one torch thread, a separate test env, like the original:
``--test-episodes`` deterministic test episodes every ``--test-frequency`` training episodes) with the graph
built from ``data/<env>/<algo>/graph_params.json``. Per seed the JSON reports the test success curve, the env
steps and wall time at which test success first reached ``--threshold``, and the mean of the last 5 test
evaluations. Targets for HiTS on EasyPlatforms (every seed): >= 0.9 within 100k env steps, and >= 0.9 on
average over the last 5 evaluations of the 300k-step run (the original research code: 0.95 at 68k on one
seed; 0.85 at 94k, then collapse to 0.0, on another).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bench_cli  # benchmarks/ is on sys.path when run as a script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_STEPS, TARGET_SUCCESS, LAST_N = 100_000, 0.9, 5
_STOP_ALL: Any = None
"""In a pool worker: the benchmark's stop event (set on SIGTERM to the benchmark)."""


class _CurveSink:
    """Keeps test evaluations (step, success, wall seconds since start) in memory, each with the means of the
    training and learner metrics logged since the previous evaluation (under ``train``), for diagnosis."""

    splits = frozenset({"train", "test", "learner"})

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.tests: list[dict[str, Any]] = []
        self.train_episodes = 0
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def state_dict(self) -> dict[str, Any]:
        """What a resumed seed needs to report as if never stopped (its wall clock continues too)."""
        return {"tests": self.tests, "train_episodes": self.train_episodes, "sums": self._sums,
                "counts": self._counts, "wall_s": time.monotonic() - self.start}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.tests, self.train_episodes = list(state["tests"]), state["train_episodes"]
        self._sums, self._counts = dict(state["sums"]), dict(state["counts"])
        self.start = time.monotonic() - state["wall_s"]

    def write(self, split: str, step: int, metrics: Mapping[str, Any]) -> None:
        if split != "test":
            self.train_episodes += split == "train"
            for key, value in metrics.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "episode":
                    self._sums[key] = self._sums.get(key, 0.0) + value
                    self._counts[key] = self._counts.get(key, 0) + 1
            return
        record = {"step": step, "success": metrics.get("success"), "wall_s": round(time.monotonic() - self.start, 1)}
        record["train"] = {k: round(v / self._counts[k], 4) for k, v in sorted(self._sums.items())}
        self._sums, self._counts = {}, {}
        for key in ("return", "length", "hac_1/budget_use", "hac_1/success_rate", "hits_0/success_rate",
                    "hac_1/terminations", "hac_1/termination_rate"):
            if key in metrics:
                record[key] = metrics[key]
        self.tests.append(record)
        print(f"[{self.label}] step {step} success {record['success']} ({record['wall_s']} s)", file=sys.stderr, flush=True)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_seed(env_name: str, algo: str, seed: int, n_steps: int, test_frequency: int, test_episodes: int,
             threshold: float, overrides: list[str], max_runtime: float | None = None,
             checkpoint_dir: str | None = None, resume: bool = False) -> dict[str, Any]:
    """One training run (continued from its checkpoint with ``resume``); returns its curve and summary, and saves
    its final state under ``checkpoint_dir``."""
    import gymnasium as gym
    import torch

    import envs  # noqa: F401
    from graph_rl.checkpoint import load_checkpoint, remove_checkpoints, save_checkpoint
    from graph_rl.graph import build_graph
    from graph_rl.logging import Logger
    from graph_rl.rng import RngRegistry
    from graph_rl.session import Session

    torch.set_num_threads(1)
    params, run, config = _run_config(env_name, algo, seed, n_steps, test_frequency, test_episodes, overrides,
                                      max_runtime)
    rng = RngRegistry(seed)
    train_env, test_env = gym.make(run.env), gym.make(run.env)
    graph = build_graph(algo, train_env, params, rng, n_steps=n_steps)
    sink = _CurveSink(f"{algo} {env_name} seed {seed}")
    session = Session(graph, train_env=train_env, test_env=test_env, params=run, rng=rng, logger=Logger([sink]))
    if checkpoint_dir is not None:
        root = Path(checkpoint_dir) / f"seed-{seed}"
        if resume and (root / "latest").is_file():
            state = load_checkpoint(root).state
            session.load_state_dict(state)
            sink.load_state_dict(state["benchmark_curve"])

        def checkpoint(step: int, state: dict[str, Any]) -> Path:
            saved = save_checkpoint(root, step, {**state, "benchmark_curve": sink.state_dict()}, config)
            remove_checkpoints(root, keep_last=1)
            return saved

        session.checkpoint_fn = checkpoint
    start_step = session.counters.total_step

    def stop(signum: int, frame: Any) -> None:
        session.request_stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    if _STOP_ALL is not None:
        threading.Thread(target=_stop_when_set, args=(_STOP_ALL, session), daemon=True).start()
    try:
        result = session.run()
    finally:  # a pool worker must die on the pool's SIGTERM once its seed is done
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    curve = sink.tests
    reached = next((r for r in curve if r["success"] is not None and r["success"] >= threshold), None)
    last = [r["success"] or 0.0 for r in curve[-LAST_N:]]
    after = [r["success"] or 0.0 for r in curve if reached is not None and r["step"] >= reached["step"]]
    final = sum(last) / len(last) if last else 0.0
    return {
        "seed": seed,
        "stop_reason": result.stop_reason,
        "steps_to_threshold": None if reached is None else reached["step"],
        "wall_s_to_threshold": None if reached is None else reached["wall_s"],
        "final_mean_last5": round(final, 3),
        "min_after_threshold": min(after) if after else None,
        "total_steps": result.total_step,
        "train_episodes": result.train_episodes,
        "wall_s": round(time.monotonic() - sink.start, 1),
        "env_steps_per_s": round((result.total_step - start_step) / max(result.wall_s, 1e-9), 1),
        "meets_targets": reached is not None and reached["step"] <= TARGET_STEPS and final >= TARGET_SUCCESS,
        "curve": curve,
    }


def _run_config(env_name: str, algo: str, seed: int, n_steps: int, test_frequency: int, test_episodes: int,
                overrides: list[str], max_runtime: float | None) -> tuple[Any, Any, dict[str, Any]]:
    """(graph params, run params, the config a checkpoint of this seed holds)."""
    from graph_rl.config import resolve
    from graph_rl.config.graph_params import GraphParams
    from graph_rl.config.run_params import RunParams, WandbParams
    from graph_rl.session.setup import RunConfig

    raw = json.loads((ROOT / "data" / env_name / algo / "graph_params.json").read_text())
    params = resolve(GraphParams, raw, overrides)
    run = RunParams(env=f"{env_name}-v1", n_steps=n_steps, test_frequency=test_frequency,
                    n_test_episodes=test_episodes, success_reward=0.0, seed=seed, max_runtime=max_runtime)
    config = RunConfig(env=env_name, algo=algo, run=run, graph=params, wandb=WandbParams(), device="cpu",
                       graph_n_steps=n_steps).to_dict()
    return params, run, config


_SAME_RUN = ("env", "algo", "seed", "run_params", "graph_params", "graph_n_steps")
"""The config entries a resumed seed must share with its checkpoint (``run_params.max_runtime`` excepted)."""


def _resume_mismatch(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    """The first config entry (dotted) in which a checkpoint differs from the seed it would resume, else None."""
    for key in _SAME_RUN:
        old, new = saved.get(key), wanted[key]
        if key == "run_params" and isinstance(old, dict):
            old, new = {**old, "max_runtime": None}, {**new, "max_runtime": None}
        if isinstance(old, dict) and isinstance(new, dict):
            diff = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            if diff:
                return f"{key}.{diff[0]}"
        elif old != new:
            return key
    return None


def _check_checkpoint_dirs(parser: argparse.ArgumentParser, args: argparse.Namespace, seeds: list[int]) -> None:
    """A fresh seed never writes into an earlier run's directory; a resumed one only continues the same run."""
    from graph_rl.checkpoint import CheckpointError, load_checkpoint_config

    for seed in seeds:
        root = Path(args.checkpoint_dir) / f"seed-{seed}"
        if not (root / "latest").is_file():
            continue
        if not args.resume:
            parser.error(f"--checkpoint-dir: {root} already holds a run; add --resume to continue it, or choose "
                         "another directory")
        try:
            saved = load_checkpoint_config(root)
        except CheckpointError as err:
            parser.error(f"--resume: {err}")
        wanted = json.loads(json.dumps(_run_config(args.env, args.algo, seed, args.steps, args.test_frequency,
                                                   args.test_episodes, args.override, args.max_runtime)[2]))
        where = _resume_mismatch(saved, wanted)
        if where is not None:
            parser.error(f"--resume: {root} is another run ({where} differs); choose another --checkpoint-dir")


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Bad input ends here with one line and exit 2, before any seed starts."""
    from graph_rl.config import ConfigError, resolve
    from graph_rl.config.graph_params import GraphParams

    path = ROOT / "data" / args.env / args.algo / "graph_params.json"
    if not path.is_file():
        parser.error(f"--env {args.env} --algo {args.algo}: no parameters at {path.relative_to(ROOT)}")
    if args.max_runtime is not None and args.max_runtime <= 0:
        parser.error(f"--max-runtime {args.max_runtime}: must be > 0")
    try:
        resolve(GraphParams, json.loads(path.read_text()), args.override)
    except (ConfigError, ValueError) as err:
        parser.error(f"--override: {err}")
    if args.resume and args.checkpoint_dir is None:
        parser.error("--resume: needs --checkpoint-dir (where each seed's checkpoint is)")


def _run_seed_star(args: tuple) -> dict[str, Any]:
    return run_seed(*args)


def _init_worker(stop_all: Any) -> None:
    global _STOP_ALL
    _STOP_ALL = stop_all


def _stop_when_set(event: Any, session: Any) -> None:
    event.wait()
    session.request_stop("SIGTERM")


def _run_all(args: argparse.Namespace, jobs: list[tuple]) -> list[dict[str, Any]]:
    """Every seed's result, in order (in a pool of processes with ``--jobs`` > 1)."""
    if args.jobs > 1:
        ctx = mp.get_context("spawn")
        stop_all = ctx.Event()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches every worker; each stops and reports
        signal.signal(signal.SIGTERM, lambda signum, frame: stop_all.set())
        with ctx.Pool(min(args.jobs, len(jobs)), initializer=_init_worker, initargs=(stop_all,)) as pool:
            results = pool.map(_run_seed_star, jobs)
    else:
        results = [run_seed(*job) for job in jobs]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="EasyPlatforms")
    parser.add_argument("--algo", default="HiTS", choices=["SAC", "HAC", "HiTS", "EAT"])
    parser.add_argument("--seeds", type=bench_cli.at_least(1), default=3, help="run seeds 1..N")
    parser.add_argument("--seed-list", type=int, nargs="*", default=None, help="explicit seeds (overrides --seeds)")
    parser.add_argument("--steps", type=bench_cli.at_least(1), default=300_000)
    parser.add_argument("--test-frequency", type=bench_cli.at_least(1), default=40,
                        help="training episodes between test blocks")
    parser.add_argument("--test-episodes", type=bench_cli.at_least(1), default=20)
    parser.add_argument("--threshold", type=float, default=TARGET_SUCCESS)
    parser.add_argument("--jobs", type=bench_cli.at_least(1), default=1,
                        help="seeds trained in parallel (one process each)")
    parser.add_argument("--override", nargs="*", default=[], help="graph_params overrides, KEY=VALUE")
    parser.add_argument("--max-runtime", type=float, default=None, help="wall seconds per seed, then report what it has")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    parser.add_argument("--checkpoint-dir", default=None, help="save each seed's final state in DIR/seed-N")
    parser.add_argument("--resume", action="store_true", help="continue each seed from its checkpoint in DIR/seed-N")
    args = bench_cli.parse_args(parser)
    _check_args(parser, args)

    seeds = args.seed_list if args.seed_list else list(range(1, args.seeds + 1))
    if args.checkpoint_dir is not None:
        _check_checkpoint_dirs(parser, args, seeds)
    jobs = [(args.env, args.algo, s, args.steps, args.test_frequency, args.test_episodes, args.threshold, args.override,
             args.max_runtime, args.checkpoint_dir, args.resume) for s in seeds]
    from graph_rl.checkpoint import CheckpointError

    start = time.monotonic()
    try:
        results = _run_all(args, jobs)
    except CheckpointError as err:  # a resumed seed's state failed its checks (the config was checked above)
        parser.error(f"--resume: {err}")
    report = {
        "env": args.env, "algo": args.algo, "steps": args.steps, "seeds": seeds,
        "test_frequency": args.test_frequency, "test_episodes": args.test_episodes, "overrides": args.override,
        "targets": {"success": TARGET_SUCCESS, "within_steps": TARGET_STEPS, "final_mean_last": LAST_N},
        "all_seeds_meet_targets": all(r["meets_targets"] for r in results),
        "wall_s": round(time.monotonic() - start, 1),
        "machine": {"cpus": os.cpu_count(), "jobs": args.jobs},
        "runs": results,
    }
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
