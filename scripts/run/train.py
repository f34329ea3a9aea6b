"""Train an agent with the shipped parameters in ``data/<Env>/<Algo>/``.

    python scripts/run/train.py --env EasyPlatforms --algo HiTS --run_params n_steps=30000
    python scripts/run/train.py --resume runs/EasyPlatforms-HiTS-20250101-120000

Every user mistake (unknown env/algo/parameter, malformed JSON, wrong type, missing or corrupt checkpoint,
unresolvable wandb source, non-empty --logdir) ends with one line on stderr and exit code 2, before anything is
written. Ctrl-C (or SIGTERM) finishes the current episode, writes a checkpoint and exits 0; a second one aborts.

PYTHONHASHSEED only takes effect at interpreter start, so when it is unset the script re-executes itself once
with PYTHONHASHSEED=0. graph_rl does not let hash order influence results; this pins third-party code too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pin_hash_seed() -> None:
    if "PYTHONHASHSEED" not in os.environ:
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


if __name__ == "__main__":
    _pin_hash_seed()

import argparse  # noqa: E402 - after the re-exec, so the interpreter that stays pays for imports once
import json  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from graph_rl.session import PreparedRun


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the default prints the whole usage block first)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="train.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", help="environment folder in data/, e.g. EasyPlatforms (optional when resuming)")
    p.add_argument("--algo", help="SAC, HAC, HiTS or EAT (case-insensitive; optional when resuming)")
    p.add_argument("--seed", type=int, help="root seed (default: run_params.seed)")
    p.add_argument("--logdir", type=Path, help="run directory (default runs/<env>-<algo>-<timestamp>; must be empty)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default: auto (announced)")
    p.add_argument("--threads", type=int, help="torch threads (default: run_params.torch_num_threads = 1)")
    for name in ("run_params", "graph_params", "wandb_params"):
        p.add_argument(
            f"--{name}", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
            help=f"override {name}.json, e.g. a.b[0].c=1 (JSON values); +KEY=VALUE adds a key",
        )
    p.add_argument(
        "--data_dir", type=Path, default=ROOT / "data", help="parameter folders <Env>/<Algo>/ (default: data/)"
    )
    p.add_argument("--resume", metavar="SOURCE", help="run dir, checkpoint dir, or wandb:ENTITY/PROJECT/NAME[:ALIAS]")
    p.add_argument(
        "--fork", action="store_true",
        help="with --resume: start a new run (new --logdir) from the checkpoint, letting --graph_params change "
             "values that keep the shapes (learning rates, tau, fixed alpha, penalties, ...)",
    )
    p.add_argument("--wandb", default="disabled", choices=("online", "offline", "disabled"), help="default: disabled")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, help="tqdm bar (default: on if a terminal)")
    p.add_argument(
        "--stop_at", type=int, metavar="STEP",
        help="stop like Ctrl-C (checkpoint, exit) at the first episode end at or after STEP; for resume checks",
    )
    return p


def _warn_version_drift(saved: dict[str, str]) -> None:
    """Resuming under other library versions or on another CPU works, but voids the same-metrics guarantee: say so."""
    from graph_rl.session.setup import versions

    now = versions()
    keys = ("graph_rl", "torch", "numpy", "gymnasium")
    drift = [f"{k} {saved.get(k)} -> {now[k]}" for k in keys if saved.get(k) != now[k]]
    if "cpu_simd" in saved and saved["cpu_simd"] != now["cpu_simd"]:  # older checkpoints do not record it
        drift.append("the CPU's vector extensions")
    if drift:
        print(f"graph_rl: warning: checkpoint written with other versions ({', '.join(drift)}); "
              "the resumed run may differ from an uninterrupted one", file=sys.stderr)


def _announce(prepared: PreparedRun) -> None:
    """Say what is being trained, once the run has started (so failures before stay one line)."""
    c = prepared.config
    if c.device_note:
        print(f"graph_rl: {c.device_note}", file=sys.stderr)
    if prepared.checkpoint:
        _warn_version_drift(prepared.checkpoint.config.get("versions", {}))
    start = f"from step {prepared.checkpoint.step} " if prepared.checkpoint else ""
    print(
        f"graph_rl: training {c.algo} on {c.env} {start}(seed {c.seed}, {c.device}, "
        f"{c.run.torch_num_threads} thread(s)) in {prepared.run_dir}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import envs  # noqa: F401 - registers the Platforms environments
    from graph_rl.checkpoint import CheckpointError
    from graph_rl.config import ConfigError
    from graph_rl.session import RunRequest, prepare_run

    request = RunRequest(
        env=args.env, algo=args.algo, seed=args.seed, logdir=args.logdir, device=args.device, threads=args.threads,
        run_overrides=args.run_params, graph_overrides=args.graph_params, wandb_overrides=args.wandb_params,
        resume=args.resume, fork=args.fork, wandb=args.wandb, progress=args.progress, stop_at=args.stop_at,
    )
    try:
        prepared = prepare_run(request, data_root=args.data_dir)
        result = prepared.execute(on_start=_announce)
    except (ConfigError, CheckpointError) as err:
        print(f"train.py: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"train.py: error: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("train.py: aborted; the last checkpoint in the run directory is intact", file=sys.stderr)
        return 130
    checkpoint = result.checkpoints[-1] if result.checkpoints else None
    summary = {
        "run_dir": str(prepared.run_dir),
        "stop_reason": result.stop_reason,
        "total_step": result.total_step,
        "train_episodes": result.train_episodes,
        "wall_s": round(result.wall_s, 2),
        "checkpoint": None if checkpoint is None else str(checkpoint),
    }
    print(json.dumps(summary))
    if result.stop_reason != "n_steps":
        print(f"graph_rl: continue with: python scripts/run/train.py --resume {prepared.run_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
