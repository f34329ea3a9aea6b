"""Process-wide determinism settings (a safety net; library code never draws from global RNGs)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int, deterministic: bool = True, warn_only: bool = False) -> None:
    """Seed Python, numpy and torch global RNGs and switch torch to deterministic kernels.

    The global seeds only guard third-party code; graph_rl itself draws every random number from
    :class:`graph_rl.rng.RngRegistry` streams. ``PYTHONHASHSEED`` cannot be changed for a running
    interpreter: it is exported here for child processes, the CLI re-executes itself to apply it, and
    no graph_rl code lets hash order influence results.
    """
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        # Must be set before the first cuBLAS call; harmless on CPU and on torch versions that ignore it.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=warn_only)
