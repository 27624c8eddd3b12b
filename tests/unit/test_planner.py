"""The memory planner and its independent checker."""

from __future__ import annotations

import random

import pytest

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.ir.passes import run_passes
from tinyforge.model.tflite import read_tflite
from tinyforge.plan.arena import Buffer, MemoryPlan, check_plan, plan_memory


def chain_graph(sizes: list[int], skips: list[tuple[int, int]]) -> Graph:
    """A chain of ops t0 -> t1 -> ... with extra skip edges (src tensor read again by a later op)."""
    tensors = [Tensor(i, f"t{i}", (s,), "int8") for i, s in enumerate(sizes)]
    ops = []
    for i in range(1, len(sizes)):
        ins = [i - 1] + [src for src, dst in skips if dst == i]
        ops.append(Op(i - 1, "ADD", tuple(ins), (i,)))
    return Graph(tuple(tensors), tuple(ops), (0,), (len(sizes) - 1,))


@pytest.mark.parametrize("seed", range(30))
def test_random_graphs_plan_valid_and_tight(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 25)
    sizes = [rng.randint(1, 5000) for _ in range(n)]
    skips = []
    for _ in range(rng.randint(0, 5)):
        a = rng.randint(0, n - 2)
        b = rng.randint(a + 1, n - 1)
        skips.append((a, b))
    g = chain_graph(sizes, skips)
    plan = plan_memory(g)
    assert check_plan(plan) == []
    assert plan.arena_bytes >= plan.liveness_bound - 16 * n
    # a plain chain needs no more than the two largest neighbours (plus alignment)
    if not skips:
        worst = max(sizes[i] + sizes[i + 1] for i in range(n - 1))
        assert plan.arena_bytes <= worst + 32 * n


def test_checker_catches_overlap():
    bufs = (Buffer(0, 100, -1, 1), Buffer(1, 100, 0, 2))
    bad = MemoryPlan({0: 0, 1: 64}, bufs, 256, 16, 200)
    problems = check_plan(bad)
    assert problems and "overlap" in problems[0]
    assert check_plan(MemoryPlan({0: 0, 1: 112}, bufs, 256, 16, 200)) == []
    assert "aligned" in check_plan(MemoryPlan({0: 0, 1: 120}, bufs, 256, 16, 200))[0]
    assert "exceeds" in check_plan(MemoryPlan({0: 0, 1: 208}, bufs, 256, 16, 200))[0]


ARENA_GOALS = {"kws": 16_000, "resnet": 49_152, "vww": 73_728, "ad": 768}


@pytest.mark.parametrize("key", sorted(ARENA_GOALS))
def test_shared_models_arena_within_tflm(shared_models, key):
    g = run_passes(read_tflite(shared_models[key]).graph)
    plan = plan_memory(g)
    assert check_plan(plan) == []
    assert plan.arena_bytes <= ARENA_GOALS[key]


def test_reshape_is_aliased(shared_models):
    g = run_passes(read_tflite(shared_models["kws"]).graph)
    assert "RESHAPE" not in [op.kind for op in g.ops]
    assert len(g.aliases) == 1


def test_in_place_add_shares_its_dying_input(shared_models):
    from tinyforge import api
    from tinyforge.plan.arena import check_plan

    c = api.compile(shared_models["resnet"], "host")
    adds = [lay.op for lay in c.layers if lay.op.kind == "ADD"]
    assert adds
    for op in adds:
        assert c.graph.storage(op.outputs[0]) in {c.graph.storage(i) for i in op.inputs}
    assert check_plan(c.plan) == []
    assert c.stats.arena_bytes <= c.stats.liveness_bound
