"""Static memory planning: lifetimes of every activation buffer -> offsets in one aligned arena.

Variable (state) tensors get a buffer live from before the first op to after the last, so no
other buffer ever shares their bytes and their values survive from one invocation to the next.

`plan_memory` is a greedy best-fit planner (largest buffers first, lowest free offset among
buffers whose lifetimes overlap); `check_plan` is an independent checker that proves no two live
buffers overlap, used in tests and after every plan. Tied buffers (Graph.ties: a kernel writes
its output a fixed number of bytes before its input and may overlap it) are placed as one group
at fixed distances; the checker lets exactly those pairs overlap and checks the distances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from tinyforge.ir.graph import Graph

ALIGN = 16


def _align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass(frozen=True)
class Buffer:
    """One arena buffer: the storage of one or more tensors (aliases share it)."""

    tensor: int  # the storage tensor index
    size: int
    first: int  # op position that writes it (-1: graph input, written before the first op)
    last: int  # op position that last reads it (len(ops): graph output, read after the last op)


@dataclass(frozen=True)
class MemoryPlan:
    offsets: Mapping[int, int]  # storage tensor index -> arena offset
    buffers: tuple[Buffer, ...]
    arena_bytes: int
    alignment: int
    liveness_bound: int  # max over op positions of the bytes live at that position
    ties: Mapping[int, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def offset_of(self, graph: Graph, tensor: int) -> int:
        return self.offsets[graph.storage(tensor)]


def scratch_key(position: int) -> int:
    """The buffer key of the scratch space of the op at `position` (negative: not a tensor)."""
    return -(position + 1)


def lifetimes(graph: Graph, scratch: Mapping[int, int] | None = None) -> list[Buffer]:
    """Buffers with [first, last] op positions: one per storage tensor, plus one per op that
    needs scratch (`scratch`: op position -> bytes), live only during that op."""
    n = len(graph.ops)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in graph.inputs:
        s = graph.storage(t)
        first[s] = -1
        last[s] = max(last.get(s, -1), -1)
    for pos, op in enumerate(graph.ops):
        for t in op.outputs:
            s = graph.storage(t)
            first.setdefault(s, pos)
            last[s] = max(last.get(s, pos), pos)
        for t in op.inputs:
            if t < 0 or graph.tensor(t).is_constant:
                continue
            s = graph.storage(t)
            first.setdefault(s, pos)
            last[s] = max(last.get(s, pos), pos)
    for t in graph.outputs:
        s = graph.storage(t)
        first.setdefault(s, -1)
        last[s] = n
    for state in graph.state_tensors():  # state outlives every invocation: never shared
        s = graph.storage(state.index)
        first[s], last[s] = -1, n
    out = []
    for s in sorted(first):
        size = max(graph.tensor(t).nbytes for t in _members(graph, s))
        out.append(Buffer(s, size, first[s], last[s]))
    for pos, nbytes in sorted((scratch or {}).items()):
        if nbytes > 0:
            out.append(Buffer(scratch_key(pos), nbytes, pos, pos))
    return out


def _members(graph: Graph, storage: int) -> list[int]:
    return [storage] + [t for t in graph.aliases if graph.storage(t) == storage]


def _overlap(a: Buffer, b: Buffer) -> bool:
    return a.first <= b.last and b.first <= a.last


def liveness_bound(buffers: Sequence[Buffer], n_ops: int) -> int:
    best = 0
    for pos in range(-1, n_ops + 1):
        best = max(best, sum(b.size for b in buffers if b.first <= pos <= b.last))
    return best


def _gaps(busy: list[tuple[int, int]], need: int) -> tuple[int, list[tuple[int, int]]]:
    """Lowest offset where `need` bytes fit between busy intervals, and the free gaps."""
    gaps = []
    cursor = 0
    for start, end in busy:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    gaps.append((cursor, 1 << 62))
    low = next(g0 for g0, g1 in gaps if g1 - g0 >= need)
    return low, gaps


def tie_groups(buffers: Sequence[Buffer], ties: Mapping[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Buffer key -> (group root, position relative to the group's lowest member); a buffer without
    ties is its own group at 0."""
    keys = {b.tensor for b in buffers}
    rel: dict[int, tuple[int, int]] = {k: (k, 0) for k in keys}

    def root(k: int) -> tuple[int, int]:
        pos = 0
        while k in ties and ties[k][0] in keys:
            anchor, delta = ties[k]
            pos += delta
            k = anchor
        return k, pos

    for k in keys:
        rel[k] = root(k)
    low: dict[int, int] = {}
    for r, pos in rel.values():
        low[r] = min(low.get(r, 0), pos)
    return {k: (r, pos - low[r]) for k, (r, pos) in rel.items()}


