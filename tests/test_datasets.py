"""Tests of deeplimits.datasets against the real scikit-learn generators and data."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from deeplimits.datasets import (
    DATASET_NAMES,
    Dataset,
    load_dataset,
    make_dataset,
    pad_features,
    save_dataset,
)

BUILTIN_NAMES = [name for name in DATASET_NAMES if name != "file"]

# Features and classes of each built-in set at the default arguments.
EXPECTED_SHAPES = {
    "moons": (2, 2),
    "circles": (2, 2),
    "spirals": (2, 2),
    "blobs": (2, 3),
    "iris": (4, 3),
    "wine": (13, 3),
    "breast_cancer": (30, 2),
    "digits": (64, 10),
}

# Rows used at the default n_samples=200: iris and wine have fewer, so all are used.
EXPECTED_ROWS = {"iris": 150, "wine": 178}


def write_csv(path, features: np.ndarray, labels, label_column: str = "label") -> None:
    table = pd.DataFrame(features, columns=[f"f{index}" for index in range(features.shape[1])])
    table[label_column] = labels
    table.to_csv(path, index=False)


def assert_standardised(x: np.ndarray) -> None:
    """Each column has mean 0 and standard deviation 1, or is constant at 0."""
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    std = x.std(axis=0)
    constant = std < 1e-12
    np.testing.assert_allclose(std[~constant], 1.0, atol=1e-12)
    np.testing.assert_allclose(x[:, constant], 0.0, atol=1e-12)


# --- shapes, determinism, stratification, standardisation --------------------------------


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_builtin_shapes_and_dtypes(name):
    dataset = make_dataset(name)
    n_features, n_classes = EXPECTED_SHAPES[name]
    n_rows = EXPECTED_ROWS.get(name, 200)
    n_test = math.ceil(0.25 * n_rows)

    assert dataset.name == name
    assert dataset.x_train.shape == (n_rows - n_test, n_features)
    assert dataset.x_test.shape == (n_test, n_features)
    assert dataset.y_train.shape == (n_rows - n_test,)
    assert dataset.y_test.shape == (n_test,)
    assert dataset.x_train.dtype == np.float64
    assert dataset.x_test.dtype == np.float64
    assert dataset.y_train.dtype == np.int64
    assert dataset.y_test.dtype == np.int64
    assert dataset.n_features == n_features
    assert dataset.n_classes == n_classes
    assert set(np.unique(dataset.y_train)) == set(range(n_classes))
    assert set(np.unique(dataset.y_test)) == set(range(n_classes))


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_same_seed_same_arrays(name):
    first = make_dataset(name, seed=3)
    second = make_dataset(name, seed=3)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_other_seed_other_arrays(name):
    first = make_dataset(name, seed=0)
    second = make_dataset(name, seed=1)
    assert not np.array_equal(first.x_train, second.x_train)


@pytest.mark.parametrize("name", ["blobs", "iris", "breast_cancer", "digits"])
def test_test_split_stratified(name):
    dataset = make_dataset(name, seed=2)
    labels = np.concatenate([dataset.y_train, dataset.y_test])
    total = np.bincount(labels, minlength=dataset.n_classes)
    in_test = np.bincount(dataset.y_test, minlength=dataset.n_classes)
    expected = total * dataset.y_test.size / labels.size
    assert np.all(np.abs(in_test - expected) <= 1.0), (in_test, expected)


def test_blobs_spirals_class_count():
    blobs = make_dataset("blobs", n_classes=5)
    spirals = make_dataset("spirals", n_classes=3, n_samples=90)
    assert blobs.n_classes == 5
    assert spirals.n_classes == 3
    assert np.bincount(np.concatenate([spirals.y_train, spirals.y_test])).tolist() == [30, 30, 30]


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_training_split_standardised(name):
    assert_standardised(make_dataset(name).x_train)


def test_test_split_uses_training_statistics(tmp_path):
    # Column 0 is a distinct row id. Standardisation maps it by an increasing affine map,
    # so the rank of a value among both splits recovers the raw row it came from.
    rng = np.random.default_rng(0)
    n_rows = 60
    raw = np.column_stack([np.arange(n_rows), rng.normal(5.0, 3.0, n_rows), rng.uniform(-2, 9, n_rows)])
    labels = np.arange(n_rows) % 3
    path = tmp_path / "ids.npz"
    np.savez(path, x=raw, y=labels)

    dataset = make_dataset("file", path=path, n_samples=n_rows, test_fraction=0.3)
    ids = np.argsort(np.argsort(np.concatenate([dataset.x_train[:, 0], dataset.x_test[:, 0]])))
    train_rows = raw[ids[: dataset.y_train.size]]
    test_rows = raw[ids[dataset.y_train.size :]]
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)

    np.testing.assert_allclose(dataset.x_train, (train_rows - mean) / std, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dataset.x_test, (test_rows - mean) / std, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(dataset.y_train, labels[ids[: dataset.y_train.size]])
    np.testing.assert_array_equal(dataset.y_test, labels[ids[dataset.y_train.size :]])


def test_constant_feature_centred_not_divided(tmp_path, caplog):
    rng = np.random.default_rng(1)
    features = np.column_stack([rng.normal(size=40), np.full(40, 7.0)])
    path = tmp_path / "constant.csv"
    write_csv(path, features, np.arange(40) % 2)

    with caplog.at_level(logging.WARNING, logger="deeplimits.datasets"):
        dataset = make_dataset("file", path=path, label_column="label")

    assert np.all(np.isfinite(dataset.x_train))
    np.testing.assert_allclose(dataset.x_train[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(dataset.x_test[:, 1], 0.0, atol=1e-12)
    assert "constant" in caplog.text


def test_make_dataset_logs_sizes(caplog):
    with caplog.at_level(logging.INFO, logger="deeplimits.datasets"):
        make_dataset("moons", n_samples=40)
    assert "moons: 30 training and 10 test samples, 2 features, 2 classes" in caplog.text


# --- padding and PCA ---------------------------------------------------------------------


def test_padded_appends_zero_columns():
    dataset = make_dataset("circles", n_samples=40)
    padded = dataset.padded(5)

    assert padded.x_train.shape == (30, 5)
    assert padded.x_test.shape == (10, 5)
    assert padded.n_features == 5
    np.testing.assert_array_equal(padded.x_train[:, :2], dataset.x_train)
    np.testing.assert_array_equal(padded.x_test[:, :2], dataset.x_test)
    np.testing.assert_array_equal(padded.x_train[:, 2:], 0.0)
    np.testing.assert_array_equal(padded.x_test[:, 2:], 0.0)
    np.testing.assert_array_equal(padded.y_train, dataset.y_train)
    assert padded.name == dataset.name


def test_pad_features_same_width_copies():
    x = np.arange(6.0).reshape(3, 2)
    padded = pad_features(x, 2)
    np.testing.assert_array_equal(padded, x)
    assert padded is not x


def test_pad_features_too_small_state_dim():
    with pytest.raises(ValueError, match=r"state_dim=1 is smaller than the number of features d=2.*state_dim >= 2"):
        pad_features(np.zeros((3, 2)), 1)
    with pytest.raises(ValueError, match=r"state_dim=3 is smaller than the number of features d=4"):
        make_dataset("iris").padded(3)


def test_pad_features_rejects_bad_input():
    with pytest.raises(ValueError, match=r"x must be a 2-D array.*got shape \(3,\)"):
        pad_features(np.zeros(3), 4)
    with pytest.raises(TypeError, match=r"state_dim must be an integer, got 2.5"):
        pad_features(np.zeros((3, 2)), 2.5)


@pytest.mark.parametrize(("name", "pca_dim"), [("iris", 2), ("wine", 3), ("digits", 10), ("moons", 1)])
def test_pca_reduces_features(name, pca_dim):
    dataset = make_dataset(name, pca_dim=pca_dim)
    assert dataset.n_features == pca_dim
    assert dataset.x_test.shape[1] == pca_dim
    assert_standardised(dataset.x_train)


def test_pca_components_uncorrelated_on_training_split():
    x = make_dataset("wine", pca_dim=4).x_train
    covariance = x.T @ x / x.shape[0]
    np.testing.assert_allclose(covariance, np.eye(4), atol=1e-10)


# --- file input --------------------------------------------------------------------------


def test_csv_file_text_labels(tmp_path):
    # Feature f0 is the expected class (alpha -> 0, setosa -> 1, versicolor -> 2), so sorting
    # a split by f0 must sort its labels.
    codes = {"alpha": 0, "setosa": 1, "versicolor": 2}
    labels = np.array(["setosa", "versicolor", "alpha"] * 10)
    features = np.column_stack([[codes[label] for label in labels], np.random.default_rng(2).normal(size=30)])
    path = tmp_path / "flowers.csv"
    write_csv(path, features, labels, label_column="species")

    dataset = make_dataset("file", path=path, label_column="species", test_fraction=0.2)

    assert dataset.name == "flowers"
    assert dataset.x_train.shape == (24, 2)
    assert dataset.x_test.shape == (6, 2)
    assert dataset.n_classes == 3
    assert np.bincount(dataset.y_train).tolist() == [8, 8, 8]
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        assert np.all(np.diff(y[np.argsort(x[:, 0])]) >= 0)


def test_csv_file_numeric_labels(tmp_path):
    labels = np.array([30, 10, 20] * 8)
    features = np.column_stack([labels.astype(float), np.arange(24.0)])
    path = tmp_path / "numeric.csv"
    write_csv(path, features, labels)

    dataset = make_dataset("file", path=path, label_column="label")

    assert dataset.n_classes == 3
    for x, y in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        assert np.all(np.diff(y[np.argsort(x[:, 0])]) >= 0)


def test_npz_file(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "points.npz"
    np.savez(path, x=rng.normal(size=(40, 4)).astype(np.float32), y=np.repeat([5, 9], 20))

    dataset = make_dataset("file", path=path, test_fraction=0.25)

    assert dataset.name == "points"
    assert dataset.x_train.shape == (30, 4)
    assert dataset.x_train.dtype == np.float64
    assert sorted(set(dataset.y_train.tolist())) == [0, 1]
    assert_standardised(dataset.x_train)


def test_file_subsampled_to_n_samples(tmp_path):
    path = tmp_path / "many.npz"
    np.savez(path, x=np.arange(300.0).reshape(100, 3), y=np.arange(100) % 4)

    dataset = make_dataset("file", path=path, n_samples=40)

    assert dataset.y_train.size + dataset.y_test.size == 40
    assert np.bincount(np.concatenate([dataset.y_train, dataset.y_test])).tolist() == [10, 10, 10, 10]


# --- save and load -----------------------------------------------------------------------


def test_save_load_roundtrip_bitwise(tmp_path):
    dataset = make_dataset("wine", pca_dim=3, seed=4)
    path = tmp_path / "data" / "wine.npz"
    save_dataset(dataset, path)

    loaded = load_dataset(path)

    assert loaded.name == "wine"
    for field in ("x_train", "y_train", "x_test", "y_test"):
        original, restored = getattr(dataset, field), getattr(loaded, field)
        assert restored.dtype == original.dtype
        assert restored.shape == original.shape
        assert restored.tobytes() == original.tobytes()


def test_saved_file_loads_without_pickle(tmp_path):
    path = tmp_path / "moons.npz"
    save_dataset(make_dataset("moons", n_samples=20), path)

    with np.load(path, allow_pickle=False) as archive:
        assert set(archive.files) == {"x_train", "y_train", "x_test", "y_test", "name"}
        assert archive["name"].shape == ()
        assert str(archive["name"]) == "moons"


def test_load_without_name_uses_stem(tmp_path):
    path = tmp_path / "bare.npz"
    np.savez(path, x_train=np.zeros((2, 1)), y_train=np.array([0, 1]), x_test=np.zeros((2, 1)), y_test=np.array([1, 0]))
    assert load_dataset(path).name == "bare"


def test_load_missing_array(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((2, 1)), y_train=np.array([0, 1]))
    with pytest.raises(KeyError, match=r"missing arrays \['x_test', 'y_test'\]"):
        load_dataset(path)


# --- Dataset checks ----------------------------------------------------------------------


def test_dataset_rejects_inconsistent_arrays():
    x = np.zeros((4, 2))
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"x_train has 4 rows but y_train has 3 labels"):
        Dataset(x_train=x, y_train=y[:3], x_test=x, y_test=y, name="bad")
    with pytest.raises(ValueError, match=r"x_train has 2 features but x_test has 3"):
        Dataset(x_train=x, y_train=y, x_test=np.zeros((4, 3)), y_test=y, name="bad")
    with pytest.raises(ValueError, match=r"y_test must be a 1-D integer array.*dtype float64"):
        Dataset(x_train=x, y_train=y, x_test=x, y_test=y.astype(float), name="bad")
    with pytest.raises(ValueError, match=r"x_test must be a 2-D floating array.*shape \(4,\)"):
        Dataset(x_train=x, y_train=y, x_test=np.zeros(4), y_test=y, name="bad")
    with pytest.raises(ValueError, match=r"y_train contains the negative label -1"):
        Dataset(x_train=x, y_train=y - 1, x_test=x, y_test=y, name="bad")


# --- invalid arguments -------------------------------------------------------------------


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown data set name 'mnist'; valid names are moons, circles, .*, file"):
        make_dataset("mnist")


@pytest.mark.parametrize("test_fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_test_fraction_outside_unit_interval(test_fraction):
    with pytest.raises(ValueError, match=r"test_fraction=.* is outside \(0, 1\)"):
        make_dataset("moons", test_fraction=test_fraction)


@pytest.mark.parametrize(("name", "n_samples", "minimum"), [("moons", 3, 4), ("iris", 5, 6), ("digits", 19, 20)])
def test_too_few_samples_for_classes(name, n_samples, minimum):
    with pytest.raises(ValueError, match=rf"n_samples={n_samples} is too small .* n_samples >= {minimum}"):
        make_dataset(name, n_samples=n_samples)


def test_too_few_test_samples_for_classes():
    with pytest.raises(ValueError, match=r"gives 2 test samples, fewer than the 5 classes; increase test_fraction"):
        make_dataset("blobs", n_classes=5, n_samples=12, test_fraction=0.1)


def test_too_few_training_samples_for_classes():
    with pytest.raises(ValueError, match=r"leaves 1 training samples, fewer than the 5 classes; decrease test_fraction"):
        make_dataset("blobs", n_classes=5, n_samples=12, test_fraction=0.9)


def test_class_with_one_sample(tmp_path):
    # train_test_split alone would raise its own "least populated class" error here.
    path = tmp_path / "single.npz"
    np.savez(path, x=np.arange(20.0).reshape(10, 2), y=np.array([0] * 9 + [1]))
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have fewer than 2 samples \(class sizes \[9, 1\]\)"):
        make_dataset("file", path=path)


def test_subsample_losing_class(tmp_path):
    path = tmp_path / "rare.npz"
    np.savez(path, x=np.arange(200.0).reshape(100, 2), y=np.array([0] * 97 + [1] * 3))
    with pytest.raises(ValueError, match=r"class\(es\) \[1\] have fewer than 2 samples .* increase n_samples"):
        make_dataset("file", path=path, n_samples=10)


def test_split_leaving_class_without_test_sample(tmp_path):
    # Class 0 has 2 of 102 samples. Of the 11 test samples, stratification gives it
    # floor(11 * 2 / 102) = 0, and the leftover one goes to class 1 (larger remainder).
    path = tmp_path / "skewed.npz"
    np.savez(path, x=np.arange(204.0).reshape(102, 2), y=np.array([0] * 2 + [1] * 100))
    with pytest.raises(ValueError, match=r"after the stratified split, class\(es\) \[0\] have no test sample"):
        make_dataset("file", path=path, test_fraction=0.1)


@pytest.mark.parametrize(("pca_dim", "message"), [(0, r"pca_dim=0 is invalid"), (5, r"pca_dim=5 exceeds the 4 features of 'iris'")])
def test_pca_dim_out_of_range(pca_dim, message):
    with pytest.raises(ValueError, match=message):
        make_dataset("iris", pca_dim=pca_dim)


def test_pca_dim_above_training_samples():
    with pytest.raises(ValueError, match=r"pca_dim=40 exceeds the 30 training samples of 'digits'; pass pca_dim <= 30"):
        make_dataset("digits", n_samples=40, pca_dim=40)


def test_n_classes_for_fixed_set():
    with pytest.raises(ValueError, match=r"n_classes=3 does not apply to 'moons', which has 2 classes"):
        make_dataset("moons", n_classes=3)
    with pytest.raises(ValueError, match=r"n_classes=1 is too small for 'blobs'"):
        make_dataset("blobs", n_classes=1)


def test_invalid_scalar_arguments():
    with pytest.raises(ValueError, match=r"noise=-0.1 is invalid"):
        make_dataset("moons", noise=-0.1)
    with pytest.raises(ValueError, match=r"seed=-1 is negative"):
        make_dataset("moons", seed=-1)
    with pytest.raises(TypeError, match=r"n_samples must be an integer, got 100.0"):
        make_dataset("moons", n_samples=100.0)


def test_file_arguments_for_builtin_set():
    with pytest.raises(ValueError, match=r"path='x.csv' applies only to the data set 'file', not 'moons'"):
        make_dataset("moons", path="x.csv")
    with pytest.raises(ValueError, match=r"label_column='y' applies only to the data set 'file'"):
        make_dataset("iris", label_column="y")


def test_file_without_path():
    with pytest.raises(ValueError, match=r"data set 'file' needs path="):
        make_dataset("file")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data file .*absent.csv not found"):
        make_dataset("file", path=tmp_path / "absent.csv", label_column="label")


def test_unknown_file_extension(tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("")
    with pytest.raises(ValueError, match=r"unknown file type '.xlsx'.*ending in .csv or .npz"):
        make_dataset("file", path=path)


def test_csv_missing_label_column(tmp_path):
    path = tmp_path / "data.csv"
    write_csv(path, np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"label column 'class' not found .*the columns are \['f0', 'f1', 'label'\]"):
        make_dataset("file", path=path, label_column="class")
    with pytest.raises(ValueError, match=r"a CSV file needs label_column=; the columns of .* are \['f0', 'f1', 'label'\]"):
        make_dataset("file", path=path)


def test_csv_non_numeric_feature(tmp_path):
    path = tmp_path / "text.csv"
    table = pd.DataFrame({"f0": [1.0, 2.0, 3.0, 4.0], "colour": ["red", "blue", "red", "blue"], "label": [0, 1, 0, 1]})
    table.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"feature column\(s\) \['colour'\] .* are not numeric"):
        make_dataset("file", path=path, label_column="label")


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_csv_non_finite_feature(tmp_path, bad_value):
    features = np.arange(16.0).reshape(8, 2)
    features[3, 1] = bad_value
    path = tmp_path / "gaps.csv"
    write_csv(path, features, np.arange(8) % 2)
    with pytest.raises(ValueError, match=r"1 row\(s\) of .* have NaN or infinite features .*\[3\]"):
        make_dataset("file", path=path, label_column="label")


def test_npz_non_finite_feature(tmp_path):
    features = np.arange(16.0).reshape(8, 2)
    features[0, 0] = np.nan
    path = tmp_path / "gaps.npz"
    np.savez(path, x=features, y=np.arange(8) % 2)
    with pytest.raises(ValueError, match=r"have NaN or infinite features"):
        make_dataset("file", path=path)


def test_npz_bad_arrays(tmp_path):
    path = tmp_path / "text.npz"
    np.savez(path, x=np.array([["a", "b"], ["c", "d"]]), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"array 'x' of .* has dtype <U1, which is not numeric"):
        make_dataset("file", path=path)

    path = tmp_path / "lengths.npz"
    np.savez(path, x=np.zeros((4, 2)), y=np.array([0, 1, 0]))
    with pytest.raises(ValueError, match=r"array 'y' of .* must have shape \(4,\)"):
        make_dataset("file", path=path)

    path = tmp_path / "missing.npz"
    np.savez(path, features=np.zeros((4, 2)))
    with pytest.raises(KeyError, match=r"missing arrays \['x', 'y'\]"):
        make_dataset("file", path=path)


def test_npz_with_label_column(tmp_path):
    path = tmp_path / "points.npz"
    np.savez(path, x=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"label_column='y' applies only to CSV files"):
        make_dataset("file", path=path, label_column="y")


def test_file_single_class_or_missing_labels(tmp_path):
    path = tmp_path / "one.csv"
    write_csv(path, np.arange(8.0).reshape(4, 2), ["a"] * 4)
    with pytest.raises(ValueError, match=r"has a single class \['a'\]; a classifier needs at least 2"):
        make_dataset("file", path=path, label_column="label")

    path = tmp_path / "unlabelled.csv"
    write_csv(path, np.arange(8.0).reshape(4, 2), ["a", None, "b", "a"])
    with pytest.raises(ValueError, match=r"1 label\(s\) of .* are missing .*\[1\]"):
        make_dataset("file", path=path, label_column="label")


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=r"data file .*empty.csv is empty"):
        make_dataset("file", path=path, label_column="label")

    path = tmp_path / "header.csv"
    path.write_text("f0,label\n")
    with pytest.raises(ValueError, match=r"data file .*header.csv has no samples, only a header row"):
        make_dataset("file", path=path, label_column="label")
