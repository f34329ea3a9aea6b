"""Plotting from synthetic run directories: parsing, grouping, mean/spread aggregation and the CLI's PNG files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from graph_rl.plotting import (
    aggregate, find_run_dirs, group_runs, load_benchmark, load_run, metric_kind, plot_runs, split_metric,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "plot" / "plot_training.py"
TRAIN = ROOT / "scripts" / "run" / "train.py"
TINY_RUN = ["--env", "EasyPlatforms", "--algo", "HiTS", "--run_params", "n_steps=600", "test_frequency=1",
            "n_test_episodes=1", "--graph_params", *(f"level_params_list[{i}].algo_kwargs.learning_starts=0" for i in (0, 1))]
"""A real training run of a few seconds that logs train, test and learner metrics."""
BAND_C0 = np.array([210, 228, 240])
"""Colour of group C0's spread band: 20 % of matplotlib's C0 (#1f77b4) over white."""


def write_run(path: Path, seed: int, alpha: float = 0.2, n_tests: int = 8) -> Path:
    """A fake run: train episodes, test evaluations at seed-dependent steps, learner and node metrics."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    config = {"env": "EasyPlatforms", "algo": "HiTS", "seed": seed, "logdir": str(path),
              "run_params": {"seed": seed, "n_steps": 1000},
              "graph_params": {"level_params_list": [{"model_kwargs": {"alpha": alpha}}]}}
    (path / "config.json").write_text(json.dumps(config))
    lines = []
    step = 0
    for i in range(n_tests):
        step += int(rng.integers(90, 130))
        lines.append({"step": step, "split": "train", "return": -float(rng.integers(5, 50)), "length": 40.0,
                      "success": bool(rng.random() < 0.5), "hits_node_0/subgoal_success": float(rng.random())})
        lines.append({"step": step, "split": "learner", "hits_node_0/loss_critic": float(rng.random()),
                      "hits_node_0/loss_actor": -float(rng.random()), "hits_node_0/alpha": alpha,
                      "hits_node_0/entropy": float(rng.normal()), "hits_node_0/q_mean": -float(rng.random()),
                      "hac_node_1/loss_critic": float(rng.random()), "hac_node_1/q_mean": -5.0})
        lines.append({"step": step, "split": "test", "return": -30.0 + 3 * i + float(rng.normal()),
                      "success": min(1.0, i / n_tests + 0.1 * float(rng.random())), "length": 40.0,
                      "hac_node_1/n_actions": float(rng.integers(1, 8)), "hits_node_0/termination_rate": 0.1})
    with open(path / "metrics.jsonl", "w") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
        f.write('{"step": 99999, "split": "te')  # a run killed mid-write
    return path


def png_size(path: Path) -> tuple[int, int]:
    """Pixel size of a non-trivial PNG file."""
    assert path.stat().st_size > 1000, path
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def has_band(path: Path) -> bool:
    """Whether the image shows a filled spread band of group C0."""
    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB"), dtype=int).reshape(-1, 3)
    return int(np.sum(np.abs(pixels - BAND_C0).max(axis=1) <= 3)) > 500  # more than antialiased line edges


def test_load_run_parses_every_numeric_series_and_skips_a_truncated_line(tmp_path: Path) -> None:
    run = load_run(write_run(tmp_path / "r", seed=1, n_tests=5))
    assert run.config["seed"] == 1
    steps, values = run.series[("test", "success")]
    assert len(steps) == 5 and np.all(np.diff(steps) > 0) and steps.max() < 99999
    assert set(np.unique(run.series[("train", "success")][1])) <= {0.0, 1.0}
    assert ("learner", "hits_node_0/loss_critic") in run.series and ("test", "hac_node_1/n_actions") in run.series


def test_metric_names_split_into_node_and_kind() -> None:
    assert split_metric("hits_node_0/subgoal_success") == ("hits_node_0", "subgoal_success")
    assert split_metric("return") == (None, "return")
    kinds = {m: metric_kind(m) for m in ("n/alpha", "n/entropy", "n/q_mean", "n/loss_actor", "n/subgoal_success",
                                         "n/n_actions", "n/termination_rate", "n/buffer_fill", "n/frequency",
                                         "n/success_rate", "n/budget_use", "n/q_taken")}
    assert kinds == {"n/alpha": "entropy", "n/entropy": "entropy", "n/q_mean": "q", "n/loss_actor": "loss",
                     "n/subgoal_success": "subgoal", "n/n_actions": "budget", "n/termination_rate": "termination",
                     "n/buffer_fill": "other", "n/frequency": "other", "n/success_rate": "subgoal",
                     "n/budget_use": "budget", "n/q_taken": "q"}


def test_aggregate_interpolates_onto_common_steps_and_reports_spread() -> None:
    a = (np.array([0.0, 10.0, 20.0]), np.array([0.0, 1.0, 2.0]))
    b = (np.array([5.0, 15.0, 25.0]), np.array([1.0, 1.0, 1.0]))
    curve = aggregate([a, b], spread="std")
    np.testing.assert_allclose(curve.steps, [5.0, 10.0, 15.0, 20.0])
    np.testing.assert_allclose(curve.mean, [0.75, 1.0, 1.25, 1.5])
    np.testing.assert_allclose(curve.high - curve.mean, [0.25, 0.0, 0.25, 0.5])
    minmax = aggregate([a, b], spread="minmax")
    np.testing.assert_allclose(minmax.low, [0.5, 1.0, 1.0, 1.0])
    single = aggregate([a], smooth=2)
    assert single.low is None and single.n_runs == 1
    np.testing.assert_allclose(single.mean, [0.0, 0.5, 1.5])


def test_runs_group_by_config_apart_from_seed(tmp_path: Path) -> None:
    runs = [load_run(write_run(tmp_path / f"a{s}", s)) for s in (1, 2)]
    runs += [load_run(write_run(tmp_path / "b1", 3, alpha=0.05))]
    groups = group_runs(runs)
    assert sorted(len(g) for g in groups.values()) == [1, 2]
    assert any("alpha=0.05" in label for label in groups)
    assert len(group_runs(runs[:2])) == 1
    assert len(group_runs(runs, by="run")) == 3
    assert find_run_dirs([tmp_path]) == sorted(r.path for r in runs)


def test_plot_runs_draws_spread_only_for_several_runs(tmp_path: Path) -> None:
    runs = [load_run(write_run(tmp_path / f"s{s}", s)) for s in (1, 2, 3)]
    several = plot_runs(group_runs(runs), tmp_path / "several")
    single = plot_runs(group_runs(runs[:1]), tmp_path / "single")
    assert has_band(several[0]) and not has_band(single[0])


def test_cli_writes_all_figures_for_two_groups(tmp_path: Path) -> None:
    for s in (1, 2):
        write_run(tmp_path / "runs" / f"base_{s}", s)
    write_run(tmp_path / "runs" / "low_alpha", 7, alpha=0.01)
    out = tmp_path / "plots"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "runs"), "--out", str(out), "--dpi", "80"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    written = sorted(Path(p).name for p in proc.stdout.split())
    assert written == sorted(["learning_curves.png", "session.png", "diag_entropy.png", "diag_q.png", "diag_loss.png",
                              "diag_subgoal.png", "diag_budget.png", "diag_termination.png"])
    assert png_size(out / "learning_curves.png") == (800, 288)
    assert png_size(out / "diag_q.png") == (672, 240)  # two nodes log q_mean
    assert png_size(out / "session.png") == (1008, 240)  # length, return, success
    assert has_band(out / "learning_curves.png")


def write_report(path: Path, algo: str, seeds: tuple[int, ...]) -> Path:
    """A fake ``benchmarks/learning.py`` report: a success curve per seed with training means."""
    runs = [{"seed": s, "curve": [{"step": 1000 * (i + 1) + s, "success": min(1.0, 0.2 * i + 0.05 * s), "return": -50.0 + i,
                                   "length": 300.0, "train": {"hac_1/q_taken": -float(i), "success": 0.1 * i}}
                                  for i in range(6)]} for s in seeds]
    path.write_text(json.dumps({"env": "EasyPlatforms", "algo": algo, "steps": 6000, "overrides": [], "runs": runs}))
    return path


def test_learning_benchmark_reports_load_as_one_run_per_seed(tmp_path: Path) -> None:
    runs = load_benchmark(write_report(tmp_path / "hits.json", "HiTS", (1, 2)))
    assert [r.config["seed"] for r in runs] == [1, 2]
    steps, success = runs[1].series[("test", "success")]
    np.testing.assert_array_equal(steps, [1002, 2002, 3002, 4002, 5002, 6002])
    np.testing.assert_allclose(success, [0.1, 0.3, 0.5, 0.7, 0.9, 1.0])
    np.testing.assert_array_equal(runs[0].series[("train", "hac_1/q_taken")][1], [0, -1, -2, -3, -4, -5])
    assert list(group_runs(runs)) == ["EasyPlatforms HiTS"]
    (tmp_path / "bad.json").write_text(json.dumps({"env": "EasyPlatforms"}))
    with pytest.raises(ValueError, match="not a benchmarks/learning.py report"):
        load_benchmark(tmp_path / "bad.json")


def test_cli_plots_learning_benchmark_reports_side_by_side(tmp_path: Path) -> None:
    reports = [write_report(tmp_path / "hits.json", "HiTS", (1, 2, 3)), write_report(tmp_path / "sac.json", "SAC", (1,))]
    out = tmp_path / "plots"
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, reports), "--out", str(out), "--dpi", "80"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (out / "learning_curves.png") in [Path(p) for p in proc.stdout.split()]
    assert has_band(out / "learning_curves.png")  # the three HiTS seeds


@pytest.mark.parametrize("args", [["does/not/exist"], ["{tmp}", "--smooth", "0"], ["{tmp}"], ["{tmp}/x.json"],
                                  ["{tmp}/bad.json"]])
def test_cli_rejects_bad_input_with_exit_code_2(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    proc = subprocess.run([sys.executable, str(SCRIPT), *[a.format(tmp=tmp_path) for a in args]],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error:")


@pytest.mark.slow
def test_plots_from_real_training_runs(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    procs = [subprocess.Popen([sys.executable, str(TRAIN), *TINY_RUN, "--seed", str(seed), "--logdir", str(runs_dir / f"seed_{seed}")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    out = tmp_path / "plots"
    plot = subprocess.run([sys.executable, str(SCRIPT), str(runs_dir), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert plot.returncode == 0, plot.stderr
    written = {Path(p).name for p in plot.stdout.split()}
    assert {"learning_curves.png", "session.png", "diag_entropy.png", "diag_q.png", "diag_loss.png", "diag_budget.png"} <= written
    assert png_size(out / "learning_curves.png") == (1000, 360)
    for name in written:
        width, height = png_size(out / name)
        assert width >= 400 and height >= 300
    runs = [load_run(d) for d in find_run_dirs([runs_dir])]
    groups = group_runs(runs)
    assert len(groups) == 1 and len(next(iter(groups.values()))) == 2, "two seeds of one config form one group"
    for key in (("test", "success"), ("test", "return")):
        curve = aggregate([r.series[key] for r in runs])
        assert curve.n_runs == 2 and curve.low is not None and len(curve.steps) >= 1


def test_a_long_group_label_wraps_inside_the_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups labelled by several overrides (benchmark reports) must not run their legend off the PNG."""
    from matplotlib.figure import Figure

    saved: list[Figure] = []
    real_savefig = Figure.savefig

    def recording_savefig(self: Figure, *args: object, **kwargs: object) -> None:
        saved.append(self)
        real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording_savefig)
    runs = [load_run(write_run(tmp_path / f"s{s}", s)) for s in (1, 2, 3)]

    def label(j: int) -> str:
        return str([f"level_params_list[{i}].subtask_spec_params.max_n_actions={10 * j + i}" for i in range(4)])

    plot_runs({label(0): runs[:1], "short": runs[1:2]}, tmp_path / "two")
    plot_runs({label(j): [runs[j]] for j in range(3)}, tmp_path / "three")  # three long labels: fewer columns
    assert len(saved) > 2
    for fig in saved:
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        legend = fig.legends[0]
        box, page = legend.get_window_extent(renderer), fig.bbox
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, (box, page)
        assert any("\n" in t.get_text() for t in legend.get_texts())
