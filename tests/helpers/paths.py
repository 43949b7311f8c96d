"""Where the tests find the repository and its data, from any test folder.

Tests must pass on a fresh clone: real-data checks use the small slices in ``tests/data``;
the larger checks against ``../shared/data`` skip with a message when it is absent.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS = REPO_ROOT / "tests"
TEST_DATA = TESTS / "data"
HELPERS = TESTS / "helpers"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"
