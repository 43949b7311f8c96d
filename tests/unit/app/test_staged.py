"""A set of output files is written whole or not at all (``app.staged``)."""

from __future__ import annotations

import os

import pytest

import app.staged
from app.staged import staged_folder


def names(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_new_folder_appears_with_every_file(tmp_path):
    target = tmp_path / "report"

    with staged_folder(target) as folder:
        (folder / "a.json").write_text("{}")
        (folder / "sub").mkdir()
        (folder / "sub" / "b.csv").write_text("x\n")
        assert not target.exists()  # nothing shows while it is written

    assert names(target) == ["a.json", "sub", "sub/b.csv"]
    assert names(tmp_path) == ["report", "report/a.json", "report/sub", "report/sub/b.csv"]


def test_an_existing_folder_keeps_its_other_files_and_gets_the_new_ones(tmp_path):
    target = tmp_path / "report"
    target.mkdir()
    (target / "journal.sqlite").write_text("kept")
    (target / "a.json").write_text("old")

    with staged_folder(target) as folder:
        (folder / "a.json").write_text("new")

    assert (target / "journal.sqlite").read_text() == "kept"
    assert (target / "a.json").read_text() == "new"
    assert names(tmp_path) == ["report", "report/a.json", "report/journal.sqlite"]


def test_a_folder_in_the_way_moves_nothing_and_is_named(tmp_path):
    # Arrange: the second file's name taken by a folder
    target = tmp_path / "report"
    (target / "b.html").mkdir(parents=True)

    # Act
    with pytest.raises(IsADirectoryError) as raised, staged_folder(target) as folder:
        (folder / "a.json").write_text("{}")
        (folder / "b.html").write_text("<html>")

    # Assert
    assert raised.value.filename == str(target / "b.html")
    assert names(tmp_path) == ["report", "report/b.html"]


def test_a_failure_while_writing_leaves_nothing(tmp_path):
    target = tmp_path / "report"

    with pytest.raises(RuntimeError), staged_folder(target) as folder:
        (folder / "a.json").write_text("{}")
        raise RuntimeError("the page failed")

    assert names(tmp_path) == []


def test_a_folder_another_writer_makes_while_this_one_moves_in_is_merged_into(
        tmp_path, monkeypatch):
    # Arrange: another writer creates the target, with a file, just before this move
    target = tmp_path / "report"
    real_replace = os.replace

    def other_writer_first(source, destination):
        if not target.exists():
            target.mkdir()
            (target / "other.csv").write_text("theirs")
        real_replace(source, destination)

    monkeypatch.setattr(app.staged.os, "replace", other_writer_first)

    # Act: this used to end in "Directory not empty", a traceback at the command line
    with staged_folder(target) as folder:
        (folder / "a.json").write_text("ours")

    # Assert: both sets of files in place, no hidden folder left
    assert names(tmp_path) == ["report", "report/a.json", "report/other.csv"]
