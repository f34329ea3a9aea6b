"""Per-node learners: soft actor-critic on flat observation vectors (no knowledge of nodes or goals)."""

from graph_rl.learners.sac import SACConfig, SACLearner, update_many

__all__ = ["SACConfig", "SACLearner", "update_many"]
