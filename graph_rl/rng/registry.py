"""Named random streams derived from one seed.

Every random draw in graph_rl comes from a stream that a component asks for by a stable name
(``env/train``, ``node/<name>/explore``, ...). The stream's seed depends only on the run seed and
the name, never on which other streams exist or in which order they were created, so adding a
component never shifts another component's random numbers.

A name is turned into spawn-key words by hashing it (BLAKE2b, not Python's salted ``hash``), and
``SeedSequence(seed, spawn_key=...)`` gives statistically independent, non-overlapping streams.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch

__all__ = ["RngRegistry", "name_to_spawn_key"]


def name_to_spawn_key(name: str) -> tuple[int, ...]:
    """Stable 4x32-bit key for a stream name (independent of PYTHONHASHSEED)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RngRegistry:
    """Hands out one numpy and/or torch generator per stream name, and saves/restores their states.

    Asking twice for the same name returns the same generator object, so a component can fetch its
    stream lazily. ``state_dict`` captures every stream handed out; ``load_state_dict`` restores them
    (streams created later from a restored registry start from their fresh seed, as in the original run).
    """

    def __init__(self, seed: int) -> None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed)
        self._numpy: dict[str, np.random.Generator] = {}
        self._torch: dict[tuple[str, str], torch.Generator] = {}
        self._pending_numpy: dict[str, Any] = {}
        self._pending_torch: dict[tuple[str, str], torch.Tensor] = {}

    def seed_sequence(self, name: str) -> np.random.SeedSequence:
        """The SeedSequence behind stream ``name``."""
        return np.random.SeedSequence(self.seed, spawn_key=name_to_spawn_key(name))

    def int_seed(self, name: str, bits: int = 63) -> int:
        """A plain integer seed for stream ``name`` (for APIs that only take ints, e.g. ``env.reset``)."""
        word = int(self.seed_sequence(name).generate_state(1, np.uint64)[0])
        return word >> (64 - bits)

    def numpy(self, name: str) -> np.random.Generator:
        """The numpy generator of stream ``name`` (created on first request)."""
        gen = self._numpy.get(name)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name)))
            if name in self._pending_numpy:
                gen.bit_generator.state = self._pending_numpy.pop(name)
            self._numpy[name] = gen
        return gen

    def torch(self, name: str, device: str | torch.device = "cpu") -> torch.Generator:
        """The torch generator of stream ``name`` on ``device`` (created on first request)."""
        dev = torch.device(device)
        dev_key = dev.type
        key = (name, dev_key)
        gen = self._torch.get(key)
        if gen is None:
            gen = torch.Generator(device=dev)
            gen.manual_seed(self.int_seed(name + "#torch"))
            if key in self._pending_torch:
                gen.set_state(self._pending_torch.pop(key))
            self._torch[key] = gen
        return gen

    def names(self) -> list[str]:
        """Names of all streams handed out so far, sorted."""
        return sorted(set(self._numpy) | {name for name, _ in self._torch})

    def state_dict(self) -> dict[str, Any]:
        """States of every stream handed out so far (plus restored states not yet claimed)."""
        numpy_states = dict(self._pending_numpy)
        numpy_states.update({n: g.bit_generator.state for n, g in self._numpy.items()})
        torch_states = {f"{n}@{d}": s.clone() for (n, d), s in self._pending_torch.items()}
        torch_states.update({f"{n}@{d}": g.get_state() for (n, d), g in self._torch.items()})
        return {"seed": self.seed, "numpy": numpy_states, "torch": torch_states}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore stream states; streams not yet created pick theirs up when first requested."""
        if int(state["seed"]) != self.seed:
            raise ValueError(f"checkpoint RNG seed {state['seed']} differs from run seed {self.seed}")
        for name, st in state["numpy"].items():
            if name in self._numpy:
                self._numpy[name].bit_generator.state = st
            else:
                self._pending_numpy[name] = st
        for key, st in state["torch"].items():
            name, _, dev = key.rpartition("@")
            if (name, dev) in self._torch:
                self._torch[(name, dev)].set_state(st)
            else:
                self._pending_torch[(name, dev)] = st
