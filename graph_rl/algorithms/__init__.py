"""Node algorithms: what a level stores for learning (HAC, HiTS, EAT's top level) on top of a shared learner/replay core."""

from graph_rl.algorithms.base import (
    ActionHook,
    Algorithm,
    EpisodeArrays,
    PendingAction,
    RelabelledBatch,
    Transition,
    learn_together,
)
from graph_rl.algorithms.eat import EAT
from graph_rl.algorithms.hac import HAC
from graph_rl.algorithms.hits import HiTS

__all__ = [
    "ActionHook",
    "Algorithm",
    "EpisodeArrays",
    "PendingAction",
    "RelabelledBatch",
    "Transition",
    "learn_together",
    "HAC",
    "HiTS",
    "EAT",
]
