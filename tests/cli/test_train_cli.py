"""train.py in subprocesses: log files, resolved config, resume, Ctrl-C, and one-line errors that touch nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.cli.cli_helpers import (  # noqa: F401 - base_run is a fixture
    ROOT,
    TINY,
    TRAIN,
    base_run,
    isolated_wandb_env,
    run_script,
    run_train_main_many,
    snapshot,
)

LOGS = ("metrics.jsonl", "session_train.csv", "session_test.csv")
BASE_EXTRA = ["level_params_list[0].model_kwargs.learning_rate=0.001", "--run_params", "tensorboard_log=true"]


def test_short_run_writes_every_log_and_resolved_config(base_run: tuple[Path, subprocess.CompletedProcess]) -> None:
    run_dir, proc = base_run
    for name in (*LOGS, "timing.jsonl", "config.json", "checkpoints/latest"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    config = json.loads((run_dir / "config.json").read_text())
    assert config["run_params"]["n_steps"] == 900 and config["run_params"]["tensorboard_log"] is True
    assert config["graph_params"]["level_params_list"][0]["model_kwargs"]["learning_rate"] == 0.001
    assert config["graph_params"]["level_params_list"][1]["algo_kwargs"]["learning_starts"] == 200
    assert (config["seed"], config["device"], config["torch_num_threads"]) == (3, "cpu", 1)
    assert config["versions"]["pythonhashseed"] == "0"  # set by train.py's re-exec
    splits = {json.loads(line)["split"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()}
    assert splits == {"train", "test", "learner"}
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["stop_reason"] == "n_steps" and summary["total_step"] >= 900
    assert "--device auto picked cpu" in proc.stderr


def test_stop_and_resume_gives_the_uninterrupted_logs(base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path) -> None:
    full, _ = base_run
    part = tmp_path / "part"
    first = run_script(TRAIN, *TINY, *BASE_EXTRA, "--logdir", part, "--stop_at", 450)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["stop_reason"] == "stop_at"
    resumed = run_script(TRAIN, "--resume", part, "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    for name in LOGS:
        assert (part / name).read_bytes() == (full / name).read_bytes(), name


def test_resume_from_the_midway_checkpoint_gives_the_same_later_lines(
    base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    full, _ = base_run
    midway = min((full / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))
    step = int(midway.name[5:])
    assert 450 <= step < 900
    proc = run_script(TRAIN, "--resume", midway, "--logdir", tmp_path / "rest", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    later = [line for line in (full / "metrics.jsonl").read_text().splitlines() if json.loads(line)["step"] > step]
    assert later and (tmp_path / "rest" / "metrics.jsonl").read_text().splitlines() == later


def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cmd = [sys.executable, str(TRAIN), *TINY, "--run_params", "n_steps=1000000", "--logdir", str(run_dir)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    metrics, deadline = run_dir / "metrics.jsonl", time.monotonic() + 180
    while not (metrics.is_file() and metrics.stat().st_size):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["stop_reason"] == "SIGINT" and "SIGINT: stopping after this episode" in err
    assert summary["checkpoint"].endswith(f"step-{summary['total_step']}")
    assert json.loads(metrics.read_text().splitlines()[-1])["step"] == summary["total_step"]


def test_unknown_env_in_a_real_subprocess(tmp_path: Path) -> None:
    proc = run_script(TRAIN, "--env", "EasyPlatfroms", "--algo", "HiTS", "--logdir", tmp_path / "new")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "train.py: error: --env EasyPlatfroms: unknown environment (did you mean 'EasyPlatforms'?) "
        "(a params folder: EasyPlatforms, NoisyPlatforms, Platforms, PointMaze_Medium, PointMaze_UMaze; or a gymnasium "
        "id, module:Id to import its module)"
    ]
    assert not (tmp_path / "new").exists()


def _broken_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "EasyPlatforms", data / "EasyPlatforms")
    (data / "EasyPlatforms" / "HiTS" / "run_params.json").write_text('{"n_steps": 10,,}')
    return data


def _damaged_run(base: Path, tmp_path: Path, case: str) -> Path:
    run_dir = tmp_path / case.replace(" ", "_")
    shutil.copytree(base, run_dir)
    ckpt = run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()
    if case == "corrupt state":
        data = bytearray((ckpt / "state.pt").read_bytes())
        data[-100] ^= 1
        (ckpt / "state.pt").write_bytes(bytes(data))
    elif case == "truncated meta":
        (ckpt / "checkpoint.json").write_text((ckpt / "checkpoint.json").read_text()[:20])
    elif case == "bad pointer":
        (run_dir / "checkpoints" / "latest").write_text("step-99\n")
    return run_dir


def test_every_error_is_one_line_exit_2_and_touches_nothing(
    base_run: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    base, new = base_run[0], tmp_path / "new"
    fresh = ["--env", "EasyPlatforms", "--algo", "HiTS", "--logdir", new]
    damages = ("corrupt state", "truncated meta", "bad pointer", "ok")
    runs = {case: _damaged_run(base, tmp_path, case) for case in damages}
    cases = {
        "unknown algo": (
            ["--env", "EasyPlatforms", "--algo", "HiTZ", "--logdir", new],
            "--algo HiTZ: unknown algorithm (did you mean 'HiTS'?)",
        ),
        "unknown param": (
            [*fresh, "--run_params", "n_stepz=5"], "run_params.n_stepz: unknown parameter (did you mean 'n_steps'?)"
        ),
        "wrong type": (
            [*fresh, "--graph_params", "level_params_list[0].model_kwargs.learning_rate=fast"],
            "graph_params.level_params_list[0].model_kwargs.learning_rate: expected a number",
        ),
        "bad flag value": ([*fresh, "--device", "gpu"], "argument --device: invalid choice: 'gpu'"),
        "malformed json": (
            [*fresh, "--data_dir", _broken_data(tmp_path)], "run_params.json: malformed JSON (Expecting property name"
        ),
        "missing checkpoint": (["--resume", tmp_path / "nowhere"], "no such checkpoint or run directory"),
        "wandb source": (["--resume", "wandb:me/proj/model:latest"], "no wandb API key (run `wandb login`"),
        "wandb online": ([*fresh, "--wandb", "online"], "--wandb online: cannot start the wandb run (No API key"),
        "corrupt state": (["--resume", runs["corrupt state"]], "state.pt: corrupt (checksum mismatch)"),
        "truncated meta": (["--resume", runs["truncated meta"]], "corrupt checkpoint.json"),
        "bad pointer": (["--resume", runs["bad pointer"]], "points to missing checkpoint 'step-99'"),
        "seed change": (["--resume", runs["ok"], "--seed", "4"], "run_params.seed: cannot change on resume"),
        "graph change": (
            ["--resume", runs["ok"], "--graph_params", "level_params_list[0].model_kwargs.learning_rate=0.5"],
            "--graph_params: cannot change the graph of a resumed run",
        ),
        "nonempty logdir": (
            [*TINY, "--logdir", runs["ok"]], "exists and is not empty (use --resume on it to continue that run)"
        ),
    }
    if not torch.cuda.is_available():
        cases["no cuda"] = ([*fresh, "--device", "cuda"], "--device cuda: CUDA is not available (no GPU, or torch built")
    before = {case: snapshot(path) for case, path in runs.items()}
    results = run_train_main_many([argv for argv, _ in cases.values()], env=isolated_wandb_env(tmp_path))
    for (case, (_, expected)), result in zip(cases.items(), results):
        lines = result["stderr"].strip().splitlines()
        assert result["rc"] == 2 and len(lines) == 1 and "Traceback" not in result["stderr"], (case, result)
        assert expected in lines[0], (case, lines[0])
    assert not new.exists()
    assert {case: snapshot(path) for case, path in runs.items()} == before


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_device_cuda_trains(tmp_path: Path) -> None:
    proc = run_script(TRAIN, *TINY, "--device", "cuda", "--logdir", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["device"] == "cuda"
    again = run_script(TRAIN, *TINY, "--device", "cuda", "--logdir", tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "run" / "metrics.jsonl").read_bytes() == (tmp_path / "again" / "metrics.jsonl").read_bytes()


def test_resume_on_another_cpu_warns_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Another CPU voids the same-metrics guarantee (MKL's kernels differ by vector extensions): a resume says so in
    one line. A checkpoint from before the CPU was recorded, or from this CPU, gets no warning."""
    import importlib.util

    from graph_rl.session.setup import cpu_features, versions

    spec = importlib.util.spec_from_file_location("train_cli", TRAIN)
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    now = versions()
    simd = cpu_features()[1]
    assert now["cpu_simd"] == (None if simd is None else " ".join(simd))
    train._warn_version_drift(now)
    train._warn_version_drift({k: v for k, v in now.items() if not k.startswith("cpu")})
    assert capsys.readouterr().err == ""
    train._warn_version_drift({**now, "cpu_simd": "sse2"})
    err = capsys.readouterr().err
    assert "the CPU's vector extensions" in err and err.count("\n") == 1