def _place(
    order: list[Buffer], limit: int, mode: str, alignment: int, groups: Mapping[int, tuple[int, int]]
) -> dict[int, int]:
    placed: list[tuple[Buffer, int]] = []
    offsets: dict[int, int] = {}
    members: dict[int, list[Buffer]] = {}
    for buf in order:
        members.setdefault(groups[buf.tensor][0], []).append(buf)
    for buf in order:
        if buf.tensor in offsets:
            continue
        group = members[groups[buf.tensor][0]]
        if len(group) > 1:
            # the lowest base at which every member fits beside the buffers placed so far
            bases = sorted(
                {0}
                | {
                    max(0, off + _align(b.size, alignment) - groups[m.tensor][1])
                    for m in group
                    for b, off in placed
                    if _overlap(b, m)
                }
            )
            for base in bases:
                if all(
                    not (
                        _overlap(b, m)
                        and off < base + groups[m.tensor][1] + _align(m.size, alignment)
                        and base + groups[m.tensor][1] < off + _align(b.size, alignment)
                    )
                    for m in group
                    for b, off in placed
                ):
                    break
            for m in group:
                offsets[m.tensor] = base + groups[m.tensor][1]
                placed.append((m, offsets[m.tensor]))
            continue
        need = _align(buf.size, alignment)
        busy = sorted((off, off + _align(b.size, alignment)) for b, off in placed if _overlap(b, buf))
        low, gaps = _gaps(busy, need)
        choice = low
        go_high = mode == "high" or (mode == "alternate" and buf.first % 2 == 1)
        if go_high:
            top = (limit - need) // alignment * alignment
            highs = [
                min(g1 - need, top) // alignment * alignment for g0, g1 in gaps if min(g1, limit) - g0 >= need
            ]
            highs = [h for h in highs if h >= 0 and any(g0 <= h and h + need <= g1 for g0, g1 in gaps)]
            if highs:
                choice = max(highs)
        offsets[buf.tensor] = choice
        placed.append((buf, choice))
    return offsets


def plan_memory(graph: Graph, scratch: Mapping[int, int] | None = None, alignment: int = ALIGN) -> MemoryPlan:
    """Try a few orderings and placements; keep the smallest valid arena.

    Orderings: by size, by first use, by lifetime length. Placements: lowest free offset; or
    alternating ends of an arena the size of the liveness bound (optimal for chains: ping-pong).
    """
    buffers = lifetimes(graph, scratch)
    bound = liveness_bound(buffers, len(graph.ops))
    limit = _align(bound, alignment) + alignment * 2
    ties = {k: v for k, v in graph.ties.items() if v[1] % alignment == 0}
    groups = tie_groups(buffers, ties)
    orders = [
        sorted(buffers, key=lambda b: (-b.size, b.first, b.tensor)),
        sorted(buffers, key=lambda b: (b.first, -b.size, b.tensor)),
        sorted(buffers, key=lambda b: (-(b.last - b.first), -b.size, b.tensor)),
    ]
    best: dict[int, int] | None = None
    best_size = 0
    for order in orders:
        for mode in ("low", "alternate", "high"):
            offsets = _place(order, limit, mode, alignment, groups)
            size = max((offsets[b.tensor] + _align(b.size, alignment) for b in buffers), default=0)
            if best is None or size < best_size:
                best, best_size = offsets, size
    plan = MemoryPlan(
        offsets=MappingProxyType(best or {}),
        buffers=tuple(buffers),
        arena_bytes=best_size,
        alignment=alignment,
        liveness_bound=bound,
        ties=MappingProxyType(ties),
    )
    problems = check_plan(plan)
    if problems:
        raise AssertionError("memory planner produced an invalid plan: " + problems[0])
    return plan


def check_plan(plan: MemoryPlan) -> list[str]:
    """Independent verification: alignment, bounds, and no overlap of simultaneously live buffers."""
    problems: list[str] = []
    bufs = list(plan.buffers)
    for b in bufs:
        off = plan.offsets.get(b.tensor)
        if off is None:
            problems.append(f"buffer %{b.tensor} has no offset")
            continue
        if off % plan.alignment:
            problems.append(f"buffer %{b.tensor} at {off} is not {plan.alignment}-aligned")
        if off < 0 or off + b.size > plan.arena_bytes:
            problems.append(
                f"buffer %{b.tensor} [{off}, {off + b.size}) exceeds the arena of {plan.arena_bytes}"
            )
    for out, (anchor, delta) in plan.ties.items():
        if (
            out in plan.offsets
            and anchor in plan.offsets
            and plan.offsets[out] != plan.offsets[anchor] + delta
        ):
            problems.append(f"buffer %{out} is not {delta} bytes after %{anchor}, as tied")
    for i, a in enumerate(bufs):
        for b in bufs[i + 1 :]:
            if not (a.first <= b.last and b.first <= a.last):
                continue
            if (
                plan.ties.get(a.tensor, (None,))[0] == b.tensor
                or plan.ties.get(b.tensor, (None,))[0] == a.tensor
            ):
                continue  # the kernel writes one while reading the other, and may
            oa, ob = plan.offsets.get(a.tensor, 0), plan.offsets.get(b.tensor, 0)
            if oa < ob + b.size and ob < oa + a.size:
                problems.append(
                    f"buffers %{a.tensor} [{oa}, {oa + a.size}) and %{b.tensor} [{ob}, {ob + b.size}) "
                    f"overlap while both live (ops {max(a.first, b.first)}..{min(a.last, b.last)})"
                )
    return problems
