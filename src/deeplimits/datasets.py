"""Classification data sets for the ResNet experiments, split and standardised.

Every data set comes out of :func:`make_dataset` in the same form: a seeded, stratified
train/test split whose features are standardised with the training split's mean and
standard deviation, and integer labels ``0..C-1``. The sources are

* synthetic two-dimensional sets: ``moons``, ``circles``, ``spirals`` and ``blobs``;
* real data shipped with scikit-learn, which needs no download: ``iris``, ``wine``,
  ``breast_cancer`` and ``digits``, optionally reduced by PCA;
* a user's own ``file``: a CSV with the label in a named column, or an ``.npz`` with
  arrays ``x`` and ``y``.

The ResNet state lives in R^n with n >= d, so :func:`pad_features` and
:meth:`Dataset.padded` append zero columns to the d features. Concentric circles, for
example, cannot be separated by the flow of an ODE in the plane, but can be in R^3.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deeplimits.artifacts import read_npz, write_npz

logger = logging.getLogger(__name__)

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "make_dataset",
    "pad_features",
    "save_dataset",
    "load_dataset",
]

SYNTHETIC_NAMES = ("moons", "circles", "spirals", "blobs")
SKLEARN_NAMES = ("iris", "wine", "breast_cancer", "digits")
DATASET_NAMES: tuple[str, ...] = (*SYNTHETIC_NAMES, *SKLEARN_NAMES, "file")

# scikit-learn and pandas are imported by the functions that generate or read data, not
# with this module: a training job only loads a finished data set file.

# Class counts of the sets that have a fixed number of classes. The classes of blobs and
# spirals are set by n_classes, and a file has one class per distinct label.
_FIXED_CLASS_COUNTS = {"moons": 2, "circles": 2, "iris": 3, "wine": 3, "breast_cancer": 2, "digits": 10}
_DEFAULT_CLASS_COUNTS = {"blobs": 3, "spirals": 2}

# Ratio of the radii of the inner and outer circle in ``circles``.
_CIRCLES_FACTOR = 0.5
# Turns of each spiral arm. With 1.25 turns and two arms, neighbouring arms lie
# 1 / (2 * 1.25) = 0.4 apart in radius, so the default noise of 0.1 leaves them separable:
# a 5-nearest-neighbour classifier scores about 0.98 on the test split (400 samples, seeds
# 0 to 2), against 0.88 with 1.5 turns and arms starting at radius 0.1.
_SPIRAL_TURNS = 1.25
# Radius where the arms start: towards radius 0 all arms meet and the classes overlap.
_SPIRAL_INNER_RADIUS = 0.25

# A training feature whose standard deviation is below this fraction of its largest
# magnitude is treated as constant: it is centred but not scaled. Such a spread comes
# from rounding in the mean, and dividing by it would amplify rounding noise.
_CONSTANT_FEATURE_TOLERANCE = 1e-12

_FILE_SUFFIXES = (".csv", ".npz")
_STORED_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Dataset:
    """Standardised train/test split of a classification data set.

    Parameters
    ----------
    x_train : numpy.ndarray, shape (S, d), float64
        Training features, standardised with the training mean and standard deviation.
    y_train : numpy.ndarray, shape (S,), int64
        Training labels in ``0..C-1``.
    x_test : numpy.ndarray, shape (S_test, d), float64
        Test features, standardised with the *training* mean and standard deviation.
    y_test : numpy.ndarray, shape (S_test,), int64
        Test labels in ``0..C-1``.
    name : str
        Name of the data set, used in logs, file names and figure labels.

    Raises
    ------
    ValueError
        If an array has the wrong number of dimensions or dtype kind, the features and
        labels of a split differ in length, the two splits differ in feature count, or a
        label is negative.

    Notes
    -----
    Floating features are converted to float64 and integer labels to int64; other dtypes
    are rejected.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    def __post_init__(self) -> None:
        # The dataclass is frozen, so converted arrays are set through object.__setattr__.
        for split in ("train", "test"):
            features = _as_feature_array(getattr(self, f"x_{split}"), f"x_{split}")
            labels = _as_label_array(getattr(self, f"y_{split}"), f"y_{split}")
            if features.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"x_{split} has {features.shape[0]} rows but y_{split} has {labels.shape[0]} "
                    "labels; pass one label per row"
                )
            object.__setattr__(self, f"x_{split}", features)
            object.__setattr__(self, f"y_{split}", labels)

        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise ValueError(
                f"x_train has {self.x_train.shape[1]} features but x_test has "
                f"{self.x_test.shape[1]}; both splits need the same features"
            )

    @property
    def n_features(self) -> int:
        """Number of feature columns d."""
        return self.x_train.shape[1]

    @property
    def n_classes(self) -> int:
        """Number of classes C, one more than the largest label in either split."""
        labels = np.concatenate([self.y_train, self.y_test])
        return int(labels.max()) + 1 if labels.size else 0

    def padded(self, state_dim: int) -> Dataset:
        """Append zero feature columns to both splits up to ``state_dim`` columns.

        Parameters
        ----------
        state_dim : int
            Dimension n of the ResNet state, at least ``n_features``.

        Returns
        -------
        Dataset
            A new data set whose features have shape (S, state_dim) and (S_test,
            state_dim); the labels and name are unchanged.

        Raises
        ------
        ValueError
            If ``state_dim`` is smaller than ``n_features``.
        TypeError
            If ``state_dim`` is not an integer.
        """
        return dataclasses.replace(
            self,
            x_train=pad_features(self.x_train, state_dim),
            x_test=pad_features(self.x_test, state_dim),
        )


