"""RNG registry: streams depend only on (seed, name), are independent, and checkpoint exactly."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from graph_rl.rng import RngRegistry, name_to_spawn_key, seed_everything


def test_same_name_same_stream_regardless_of_other_streams() -> None:
    a = RngRegistry(7)
    expected = a.numpy("node/low/replay").random(5)
    b = RngRegistry(7)
    b.numpy("node/extra/replay").random(100)  # an added component draws first
    b.torch("node/extra/init")
    np.testing.assert_array_equal(b.numpy("node/low/replay").random(5), expected)


def test_torch_stream_isolated_from_other_streams() -> None:
    a = RngRegistry(3)
    expected = torch.rand(4, generator=a.torch("node/x/explore"))
    b = RngRegistry(3)
    torch.rand(50, generator=b.torch("node/y/explore"))
    assert torch.equal(torch.rand(4, generator=b.torch("node/x/explore")), expected)


def test_distinct_names_and_seeds_give_distinct_streams() -> None:
    r = RngRegistry(0)
    assert r.int_seed("env/train") != r.int_seed("env/test")
    assert not np.array_equal(r.numpy("a").random(4), r.numpy("b").random(4))
    assert RngRegistry(1).int_seed("env/train") != RngRegistry(2).int_seed("env/train")


def test_same_generator_object_returned() -> None:
    r = RngRegistry(0)
    assert r.numpy("a") is r.numpy("a")
    assert r.torch("a") is r.torch("a")
    assert r.names() == ["a"]


def test_state_dict_round_trip_including_streams_created_later() -> None:
    r = RngRegistry(11)
    r.numpy("a").random(3)
    torch.rand(3, generator=r.torch("b"))
    state = r.state_dict()
    cont_a, cont_b = r.numpy("a").random(2), torch.rand(2, generator=r.torch("b"))
    restored = RngRegistry(11)
    restored.load_state_dict(state)  # streams not yet created: restored on first request
    np.testing.assert_array_equal(restored.numpy("a").random(2), cont_a)
    assert torch.equal(torch.rand(2, generator=restored.torch("b")), cont_b)


def test_load_rejects_other_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        RngRegistry(2).load_state_dict(RngRegistry(1).state_dict())


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_seed(bad: object) -> None:
    with pytest.raises(ValueError):
        RngRegistry(bad)  # type: ignore[arg-type]


def test_spawn_key_independent_of_hash_seed() -> None:
    code = "from graph_rl.rng import name_to_spawn_key; print(name_to_spawn_key('node/a/her'))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONHASHSEED": s, "PATH": ""}, check=True
        ).stdout
        for s in ("1", "2")
    }
    assert outs == {f"{name_to_spawn_key('node/a/her')}\n"}


def test_seed_everything_sets_determinism() -> None:
    try:
        seed_everything(5)
        assert torch.are_deterministic_algorithms_enabled()
        first = torch.rand(2)
        seed_everything(5)
        assert torch.equal(torch.rand(2), first)
    finally:
        torch.use_deterministic_algorithms(False)
