"""Per-node learners: soft actor-critic on flat observation vectors (no knowledge of nodes or goals)."""

from graph_rl.learners.registry import Learner, learner_names, make_learner, register_learner
from graph_rl.learners.sac import SACConfig, SACLearner, update_many

__all__ = ["Learner", "learner_names", "make_learner", "register_learner", "SACConfig", "SACLearner", "update_many"]
