"""Metric logging: one :class:`Logger` fanning events out to ``metrics.jsonl``, CSV, TensorBoard and wandb sinks."""

from graph_rl.logging.logger import ALL_SPLITS, DETERMINISTIC_SPLITS, Logger, Sink, metrics_line, to_scalar
from graph_rl.logging.reader import METRICS_FILE, TIMING_FILE, cumulative_wall_s, read_metrics, read_records
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
    "METRICS_FILE",
    "TIMING_FILE",
    "cumulative_wall_s",
    "read_metrics",
    "read_records",
]
