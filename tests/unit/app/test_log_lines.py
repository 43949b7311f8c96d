"""A command's logged warnings and errors reach standard error as one line each, led by
their level, with an exception's type and message on the same line and no traceback."""

from __future__ import annotations

import logging

import pytest

from app.cli.log_lines import LogLines, install_log_lines
from engine.events import NOTICES


@pytest.fixture
def logger():
    """A logger whose only handler is a ``LogLines`` (nothing reaches pytest's)."""
    log = logging.getLogger("tests.log_lines")
    log.propagate = False
    handler = LogLines()
    log.addHandler(handler)
    yield log
    log.removeHandler(handler)
    log.propagate = True


def test_a_warning_is_one_line_led_by_its_level(logger, capsys):
    # Act
    logger.warning("USD_MAJORS-20190312T1130-001: AUDUSD: %+.4f lots rounds to 0", -0.0047)
    logger.info("not shown")

    # Assert
    assert capsys.readouterr().err == ("warning: USD_MAJORS-20190312T1130-001: AUDUSD: -0.0047 "
                                       "lots rounds to 0\n")


def test_a_notice_is_shown_at_info_whatever_the_root_level(capsys):
    # Arrange: the root logger at its default WARNING; a handler there as main.py adds it
    root = logging.getLogger()
    handler = LogLines()
    root.addHandler(handler)
    try:
        # Act
        logging.getLogger(NOTICES).info("terminal connection restored: entries allowed again")
        logging.getLogger("tests.log_lines.other").info("not shown")
    finally:
        root.removeHandler(handler)

    # Assert
    assert root.level == logging.WARNING
    assert capsys.readouterr().err == "info: terminal connection restored: entries allowed again\n"


def test_an_exception_is_its_type_and_message_without_traceback(logger, capsys):
    # Act
    try:
        raise OSError("disk full\nwhile writing")
    except OSError:
        logger.error("calendar import failed", exc_info=True)

    # Assert
    err = capsys.readouterr().err
    assert err == "error: calendar import failed: OSError: disk full while writing\n"
    assert "Traceback" not in err


def test_install_adds_one_handler_however_often_it_is_called():
    # Arrange
    root = logging.getLogger()
    before = [h for h in root.handlers if isinstance(h, LogLines)]

    # Act
    install_log_lines()
    install_log_lines()

    # Assert
    added = [h for h in root.handlers if isinstance(h, LogLines) and h not in before]
    try:
        assert len(before) + len(added) == 1
    finally:
        for handler in added:
            root.removeHandler(handler)
