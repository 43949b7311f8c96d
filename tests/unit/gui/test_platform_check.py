"""The one line a user reads instead of Qt's abort when the window cannot open."""

from __future__ import annotations

import sys

import pytest

from gui.platform_check import XCB_LIBRARIES, display_problem, uses_xcb


def test_a_missing_xcb_library_is_named_by_its_package_and_the_setup_script():
    # Arrange: every library loads but the one a fresh Debian lacked
    def loads(soname: str) -> bool:
        return soname != "libxcb-icccm.so.4"

    # Act
    line = display_problem({"DISPLAY": ":0"}, loads=loads, platform="linux")

    # Assert
    assert line is not None and "\n" not in line
    assert "libxcb-icccm4" in line and "scripts/setup-linux" in line
    assert "libxcb-cursor0" not in line


def test_no_display_is_one_line_with_the_ways_out():
    line = display_problem({}, loads=lambda _s: True, platform="linux")
    assert line is not None and "DISPLAY" in line and "offscreen" in line


@pytest.mark.parametrize(("env", "platform"), [
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
    ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux"),
    ({}, "win32"),
    ({}, "darwin"),
])
def test_other_platforms_are_not_checked(env, platform):
    assert display_problem(env, loads=lambda _s: False, platform=platform) is None


def test_xcb_is_recognised_with_plugin_options():
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb:nomitshm"})
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X libraries are Linux's")
def test_this_machine_has_every_library_after_setup():
    # scripts/setup-linux (CI runs it) installs every package of the table
    missing = display_problem({"DISPLAY": ":0"})
    assert missing is None, missing
    assert len(XCB_LIBRARIES) == len(set(XCB_LIBRARIES.values()))
