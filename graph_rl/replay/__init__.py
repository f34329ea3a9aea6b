"""Replay storage for the node algorithms."""

from graph_rl.replay.buffer import ReplayBatch, ReplayBuffer

__all__ = ["ReplayBatch", "ReplayBuffer"]
