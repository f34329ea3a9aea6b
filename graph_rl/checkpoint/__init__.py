"""Checkpoints of the whole training state, and the sources ``--resume`` accepts (local paths, wandb artifacts)."""

from graph_rl.checkpoint.checkpoint import (
    FORMAT_VERSION,
    Checkpoint,
    CheckpointError,
    find_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_checkpoint_config,
    point_latest,
    remove_checkpoints,
    save_checkpoint,
)
from graph_rl.checkpoint.source import ResumeSourceError, WandbSource, parse_resume_source, resolve_resume_source

__all__ = [
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "find_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_checkpoint_config",
    "point_latest",
    "remove_checkpoints",
    "save_checkpoint",
    "ResumeSourceError",
    "WandbSource",
    "parse_resume_source",
    "resolve_resume_source",
]
