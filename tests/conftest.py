"""Shared test fixtures.

Tests must pass on a fresh clone: real-data checks use the small slices in ``tests/data``;
the larger checks against ``../shared/data`` skip with a message when it is absent.  Tests are
grouped as ``unit/``, ``integration/`` and ``acceptance/``, each by the package it tests;
``helpers/`` is what they share (paths, the engine set-up, the recovery child process).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from helpers.paths import SHARED_DATA, SHARED_REFERENCE, TEST_DATA


@pytest.fixture
def test_data() -> Path:
    return TEST_DATA


@pytest.fixture
def shared_data() -> Path:
    """The full real-data set, or a skip saying it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"full data set not present at {SHARED_DATA}; checks on tests/data still run")
    return SHARED_DATA


@pytest.fixture
def shared_reference() -> Path:
    """The MetaTrader5 package reference, or a skip saying it is absent."""
    if not (SHARED_REFERENCE / "mt5_api.json").is_file():
        pytest.skip(f"MT5 reference not present at {SHARED_REFERENCE}; own constants still tested")
    return SHARED_REFERENCE


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test's data directory (journal, crash log, settings) out of the user's home."""
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path_factory.mktemp("home")))
