"""Rewrites of a `.tflite` flatbuffer's constant tensors into the plain form the rest of tinyforge
(and TFLite Micro) reads, done on the schema's object model:

densify(model)        sparse tensors (`sparsity`: TF's converter with Optimize.EXPERIMENTAL_SPARSITY
                      writes them for pruned weights) become dense, and DENSIFY ops become the
                      constant they compute. TFLite Micro has no DENSIFY kernel and reads a sparse
                      FULLY_CONNECTED weight buffer as if it were dense, so the densified model is
                      also the one the reference interpreter runs.
fold_float16(model)   DEQUANTIZE ops that turn a constant float16 tensor into float32 (TF's
                      `supported_types=[tf.float16]`) become a float32 constant.

The sparse format is TFLite's: `traversal_order` lists the expanded dimensions (the tensor's own,
then one per entry of `block_map` for the inside of a block) in storage order; `dim_metadata[i]`
describes the i-th of them, DENSE (`dense_size` indices) or SPARSE_CSR (`array_segments[p]` ..
`array_segments[p+1]` are the stored positions under parent position p, `array_indices` their
indices). Values are stored in that traversal order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyforge.errors import ModelError

_NP_TYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 7: np.int16, 9: np.int8, 4: np.int64}
_DENSE, _SPARSE_CSR = 0, 1


def schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    return s


@dataclass(frozen=True)
class Rewrite:
    """What a rewrite did (for inspect and convert's notes)."""

    densified: tuple[int, ...] = ()  # tensor indices (subgraph 0) that were sparse
    folded_ops: tuple[str, ...] = ()  # "DENSIFY" / "DEQUANTIZE(float16)" per folded op

    @property
    def changed(self) -> bool:
        return bool(self.densified or self.folded_ops)


def _ints(v: Any) -> np.ndarray:
    if v is None:
        return np.zeros(0, np.int64)
    values = getattr(v, "values", v)
    return np.asarray(values if values is not None else [], dtype=np.int64)


def densify_values(
    shape: tuple[int, ...], values: np.ndarray, sparsity: Any, where: str = "tensor"
) -> np.ndarray:
    """The dense array of a tensor stored in TFLite's sparse format (see the module doc)."""
    n = len(shape)
    order = [int(d) for d in _ints(sparsity.traversalOrder)]
    block_map = [int(d) for d in _ints(sparsity.blockMap)]
    meta = list(sparsity.dimMetadata or [])
    k = len(block_map)
    if sorted(order) != list(range(n + k)) or len(meta) != n + k:
        raise ModelError(f"{where}: sparsity has {len(meta)} dimension records for {n} dims + {k} blocks")
    block_size = {}
    for j, dim in enumerate(block_map):
        m = meta[order.index(n + j)]
        if int(m.format) != _DENSE or int(m.denseSize) <= 0 or shape[dim] % int(m.denseSize):
            raise ModelError(
                f"{where}: block {j} of dim {dim} is not a dense block that divides {shape[dim]}"
            )
        block_size[dim] = int(m.denseSize)
    positions = np.zeros(1, np.int64)
    coords = np.zeros((1, 0), np.int64)
    for level, dim in enumerate(order):
        m = meta[level]
        if int(m.format) == _DENSE:
            size = int(m.denseSize)
            positions = (positions[:, None] * size + np.arange(size)[None, :]).reshape(-1)
            coords = np.concatenate(
                [np.repeat(coords, size, axis=0), np.tile(np.arange(size), len(coords))[:, None]], axis=1
            )
        elif int(m.format) == _SPARSE_CSR:
            seg, idx = _ints(m.arraySegments), _ints(m.arrayIndices)
            if positions.size and (positions.max() + 1 >= seg.size or seg[-1] > idx.size):
                raise ModelError(f"{where}: sparse dimension {dim}'s segments do not cover its parents")
            starts, ends = seg[positions], seg[positions + 1]
            counts = ends - starts
            # positions starts[p] .. ends[p]-1 for every parent p, in parent order
            offsets = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
                np.cumsum(counts) - counts, counts
            )
            new_pos = np.repeat(starts, counts) + offsets
            coords = np.concatenate([np.repeat(coords, counts, axis=0), idx[new_pos][:, None]], axis=1)
            positions = new_pos
        else:
            raise ModelError(f"{where}: unknown sparse dimension format {m.format}")
    if positions.size != values.size:
        raise ModelError(
            f"{where}: sparse metadata addresses {positions.size} values, the buffer holds {values.size}"
        )
    full = np.zeros(shape, dtype=values.dtype)
    orig = np.zeros((coords.shape[0], n), np.int64)
    for level, dim in enumerate(order):
        if dim < n:
            orig[:, dim] += coords[:, level] * block_size.get(dim, 1)
        else:
            orig[:, block_map[dim - n]] += coords[:, level]
    if np.any(orig >= np.asarray(shape)[None, :]):
        raise ModelError(f"{where}: a sparse index lies outside the shape {list(shape)}")
    full[tuple(orig.T)] = values[positions]
    return full


