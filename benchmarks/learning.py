"""Learning benchmark: train an agent with its shipped parameters on several seeds, print the test curves as JSON.

    python benchmarks/learning.py --env EasyPlatforms --algo HiTS --seeds 3          # 300k steps per seed
    python benchmarks/learning.py --algo SAC --steps 100000 --seeds 1 --out sac.json
    python benchmarks/learning.py --seed-list 2 5 --jobs 2
    python benchmarks/learning.py --env NoisyPlatforms --algo EAT --steps 1000000 --jobs 3   # compare with --algo HiTS
    python benchmarks/learning.py --env NoisyPlatforms --algo HiTS --steps 1000000 --max-runtime 3600
    python benchmarks/learning.py --env PointMaze_Medium --algo HiTS --steps 300000   # a preset of a gymnasium-robotics maze

``--checkpoint-dir DIR`` keeps each seed's run in ``DIR/seed-N``: a run directory like ``train.py``'s (config.json,
metrics.jsonl, timing.jsonl, CSVs, ``checkpoints/`` with the newest checkpoint), loadable by
``scripts/run/evaluate.py``, ``scripts/run/plot_training.py`` and ``tools/eat_mechanism.py``. With ``--resume`` as
well, a seed whose ``DIR/seed-N`` holds a checkpoint of the same benchmark (env, algo, seed, steps, test settings,
overrides) continues from it exactly as if never stopped (``train.py --resume``: its logs are cut back to the
checkpoint, so the curve read back from them is the uninterrupted run's). So a run longer than one sitting is done in
pieces: run the same command with ``--max-runtime`` and ``--resume`` until every seed reports ``stop_reason``
``n_steps``. Without ``--resume`` a seed directory that already holds a run is an error, so an earlier run is never
mixed in. Without ``--checkpoint-dir`` each seed runs in a temporary directory, removed when it ends.

A long run can be cut short without losing it: ``--max-runtime`` (seconds per seed), Ctrl-C, or SIGTERM to a seed's
process stops that seed at the end of its episode, and the report still has its curve so far, with ``stop_reason``
saying why. SIGTERM to the benchmark itself stops every seed that way (seeds not yet started stop after their first
episode, with ``--jobs`` 1 as with more), so no worker outlives it.

Each seed is a ``train.py`` run through the session's own entry point (``graph_rl.session.prepare_run``; the
shipped ``data/<env>/<algo>/`` files with the benchmark's steps and test settings, one torch thread, CPU, a separate
test env like the original: ``--test-episodes`` deterministic test episodes every ``--test-frequency`` training
episodes); its curve is read back from the run's ``metrics.jsonl``. Per seed the JSON reports the test success curve, the env
steps and wall time at which test success first reached ``--threshold``, and the mean of the last 5 test
evaluations. The report names the commit it ran on with any library files edited since (``code``) and the CPU
(``machine``): curves move whenever the numerics do, and MKL's kernels differ by CPU, so figures are comparable only
between reports of the same code on the same CPU. Targets for HiTS on EasyPlatforms (every seed): >= 0.9 within 100k
env steps, and >= 0.9 on average over the last 5 evaluations of the 300k-step run (the original research code: 0.95
at 68k on one seed; 0.85 at 94k, then collapse to 0.0, on another).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import signal
import sys
import tempfile
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
"""The benchmark's stop event (set on SIGTERM to the benchmark): in a pool worker, or in the benchmark itself with
``--jobs`` 1."""


_TEST_KEYS = ("return", "length", "hac_1/budget_use", "hac_1/success_rate", "hits_0/success_rate",
              "hac_1/terminations", "hac_1/termination_rate")
"""Test-block metrics a curve point keeps next to ``success`` (when the run logged them)."""


def curve_from_logs(run_dir: Path) -> list[dict[str, Any]]:
    """The test curve of a run directory: per test block its step, success, wall seconds of training so far (over
    every resumed piece) and, under ``train``, the means of the train and learner metrics logged since the previous
    block (for diagnosis)."""
    from graph_rl.logging import cumulative_wall_s, read_metrics

    wall = cumulative_wall_s(run_dir)
    curve: list[dict[str, Any]] = []
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for record in read_metrics(run_dir):
        split, step = record["split"], record["step"]
        if split in ("train", "learner"):
            for key, value in record.items():
                if key not in ("step", "split", "episode") and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    sums[key] = sums.get(key, 0.0) + value
                    counts[key] = counts.get(key, 0) + 1
        elif split == "test":
            point = {"step": step, "success": record.get("success"), "wall_s": round(wall.get(step, 0.0), 1),
                     "train": {k: round(v / counts[k], 4) for k, v in sorted(sums.items())}}
            point.update({key: record[key] for key in _TEST_KEYS if key in record})
            curve.append(point)
            sums, counts = {}, {}
    return curve


class _LabelledLines:
    """stdout of a seed's session (its one line per test block) goes to stderr, prefixed with the seed's label, so
    the benchmark's stdout stays one JSON document."""

    def __init__(self, label: str) -> None:
        self.label = label

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                print(f"[{self.label}] {line.strip()}", file=sys.stderr, flush=True)
        return len(text)

    def flush(self) -> None:
        pass


