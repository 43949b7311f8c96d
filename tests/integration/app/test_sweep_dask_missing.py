"""Without Dask (or the cryptography it needs), ``sweep --workers dask`` (or ``--scheduler``)
is one line and exit 2, before any study file is made.  Runs whether Dask is installed or
not: the child interpreter is told that importing it fails, as it does where it is not
installed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.paths import REPO_ROOT

HIDE_DASK = "import sys, runpy; sys.modules['distributed'] = None; sys.modules['dask'] = None; "
HIDE_CRYPTOGRAPHY = "import sys, runpy; sys.modules['cryptography'] = None; "


@pytest.mark.parametrize(("hidden", "said"), [
    (HIDE_DASK, "error: Dask is not installed: pip install 'fxcluster[dask]'"),
    (HIDE_CRYPTOGRAPHY, "error: cryptography is not installed (it makes a local Dask "
                        "cluster's TLS certificate): pip install 'fxcluster[dask]'"),
], ids=["dask", "cryptography"])
@pytest.mark.parametrize("executor", [["--workers", "dask"],
                                      ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_a_missing_dask_is_one_line_and_exit_2(tmp_path, executor, hidden, said):
    # Arrange
    grid = tmp_path / "grid.toml"
    grid.write_text("entry = [1.2]\n", encoding="utf-8")
    study = tmp_path / "study.sqlite"
    argv = ["main.py", "sweep", "--market", "synthetic", "--clusters", "USD_MAJORS",
            "--from", "2024-01-08", "--to", "2024-01-12", "--grid", str(grid),
            "--study", str(study), *executor]
    code = hidden + f"sys.argv = {argv!r}; runpy.run_path('main.py', run_name='__main__')"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "FXCLUSTER_HOME": str(tmp_path / "home")}
    # Act
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    # Assert
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [said]
    assert not study.exists()
