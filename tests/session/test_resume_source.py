"""--resume sources: parsing, local resolution, and the wandb API boundary with a stand-in API."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from graph_rl.checkpoint import ResumeSourceError, WandbSource, parse_resume_source, resolve_resume_source, save_checkpoint


def _make_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    state = {"graph": {}, "rng": {}, "envs": {}, "session": {"total_step": 7, "x": np.zeros(2)}}
    save_checkpoint(run / "checkpoints", 7, state, {"algo": "SAC"})
    return run


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("wandb:me/proj/HiTS-Easy-abc", WandbSource("me", "proj", "HiTS-Easy-abc", "latest")),
        ("wandb://me/proj/m:step-300", WandbSource("me", "proj", "m", "step-300")),
        ("file:///tmp/x%20y", Path("/tmp/x y")),
        ("runs/a", Path("runs/a")),
    ],
)
def test_parse(spec: str, expected: object) -> None:
    assert parse_resume_source(spec) == expected


@pytest.mark.parametrize("spec", ["wandb:me/proj", "wandb:a/b/c:d:e", "file://host/x", ""])
def test_parse_rejects(spec: str) -> None:
    with pytest.raises(ResumeSourceError):
        parse_resume_source(spec)


def test_local_run_dir_and_file_url(tmp_path: Path) -> None:
    run = _make_run(tmp_path)
    assert resolve_resume_source(str(run), tmp_path) == run / "checkpoints" / "step-7"
    assert resolve_resume_source(f"file://{run}", tmp_path) == run / "checkpoints" / "step-7"
    with pytest.raises(ResumeSourceError, match="no such checkpoint"):
        resolve_resume_source(str(tmp_path / "absent"), tmp_path)


class FakeArtifact:
    def __init__(self, source: Path) -> None:
        self.source = source

    def download(self, root: str) -> str:
        shutil.copytree(self.source, root)
        return root


class FakeApi:
    """Stands in for wandb.Api beyond the boundary; records what the resolver asked for."""

    def __init__(self, artifacts: dict[str, Path]) -> None:
        self.artifacts = artifacts
        self.calls: list[tuple[str, str]] = []

    def artifact(self, name: str, type: str) -> FakeArtifact:  # noqa: A002 - wandb's keyword
        self.calls.append((name, type))
        if name not in self.artifacts:
            raise ValueError(f"artifact '{name}' not found in project\nmore detail")
        return FakeArtifact(self.artifacts[name])


def test_wandb_source_through_fake_api(tmp_path: Path) -> None:
    ckpt = _make_run(tmp_path) / "checkpoints" / "step-7"
    api = FakeApi({"me/proj/m:latest": ckpt})
    local = resolve_resume_source("wandb:me/proj/m", tmp_path / "dl", api_factory=lambda: api)
    assert api.calls == [("me/proj/m:latest", "model")]
    assert local == tmp_path / "dl" / "m-latest" and (local / "state.pt").is_file()
    expected = r"artifact not found or not downloadable \(artifact 'me/proj/m:v9' not found in project\)$"
    with pytest.raises(ResumeSourceError, match=expected):
        resolve_resume_source("wandb:me/proj/m:v9", tmp_path / "dl", api_factory=lambda: api)


def test_real_wandb_api_without_key_gives_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wandb")
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    monkeypatch.setenv("WANDB_MODE", "offline")
    with pytest.raises(ResumeSourceError, match=r"no wandb API key \(run `wandb login` or set WANDB_API_KEY\)"):
        resolve_resume_source("wandb:me/proj/m:latest", tmp_path / "dl")
