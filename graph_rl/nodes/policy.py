"""How a node picks its outgoing edge and its action.

A policy maps the node's flat observation to ``(child index, action in [-1, 1]^n)``; the node maps
the unit action onto its action space. The default, :class:`AlgorithmPolicy`, has one outgoing edge
and lets the node's algorithm act (learner + exploration). A node with several children gets a policy
that chooses among them, e.g. a scripted one in tests or a learned selector.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from graph_rl.algorithms import Algorithm

__all__ = ["Policy", "AlgorithmPolicy"]


class Policy(Protocol):
    """``(obs, deterministic) -> (child index, unit action)``."""

    def __call__(self, obs: np.ndarray, deterministic: bool) -> tuple[int, np.ndarray]: ...


class AlgorithmPolicy:
    """Always edge 0; the action comes from the algorithm (stochastic unless ``deterministic``)."""

    def __init__(self, algorithm: Algorithm) -> None:
        self.algorithm = algorithm

    def __call__(self, obs: np.ndarray, deterministic: bool) -> tuple[int, np.ndarray]:
        return 0, self.algorithm.act(obs, deterministic)
