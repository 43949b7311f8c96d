"""A terminal server killed outright leaves its private folder behind; the next server
removes it, and nothing that may still be in use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mt5bridge.remote.private_dir import OWNER_FILE, PREFIX, new_private_dir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the sweep is POSIX only")

MAKE_AND_DIE = ("import os, sys; from mt5bridge.remote.private_dir import new_private_dir; "
                "print(new_private_dir(sys.argv[1]), flush=True); os._exit(0)")
MAKE_AND_WAIT = ("import sys; from mt5bridge.remote.private_dir import new_private_dir; "
                 "print(new_private_dir(sys.argv[1]), flush=True); sys.stdin.read()")


def made_by_a_process(parent: Path, code: str, **popen) -> tuple[Path, subprocess.Popen]:
    child = subprocess.Popen([sys.executable, "-c", code, str(parent)], stdout=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parents[3], **popen)
    assert child.stdout is not None
    return Path(child.stdout.readline().strip()), child


def test_a_dead_servers_folder_is_removed_and_live_or_unknown_ones_are_kept(tmp_path):
    # Arrange: one folder whose owner ended without cleaning up, one whose owner still runs,
    # one without an owner file (being made, or an older version's), a symlink to a folder
    dead, child = made_by_a_process(tmp_path, MAKE_AND_DIE)
    child.wait()
    live, waiting = made_by_a_process(tmp_path, MAKE_AND_WAIT, stdin=subprocess.PIPE)
    unknown = tmp_path / f"{PREFIX}unknown"
    unknown.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / OWNER_FILE).write_text(f"{child.pid}\n")
    (tmp_path / f"{PREFIX}link").symlink_to(target)
    try:
        # Act
        mine = Path(new_private_dir(str(tmp_path)))

        # Assert
        assert not dead.exists()
        assert live.is_dir() and unknown.is_dir() and target.is_dir()
        assert (mine / OWNER_FILE).read_text() == f"{os.getpid()}\n"
        assert mine.stat().st_mode & 0o777 == 0o700
    finally:
        waiting.communicate("")
