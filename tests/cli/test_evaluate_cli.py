"""evaluate.py: JSON summary of deterministic episodes, a GIF with subgoals, one-line errors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import imageio.v3 as iio
import pytest

from envs.platforms.render import SUBGOAL_COLOURS

from tests.cli.cli_helpers import EVALUATE, base_run, run_script  # noqa: F401 - base_run is a fixture


def test_evaluate_prints_json_and_writes_gif(base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    run_dir, _ = base_run
    gif = tmp_path / "episode.gif"
    proc = run_script(EVALUATE, run_dir, "--episodes", 2, "--video", gif, "--every", 25)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["episodes"] == 2 and len(out["returns"]) == 2 and 0.0 <= out["success_rate"] <= 1.0
    assert out["mean_length"] == sum(out["lengths"]) / 2 and out["frames"] > 2
    assert out["step"] == json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert gif.read_bytes()[:6] in (b"GIF87a", b"GIF89a") and gif.stat().st_size > 0
    frames = iio.imread(gif)
    # every 25th step of each episode plus its final state
    assert frames.shape == (out["frames"], 600, 800, 3) == (sum(-(-n // 25) + 1 for n in out["lengths"]), 600, 800, 3)
    marked = [bool((frame == SUBGOAL_COLOURS[0]).all(axis=-1).any()) for frame in frames]
    assert marked[0] and not marked[-1], "HiTS's running subgoal is drawn while acting, cleared at the episode end"


def test_evaluate_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        ([tmp_path / "missing"], "no such checkpoint or run directory"),
        ([tmp_path, "--video", tmp_path / "x.avi"], "unsupported format .avi; use .gif or .mp4"),
    ]
    if importlib.util.find_spec("imageio_ffmpeg") is None:
        cases.append(([tmp_path, "--video", tmp_path / "x.mp4"], "MP4 needs the imageio-ffmpeg package"))
    for args, expected in cases:
        proc = run_script(EVALUATE, *args)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert expected in proc.stderr


def test_evaluate_writes_mp4_when_ffmpeg_is_installed(
    base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    pytest.importorskip("imageio_ffmpeg")
    video = tmp_path / "episode.mp4"
    proc = run_script(EVALUATE, base_run[0], "--episodes", 1, "--video", video, "--every", 25)
    assert proc.returncode == 0, proc.stderr
    assert video.stat().st_size > 0 and json.loads(proc.stdout.strip().splitlines()[-1])["frames"] > 2
