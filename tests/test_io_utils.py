"""Output safety: sanitised names never escape, writes are atomic, inputs stay untouched."""

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from bme_mri.errors import OutputError
from bme_mri.io_utils import (atomic_path, contained_path, ensure_outside, remove_stale_staging, safe_name,
                              staged_folder)


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


def _ours(folder: Path) -> bool:
    return all(p.name in ("labels.nii.gz", "study.json") for p in folder.iterdir())


def test_staged_folder_replaces_the_old_result_whole(tmp_path: Path):
    destination = tmp_path / "study"
    destination.mkdir()
    (destination / "labels.nii.gz").write_text("old run")
    with staged_folder(destination, _ours) as stage:
        (stage / "study.json").write_text("{}")
        assert not (destination / "study.json").exists()  # nothing shows before the end
    assert sorted(p.name for p in destination.iterdir()) == ["study.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["study"]


def test_staged_folder_keeps_the_old_result_when_writing_fails(tmp_path: Path):
    destination = tmp_path / "study"
    destination.mkdir()
    (destination / "study.json").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(destination, _ours) as stage:
            (stage / "labels.nii.gz").write_text("half")
            raise KeyboardInterrupt
    assert (destination / "study.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["study"]


def test_staged_folder_puts_the_old_result_back_when_publishing_fails(tmp_path: Path, monkeypatch):
    import os

    destination = tmp_path / "study"
    destination.mkdir()
    (destination / "study.json").write_text("old")
    real_replace, calls = os.replace, []

    def replace_then_fail(src, dst):  # the old folder moves aside, then the stage cannot move in
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    with pytest.raises(KeyboardInterrupt):
        with staged_folder(destination, _ours) as stage:
            (stage / "study.json").write_text("new")
            monkeypatch.setattr(os, "replace", replace_then_fail)
    monkeypatch.undo()
    assert (destination / "study.json").read_text() == "old"


def test_staged_folder_never_replaces_what_is_not_its_own(tmp_path: Path):
    user = tmp_path / "baseline"
    user.mkdir()
    (user / "IM0001.dcm").write_text("an input")
    with pytest.raises(OutputError, match="refusing to replace"):
        with staged_folder(user, _ours) as stage:
            (stage / "study.json").write_text("{}")
    assert (user / "IM0001.dcm").read_text() == "an input"
    assert [p.name for p in tmp_path.iterdir()] == ["baseline"]


def test_stale_staging_folders_are_removed_and_an_unreplaced_result_restored(tmp_path: Path):
    patient = tmp_path / "P1"
    (patient / ".20240101_x.partial-abc").mkdir(parents=True)
    (patient / ".20240101_y.retired-def" / "20240101_y").mkdir(parents=True)  # killed mid-publish
    (patient / ".20240101_z.retired-ghi" / "20240101_z").mkdir(parents=True)  # killed before cleanup
    (patient / "20240101_z").mkdir()
    (patient / ".hidden_user_folder").mkdir()
    assert remove_stale_staging(tmp_path) == 3
    assert sorted(p.name for p in patient.iterdir()) == [".hidden_user_folder", "20240101_y", "20240101_z"]


def test_csv_files_have_lf_line_endings_and_quote_commas(tmp_path: Path):
    import csv

    from bme_mri.io_utils import write_csv_atomic

    path = write_csv_atomic(tmp_path / "t.csv", ["a", "b"], [{"a": 1, "b": "x, y"}, {"a": 2.5}])
    raw = path.read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") == 3
    with open(path, newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == [{"a": "1", "b": "x, y"}, {"a": "2.5000", "b": ""}]


def test_a_killed_runs_temporary_files_are_removed_at_the_next_start(tmp_path: Path):
    from bme_mri.io_utils import remove_stale_staging

    study = tmp_path / "P1" / "20240101_abcd1234"
    study.mkdir(parents=True)
    for name in (".study.k3j2.tmp.json", ".labels.nii.q9.tmp.nii.gz", ".summary.x1.tmp.csv"):
        (study.parent.parent if name.startswith(".summary") else study).joinpath(name).write_bytes(b"")
    keep = [study / "study.json", study / ".gitkeep", tmp_path / "summary.csv"]
    for path in keep:
        path.write_text("x")
    assert remove_stale_staging(tmp_path) == 3
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(p.name for p in keep)
