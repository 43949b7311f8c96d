"""The crash log keeps the full report of an unexpected error, and never a secret."""

from __future__ import annotations

from app.cli.crash import report_crash


def test_the_crash_log_hides_a_secret_option_s_value(tmp_path, monkeypatch):
    # Arrange: a command line carrying secrets, as a user might type one
    monkeypatch.setenv("FXCLUSTER_HOME", str(tmp_path))
    monkeypatch.setattr("sys.argv", ["main.py", "run", "--live", "--password", "hunter2",
                                     "--api-key=abc123", "--days", "1"])

    # Act
    try:
        raise RuntimeError("an unexpected failure")
    except RuntimeError as exc:
        said = report_crash(exc)

    # Assert: the report is there, the command with its secrets hidden
    log = (tmp_path / "crash.log").read_text(encoding="utf-8")
    assert said == f"details in {tmp_path / 'crash.log'}"
    assert "main.py run --live --password *** --api-key=*** --days 1" in log
    assert "RuntimeError: an unexpected failure" in log
    assert "hunter2" not in log and "abc123" not in log
