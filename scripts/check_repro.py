"""Check reproducibility end to end, in separate processes, and print a JSON verdict.

    python scripts/check_repro.py --env EasyPlatforms --algo HiTS --steps 4000

Three trainings of ``--steps`` env steps with the same seed:

- ``a`` and ``b`` run independently: their ``metrics.jsonl`` must be byte-identical;
- ``c`` stops at ``steps/2`` (like Ctrl-C: checkpoint at the episode end) and is resumed in a new process:
  its final ``metrics.jsonl`` must equal ``a``'s.

Learning starts after a quarter of the steps on every level (so the check covers gradient updates) unless
``--graph_params`` says otherwise. The verdict names the first differing line. Exit code 0 if reproducible, 1 if
not, 2 if a training failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT / "scripts" / "run" / "train.py"


def first_difference(a: Path, b: Path) -> dict[str, object] | None:
    """None if the files are byte-identical, else the first differing line (1-based) of each."""
    if a.read_bytes() == b.read_bytes():
        return None
    lines_a, lines_b = a.read_text().splitlines(), b.read_text().splitlines()
    for i in range(max(len(lines_a), len(lines_b))):
        left = lines_a[i] if i < len(lines_a) else None
        right = lines_b[i] if i < len(lines_b) else None
        if left != right:
            return {"line": i + 1, str(a.parent.name): left, str(b.parent.name): right}
    return {"line": None, "note": "lines equal, bytes differ (line endings)"}


def _levels(args: argparse.Namespace) -> int:
    """Levels of the agent: a params folder of data/ or a gymnasium id (``module:Id``) with generic defaults."""
    sys.path.insert(0, str(ROOT))
    import envs  # noqa: F401
    from graph_rl.session import RunRequest
    from graph_rl.session.setup import load_params

    request = RunRequest(env=args.env, algo=args.algo, run_overrides=list(args.run_params),
                         graph_overrides=list(args.graph_params))
    return load_params(request, ROOT / "data").graph.n_layers


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="check_repro.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="EasyPlatforms")
    p.add_argument("--algo", default="HiTS")
    p.add_argument("--steps", type=int, default=4000, help="env steps per training (default 4000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, help="keep the three run directories here (default: a temp dir)")
    p.add_argument("--run_params", nargs="+", action="extend", default=[], metavar="KEY=VALUE")
    p.add_argument("--graph_params", nargs="+", action="extend", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    try:
        levels = _levels(args)
    except (OSError, ValueError, KeyError) as err:  # ConfigError is a ValueError: one line naming the culprit
        print(f"check_repro.py: error: {err}", file=sys.stderr)
        return 2
    steps = args.steps
    run_params = [
        f"n_steps={steps}", "test_frequency=2", "n_test_episodes=2", f"model_save_frequency={max(steps // 4, 1)}",
        *args.run_params,
    ]
    graph_params = [f"level_params_list[{i}].algo_kwargs.learning_starts={steps // 4}" for i in range(levels)]
    graph_params += args.graph_params
    common = [
        "--env", args.env, "--algo", args.algo, "--seed", str(args.seed), "--no-progress",
        "--run_params", *run_params, "--graph_params", *graph_params,
    ]
    with tempfile.TemporaryDirectory(prefix="graph_rl-repro-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0")}

        def start(*extra: str) -> subprocess.Popen[str]:
            cmd = [sys.executable, str(TRAIN), *extra]
            return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        first = [
            start(*common, "--logdir", str(work / "a")),
            start(*common, "--logdir", str(work / "b")),
            start(*common, "--logdir", str(work / "c"), "--stop_at", str(steps // 2)),
        ]
        results = [proc.communicate() + (proc.returncode,) for proc in first]
        if all(rc == 0 for *_, rc in results):
            resumed = start("--resume", str(work / "c"), "--no-progress")
            results.append(resumed.communicate() + (resumed.returncode,))
        failed = [err.strip().splitlines()[-1] if err.strip() else f"exit {rc}" for _, err, rc in results if rc != 0]
        if failed:
            print(json.dumps({"ok": False, "error": failed[0]}))
            return 2
        a, b, c = (work / name / "metrics.jsonl" for name in "abc")
        same, resume = first_difference(a, b), first_difference(a, c)
        verdict = {
            "ok": same is None and resume is None and a.stat().st_size > 0,
            "env": args.env,
            "algo": args.algo,
            "steps": steps,
            "seed": args.seed,
            "lines": len(a.read_text().splitlines()),
            "same_seed_identical": same is None,
            "resume_identical": resume is None,
            "first_difference": same or resume,
        }
        print(json.dumps(verdict))
        return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
