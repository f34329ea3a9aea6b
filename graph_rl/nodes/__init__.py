"""Nodes: one level of an agent graph = policy + subtask + algorithm."""

from graph_rl.nodes.node import Activation, Feedback, Node
from graph_rl.nodes.policy import AlgorithmPolicy, Policy

__all__ = ["Activation", "Feedback", "Node", "AlgorithmPolicy", "Policy"]
