"""tools/noisyplatforms_ceiling.py: the delayed expert's timing, and the oracle never below a plan it picks from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "envs"))

import noisyplatforms_ceiling as ceiling  # noqa: E402
from platforms_testutil import REF_DIR, requires_reference  # noqa: E402


@requires_reference
def test_each_skipped_lift_cycle_costs_126_steps_and_the_third_plan_runs_out_of_time() -> None:
    module = ceiling.load_controller(REF_DIR / "scripted_controller.py")
    report = ceiling.measure(module, range(0, 6), [2.1], max_skip=2, legacy=False)
    plans = {row["skip"]: row for row in report["plans"]}
    assert plans[0]["freeze_free_success"] and plans[1]["freeze_free_success"]
    assert not plans[2]["freeze_free_success"] and plans[2]["success"] == 0.0
    assert 120 <= plans[1]["freeze_free_steps"] - plans[0]["freeze_free_steps"] <= 132
    assert 120 <= plans[1]["freeze_free_platform1_moves_step"] - plans[0]["freeze_free_platform1_moves_step"] <= 132
    assert report["oracle_best_plan"] >= max(row["success"] for row in report["plans"])
    assert report["oracle_best_plan"] >= report["oracle_best_plan_without_delay"]
    for row in report["plans"]:
        assert row["success_ci95"] == ceiling.wilson_interval(round(row["success"] * 6), 6)


def test_wilson_interval_matches_the_textbook_value_and_stays_inside_0_1() -> None:
    low, high = ceiling.wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert ceiling.wilson_interval(0, 20)[0] == 0.0 < ceiling.wilson_interval(0, 20)[1] < 0.2
    assert 0.8 < ceiling.wilson_interval(20, 20)[0] < ceiling.wilson_interval(20, 20)[1] == 1.0
    narrow, wide = ceiling.wilson_interval(1590, 3000), ceiling.wilson_interval(159, 300)
    assert wide[0] < narrow[0] < 0.53 < narrow[1] < wide[1]


@requires_reference
def test_without_a_delay_the_expert_is_the_reference_scripted_controller() -> None:
    module = ceiling.load_controller(REF_DIR / "scripted_controller.py")
    env = ceiling.PlatformsEnv(use_freeze=True)
    for seed in range(4):
        ours = ceiling.run_episode(env, seed, ceiling.delayed_expert(module, 0, 2.1))
        reference = ceiling.run_episode(env, seed, module.PlatformsController(depart_phase=2.1))
        assert ours == reference


@pytest.mark.parametrize(
    ("argv", "culprit"),
    [
        (["--seeds", "5:3"], "--seeds"),
        (["--seeds", "x"], "--seeds"),
        (["--max-skip", "-1"], "--max-skip"),
        (["--controller", "/nonexistent/scripted_controller.py"], "scripted controller"),
    ],
)
def test_bad_arguments_exit_2_naming_the_culprit(argv: list[str], culprit: str, capsys: pytest.CaptureFixture) -> None:
    assert ceiling.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert culprit in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "culprit"),
    [("x = (\n", "SyntaxError"), ("def pd(x, vx, xt):\n    return 0.0\n", "no PlatformsController, p0_phase")],
)
def test_a_file_that_is_not_the_controller_exits_2_naming_it(
    text: str, culprit: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "scripted_controller.py"
    path.write_text(text)
    assert ceiling.main(["--seeds", "0:1", "--controller", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(path) in err and culprit in err and len(err.splitlines()) == 1
