"""benchmarks/bench_cli.py: option types, the early --out check, and a report that survives a late write failure."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cli  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tool.py")
    parser.add_argument("--n", type=bench_cli.at_least(2), default=2)
    parser.add_argument("--out", default=None)
    return parser


@pytest.mark.parametrize("argv, message", [
    (["--n", "1"], "argument --n: must be >= 2, got 1"),
    (["--n", "x"], "argument --n: not an integer: 'x'"),
    (["--out", "{missing}/r.json"], "--out {missing}/r.json: no directory {missing}"),
    (["--out", "{tmp}"], "--out {tmp}: is a directory"),
])
def test_bad_options_end_in_one_line_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str,
) -> None:
    names = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path)}
    with pytest.raises(SystemExit) as exit_info:
        bench_cli.parse_args(_parser(), [a.format(**names) for a in argv])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"tool.py: error: {message.format(**names)}"


def test_good_options_parse(tmp_path: Path) -> None:
    args = bench_cli.parse_args(_parser(), ["--n", "3", "--out", str(tmp_path / "r.json")])
    assert args.n == 3 and args.out == str(tmp_path / "r.json")


def test_emit_prints_the_report_even_when_out_fails_late(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"runs": [1, 2]}
    assert bench_cli.emit("tool.py", report, str(tmp_path / "r.json")) == 0
    assert json.loads((tmp_path / "r.json").read_text()) == report == json.loads(capsys.readouterr().out)
    gone = tmp_path / "gone" / "r.json"  # the directory vanished after the early check
    assert bench_cli.emit("tool.py", report, str(gone)) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out) == report
    assert captured.err.startswith(f"tool.py: error: --out {gone}:") and captured.err.count("\n") == 1
