"""Node algorithms: what a level stores for learning (HAC, HiTS, EAT's top level) on top of a shared learner/replay core."""

from graph_rl.algorithms.base import Algorithm, EpisodeArrays, RelabelledBatch, Transition
from graph_rl.algorithms.eat import EAT, IntraActions
from graph_rl.algorithms.hac import HAC
from graph_rl.algorithms.hits import HiTS

__all__ = ["Algorithm", "EpisodeArrays", "RelabelledBatch", "Transition", "HAC", "HiTS", "EAT", "IntraActions"]
