"""Where ``--resume`` finds a checkpoint: a local path, or a wandb model artifact behind a replaceable API boundary.

Accepted sources:

- a checkpoint directory, a run directory (its ``checkpoints/latest``), or ``file:///...`` of either;
- ``wandb:ENTITY/PROJECT/NAME[:ALIAS]`` (also ``wandb://...``), alias ``latest`` by default.

The wandb lookup is the only code that talks to a wandb server. It goes through ``api_factory`` (default
``wandb.Api``), so tests inject a stand-in API; everything before that boundary runs the real wandb package.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from graph_rl.checkpoint.checkpoint import CheckpointError, find_checkpoint

__all__ = ["ResumeSourceError", "WandbSource", "parse_resume_source", "resolve_resume_source", "ApiFactory"]

ApiFactory = Callable[[], Any]
_WANDB = re.compile(r"^wandb:(?://)?([\w.-]+)/([\w.-]+)/([\w.-]+)(?::([\w.-]+))?$")


class ResumeSourceError(CheckpointError):
    """A ``--resume`` source cannot be parsed or resolved."""


@dataclass(frozen=True)
class WandbSource:
    """A wandb model artifact: ``ENTITY/PROJECT/NAME:ALIAS``."""

    entity: str
    project: str
    name: str
    alias: str = "latest"

    @property
    def qualified_name(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}:{self.alias}"


def parse_resume_source(spec: str) -> Path | WandbSource:
    """Parse a ``--resume`` argument without touching the file system or the network."""
    if spec.startswith("wandb:"):
        match = _WANDB.match(spec)
        if match is None:
            raise ResumeSourceError(f"--resume {spec}: expected wandb:ENTITY/PROJECT/NAME[:ALIAS]")
        entity, project, name, alias = match.groups()
        return WandbSource(entity, project, name, alias or "latest")
    if spec.startswith("file:"):
        url = urlparse(spec)
        if url.netloc not in ("", "localhost"):
            raise ResumeSourceError(f"--resume {spec}: only local file:// URLs are supported")
        return Path(unquote(url.path))
    if not spec:
        raise ResumeSourceError("--resume: empty source")
    return Path(spec)


def _default_api() -> Any:
    import wandb

    return wandb.Api(timeout=30)


def _explain(err: Exception) -> str:
    names = {cls.__name__ for cls in type(err).__mro__}
    if "UsageError" in names:
        return "no wandb API key (run `wandb login` or set WANDB_API_KEY)"
    if "AuthenticationError" in names:
        return "wandb rejected the API key"
    if "CommError" in names:
        return "cannot reach the wandb server"
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"artifact not found or not downloadable ({first_line})"


def resolve_resume_source(spec: str, download_root: Path, api_factory: ApiFactory | None = None) -> Path:
    """The local checkpoint directory for ``spec``, downloading wandb artifacts into ``download_root``.

    Raises:
        ResumeSourceError: the source is malformed, missing, or the wandb lookup fails (one-line reason).
    """
    source = parse_resume_source(spec)
    if isinstance(source, Path):
        try:
            return find_checkpoint(source)
        except CheckpointError as err:
            raise ResumeSourceError(f"--resume: {err}") from None
    try:
        api = (api_factory or _default_api)()
        artifact = api.artifact(source.qualified_name, type="model")
        local = Path(artifact.download(root=str(download_root / f"{source.name}-{source.alias}")))
    except Exception as err:  # noqa: BLE001 - every failure beyond the boundary becomes one clear line
        raise ResumeSourceError(f"--resume {spec}: {_explain(err)}") from None
    try:
        return find_checkpoint(local)
    except CheckpointError as err:
        raise ResumeSourceError(f"--resume {spec}: downloaded artifact holds no checkpoint ({err})") from None
