"""The command line as a test runs it: ``main.main`` in this process, argparse's own
refusals (``SystemExit``) taken as the exit status they carry."""

from __future__ import annotations

import pytest

from main import main


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``main.main(argv)``."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
