"""benchmarks/learning.py keeps what a long run has learned when it is cut short (time limit or signal), and can
continue it later from its checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "learning.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402

FAST = ["--env", "EasyPlatforms", "--algo", "HiTS", "--seed-list", "1", "--steps", "1000000",
        "--test-frequency", "1", "--test-episodes", "1",
        "--override", *(f"level_params_list[{i}].algo_kwargs.learning_starts=0" for i in (0, 1))]


def _report(stdout: str) -> dict:
    return json.loads(stdout[stdout.index("{"):])


def test_max_runtime_reports_the_curve_so_far(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), *FAST, "--max-runtime", "3", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, check=True)
    report = _report(proc.stdout)
    assert report == json.loads(out.read_text())
    assert report["code"] == bench_cli.code_version()  # the commit and CPU the curve comes from
    assert report["machine"] == {**bench_cli.host(), "jobs": 1}
    (run,) = report["runs"]
    assert run["stop_reason"] == "max_runtime"
    assert 0 < run["total_steps"] < 1_000_000
    assert run["curve"] and all(p["step"] <= run["total_steps"] for p in run["curve"])


def test_sigterm_stops_at_episode_end_and_still_reports(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    while "success" not in proc.stderr.readline():  # the first test evaluation is logged: training is under way
        assert time.monotonic() < deadline and proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    (run,) = _report(stdout)["runs"]
    assert run["stop_reason"] == "SIGTERM"
    assert run["curve"] and run["total_steps"] < 1_000_000


def _three_seeds() -> list[str]:
    args = list(FAST)
    at = args.index("--seed-list") + 1
    args[at:at + 1] = ["1", "2", "3"]
    return args


def test_sigterm_to_a_sequential_benchmark_stops_the_later_seeds_too() -> None:
    """``--jobs`` 1, three seeds: SIGTERM during seed 1 stops it at its episode end, and seeds 2 and 3 after their
    first episode (they used to train their whole budget: a "stopped" benchmark kept the machine for hours)."""
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *_three_seeds()], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 240
        while "success" not in proc.stderr.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0
    runs = _report(stdout)["runs"]
    assert [r["seed"] for r in runs] == [1, 2, 3] and {r["stop_reason"] for r in runs} == {"SIGTERM"}
    assert all(r["total_steps"] < 1_000_000 for r in runs)


def test_parallel_seeds_each_report_and_the_pool_exits() -> None:
    """Two workers, three seeds: every seed is reported in order and the benchmark exits (the workers restore the
    default SIGTERM after their seed, so the pool's shutdown can end them)."""
    args = _three_seeds()
    proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--jobs", "2", "--max-runtime", "2"],
                          capture_output=True, text=True, timeout=120, check=True)
    runs = _report(proc.stdout)["runs"]
    assert [r["seed"] for r in runs] == [1, 2, 3] and {r["stop_reason"] for r in runs} == {"max_runtime"}


