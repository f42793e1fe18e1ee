"""The file formats of the data sets: IDX (MNIST, Fashion-MNIST), gzip-compressed or not, and
CIFAR-10's pickled python batches (read so that a crafted file cannot run code); the SHA-256
of files, memoised by path, size and modification time."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DatasetFormatError", "read_idx", "write_idx", "read_cifar_batch", "sha256_of_file", "idx_payload"]


class DatasetFormatError(ValueError):
    """A data file exists but is not a valid file of the expected format (or not the pinned file).

    A broken file is reported, never skipped: the message names the file and what is wrong
    with it. A ``ValueError``; :class:`~adaptive_methods.experiments.sources.UnpinnedDataError`
    is the subclass for a valid file that is not the pinned one.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = f"{folder.name}/labels-idx1-ubyte"
    >>> with open(path, "wb") as file:  # the header of 3 labels, and only 2 of them
    ...     _ = file.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 7]))
    >>> try:
    ...     read_idx(path)
    ... except DatasetFormatError as error:
    ...     print(str(error).split(": ", 1)[1])
    IDX file truncated: header says shape (3,) (3 bytes of data), found 2 bytes
    >>> folder.cleanup()
    """


_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def idx_payload(path: Path) -> bytes:
    """The bytes of an IDX file, decompressed when it is gzip-compressed."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetFormatError(
            f"{path}: not a valid gzip file ({exc}); it is truncated or corrupt. "
            "Delete it (or fetch it again) and load again."
        ) from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not, into a NumPy array.

    Raises :class:`DatasetFormatError` naming the file when the magic number, the header
    or the amount of data is wrong (a truncated file is reported with both byte counts).
    """
    path = Path(path)
    data = idx_payload(path)
    if len(data) < 4:
        raise DatasetFormatError(f"{path}: {len(data)} bytes is too short for an IDX header (needs >= 4)")
    zero_a, zero_b, code, ndim = data[0], data[1], data[2], data[3]
    if zero_a != 0 or zero_b != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DatasetFormatError(
            f"{path}: bad IDX magic number {data[:4].hex()} (expected 0000 + a type code in "
            f"{sorted(hex(c) for c in _IDX_DTYPES)} + a dimension count >= 1)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetFormatError(f"{path}: truncated IDX header ({len(data)} bytes, needs {header})")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise DatasetFormatError(
            f"{path}: IDX file {what}: header says shape {dims} ({expected} bytes of data), "
            f"found {found} bytes"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``).

    The inverse of :func:`read_idx`; the tests use it to make small files in the real format.
    """
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"array dtype must be one of {sorted(str(d) for d in codes)}, got {array.dtype}")
    if array.ndim == 0:
        raise ValueError("array must have at least one dimension, got a scalar")
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(native.newbyteorder(">")).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the bytes (and so the hash) of a written file reproducible
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return path


class _CifarUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 batch and nothing else: only NumPy's array rebuilding (and the
    byte-string helper of protocol 2) may be called, so a crafted file cannot run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        # protocol-2 pickles written by Python 3 spell bytes as _codecs.encode(str, "latin1")
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is not allowed in a CIFAR-10 batch")


def read_cifar_batch(source: str | os.PathLike | bytes, *, label: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch (a pickled dict): images (N, 3, 32, 32) uint8, labels (N,).

    ``source`` is a path or the file's bytes (``label`` then names it in error messages).
    Only the globals a NumPy array needs may appear in the pickle.
    """
    if isinstance(source, (bytes, bytearray)):
        raw, where = bytes(source), label or "<bytes>"
    else:
        raw, where = Path(source).read_bytes(), label or str(source)
    try:
        obj = _CifarUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
        raise DatasetFormatError(f"{where}: not a readable CIFAR-10 batch ({type(exc).__name__}: {exc}); "
                                 "the file is truncated or corrupt") from exc
    if not isinstance(obj, dict):
        raise DatasetFormatError(f"{where}: a CIFAR-10 batch is a pickled dict, got {type(obj).__name__}")
    norm = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    if "data" not in norm or "labels" not in norm:
        raise DatasetFormatError(f"{where}: CIFAR-10 batch lacks 'data' or 'labels' (keys: {sorted(norm)})")
    images = np.asarray(norm["data"])
    labels = np.asarray(norm["labels"])
    if images.dtype != np.uint8 or images.ndim != 2 or images.shape[1] != 3 * 32 * 32:
        raise DatasetFormatError(f"{where}: CIFAR-10 'data' must be uint8 of shape (N, 3072), "
                                 f"got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DatasetFormatError(f"{where}: {labels.shape[0] if labels.ndim else 0} labels for "
                                 f"{images.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetFormatError(f"{where}: CIFAR-10 labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    return images.reshape(-1, 3, 32, 32), labels.astype(np.int64)


_HASH_MEMO: dict[tuple, str] = {}


def sha256_of_file(path: Path) -> str:
    st = path.stat()
    memo_key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if memo_key not in _HASH_MEMO:
        _HASH_MEMO[memo_key] = _sha256_uncached(path)
    return _HASH_MEMO[memo_key]


def _sha256_uncached(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

