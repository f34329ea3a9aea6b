"""Metric logging: one :class:`Logger` fanning events out to ``metrics.jsonl``, CSV, TensorBoard and wandb sinks."""

from graph_rl.logging.logger import ALL_SPLITS, DETERMINISTIC_SPLITS, Logger, Sink, metrics_line, to_scalar
from graph_rl.logging.sinks import ConsoleSink, CsvSink, JsonlSink, TensorBoardSink, TimingSink, truncate_after_step

__all__ = [
    "ALL_SPLITS",
    "DETERMINISTIC_SPLITS",
    "Logger",
    "Sink",
    "metrics_line",
    "to_scalar",
    "ConsoleSink",
    "CsvSink",
    "JsonlSink",
    "TensorBoardSink",
    "TimingSink",
    "truncate_after_step",
]
