"""ReplayBuffer: ring semantics, batch adds, generator-only sampling, state round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graph_rl.replay import ReplayBatch, ReplayBuffer


def transition(i: int, obs_dim: int = 3, act_dim: int = 2) -> tuple:
    """A transition whose every field encodes ``i``, so rows can be identified after sampling."""
    obs = np.full(obs_dim, i, dtype=np.float32)
    return obs, np.full(act_dim, -i, dtype=np.float32), float(10 * i), obs + 0.5, i % 2 == 1, float(i % 4 + 1)


def stored_ids(buffer: ReplayBuffer) -> list[int]:
    return [int(row[0]) for row in buffer.state_dict()["rows"].numpy()]


def test_add_wraps_around_keeping_the_newest() -> None:
    buffer = ReplayBuffer(3, 3, 2, np.random.default_rng(0))
    assert len(buffer) == 0 and buffer.capacity == 3
    for i in range(5):
        buffer.add(*transition(i))
    assert len(buffer) == 3
    assert stored_ids(buffer) == [3, 4, 2]  # ring positions: 3 and 4 overwrote 0 and 1
    assert buffer.state_dict()["ptr"] == 2


@pytest.mark.parametrize("first, count", [(0, 2), (2, 4), (1, 7)])
def test_add_batch_equals_repeated_add(first: int, count: int) -> None:
    one, many = (ReplayBuffer(5, 3, 2, np.random.default_rng(0)) for _ in range(2))
    for i in range(first):
        one.add(*transition(i))
        many.add(*transition(i))
    fields = [transition(i) for i in range(first, first + count)]
    for f in fields:
        one.add(*f)
    many.add_batch(*(np.array([f[k] for f in fields]) for k in range(6)))
    a, b = one.state_dict(), many.state_dict()
    assert (a["ptr"], a["size"]) == (b["ptr"], b["size"])
    assert torch.equal(a["rows"], b["rows"])


def test_add_batch_default_discount_exponent_is_one() -> None:
    buffer = ReplayBuffer(4, 1, 1, np.random.default_rng(0))
    buffer.add_batch(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(2), np.zeros((2, 1)), np.zeros(2))
    assert torch.equal(buffer.sample(8).discount_exponent, torch.ones(8))


def test_sample_returns_stored_transitions() -> None:
    buffer = ReplayBuffer(10, 3, 2, np.random.default_rng(0))
    for i in range(6):
        buffer.add(*transition(i))
    batch = buffer.sample(50)
    assert isinstance(batch, ReplayBatch)
    assert batch.obs.shape == (50, 3) and batch.act.shape == (50, 2) and batch.rew.shape == (50,)
    assert all(t.dtype == torch.float32 for t in batch)
    ids = batch.obs[:, 0].long()
    assert set(ids.tolist()) <= set(range(6))
    assert torch.equal(batch.act, -batch.obs[:, :2])
    assert torch.equal(batch.rew, 10 * ids.float())
    assert torch.equal(batch.next_obs, batch.obs + 0.5)
    assert torch.equal(batch.done, (ids % 2).float())
    assert torch.equal(batch.discount_exponent, (ids % 4 + 1).float())


def test_transitions_are_the_stored_observations_and_actions() -> None:
    buffer = ReplayBuffer(8, obs_dim=3, act_dim=2, rng=np.random.default_rng(0))
    for i in range(5):
        obs, act = np.full(3, i, np.float32), np.full(2, -i / 10, np.float32)
        buffer.add(obs, act, -1.0, obs + 100, False)
    stored = buffer.transitions()
    assert stored.obs.tolist() == [[float(i)] * 3 for i in range(5)]
    assert np.allclose(stored.act.numpy(), [[-i / 10] * 2 for i in range(5)])
    assert stored.next_obs.tolist() == [[100.0 + i] * 3 for i in range(5)]
    assert stored.rew.tolist() == [-1.0] * 5 and stored.done.tolist() == [0.0] * 5


def test_sampling_uses_only_its_generator() -> None:
    def run(disturb: bool) -> list[torch.Tensor]:
        buffer = ReplayBuffer(100, 3, 2, np.random.default_rng(42))
        for i in range(100):
            buffer.add(*transition(i))
        out = []
        for k in range(3):
            if disturb:
                np.random.seed(k)
                torch.manual_seed(k)
                np.random.rand()
            out.append(buffer.sample(16).obs[:, 0])
        return out

    for a, b in zip(run(False), run(True)):
        assert torch.equal(a, b)
    expected = np.random.default_rng(42).integers(0, 100, size=16)
    assert run(False)[0].long().tolist() == expected.tolist()


def test_state_dict_round_trip() -> None:
    source = ReplayBuffer(4, 3, 2, np.random.default_rng(0))
    for i in range(6):
        source.add(*transition(i))
    state = source.state_dict()
    assert state["rows"].shape == (4, 3 + 3 + 2 + 3)
    restored = ReplayBuffer(4, 3, 2, np.random.default_rng(0))
    restored.load_state_dict(state)
    assert len(restored) == 4
    for buffer in (source, restored):
        buffer.add(*transition(9))
    assert torch.equal(source.state_dict()["rows"], restored.state_dict()["rows"])
    for a, b in zip(source.sample(32), restored.sample(32)):
        assert torch.equal(a, b)


def test_state_dict_of_partly_filled_buffer_stores_only_filled_rows() -> None:
    buffer = ReplayBuffer(100, 3, 2, np.random.default_rng(0))
    buffer.add(*transition(1))
    state = buffer.state_dict()
    assert state["rows"].shape[0] == 1 and state["size"] == 1 and state["ptr"] == 1
    other = ReplayBuffer(100, 3, 2, np.random.default_rng(0))
    other.load_state_dict(state)
    assert stored_ids(other) == [1]


def test_errors() -> None:
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(4, 3, 2, np.random.default_rng(0)).sample(1)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, 3, 2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        ReplayBuffer(4, 3, 2, 0)  # type: ignore[arg-type]
    state = ReplayBuffer(4, 3, 2, np.random.default_rng(0)).state_dict()
    with pytest.raises(ValueError, match="obs_dim"):
        ReplayBuffer(4, 5, 2, np.random.default_rng(0)).load_state_dict(state)
