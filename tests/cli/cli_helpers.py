"""Helpers for the command-line tests: run the real scripts in subprocesses with tiny settings.

Not a conftest.py: test directories without ``__init__.py`` share the module name ``conftest``, and another
directory's tests import theirs by that name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "run" / "train.py"
EVALUATE = ROOT / "scripts" / "run" / "evaluate.py"
CHECK_REPRO = ROOT / "scripts" / "check_repro.py"

TINY = [
    "--env", "EasyPlatforms", "--algo", "HiTS", "--seed", "3", "--no-progress",
    "--run_params", "n_steps=900", "test_frequency=2", "n_test_episodes=1", "model_save_frequency=450",
    "--graph_params", "level_params_list[0].algo_kwargs.learning_starts=200",
    "level_params_list[1].algo_kwargs.learning_starts=200", "level_params_list[1].subtask_spec_params.max_n_actions=10",
]
"""A HiTS run of about 900 env steps that learns after 200 steps, tests every 2 episodes, checkpoints twice
(a budget of 10 subgoals keeps its episodes short enough for several to end within the run)."""


def run_script(
    script: Path, *args: object, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess:
    """Run ``script`` with ``args``; PYTHONHASHSEED is set (train.py then needs no re-exec) unless ``env`` unsets it."""
    full_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], env=full_env, capture_output=True, text=True, timeout=timeout
    )


DRIVER = """
import contextlib, importlib.util, io, json, sys, traceback
spec = importlib.util.spec_from_file_location("train_cli", sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
results = []
for argv in json.loads(sys.argv[2]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = train.main(argv)
        except SystemExit as exit_:
            rc = exit_.code
        except BaseException:
            traceback.print_exc(file=err)
            rc = None
    results.append({"rc": rc, "stderr": err.getvalue()})
print(json.dumps(results))
"""


def run_train_main_many(argvs: list[list[object]], env: dict[str, str] | None = None) -> list[dict]:
    """Call ``train.py``'s ``main`` once per argv in ONE subprocess (imports dominate a CLI error's cost);
    returns ``{"rc", "stderr"}`` per call, a traceback in ``stderr`` if ``main`` raised."""
    full_env = {k: v for k, v in {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}.items() if v is not None}
    payload = json.dumps([[str(a) for a in argv] for argv in argvs])
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(TRAIN), payload], env=full_env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its bytes (to prove a failed command changed nothing)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def isolated_wandb_env(tmp_path: Path) -> dict[str, str]:
    """wandb confined to ``tmp_path``: no account, no network, no files outside the test's directory."""
    env = {"HOME": str(tmp_path / "home"), "WANDB_SILENT": "true", "WANDB_API_KEY": None}  # type: ignore[dict-item]
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        env[var] = str(tmp_path / var.lower())
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


@pytest.fixture(scope="session")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    """One uninterrupted tiny run (TensorBoard on, a graph override, PYTHONHASHSEED unset to exercise the re-exec).

    Test modules import this fixture; the run is cached in the session's base temp dir, so it happens once.
    """
    root = tmp_path_factory.getbasetemp() / "cli-base-run"
    run_dir, record = root / "base", root / "proc.json"
    if not record.is_file():
        root.mkdir(exist_ok=True)
        args = [*TINY, "level_params_list[0].model_kwargs.learning_rate=0.001", "--run_params", "tensorboard_log=true"]
        proc = run_script(TRAIN, *args, "--logdir", run_dir, env={"PYTHONHASHSEED": None})  # type: ignore[dict-item]
        assert proc.returncode == 0, proc.stderr
        record.write_text(json.dumps({"stdout": proc.stdout, "stderr": proc.stderr}))
    saved = json.loads(record.read_text())
    return run_dir, subprocess.CompletedProcess([], 0, saved["stdout"], saved["stderr"])