def test_sigterm_to_the_benchmark_stops_every_parallel_seed_and_leaves_no_worker(tmp_path: Path) -> None:
    """Three seeds on two workers: SIGTERM to the benchmark stops the two running seeds at their episode end and the
    third after its first episode; all three are reported and no worker keeps training after the benchmark exits."""
    args = _three_seeds()
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *args, "--jobs", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 240
        while "success" not in proc.stderr.readline():
            assert time.monotonic() < deadline and proc.poll() is None
        ps = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True, check=True)
        workers = [int(pid) for pid in ps.stdout.split()]
        assert len(workers) >= 2
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=180)
    finally:  # on failure, leave nothing training behind
        subprocess.run(["pkill", "-KILL", "-s", str(proc.pid)], check=False)
    assert proc.returncode == 0
    runs = _report(stdout)["runs"]
    assert [r["seed"] for r in runs] == [1, 2, 3] and {r["stop_reason"] for r in runs} == {"SIGTERM"}
    assert all(r["total_steps"] < 1_000_000 for r in runs)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived the benchmark"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_resumed_seeds_continue_as_if_never_stopped(tmp_path: Path) -> None:
    """A run cut by --max-runtime and finished by --resume reports what the uninterrupted run reports (but wall
    times), and its directory keeps only the final checkpoint."""
    args = [a if a != "1000000" else "4000" for a in FAST]

    def run(*extra: str) -> dict:
        proc = subprocess.run([sys.executable, str(SCRIPT), *args, *extra], capture_output=True, text=True,
                              timeout=300, check=True)
        (report,) = _report(proc.stdout)["runs"]
        return report

    whole = run()
    ckpt = str(tmp_path / "ckpt")
    first = run("--checkpoint-dir", ckpt, "--max-runtime", "1")
    assert first["stop_reason"] == "max_runtime" and first["total_steps"] < 4000
    resumed = run("--checkpoint-dir", ckpt, "--resume")
    assert resumed["stop_reason"] == "n_steps" and whole["stop_reason"] == "n_steps"

    def same(report: dict) -> dict:
        return {**report, "wall_s": None, "env_steps_per_s": None, "wall_s_to_threshold": None,
                "curve": [{**point, "wall_s": None} for point in report["curve"]]}

    assert len(resumed["curve"]) > len(first["curve"]) > 0
    assert same(resumed) == same(whole)
    assert sorted(p.name for p in (tmp_path / "ckpt" / "seed-1" / "checkpoints").iterdir()) == ["latest", f"step-{whole['total_steps']}"]
    assert run("--checkpoint-dir", ckpt, "--resume")["curve"] == resumed["curve"]  # a finished seed just reports


def test_checkpoint_dir_of_another_run_is_refused(tmp_path: Path) -> None:
    ckpt = str(tmp_path / "ckpt")
    subprocess.run([sys.executable, str(SCRIPT), *FAST, "--checkpoint-dir", ckpt, "--max-runtime", "1"],
                   capture_output=True, text=True, timeout=300, check=True)
    steps = FAST.index("--steps") + 1
    other = [*FAST[:steps], "2000000", *FAST[steps + 1:]]
    for args, culprit in (([*FAST, "--checkpoint-dir", ckpt], "add --resume"),
                          ([*other, "--checkpoint-dir", ckpt, "--resume"], "run_params.n_steps differs"),
                          ([*FAST, "--resume"], "--resume: needs --checkpoint-dir")):
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and proc.stdout == ""
        assert culprit in proc.stderr.strip().splitlines()[-1] and "Traceback" not in proc.stderr


def test_bad_input_is_one_line_and_exit_2() -> None:
    for args, culprit in ((["--override", "foo=1"], "foo: unknown parameter"),
                          (["--override", "run_params.nope=1"], "run_params.nope: unknown parameter"), (["--max-runtime", "0"], "--max-runtime"),
                          (["--env", "Nope"], "--env Nope: unknown environment"), (["--jobs", "0"], "--jobs: must be >= 1, got 0"),
                          (["--out", "/nonexistent-dir/x.json"], "--out /nonexistent-dir/x.json: no directory")):
        proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and proc.stdout == ""
        assert culprit in proc.stderr.strip().splitlines()[-1] and "Traceback" not in proc.stderr


def test_run_params_overrides_go_to_the_run_and_the_rest_to_the_graph(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import learning
    finally:
        sys.path.remove(str(SCRIPT.parent))
    request = learning.seed_request("NoisyPlatforms", "HiTS", 1, 1000, 1, 1,
                                    ["run_params.+env_kwargs.legacy_quirks=true", "level_params_list[0].algo_kwargs.batch_size=64"],
                                    None, tmp_path, resume=False)
    assert "+env_kwargs.legacy_quirks=true" in request.run_overrides
    assert request.graph_overrides == ["level_params_list[0].algo_kwargs.batch_size=64"]
