"""--wandb offline with the real wandb package: metrics and model artifacts end up in the offline run."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.cli.cli_helpers import TINY, TRAIN, isolated_wandb_env, run_script

pytest.importorskip("wandb")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_offline_run_logs_metrics_and_model_artifacts(tmp_path: Path) -> None:
    env = isolated_wandb_env(tmp_path)
    run_dir = tmp_path / "run"
    proc = run_script(TRAIN, *TINY, "--wandb", "offline", "--wandb_params", "tags=[\"ci\"]", "--logdir", run_dir, env=env)
    assert proc.returncode == 0, proc.stderr
    run_id = json.loads((run_dir / "wandb_run.json").read_text())["id"]
    (record,) = (run_dir / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb")
    data = record.read_bytes()
    for needle in (b"train/return", b"test/success", b"learner/hits_0/loss_critic", b"env_step", b"ci"):
        assert needle in data, needle
    assert f"HiTS-EasyPlatforms-{run_id}".encode() in data
    steps = sorted(int(p.name[5:]) for p in (run_dir / "checkpoints").glob("step-*"))
    for step in steps:
        assert f"step-{step}".encode() in data
    staged = {_md5(p) for p in (tmp_path / "wandb_data_dir" / "artifacts" / "staging").iterdir()}
    assert {_md5(run_dir / "checkpoints" / f"step-{s}" / "state.pt") for s in steps} <= staged
    assert not (tmp_path / "home" / ".netrc").exists()