def seed_request(env_name: str, algo: str, seed: int, n_steps: int, test_frequency: int, test_episodes: int,
                 overrides: list[str], max_runtime: float | None, run_dir: Path, resume: bool) -> Any:
    """The ``train.py`` request of one seed: shipped files, the benchmark's budget and test settings, one thread,
    CPU, only the newest checkpoint kept. Overrides prefixed ``run_params.`` (e.g. ``run_params.+env_kwargs.
    legacy_quirks=true``, ``+`` for a key the file lacks) go to the run parameters, the rest to the graph parameters."""
    from graph_rl.session import RunRequest

    run_extra = [o.removeprefix("run_params.") for o in overrides if o.startswith("run_params.")]
    graph_overrides = [o for o in overrides if not o.startswith("run_params.")]

    run_overrides = [f"n_steps={n_steps}", f"test_frequency={test_frequency}", f"n_test_episodes={test_episodes}",
                     "keep_checkpoints=1", "tensorboard_log=false",
                     f"max_runtime={'null' if max_runtime is None else max_runtime}", *run_extra]
    return RunRequest(env=env_name, algo=algo, seed=seed, logdir=run_dir, device="cpu", threads=1,
                      run_overrides=run_overrides, graph_overrides=graph_overrides,
                      resume=str(run_dir) if resume else None, progress=False)


