"""A fixture that runs a test module's tests on one torch thread; import it into a module to apply it there.

Tiny matmuls with OpenMP threads stall on a busy 2-core machine (tianshou's many small ops slow down about 15x),
and train.py runs one thread too. The previous setting is restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