def pad_features(x: np.ndarray, state_dim: int) -> np.ndarray:
    """Append zero columns to the features ``x`` up to ``state_dim`` columns.

    The padded coordinates start at zero; the ResNet flow may move them, which lets it
    separate classes that no flow in R^d can separate.

    Parameters
    ----------
    x : numpy.ndarray, shape (S, d)
        Features.
    state_dim : int
        Number of columns of the result, at least d.

    Returns
    -------
    numpy.ndarray, shape (S, state_dim), float64
        A new array: ``x`` in the first d columns and zeros in the others.

    Raises
    ------
    ValueError
        If ``x`` is not two-dimensional or ``state_dim`` is smaller than d.
    TypeError
        If ``state_dim`` is not an integer.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array of shape (samples, features), got shape {x.shape}")

    _check_integer(state_dim, "state_dim")
    n_features = x.shape[1]
    if state_dim < n_features:
        raise ValueError(
            f"state_dim={state_dim} is smaller than the number of features d={n_features}; "
            f"the state must contain the data, so pass state_dim >= {n_features}"
        )

    padded = np.zeros((x.shape[0], state_dim), dtype=np.float64)
    padded[:, :n_features] = x
    return padded


def make_dataset(
    name: str,
    *,
    n_samples: int = 200,
    noise: float = 0.1,
    test_fraction: float = 0.25,
    seed: int = 0,
    pca_dim: int | None = None,
    n_classes: int | None = None,
    path: str | os.PathLike | None = None,
    label_column: str | None = None,
) -> Dataset:
    """Generate or load a data set, split it into train and test, and standardise it.

    The steps are:

    1. Generate or load the samples.
    2. For ``iris``, ``wine``, ``breast_cancer``, ``digits`` and ``file``, take a seeded
       stratified subsample of ``n_samples`` rows when the data has more.
    3. Split off a seeded stratified test set.
    4. Standardise both splits with the training mean and standard deviation.
    5. When ``pca_dim`` is given, project onto the leading principal components of the
       training split and standardise the components the same way.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES`.
    n_samples : int, default 200
        Total number of samples, training and test together. The synthetic sets generate
        exactly this many; the other sets are subsampled to it when they have more rows
        and used whole otherwise. At least 2 per class.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise of the synthetic sets, relative to
        features of order one; the other sets ignore it.
    test_fraction : float, default 0.25
        Fraction of the samples in the test split, in (0, 1); the test split gets
        ``ceil(test_fraction * n)`` samples.
    seed : int, default 0
        Non-negative seed of every random step; the same arguments give identical arrays.
    pca_dim : int or None, default None
        Number of principal components to keep, between 1 and the number of features;
        None keeps the features as they are.
    n_classes : int or None, default None
        Number of classes of ``blobs`` (default 3) and of spiral arms in ``spirals``
        (default 2). The other sets have a fixed number of classes; a value that differs
        from it raises.
    path : str, PathLike or None, default None
        For ``file`` only: a ``.csv`` or ``.npz`` file.
    label_column : str or None, default None
        For a CSV file only: the column that contains the labels. Every other column must be
        numeric.

    Returns
    -------
    Dataset
        The split. Labels are mapped to ``0..C-1``; a file's labels in sorted order. The
        name is ``name``, or the file's stem for ``file``.

    Raises
    ------
    ValueError
        If ``name`` is unknown; an argument is out of range or does not apply to
        ``name``; the data are too few for every class to have a training and a test
        sample; or a file is invalid (see Notes).
    FileNotFoundError
        If ``path`` does not exist.
    KeyError
        If an ``.npz`` file lacks the array ``x`` or ``y``.
    TypeError
        If an integer argument is not an integer.

    Notes
    -----
    A file is rejected when its suffix is neither ``.csv`` nor ``.npz``, it has no rows
    or a single class, the label column is missing, a feature column is not numeric, a
    feature is NaN or infinite, or a label is missing.
    """
    _check_arguments(name, n_samples, noise, test_fraction, seed, pca_dim, path, label_column)
    generation_seed, split_seed = (int(state) for state in np.random.SeedSequence(seed).generate_state(2))

    if name in SYNTHETIC_NAMES:
        class_count = _synthetic_class_count(name, n_classes)
        _check_sample_count(n_samples, class_count, name)
        x, y = _generate_synthetic(name, n_samples, noise, class_count, generation_seed)
        dataset_name = name
    else:
        if name == "file":
            x, y = _read_file(Path(path), label_column)
            dataset_name = Path(path).stem
        else:
            x, y = _load_sklearn(name)
            dataset_name = name
        class_count = int(y.max()) + 1
        _check_class_count_argument(name, n_classes, class_count)
        _check_sample_count(n_samples, class_count, name)
        x, y = _subsample(x, y, n_samples, generation_seed, dataset_name)

    _check_class_sizes(y, class_count, test_fraction, dataset_name)
    x_train, x_test, y_train, y_test = _split(x, y, test_fraction, split_seed, dataset_name)
    _check_split(y_train, y_test, class_count, dataset_name)

    x_train, x_test = _standardise(x_train, x_test)
    if pca_dim is not None:
        x_train, x_test = _reduce_pca(x_train, x_test, pca_dim, dataset_name)

    dataset = Dataset(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, name=dataset_name)
    logger.info(
        "made data set %s: %d training and %d test samples, %d features, %d classes, "
        "training class sizes %s, seed %d",
        dataset_name,
        y_train.size,
        y_test.size,
        dataset.n_features,
        class_count,
        np.bincount(y_train, minlength=class_count).tolist(),
        seed,
    )
    return dataset


def save_dataset(dataset: Dataset, path: str | os.PathLike) -> None:
    """Write a data set to an ``.npz`` file atomically, without pickle.

    Parameters
    ----------
    dataset : Dataset
        The split to store.
    path : str or PathLike
        Target file. The archive contains ``x_train``, ``y_train``, ``x_test``, ``y_test``
        and ``name`` as a 0-d string array.
    """
    arrays = {field: getattr(dataset, field) for field in _STORED_ARRAYS}
    arrays["name"] = np.array(dataset.name)
    write_npz(path, arrays)
    logger.info("wrote data set %s to %s", dataset.name, path)


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a data set written by :func:`save_dataset`, without pickle.

    Parameters
    ----------
    path : str or PathLike
        An ``.npz`` file with ``x_train``, ``y_train``, ``x_test`` and ``y_test``, and
        optionally ``name``.

    Returns
    -------
    Dataset
        The stored split. Without a ``name`` array, the name is the file's stem.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    KeyError
        If one of the four split arrays is missing.
    ValueError
        If the arrays do not form a valid :class:`Dataset`.
    """
    arrays = read_npz(path, required=_STORED_ARRAYS)
    name = str(arrays["name"]) if "name" in arrays else Path(path).stem
    return Dataset(**{field: arrays[field] for field in _STORED_ARRAYS}, name=name)


# --- argument checks ---------------------------------------------------------------------


def _check_arguments(name, n_samples, noise, test_fraction, seed, pca_dim, path, label_column) -> None:
    """Check the arguments of make_dataset that need no data."""
    if name not in DATASET_NAMES:
        raise ValueError(
            f"unknown data set name {name!r}; valid names are {', '.join(DATASET_NAMES)} "
            "(use 'file' with path= for your own data)"
        )

    _check_integer(n_samples, "n_samples")
    _check_integer(seed, "seed")
    if seed < 0:
        raise ValueError(f"seed={seed} is negative; pass a seed >= 0")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise={noise} is invalid; pass a finite standard deviation >= 0")
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction={test_fraction} is outside (0, 1); pass the fraction of samples "
            "to hold out for testing, for example 0.25"
        )
    if pca_dim is not None:
        _check_integer(pca_dim, "pca_dim")
        if pca_dim < 1:
            raise ValueError(f"pca_dim={pca_dim} is invalid; pass a number of components >= 1, or None")

    if name == "file":
        if path is None:
            raise ValueError("data set 'file' needs path= pointing to a .csv or .npz file")
    else:
        for argument, value in (("path", path), ("label_column", label_column)):
            if value is not None:
                raise ValueError(f"{argument}={value!r} applies only to the data set 'file', not {name!r}")


def _as_feature_array(values, field: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 2 or array.dtype.kind != "f":
        raise ValueError(
            f"{field} must be a 2-D floating array of shape (samples, features), got shape "
            f"{array.shape} and dtype {array.dtype}"
        )
    return array.astype(np.float64, copy=False)


def _as_label_array(values, field: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"{field} must be a 1-D integer array, got shape {array.shape} and dtype {array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(f"{field} contains the negative label {array.min()}; labels must be in 0..C-1")
    return array.astype(np.int64, copy=False)


def _check_integer(value, argument: str) -> None:
    # bool is an Integral in Python, but True as a count is a mistake.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{argument} must be an integer, got {value!r} of type {type(value).__name__}")


def _synthetic_class_count(name: str, n_classes: int | None) -> int:
    if name in _DEFAULT_CLASS_COUNTS:
        if n_classes is None:
            return _DEFAULT_CLASS_COUNTS[name]
        _check_integer(n_classes, "n_classes")
        if n_classes < 2:
            raise ValueError(f"n_classes={n_classes} is too small for {name!r}; pass n_classes >= 2")
        return int(n_classes)

    _check_class_count_argument(name, n_classes, _FIXED_CLASS_COUNTS[name])
    return _FIXED_CLASS_COUNTS[name]


def _check_class_count_argument(name: str, n_classes: int | None, class_count: int) -> None:
    if n_classes is not None and n_classes != class_count:
        raise ValueError(
            f"n_classes={n_classes} does not apply to {name!r}, which has {class_count} classes; "
            "leave n_classes unset (it sets the classes of 'blobs' and 'spirals' only)"
        )


def _check_sample_count(n_samples: int, class_count: int, name: str) -> None:
    if n_samples < 2 * class_count:
        raise ValueError(
            f"n_samples={n_samples} is too small for {name!r} with {class_count} classes: every "
            f"class needs a training and a test sample, so pass n_samples >= {2 * class_count}"
        )


def _check_class_sizes(y: np.ndarray, class_count: int, test_fraction: float, name: str) -> None:
    """Reject data that no stratified split can give a training and a test sample per class.

    train_test_split would reject most of these cases too, but with a message about its
    own arguments (test_size, the least populated class), not about this function's.
    """
    sizes = np.bincount(y, minlength=class_count)
    small = np.flatnonzero(sizes < 2)
    if small.size:
        raise ValueError(
            f"{name!r}: class(es) {small.tolist()} have fewer than 2 samples (class sizes "
            f"{sizes.tolist()}), so they cannot appear in both the training and the test split; "
            "increase n_samples or add samples of these classes"
        )

    n_total = y.size
    n_test = math.ceil(test_fraction * n_total)
    n_train = n_total - n_test
    if n_test < class_count:
        raise ValueError(
            f"test_fraction={test_fraction} of {n_total} samples gives {n_test} test samples, fewer "
            f"than the {class_count} classes; increase test_fraction to at least "
            f"{class_count / n_total:.3g} or increase n_samples"
        )
    if n_train < class_count:
        raise ValueError(
            f"test_fraction={test_fraction} of {n_total} samples leaves {n_train} training "
            f"samples, fewer than the {class_count} classes; decrease test_fraction to at most "
            f"{1 - class_count / n_total:.3g} or increase n_samples"
        )


def _check_split(y_train: np.ndarray, y_test: np.ndarray, class_count: int, name: str) -> None:
    """Reject a split in which a class has no training or no test sample.

    Stratification rounds the per-class test counts, so a small class can still end up
    with all its samples on one side even when the sizes pass _check_class_sizes.
    """
    for split, labels in (("training", y_train), ("test", y_test)):
        sizes = np.bincount(labels, minlength=class_count)
        empty = np.flatnonzero(sizes == 0)
        if empty.size:
            raise ValueError(
                f"{name!r}: after the stratified split, class(es) {empty.tolist()} have no "
                f"{split} sample ({split} class sizes {sizes.tolist()}); increase n_samples, "
                "or move test_fraction towards 0.5"
            )


# --- sources -----------------------------------------------------------------------------


def _generate_synthetic(
    name: str, n_samples: int, noise: float, class_count: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as sklearn_datasets

    if name == "moons":
        x, y = sklearn_datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    elif name == "circles":
        x, y = sklearn_datasets.make_circles(
            n_samples=n_samples, noise=noise, factor=_CIRCLES_FACTOR, random_state=seed
        )
    elif name == "blobs":
        x, y = _make_blobs(n_samples, noise, class_count, seed)
    else:
        x, y = _make_spirals(n_samples, noise, class_count, seed)
    return x.astype(np.float64), y.astype(np.int64)


def _make_blobs(n_samples: int, noise: float, class_count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw Gaussian blobs whose centres are equally spaced on the unit circle.

    Fixed centres keep the geometry the same for every seed, which make_blobs' default of
    random centres in a box of side 20 would not.
    """
    from sklearn.datasets import make_blobs

    angles = 2 * np.pi * np.arange(class_count) / class_count
    centres = np.column_stack([np.cos(angles), np.sin(angles)])
    return make_blobs(n_samples=n_samples, centers=centres, cluster_std=noise, random_state=seed)


def _make_spirals(n_samples: int, noise: float, class_count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``class_count`` interleaved spiral arms in the unit disc.

    Arm j is r -> r (cos phi, sin phi) with phi = 2 pi (turns r + j / class_count), the
    radius r uniform in [_SPIRAL_INNER_RADIUS, 1], plus isotropic Gaussian noise of
    standard deviation ``noise``. The samples are shared as evenly as possible, the first
    arms taking one more when n_samples is not a multiple of class_count.
    """
    rng = np.random.default_rng(seed)
    labels = np.arange(n_samples) % class_count
    radius = rng.uniform(_SPIRAL_INNER_RADIUS, 1.0, size=n_samples)
    angle = 2 * np.pi * (_SPIRAL_TURNS * radius + labels / class_count)
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    points += noise * rng.standard_normal((n_samples, 2))
    return points, labels


def _load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets as sklearn_datasets

    x, y = getattr(sklearn_datasets, f"load_{name}")(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


def _read_file(path: Path, label_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Read features and labels from a CSV or npz file and map the labels to 0..C-1."""
    suffix = path.suffix.lower()
    if suffix not in _FILE_SUFFIXES:
        raise ValueError(
            f"unknown file type {path.suffix!r} of {path}; pass a file ending in "
            f"{' or '.join(_FILE_SUFFIXES)}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} not found; check the path")

    if suffix == ".csv":
        features, labels = _read_csv(path, label_column)
    else:
        if label_column is not None:
            raise ValueError(
                f"label_column={label_column!r} applies only to CSV files; an .npz file contains "
                "the labels in the array 'y', so leave label_column unset"
            )
        features, labels = _read_npz_file(path)

    _check_features(features, path)
    return features, _encode_labels(labels, path)


def _read_csv(path: Path, label_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as error:
        raise ValueError(f"data file {path} is empty; it needs a header row and samples") from error

    columns = [str(column) for column in table.columns]
    if label_column is None:
        raise ValueError(f"a CSV file needs label_column=; the columns of {path} are {columns}")
    if label_column not in table.columns:
        raise ValueError(
            f"label column {label_column!r} not found in {path}; the columns are {columns}"
        )

    if table.shape[0] == 0:
        raise ValueError(f"data file {path} has no samples, only a header row")
    feature_table = table.drop(columns=[label_column])
    if feature_table.shape[1] == 0:
        raise ValueError(f"{path} has no feature columns besides the label column {label_column!r}")
    non_numeric = [
        str(column) for column in feature_table.columns if not pd.api.types.is_numeric_dtype(feature_table[column])
    ]
    if non_numeric:
        raise ValueError(
            f"feature column(s) {non_numeric} of {path} are not numeric; every column except "
            f"the label column {label_column!r} must hold numbers, so encode or drop these"
        )

    return feature_table.to_numpy(dtype=np.float64), table[label_column].to_numpy()


def _read_npz_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = read_npz(path, required=("x", "y"))
    features, labels = arrays["x"], arrays["y"]
    if features.ndim != 2:
        raise ValueError(f"array 'x' of {path} must have shape (samples, features), got shape {features.shape}")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(
            f"array 'y' of {path} must have shape ({features.shape[0]},), one label per row of "
            f"'x', got shape {labels.shape}"
        )
    if features.dtype.kind not in "biuf":
        raise ValueError(f"array 'x' of {path} has dtype {features.dtype}, which is not numeric; store numbers")
    return features.astype(np.float64), labels


def _check_features(features: np.ndarray, path: Path) -> None:
    if features.shape[0] == 0:
        raise ValueError(f"data file {path} has no samples")
    bad_rows = np.flatnonzero(~np.isfinite(features).all(axis=1))
    if bad_rows.size:
        raise ValueError(
            f"{bad_rows.size} row(s) of {path} have NaN or infinite features (first rows, "
            f"counting from 0: {bad_rows[:5].tolist()}); remove or impute these values"
        )


def _encode_labels(labels: np.ndarray, path: Path) -> np.ndarray:
    """Map labels to 0..C-1 in the sorted order of the distinct labels."""
    if labels.dtype.kind == "f":
        missing = ~np.isfinite(labels)
    else:
        import pandas as pd

        missing = pd.isna(labels)
        # np.unique cannot sort labels of mixed types such as 1 and "a", so object labels
        # are compared as text.
        labels = labels.astype(str) if labels.dtype.kind == "O" else labels
    if np.any(missing):
        raise ValueError(
            f"{int(np.sum(missing))} label(s) of {path} are missing or not finite (first rows: "
            f"{np.flatnonzero(missing)[:5].tolist()}); remove these rows or fill in their labels"
        )

    classes, encoded = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"{path} has a single class {classes.tolist()}; a classifier needs at least 2")
    logger.info("labels of %s mapped to classes 0..%d in the order %s", path, classes.size - 1, classes.tolist())
    return encoded.astype(np.int64)


# --- subsample, split, standardise, reduce -----------------------------------------------


def _subsample(x: np.ndarray, y: np.ndarray, n_samples: int, seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    if n_samples >= y.size:
        return x, y
    from sklearn.utils import resample

    logger.info("%s: stratified subsample of %d of its %d samples", name, n_samples, y.size)
    return resample(x, y, replace=False, n_samples=n_samples, stratify=y, random_state=seed)


def _split(
    x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(x, y, test_size=test_fraction, stratify=y, random_state=seed)
    except ValueError as error:
        # _check_class_sizes catches every case that scikit-learn 1.9 rejects. This keeps the
        # message in this function's terms if a later version rejects more.
        raise ValueError(
            f"{name!r}: the stratified split of {y.size} samples with test_fraction="
            f"{test_fraction} failed ({error}); increase n_samples or change test_fraction"
        ) from error


def _standardise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale both splits with the training mean and standard deviation."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    constant = std <= _CONSTANT_FEATURE_TOLERANCE * np.abs(x_train).max(axis=0)
    if constant.any():
        logger.warning(
            "feature(s) %s are constant on the training split; they are centred but not scaled",
            np.flatnonzero(constant).tolist(),
        )
    scale = np.where(constant, 1.0, std)
    return (x_train - mean) / scale, (x_test - mean) / scale


def _reduce_pca(x_train: np.ndarray, x_test: np.ndarray, pca_dim: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Project onto the leading principal components of the training split, standardised.

    The components are standardised again so that every output feature has unit training
    variance, as without PCA. The full SVD is deterministic, so no seed is needed.
    """
    n_train, n_features = x_train.shape
    if pca_dim > n_features:
        raise ValueError(
            f"pca_dim={pca_dim} exceeds the {n_features} features of {name!r}; pass pca_dim "
            f"between 1 and {n_features}, or None to keep all features"
        )
    if pca_dim > n_train:
        raise ValueError(
            f"pca_dim={pca_dim} exceeds the {n_train} training samples of {name!r}; pass "
            f"pca_dim <= {n_train} or increase n_samples"
        )

    from sklearn.decomposition import PCA

    pca = PCA(n_components=pca_dim, svd_solver="full").fit(x_train)
    logger.info(
        "%s: %d principal components keep %.3f of the training variance",
        name,
        pca_dim,
        pca.explained_variance_ratio_.sum(),
    )
    return _standardise(pca.transform(x_train), pca.transform(x_test))
