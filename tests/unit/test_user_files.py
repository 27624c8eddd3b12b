"""What tinyforge may write (issue 12): `convert` never replaces a file without --force, checked
before any slow work; `--junit` replaces only a tinyforge report. And the sparse-tensor decoder
against an encoder written here from the format's description (TFLite's schema comments)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tinyforge import api
from tinyforge.errors import ModelError, UsageError
from tinyforge.model.normalize import densify_values
from tinyforge.run.testing import check_junit_target

pytestmark = pytest.mark.unit

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits" / "digits.keras"


def test_convert_refuses_existing_output_before_loading(tmp_path: Path) -> None:
    out = tmp_path / "mine.tflite"
    out.write_bytes(b"keep me")
    with pytest.raises(UsageError, match="already exists; not overwriting") as err:
        api.convert(DIGITS, out)
    assert "--force" in (err.value.hint or "")
    assert out.read_bytes() == b"keep me"
    with pytest.raises(UsageError, match="is the model being converted"):
        api.convert(DIGITS, DIGITS)


def test_junit_replaces_only_its_own_reports(tmp_path: Path) -> None:
    other = tmp_path / "notes.xml"
    other.write_text("<notes/>")
    with pytest.raises(UsageError, match="not a tinyforge JUnit report"):
        check_junit_target(other)
    ours = tmp_path / "junit.xml"
    ours.write_text('<testsuite name="tinyforge" tests="1"/>')
    check_junit_target(ours)
    check_junit_target(tmp_path / "new.xml")


def _dim(
    fmt: int, dense: int = 0, seg: list[int] | None = None, idx: list[int] | None = None
) -> SimpleNamespace:
    return SimpleNamespace(
        format=fmt,
        denseSize=dense,
        arraySegments=SimpleNamespace(values=np.array(seg or [], np.int32)),
        arrayIndices=SimpleNamespace(values=np.array(idx or [], np.int32)),
    )


def encode(dense: np.ndarray, block: tuple[int, int] | None) -> tuple[np.ndarray, SimpleNamespace]:
    """A 2-D matrix in TFLite's sparse format: rows DENSE, columns (or column blocks) SPARSE_CSR,
    with `block` = (1, bw) the in-block columns DENSE; values row-major over what is stored."""
    rows, cols = dense.shape
    bw = block[1] if block else 1
    seg, idx, values = [0], [], []
    for r in range(rows):
        for cb in range(cols // bw):
            chunk = dense[r, cb * bw : (cb + 1) * bw]
            if np.any(chunk):
                idx.append(cb)
                values.extend(chunk.tolist())
        seg.append(len(idx))
    dims = [_dim(0, rows), _dim(1, seg=seg, idx=idx)]
    order, block_map = [0, 1], []
    if block:
        dims.append(_dim(0, bw))
        order, block_map = [0, 1, 2], [1]
    sparsity = SimpleNamespace(
        traversalOrder=np.array(order), blockMap=np.array(block_map, np.int32), dimMetadata=dims
    )
    return np.array(values, dense.dtype), sparsity


@pytest.mark.parametrize("block", [None, (1, 4), (1, 16)])
def test_densify_values_inverts_the_sparse_format(block: tuple[int, int] | None) -> None:
    rng = np.random.default_rng(5)
    bw = block[1] if block else 1
    keep = rng.random((12, 64 // bw)) < 0.25
    dense = (rng.integers(-127, 128, (12, 64)) * keep.repeat(bw, axis=1)).astype(np.int8)
    dense[3] = 0  # an empty row
    values, sparsity = encode(dense, block)
    assert values.size < dense.size
    assert np.array_equal(densify_values(dense.shape, values, sparsity), dense)


def test_densify_values_rejects_inconsistent_metadata() -> None:
    dense = np.eye(4, dtype=np.int8)
    values, sparsity = encode(dense, None)
    with pytest.raises(ModelError, match="addresses 4 values, the buffer holds 3"):
        densify_values(dense.shape, values[:3], sparsity, "t")
    sparsity.dimMetadata[1].arrayIndices.values[0] = 9
    with pytest.raises(ModelError, match="outside the shape"):
        densify_values(dense.shape, values, sparsity, "t")