def run_seed(env_name: str, algo: str, seed: int, n_steps: int, test_frequency: int, test_episodes: int,
             threshold: float, overrides: list[str], max_runtime: float | None = None,
             checkpoint_dir: str | None = None, resume: bool = False) -> dict[str, Any]:
    """One training run on the session's own entry point (``graph_rl.session.prepare_run``, as ``train.py``), in
    ``checkpoint_dir/seed-N`` (a run directory; continued with ``resume`` when it holds a checkpoint) or a temporary
    directory; returns its curve, read back from the run's logs, and summary."""
    import envs  # noqa: F401  (registers the shipped envs, as train.py does)
    from graph_rl.logging import cumulative_wall_s
    from graph_rl.session import prepare_run

    with tempfile.TemporaryDirectory(prefix="graph_rl-learning-") as tmp:
        run_dir = Path(checkpoint_dir) / f"seed-{seed}" if checkpoint_dir is not None else Path(tmp) / "run"
        resume = resume and (run_dir / "checkpoints" / "latest").is_file()
        request = seed_request(env_name, algo, seed, n_steps, test_frequency, test_episodes, overrides, max_runtime,
                               run_dir, resume)
        stop_all = _STOP_ALL

        def stop_when_told(session: Any, episode: Any) -> None:
            if stop_all is not None and stop_all.is_set():
                session.request_stop("SIGTERM")

        prepared = prepare_run(request, data_root=ROOT / "data", callbacks=(stop_when_told,))
        start_step = prepared.session.counters.total_step
        with contextlib.redirect_stdout(_LabelledLines(f"{algo} {env_name} seed {seed}")):
            result = prepared.execute()
        curve = curve_from_logs(run_dir)
        wall = max(cumulative_wall_s(run_dir).values(), default=0.0)
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
        "wall_s": round(wall, 1),
        "env_steps_per_s": round((result.total_step - start_step) / max(result.wall_s, 1e-9), 1),
        "meets_targets": reached is not None and reached["step"] <= TARGET_STEPS and final >= TARGET_SUCCESS,
        "curve": curve,
    }


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
    import envs  # noqa: F401
    from graph_rl.checkpoint import CheckpointError, load_checkpoint_config
    from graph_rl.session.setup import load_params

    for seed in seeds:
        root = Path(args.checkpoint_dir) / f"seed-{seed}"
        if not (root / "checkpoints" / "latest").is_file():
            continue
        if not args.resume:
            parser.error(f"--checkpoint-dir: {root} already holds a run; add --resume to continue it, or choose "
                         "another directory")
        try:
            saved = load_checkpoint_config(root)
        except CheckpointError as err:
            parser.error(f"--resume: {err}")
        request = seed_request(args.env, args.algo, seed, args.steps, args.test_frequency, args.test_episodes,
                               args.override, args.max_runtime, root, resume=True)
        wanted = json.loads(json.dumps(load_params(request, ROOT / "data").to_dict()))
        where = _resume_mismatch(saved, wanted)
        if where is not None:
            parser.error(f"--resume: {root} is another run ({where} differs); choose another --checkpoint-dir")


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Bad input ends here with one line and exit 2, before any seed starts."""
    import envs  # noqa: F401
    from graph_rl.config import ConfigError
    from graph_rl.session.setup import load_params

    if args.max_runtime is not None and args.max_runtime <= 0:
        parser.error(f"--max-runtime {args.max_runtime}: must be > 0")
    request = seed_request(args.env, args.algo, 1, args.steps, args.test_frequency, args.test_episodes, args.override,
                           args.max_runtime, Path("unused"), resume=False)
    try:  # a params folder of data/, or a gymnasium id (module:Id) with generic defaults, as train.py takes
        load_params(request, ROOT / "data")
    except ConfigError as err:
        parser.error(str(err))
    if args.resume and args.checkpoint_dir is None:
        parser.error("--resume: needs --checkpoint-dir (where each seed's checkpoint is)")


def _run_seed_star(args: tuple) -> dict[str, Any]:
    return run_seed(*args)


def _init_worker(stop_all: Any) -> None:
    global _STOP_ALL
    _STOP_ALL = stop_all


def _run_all(args: argparse.Namespace, jobs: list[tuple]) -> list[dict[str, Any]]:
    """Every seed's result, in order (in a pool of processes with ``--jobs`` > 1)."""
    if args.jobs > 1:
        ctx = mp.get_context("spawn")
        stop_all = ctx.Event()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches every worker; each stops and reports
        signal.signal(signal.SIGTERM, lambda signum, frame: stop_all.set())
        with ctx.Pool(min(args.jobs, len(jobs)), initializer=_init_worker, initargs=(stop_all,)) as pool:
            results = pool.map(_run_seed_star, jobs, chunksize=1)  # seeds start in list order, none waits behind another
    else:  # one seed after another: a stopped seed stops the later ones after their first episode, as in a pool
        global _STOP_ALL
        _STOP_ALL = stop_all = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):  # between seeds (a running seed has its own handler)
            signal.signal(sig, lambda signum, frame: stop_all.set())
        results = []
        for job in jobs:
            results.append(run_seed(*job))
            if results[-1]["stop_reason"] in ("SIGINT", "SIGTERM"):
                stop_all.set()
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
    parser.add_argument("--override", nargs="*", default=[], help="graph_params overrides, KEY=VALUE; run_params.KEY=VALUE for a run parameter")
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

    code = bench_cli.code_version()
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
        "machine": {**bench_cli.host(), "jobs": args.jobs},
        "code": code,
        "runs": results,
    }
    return bench_cli.emit(parser.prog, report, args.out)


if __name__ == "__main__":
    sys.exit(main())
