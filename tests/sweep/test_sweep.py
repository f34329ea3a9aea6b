"""Sweeps: spec parsing and objectives, then real sweeps of tiny train.py runs on journal and PostgreSQL storage."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import optuna
import pytest

from graph_rl.sweep import Objective, ObjectiveError, SpecError, parse_spec

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "scripts" / "run" / "sweep.py"
ALPHA = "level_params_list[0].model_kwargs.alpha"
HIDDEN = "level_params_list[0].model_kwargs.hidden_layers"
TINY = ["--env", "EasyPlatforms", "--algo", "HiTS", "--run_params", "n_steps=300", "test_frequency=1", "n_test_episodes=1",
        "--objective", "test:return"]
"""One training episode and one test episode per run: a few seconds, mostly process start-up."""


def sweep(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SWEEP), *TINY, *args], capture_output=True, text=True, timeout=timeout)


def test_parse_spec_forms() -> None:
    alpha = parse_spec(f"{ALPHA}:float:1e-4:1e-1:log")
    assert (alpha.kind, alpha.low, alpha.high, alpha.log, alpha.name) == ("float", 1e-4, 0.1, True, ALPHA)
    batch = parse_spec("level_params_list[1].algo_kwargs.batch_size:int:64:512:64")
    assert (batch.kind, batch.low, batch.high, batch.step, batch.override(128)) == (
        "int", 64, 512, 64, "level_params_list[1].algo_kwargs.batch_size=128")
    hidden = parse_spec(f"{HIDDEN}:cat:[[16],[32,32]]")
    assert hidden.choices == ([16], [32, 32]) and hidden.override([16]) == f"{HIDDEN}=[16]"
    strategy = parse_spec("level_params_list[0].algo_kwargs.goal_sampling_strategy:cat:future,episode")
    assert strategy.choices == ("future", "episode")
    run = parse_spec("n_test_episodes:int:1:5", "run_params")
    assert run.name == "run_params.n_test_episodes" and run.override(3) == "n_test_episodes=3"
    study = optuna.create_study()
    trial = study.ask()
    assert hidden.suggest(trial) in ([16], [32, 32]) and isinstance(trial.params[HIDDEN], str)
    assert hidden.decode(trial.params[HIDDEN]) in ([16], [32, 32])


@pytest.mark.parametrize("spec, message", [
    (f"{ALPHA}", "expected PATH:float"),
    (f"{ALPHA}:float:1", "expected LOW:HIGH"),
    (f"{ALPHA}:float:0.1:0.01", "need LOW < HIGH"),
    (f"{ALPHA}:float:0:1:log", "LOW > 0"),
    (f"{ALPHA}:float:1e-3:1:linear", "'log'"),
    ("a.b:int:1:10:0", "step must be >= 1"),
    ("a.b:int:1:x", "not a valid int"),
    ("a.b:cat:only", "at least two choices"),
    ("a..b:float:0:1", "empty component"),
])
def test_parse_spec_rejects_malformed_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec(spec)


def test_objective_averages_the_last_k_values(tmp_path: Path) -> None:
    lines = [{"step": 10 * i, "split": split, "success": float(i), "n/success_rate": 0.5}
             for i in range(5) for split in ("train", "test")]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + '\n{"step": 99, "spl')
    assert Objective(last_k=2).score(tmp_path) == 3.5
    assert Objective(last_k=0).score(tmp_path) == 2.0
    assert Objective.parse("test:n/success_rate").score(tmp_path) == 0.5
    assert Objective.parse("return") == Objective(split="test", metric="return")
    with pytest.raises(ObjectiveError, match="no 'return'"):
        Objective.parse("train:return").score(tmp_path)


@pytest.mark.slow
def test_two_workers_share_one_journal_study(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = sweep("--n_workers", "2", "--n_trials", "4", "--out", str(out), "--study_name", "journal",
                 "--sampler_seed", "0", "--graph_params_to_optimize", f"{ALPHA}:float:1e-4:1e-1:log", f"{HIDDEN}:cat:[[16],[32]]")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    study = optuna.load_study(study_name="journal", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(out / "optuna_journal.log"))))
    trials = study.get_trials()
    assert len(trials) == 4 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["worker_pid"] for t in trials}) == 2, "trials must come from two worker processes"
    assert result["n_complete"] == 4 and result["best_value"] == study.best_value
    assert set(result["best_params"]) == {ALPHA, HIDDEN} and result["best_params"][HIDDEN] in ([16], [32])
    assert json.loads((out / "result.json").read_text()) == result
    for trial in trials:
        config = json.loads((Path(trial.user_attrs["run_dir"]) / "seed_1" / "config.json").read_text())
        level = config["graph_params"]["level_params_list"][0]
        assert level["model_kwargs"]["alpha"] == pytest.approx(trial.params[ALPHA])
        assert json.dumps(level["model_kwargs"]["hidden_layers"]) == json.dumps(json.loads(trial.params[HIDDEN]))
        assert trial.value == pytest.approx(Objective(metric="return").score(Path(trial.user_attrs["run_dir"]) / "seed_1"))


@pytest.mark.slow
def test_seeds_only_sweep_reports_mean_over_seeds(tmp_path: Path) -> None:
    proc = sweep("--seeds", "1", "2", "--n_workers", "2", "--out", str(tmp_path / "seeds"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result["seed_scores"]) == {"1", "2"}
    assert result["mean"] == pytest.approx(sum(result["seed_scores"].values()) / 2)
    assert all((tmp_path / "seeds" / "seeds" / f"seed_{s}" / "metrics.jsonl").is_file() for s in (1, 2))


def test_bad_input_exits_2_with_train_py_message(tmp_path: Path) -> None:
    proc = sweep("--n_trials", "1", "--out", str(tmp_path / "bad"),
                 "--graph_params_to_optimize", "level_params_list[0].model_kwargs.alhpa:float:0.1:0.2")
    assert proc.returncode == 2 and "did you mean 'alpha'" in proc.stderr, proc.stderr
    proc = sweep("--graph_params_to_optimize", f"{ALPHA}:float:0.2:0.1", "--out", str(tmp_path / "bad2"))
    assert proc.returncode == 2 and proc.stderr.startswith("sweep.py: error:") and "LOW < HIGH" in proc.stderr


def _pg_binary(name: str) -> str | None:
    return shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway PostgreSQL server on a free loopback port with an empty database; skips where impossible."""
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 missing: pip install psycopg2-binary (extra 'sweep')")
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    as_user: list[str] = []
    base = tmp_path
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the 'postgres' user in a directory it owns
        runuser = shutil.which("runuser")
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = None
        if runuser is None or account is None:
            pytest.skip("running as root without a 'postgres' user or runuser; PostgreSQL cannot be started")
        base = Path(tempfile.mkdtemp(prefix="graph_rl_pg_"))
        os.chown(base, account.pw_uid, account.pw_gid)
        as_user = [runuser, "-u", "postgres", "--"]
    data, port = base / "data", _free_port()

    def pg(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=60)

    try:
        init = pg(initdb, "-D", str(data), "-U", "sweep", "--auth=trust", "--no-sync")
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {init.stderr.strip()[-300:]}")
        start = pg(pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "30", "-o",
                   f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        if start.returncode != 0:
            pytest.skip(f"pg_ctl start failed: {start.stderr.strip()[-300:]}")
        try:
            conn = psycopg2.connect(host="127.0.0.1", port=port, user="sweep", dbname="postgres")
            conn.autocommit = True
            conn.cursor().execute("CREATE DATABASE sweep_test")
            conn.close()
            yield f"postgresql+psycopg2://sweep@127.0.0.1:{port}/sweep_test"
        finally:
            pg(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        if base != tmp_path:
            shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_two_workers_share_a_postgresql_study(tmp_path: Path, postgres_url: str) -> None:
    out = tmp_path / "pg"
    proc = sweep("--n_workers", "2", "--n_trials", "2", "--out", str(out), "--storage", postgres_url, "--study_name", "pg",
                 "--graph_params_to_optimize", f"{ALPHA}:float:1e-4:1e-1:log")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    study = optuna.load_study(study_name="pg", storage=postgres_url)
    trials = study.get_trials()
    assert result["storage"] == postgres_url and result["n_complete"] == 2
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert len({t.user_attrs["worker_pid"] for t in trials}) == 2
    assert result["best_params"] == study.best_params and not (out / "optuna_journal.log").exists()