def _buffer_bytes(model: Any, index: int) -> bytes | None:
    bufs = model.buffers or []
    if not 0 < index < len(bufs) or bufs[index].data is None:
        return None
    return np.asarray(bufs[index].data, dtype=np.uint8).tobytes()


def _new_buffer(model: Any, data: bytes) -> int:
    b = schema().BufferT()
    b.data = np.frombuffer(data, dtype=np.uint8).copy()
    model.buffers.append(b)
    return len(model.buffers) - 1


def _opcode_names(model: Any) -> list[str]:
    names = {v: k for k, v in vars(schema().BuiltinOperator).items() if not k.startswith("_")}
    return [
        str(names.get(max(int(c.builtinCode), int(c.deprecatedBuiltinCode)), "?"))
        for c in model.operatorCodes or []
    ]


def densify(model: Any, path: str = "<model>") -> Rewrite:
    """Make every sparse tensor dense and fold DENSIFY ops (in place on a schema ModelT)."""
    densified: list[int] = []
    folded: list[str] = []
    kinds = _opcode_names(model)
    for g, sg in enumerate(model.subgraphs or []):
        tensors = sg.tensors or []
        for i, t in enumerate(tensors):
            if t.sparsity is None:
                continue
            raw = _buffer_bytes(model, t.buffer)
            if raw is None or t.type not in _NP_TYPES:
                raise ModelError(f"{path}: sparse tensor {i} holds no constant data tinyforge can read")
            shape = tuple(int(d) for d in _ints(t.shape))
            values = np.frombuffer(raw, dtype=np.dtype(_NP_TYPES[t.type]).newbyteorder("<"))
            where = f"{path}: sparse tensor {i} ({_name(t)})"
            dense = densify_values(shape, values, t.sparsity, where)
            t.buffer = _new_buffer(model, dense.astype(dense.dtype.newbyteorder("<")).tobytes())
            t.sparsity = None
            if g == 0:
                densified.append(i)
        kept = []
        for op in sg.operators or []:
            if kinds[op.opcodeIndex] == "DENSIFY" and op.inputs is not None and len(op.inputs) == 1:
                src, dst = tensors[int(op.inputs[0])], tensors[int(op.outputs[0])]
                if _buffer_bytes(model, src.buffer) is not None:
                    dst.buffer = src.buffer
                    folded.append("DENSIFY")
                    continue
            kept.append(op)
        sg.operators = kept
    _drop_unused_buffers(model)
    return Rewrite(tuple(densified), tuple(folded))


def fold_float16(model: Any) -> Rewrite:
    """DEQUANTIZE(constant float16) -> float32 constant, in place on a schema ModelT."""
    folded: list[str] = []
    kinds = _opcode_names(model)
    for sg in model.subgraphs or []:
        tensors = sg.tensors or []
        kept = []
        for op in sg.operators or []:
            if kinds[op.opcodeIndex] == "DEQUANTIZE" and op.inputs is not None and len(op.inputs) == 1:
                src, dst = tensors[int(op.inputs[0])], tensors[int(op.outputs[0])]
                raw = _buffer_bytes(model, src.buffer)
                if src.type == 1 and dst.type == 0 and raw is not None:  # FLOAT16 -> FLOAT32
                    values = np.frombuffer(raw, dtype="<f2").astype("<f4")
                    dst.buffer = _new_buffer(model, values.tobytes())
                    folded.append("DEQUANTIZE(float16)")
                    continue
            kept.append(op)
        sg.operators = kept
    _drop_unused_buffers(model)
    return Rewrite((), tuple(folded))


def _drop_unused_buffers(model: Any) -> None:
    """Empty the buffers no tensor or metadata entry refers to any more (the sparse originals)."""
    used = {int(t.buffer) for sg in model.subgraphs or [] for t in sg.tensors or []}
    used |= {int(m.buffer) for m in model.metadata or []}
    for i, b in enumerate(model.buffers or []):
        if i and i not in used and b.data is not None:
            b.data = None


def _name(t: Any) -> str:
    n = t.name
    return n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n or "")


def pack(model: Any, size_hint: int = 1024) -> bytes:
    import flatbuffers

    builder = flatbuffers.Builder(size_hint + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def needs_densify(model: Any) -> bool:
    if any(t.sparsity is not None for sg in model.subgraphs or [] for t in sg.tensors or []):
        return True
    return "DENSIFY" in _opcode_names(model)


def normalized_float_tflite(data: bytes, path: str = "<model>") -> tuple[bytes, Rewrite]:
    """A float .tflite with sparse tensors densified and float16 constants made float32 (what
    ai-edge-quantizer reads); the same bytes when there is nothing to do."""
    model = schema().ModelT.InitFromPackedBuf(bytearray(data), 0)
    a = densify(model, path)
    b = fold_float16(model)
    if not (a.changed or b.changed):
        return data, Rewrite()
    return pack(model, len(data)), Rewrite(a.densified, a.folded_ops + b.folded_ops)
