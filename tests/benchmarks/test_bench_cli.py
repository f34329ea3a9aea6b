"""benchmarks/bench_cli.py: option types, the early --out check, a report that survives a late write failure, and the
code and CPU a report names."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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


def _git(repo: Path, *argv: str) -> None:
    subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True)


def test_code_version_names_the_commit_and_the_changed_code_files_only(tmp_path: Path) -> None:
    """A report measured on edited library code must say so; an edited doc or test does not change the numbers."""
    repo = tmp_path / "repo"
    for path in ("graph_rl/a.py", "data/E/A/graph_params.json", "docs/x.md", "tests/test_a.py"):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text("0\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert bench_cli.code_version(repo) == {"commit": head, "modified": []}
    for path in ("graph_rl/a.py", "data/E/A/graph_params.json", "docs/x.md", "tests/test_a.py"):
        (repo / path).write_text("1\n")
    (repo / "graph_rl" / "new.py").write_text("untracked\n")
    assert bench_cli.code_version(repo) == {"commit": head, "modified": ["data/E/A/graph_params.json", "graph_rl/a.py"]}


def test_code_version_outside_a_checkout_is_none(tmp_path: Path) -> None:
    assert bench_cli.code_version(tmp_path) == {"commit": None, "modified": None}


def test_host_reads_the_first_cpus_model_and_vector_extensions(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: CPU A\nflags\t\t: fpu sse2 avx2 avx512f pse\n\n"
                    "processor\t: 1\nmodel name\t: CPU B\nflags\t\t: fpu sse2\n")
    assert bench_cli.host(info) == {"cpus": os.cpu_count(), "cpu_model": "CPU A", "simd": ["avx2", "avx512f", "sse2"]}
    assert bench_cli.host(tmp_path / "absent") == {"cpus": os.cpu_count(), "cpu_model": None, "simd": None}


def test_host_reads_an_arm_cpus_features_and_part(tmp_path: Path) -> None:
    """ARM Linux has no ``flags`` or ``model name``: without this, two different ARM CPUs would read the same."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd evtstrm aes crc32 atomics fphp asimdhp "
                    "asimddp sve sve2 bf16 i8mm\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd4f\n\n"
                    "processor\t: 1\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")
    assert bench_cli.host(info) == {
        "cpus": os.cpu_count(),
        "cpu_model": "implementer 0x41 part 0xd4f",
        "simd": ["asimd", "asimddp", "asimdhp", "bf16", "fphp", "i8mm", "sve", "sve2"],
    }
