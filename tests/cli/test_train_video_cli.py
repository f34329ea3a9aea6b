"""run_params.video_frequency: test-episode GIFs in the run directory and in an offline wandb run, metrics untouched."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio.v3 as iio
import pytest

from envs.platforms.render import SUBGOAL_COLOURS
from tests.cli.cli_helpers import TINY, TRAIN, base_run, isolated_wandb_env, run_script  # noqa: F401 - fixture

pytest.importorskip("wandb")


def test_test_videos_change_no_metric(base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    base_dir, _ = base_run
    run_dir = tmp_path / "run"
    args = [
        *TINY, "level_params_list[0].model_kwargs.learning_rate=0.001",
        "--run_params", "tensorboard_log=true", "video_frequency=1", "video_every_k_steps=25",
    ]  # the base run's arguments plus videos
    proc = run_script(TRAIN, *args, "--wandb", "offline", "--logdir", run_dir, env=isolated_wandb_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (run_dir / "metrics.jsonl").read_bytes() == (base_dir / "metrics.jsonl").read_bytes()
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    test_steps = [line["step"] for line in lines if line["split"] == "test"]
    videos = sorted((run_dir / "videos").iterdir(), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert [p.name for p in videos] == [f"test-step-{step}.gif" for step in test_steps] and len(videos) >= 2
    frames = iio.imread(videos[0])
    assert frames.ndim == 4 and frames.shape[1:] == (600, 800, 3) and len(frames) >= 2
    assert (frames[0] == SUBGOAL_COLOURS[0]).all(axis=-1).any()
    run_id = json.loads((run_dir / "wandb_run.json").read_text())["id"]
    (offline,) = (run_dir / "wandb").glob(f"offline-run-*-{run_id}")
    assert b"test/video" in (offline / f"run-{run_id}.wandb").read_bytes()
    assert len(list((offline / "files" / "media" / "videos").rglob("*.gif"))) == len(videos)
