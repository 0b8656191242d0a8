"""Output safety: sanitised names never escape, writes are atomic, inputs stay untouched."""

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from bme_mri.errors import OutputError
from bme_mri.io_utils import atomic_path, contained_path, ensure_outside, safe_name


@pytest.mark.parametrize("hostile", ["../../x", "a/b", "..", "/etc/passwd", "C:\\win", "", "   ", "\x00id"])
def test_hostile_patient_ids_become_one_safe_component(hostile):
    name = safe_name(hostile)
    assert name and "/" not in name and "\\" not in name and name not in (".", "..")


@given(st.text(max_size=80))
def test_safe_name_result_stays_inside_the_root(tmp_path_factory, value):
    root = tmp_path_factory.getbasetemp()
    path = contained_path(root, value, value)
    assert root.resolve() in path.parents


def test_distinct_unsafe_ids_do_not_collide():
    assert safe_name("a/b") != safe_name("a_b")
    assert safe_name("PAT001") == "PAT001"


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path):
    target = tmp_path / "out" / "labels.nii.gz"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_output_inside_input_is_refused(tmp_path: Path):
    (tmp_path / "in").mkdir()
    with pytest.raises(OutputError, match="inside the input"):
        ensure_outside(tmp_path / "in" / "out", [tmp_path / "in"])
    ensure_outside(tmp_path / "out", [tmp_path / "in"])
