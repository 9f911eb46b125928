"""Atomic writing and checked reading of the project's artifacts.

Arrays go to ``.npz`` files, read back with ``allow_pickle=False``; metadata goes to JSON.
Every writer first writes a temporary file in the target's folder and then renames it over
the target, so a process killed midway never leaves a file that looks finished: a rename
within one file system is atomic on POSIX.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "atomic_path",
    "write_npz",
    "read_npz",
    "write_json",
    "read_json",
    "provenance",
    "UnreadableArtifactError",
]


class UnreadableArtifactError(ValueError):
    """An artifact file that exists but cannot be read: truncated, corrupt or of another format."""


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path`` that is renamed onto ``path`` on success.

    Parameters
    ----------
    path : str or PathLike
        Final location. Its parent folder is created if missing.
    suffix : str, default ""
        Suffix of the temporary name; writers such as ``numpy.savez`` that append an
        extension need the right one.

    Notes
    -----
    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp creates the file with mode 0600; give it the mode a plain open() would.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_npz(path: str | os.PathLike, arrays: Mapping[str, Any]) -> None:
    """Write arrays to an uncompressed ``.npz`` file atomically.

    Raises
    ------
    TypeError
        If an array has dtype ``object``, which could only be read back with pickle.
    """
    converted = {name: np.asarray(value) for name, value in arrays.items()}
    for name, value in converted.items():
        if value.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; store numbers or strings only")

    with atomic_path(path, suffix=".npz") as temporary:
        np.savez(temporary, **converted)


def read_npz(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Read an ``.npz`` file without pickle and check that the ``required`` arrays exist.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    KeyError
        If one of ``required`` is missing; the message lists the arrays that are there.
    UnreadableArtifactError
        If ``path`` is not an ``.npz`` archive of plain arrays: truncated, of another
        format, or holding pickled objects, which are never loaded.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, EOFError, OSError, zipfile.BadZipFile) as error:
        if isinstance(error, FileNotFoundError):
            raise
        # numpy reads a file without the .npy or .npz signature as a pickle, and then
        # suggests allow_pickle=True, which this project never uses.
        reason = "not an archive of plain arrays" if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        raise UnreadableArtifactError(
            f"{path} is not a readable .npz file of arrays ({reason}); write it again with the "
            "deeplimits command that makes it"
        ) from error

    missing = [name for name in required if name not in arrays]
    if missing:
        raise KeyError(f"{path}: missing arrays {missing}; the file has {sorted(arrays)}")

    return arrays


def write_json(path: str | os.PathLike, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented JSON atomically; NaN and infinity are rejected."""
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False, default=_to_builtin)
    with atomic_path(path, suffix=".json") as temporary:
        temporary.write_text(text + "\n")


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON object from ``path``."""
    return json.loads(Path(path).read_text())


def _to_builtin(value: Any) -> Any:
    """Convert numpy scalars and arrays, which ``json`` cannot encode, to Python types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def provenance(device: str | None = None) -> dict[str, Any]:
    """Return the versions of the packages that compute results, the git revision and host.

    The git revision is that of the working directory's repository, or ``None`` outside
    one; ``dirty`` tells whether tracked files had uncommitted changes.
    """
    packages = {}
    for name in ("deeplimits", "torch", "torchdiffeq", "numpy", "scipy", "scikit-learn"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None

    return {
        "packages": packages,
        "python": platform.python_version(),
        "git_revision": _git_output("rev-parse", "HEAD"),
        "git_dirty": bool(_git_output("status", "--porcelain", "--untracked-files=no")),
        "device": device,
    }


def _git_output(*arguments: str) -> str | None:
    try:
        completed = subprocess.run(["git", *arguments], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None
