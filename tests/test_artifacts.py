"""Tests of atomic artifact writing and checked reading."""

import json
import os
import stat

import numpy as np
import pytest

from deeplimits.artifacts import UnreadableArtifactError, atomic_path, provenance, read_json, read_npz, write_json, write_npz


def test_npz_roundtrip_without_pickle(tmp_path):
    path = tmp_path / "sub" / "arrays.npz"

    write_npz(path, {"a": np.arange(3.0), "name": np.str_("moons")})

    arrays = read_npz(path, required=("a", "name"))
    assert np.array_equal(arrays["a"], np.arange(3.0))
    assert str(arrays["name"]) == "moons"
    assert sorted(p.name for p in path.parent.iterdir()) == ["arrays.npz"]


def test_written_files_follow_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644


def test_object_arrays_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="array 'bad' has dtype object"):
        write_npz(tmp_path / "x.npz", {"bad": np.array([{}, 1], dtype=object)})
    assert not any(tmp_path.iterdir())


def test_missing_arrays_are_named(tmp_path):
    write_npz(tmp_path / "x.npz", {"a": np.zeros(1)})

    with pytest.raises(KeyError, match=r"missing arrays \['K'\]; the file has \['a'\]"):
        read_npz(tmp_path / "x.npz", required=("a", "K"))


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old")

    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("killed")

    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_json_rejects_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "m.json", {"energy": float("nan")})
    assert not any(tmp_path.iterdir())


def test_json_converts_numpy(tmp_path):
    write_json(tmp_path / "m.json", {"x": np.float64(1.5), "v": np.arange(2)})

    assert read_json(tmp_path / "m.json") == {"v": [0, 1], "x": 1.5}


def test_provenance_lists_versions():
    record = provenance("cpu")

    assert record["packages"]["torch"]
    assert record["packages"]["torchdiffeq"]
    assert record["device"] == "cpu"
    json.dumps(record)


@pytest.mark.parametrize("content", [b"", b"not an archive\n", b"PK\x03\x04truncated"], ids=["empty", "text", "truncated zip"])
def test_unreadable_npz_named_with_fix(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)

    with pytest.raises(UnreadableArtifactError, match=r"broken\.npz is not a readable \.npz file .*write it again"):
        read_npz(path)


def test_missing_npz_stays_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "absent.npz")
