"""Train the digits example: a small CNN on scikit-learn's bundled 8x8 digits (no download).

Writes, beside this script:
  digits.keras      the float Keras 3 model (input (8, 8, 1) in [0, 1], output 10 softmax scores)
  calib.npy         128 training images, float32 (128, 8, 8, 1): calibration data
  eval.npy          the 360 held-out test images, float32 (360, 8, 8, 1)
  eval_labels.npy   their classes, int64 (360,)

Deterministic: fixed seeds, one thread, TensorFlow op determinism, and a .keras zip written with
fixed timestamps, so running it again gives the same bytes on the same TensorFlow/Keras versions.

    python examples/digits/train.py
    tinyforge convert examples/digits/digits.keras --calib examples/digits/calib.npy \
        --eval examples/digits/eval.npy --labels examples/digits/eval_labels.npy
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONHASHSEED", "0")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
SEED = 0
EPOCHS = 40
N_CALIB = 128
N_TEST = 360


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]  # (1797, 8, 8, 1) in [0, 1]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=N_TEST, random_state=SEED, stratify=y)
    return x_train, y_train, x_test, y_test


def build_model():  # type: ignore[no-untyped-def]
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1), name="image"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(2, name="pool1"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(10, activation="softmax", name="scores"),
        ],
        name="digits_cnn",
    )


def _stable_ids(obj, ids=None):  # type: ignore[no-untyped-def]
    """Keras writes `shared_object_id` as a memory address; number them in order instead."""
    ids = {} if ids is None else ids
    if isinstance(obj, dict):
        return {
            k: ids.setdefault(v, len(ids) + 1) if k == "shared_object_id" else _stable_ids(v, ids)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_stable_ids(v, ids) for v in obj]
    return obj


def save_deterministic(model, path: Path) -> None:  # type: ignore[no-untyped-def]
    """model.save, then rewrite the zip with fixed timestamps and no save date."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "model.keras"
        model.save(raw)
        entries = []
        with zipfile.ZipFile(raw) as zin:
            for name in sorted(zin.namelist()):
                content = zin.read(name)
                if name == "metadata.json":
                    meta = json.loads(content)
                    meta["date_saved"] = "2000-01-01@00:00:00"
                    content = json.dumps(meta, sort_keys=True).encode()
                elif name == "config.json":
                    content = json.dumps(_stable_ids(json.loads(content)), sort_keys=True).encode()
                entries.append((name, content))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, content)
    path.write_bytes(buf.getvalue())


def main() -> int:
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(SEED)

    x_train, y_train, x_test, y_test = data()
    model = build_model()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, shuffle=True, verbose=0)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"float test accuracy: {100 * acc:.2f}% on {len(y_test)} images")

    inference = build_model()  # uncompiled: saved without optimizer state
    inference.set_weights(model.get_weights())
    save_deterministic(inference, HERE / "digits.keras")
    np.save(HERE / "calib.npy", np.ascontiguousarray(x_train[:N_CALIB]))
    np.save(HERE / "eval.npy", np.ascontiguousarray(x_test))
    np.save(HERE / "eval_labels.npy", y_test)
    for name in ("digits.keras", "calib.npy", "eval.npy", "eval_labels.npy"):
        print(f"wrote {HERE / name} ({(HERE / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
