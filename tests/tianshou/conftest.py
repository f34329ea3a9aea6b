"""Single-threaded torch for the tianshou tests, as train.py runs (torch_num_threads = 1).

tianshou's many tiny ops slow down by an order of magnitude when two intra-op threads compete with other
processes for the cores (measured: 0.38 s instead of 25 ms per update on a loaded 2-core machine).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def single_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
