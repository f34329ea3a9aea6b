"""Training sessions: the train/test loop, run directories, logs, checkpoints and resume."""

from graph_rl.session.run import PreparedRun, make_env, make_goal_env, prepare_run, train
from graph_rl.session.session import EpisodeStats, Session, SessionCounters, SessionResult
from graph_rl.session.setup import ALGOS, RunConfig, RunRequest

__all__ = [
    "ALGOS",
    "EpisodeStats",
    "PreparedRun",
    "RunConfig",
    "RunRequest",
    "Session",
    "SessionCounters",
    "SessionResult",
    "make_env",
    "make_goal_env",
    "prepare_run",
    "train",
]
