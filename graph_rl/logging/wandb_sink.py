"""Weights & Biases: start a run, log metrics and test videos against the env step, checkpoints as model artifacts.

wandb is imported only here and only when ``--wandb`` is ``online`` or ``offline``. Offline runs work without an
account or network: everything is written under ``<run dir>/wandb/`` and ``wandb sync`` uploads it later, after
which its model artifacts can be resumed with ``--resume wandb:ENTITY/PROJECT/NAME[:ALIAS]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from graph_rl.config.run_params import WandbParams
from graph_rl.logging.logger import DETERMINISTIC_SPLITS, Scalar

__all__ = ["WandbMode", "WandbSink", "start_wandb_run", "artifact_name", "RUN_FILE"]

WandbMode = Literal["online", "offline", "disabled"]
RUN_FILE = "wandb_run.json"
"""Remembers the wandb run id in the run directory, so a resumed run continues the same wandb run."""


def start_wandb_run(
    mode: WandbMode, params: WandbParams, *, run_dir: Path, config: Mapping[str, Any], name: str | None
) -> Any:
    """``wandb.init`` for this run directory (resuming the wandb run recorded there, if any)."""
    import wandb

    record_path = run_dir / RUN_FILE
    run_id = json.loads(record_path.read_text())["id"] if record_path.is_file() else None
    run = wandb.init(
        mode=mode,
        project=params.project,
        entity=params.entity,
        name=name,
        group=params.group,
        tags=list(params.tags),
        notes=params.notes,
        config=dict(config),
        dir=str(run_dir),
        id=run_id,
        resume="allow" if run_id else None,
        save_code=params.save_code,
    )
    # Steps of a resumed wandb run restart at 0 offline; the env step is the only x-axis we trust.
    run.define_metric("env_step")
    run.define_metric("*", step_metric="env_step")
    record_path.write_text(json.dumps({"id": run.id, "mode": mode}) + "\n")
    return run


def artifact_name(algo: str, env: str, run_id: str) -> str:
    """Model artifact name of a run: ``<algo>-<env>-<wandb run id>``."""
    return f"{algo}-{env}-{run_id}"


class WandbSink:
    """Logs metrics as ``<split>/<metric>`` with ``env_step`` as x-axis, and checkpoints as model artifacts."""

    splits = DETERMINISTIC_SPLITS | {"timing"}

    def __init__(self, run: Any, *, artifact: str | None) -> None:
        self.run = run
        self._artifact = artifact

    def write(self, split: str, step: int, metrics: Mapping[str, Scalar]) -> None:
        data: dict[str, Scalar] = {f"{split}/{key}": value for key, value in metrics.items() if value is not None}
        data["env_step"] = step
        self.run.log(data)

    def log_checkpoint(self, path: Path, step: int, metadata: Mapping[str, Any]) -> None:
        """Log the checkpoint directory as a ``model`` artifact with aliases ``latest`` and ``step-<N>``."""
        if self._artifact is None:
            return
        import wandb

        artifact = wandb.Artifact(self._artifact, type="model", metadata=dict(metadata))
        artifact.add_dir(str(path))
        self.run.log_artifact(artifact, aliases=["latest", f"step-{step}"])

    def log_video(self, path: Path, step: int) -> None:
        """Log a test episode's GIF as ``test/video``; a GIF path needs none of wandb's media extras (moviepy)."""
        import wandb

        self.run.log({"test/video": wandb.Video(str(path)), "env_step": step})

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.run.finish()
