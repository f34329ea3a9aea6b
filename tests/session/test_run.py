"""The runner with a stand-in graph: run directory, log files, resume in place / elsewhere, refusals."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from graph_rl.checkpoint import CheckpointError, load_checkpoint
from graph_rl.config import ConfigError
from graph_rl.session import RunRequest, prepare_run, train
from graph_rl.session.run import LOG_FILES
from tests.session.fakes import fake_graph_factory, make_data_root


def _train(data_root: Path, logdir: Path | None, callbacks: tuple = (), **kwargs: object):
    request = RunRequest(**{"env": "Toy", "algo": "sac", "logdir": logdir, "progress": False, **kwargs})
    return train(request, data_root=data_root, graph_factory=fake_graph_factory, callbacks=callbacks)


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return make_data_root(tmp_path)


def test_fresh_run_writes_every_log(data_root: Path, tmp_path: Path) -> None:
    run_dir, result = _train(data_root, tmp_path / "run", run_overrides=["n_steps=100"], seed=9)
    names = {p.name for p in run_dir.iterdir()}
    assert {"metrics.jsonl", "timing.jsonl", "session_train.csv", "session_test.csv", "config.json", "checkpoints"} <= names
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["algo"], config["env"], config["seed"], config["device"]) == ("SAC", "Toy", 9, "cpu")
    assert config["run_params"]["n_steps"] == 100 and config["torch_num_threads"] == 1
    assert (run_dir / "checkpoints" / "latest").read_text().strip() == f"step-{result.total_step}"
    header = (run_dir / "session_train.csv").read_text().splitlines()[0]
    assert header == "step,episode,return,length,success"


def test_resume_in_place_after_stop_equals_uninterrupted(data_root: Path, tmp_path: Path) -> None:
    full_dir, _ = _train(data_root, tmp_path / "full")
    part_dir, part = _train(data_root, tmp_path / "part", stop_at=200)
    assert part.stop_reason == "stop_at"
    _, resumed = _train(data_root, None, resume=str(part_dir), env=None, algo=None)
    assert resumed.total_step > part.total_step
    for name in LOG_FILES:
        assert (part_dir / name).read_bytes() == (full_dir / name).read_bytes(), name


def test_rewind_to_older_checkpoint_truncates_logs(data_root: Path, tmp_path: Path) -> None:
    run_dir, _ = _train(data_root, tmp_path / "run")
    before = {name: (run_dir / name).read_bytes() for name in LOG_FILES}
    first = sorted((run_dir / "checkpoints").glob("step-*"), key=lambda p: int(p.name[5:]))[0]
    _train(data_root, None, resume=str(first), env=None, algo=None)
    assert {name: (run_dir / name).read_bytes() for name in LOG_FILES} == before
    assert len((run_dir / "timing.jsonl").read_text().splitlines()) > len(before["metrics.jsonl"].splitlines()) // 4


def test_resume_into_new_logdir_and_extend_budget(data_root: Path, tmp_path: Path) -> None:
    run_dir, first = _train(data_root, tmp_path / "run", run_overrides=["n_steps=100"])
    new_dir, second = _train(data_root, tmp_path / "more", resume=str(run_dir), run_overrides=["n_steps=200"])
    steps = [json.loads(x)["step"] for x in (new_dir / "metrics.jsonl").read_text().splitlines()]
    assert min(steps) > first.total_step and second.total_step >= 200
    assert json.loads((new_dir / "config.json").read_text())["graph_n_steps"] == 100


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"graph_overrides": ["n_layers=2"]}, ConfigError, "graph_params.level_params_list: has 1 entries but n_layers is 2"),
        (
            {"graph_overrides": ["level_params_list[0].model_kwargs.learning_rate=0.1"]},
            ConfigError,
            "--graph_params: cannot change the graph of a resumed run",
        ),
        ({"fork": True, "logdir": "SELF"}, ConfigError, "--fork starts a new run; choose another directory"),
        ({"fork": True, "resume": None, "env": "Toy", "algo": "sac"}, ConfigError, "--fork: needs --resume"),
        ({"seed": 1}, ConfigError, "run_params.seed: cannot change on resume"),
        ({"algo": "HiTS"}, ConfigError, "--algo HiTS: the checkpoint was trained with SAC"),
        ({"resume": "wandb:e/p"}, CheckpointError, "expected wandb:ENTITY/PROJECT/NAME"),
    ],
)
def test_bad_resume_requests_touch_nothing(data_root: Path, tmp_path: Path, kwargs: dict, error: type, message: str) -> None:
    run_dir, _ = _train(data_root, tmp_path / "run", run_overrides=["n_steps=60"])
    before = _snapshot(run_dir)
    if kwargs.get("logdir") == "SELF":
        kwargs = {**kwargs, "logdir": run_dir}
    request = RunRequest(**{"resume": str(run_dir), "progress": False, **kwargs})
    with pytest.raises(error, match=message):
        prepare_run(request, data_root=data_root, graph_factory=fake_graph_factory).execute()
    assert _snapshot(run_dir) == before


def test_corrupt_checkpoint_and_nonempty_logdir_refused(data_root: Path, tmp_path: Path) -> None:
    run_dir, _ = _train(data_root, tmp_path / "run", run_overrides=["n_steps=60"])
    with pytest.raises(ConfigError, match="exists and is not empty"):
        _train(data_root, run_dir)
    latest = run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()
    (latest / "state.pt").write_bytes(b"garbage")
    before = _snapshot(run_dir)
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        _train(data_root, None, resume=str(run_dir))
    assert _snapshot(run_dir) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env": "Tyo"}, "--env Tyo: unknown environment (did you mean 'Toy'?)"),
        ({"algo": "HiST"}, "--algo HiST: unknown algorithm (did you mean 'HiTS'?)"),
        ({"algo": "HAC"}, "--algo HAC: no parameters for Toy"),
        ({"run_overrides": ["n_step=5"]}, "run_params.n_step: unknown parameter (did you mean 'n_steps'?)"),
        ({"run_overrides": ["n_steps=many"]}, "run_params.n_steps: expected an integer"),
        ({"run_overrides": ["env=Nope-v0"]}, "run_params.env: unknown gymnasium id 'Nope-v0'"),
        ({"wandb_overrides": ["tags=3"]}, "wandb_params.tags: expected a list"),
        ({"device": "cuda"}, "--device cuda: CUDA is not available"),
    ],
)
def test_config_errors(data_root: Path, tmp_path: Path, kwargs: dict, message: str) -> None:
    if kwargs.get("device") == "cuda":
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA is available here")
    request = RunRequest(**{"env": "Toy", "algo": "SAC", "logdir": tmp_path / "x", **kwargs})
    with pytest.raises(ConfigError, match=re.escape(message)):
        prepare_run(request, data_root=data_root, graph_factory=fake_graph_factory)
    assert not (tmp_path / "x").exists()


def _send(sig: signal.Signals, after_step: int, times: int = 1):
    """A callback that sends ``sig`` (``times`` times) at the first episode end past ``after_step``."""
    sent = []

    def callback(session: object, stats: object) -> None:
        if stats.total_step > after_step and not sent:  # type: ignore[attr-defined]
            sent.append(stats)
            for _ in range(times):
                os.kill(os.getpid(), sig)

    return callback


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_finishes_the_episode_checkpoints_and_resumes_exactly(
    data_root: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    full_dir, _ = _train(data_root, tmp_path / "full")
    previous = signal.getsignal(sig)
    run_dir, result = _train(data_root, tmp_path / "sig", callbacks=(_send(sig, 50),))
    assert signal.getsignal(sig) is previous
    assert result.stop_reason == sig.name and 50 < result.total_step < 90
    assert result.checkpoints[-1] == run_dir / "checkpoints" / f"step-{result.total_step}"
    _train(data_root, None, resume=str(run_dir))
    assert (run_dir / "metrics.jsonl").read_bytes() == (full_dir / "metrics.jsonl").read_bytes()


def test_second_signal_aborts_and_keeps_the_last_checkpoint(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _train(data_root, tmp_path / "run", callbacks=(_send(signal.SIGINT, 200, times=2),))
    checkpoint = load_checkpoint(tmp_path / "run")
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert checkpoint.step < json.loads(lines[-1])["step"]


def test_wandb_source_resolves_through_the_api_boundary(data_root: Path, tmp_path: Path) -> None:
    from tests.session.test_resume_source import FakeApi

    run_dir, first = _train(data_root, tmp_path / "run", run_overrides=["n_steps=100"])
    api = FakeApi({"me/proj/SAC-Toy-x:step-9": run_dir / "checkpoints" / f"step-{first.total_step}"})
    request = RunRequest(resume="wandb:me/proj/SAC-Toy-x:step-9", logdir=tmp_path / "new", progress=False)
    prepared = prepare_run(request, data_root=data_root, graph_factory=fake_graph_factory, api_factory=lambda: api)
    assert prepared.checkpoint is not None and prepared.checkpoint.step == first.total_step
    result = prepared.execute()
    assert api.calls == [("me/proj/SAC-Toy-x:step-9", "model")]
    assert result.total_step == first.total_step  # budget already spent: only the final checkpoint is written
    assert (tmp_path / "new" / "config.json").is_file()
    assert result.checkpoints == [tmp_path / "new" / "checkpoints" / f"step-{first.total_step}"]


def test_generated_run_dir_names_never_collide(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    request = RunRequest(env="Toy", algo="SAC", progress=False, run_overrides=["n_steps=20"])
    first = prepare_run(request, data_root=data_root, graph_factory=fake_graph_factory)
    second = prepare_run(request, data_root=data_root, graph_factory=fake_graph_factory)
    second.run_dir = first.run_dir  # as if both had been prepared within the same second
    first.execute()
    second.execute()
    assert second.run_dir == first.run_dir.with_name(first.run_dir.name + "-1")
    assert (first.run_dir / "metrics.jsonl").is_file() and (second.run_dir / "metrics.jsonl").is_file()


def test_names_are_case_insensitive(data_root: Path) -> None:
    from graph_rl.session.setup import resolve_names

    assert resolve_names("toy", "sac", data_root) == ("Toy", "SAC", data_root / "Toy" / "SAC")
