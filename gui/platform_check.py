"""Before Qt opens a window on Linux: are the X libraries there, and is there a display?

When a library of Qt's xcb platform plugin is missing, or no X display is reachable, Qt
does not raise: it prints a paragraph naming the wrong library (it names libxcb-cursor0
when libxcb-icccm4 is what is missing) and aborts the process (status 134).  Checking the
same libraries first turns that into one line naming the Debian/Ubuntu packages and the
script that installs them.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

#: The shared libraries the xcb platform plugin of PySide6 6.11 links against (read with
#: ``ldd`` from libqxcb.so and libQt6XcbQpa.so), by the Debian/Ubuntu package providing each.
XCB_LIBRARIES: Mapping[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will pick its xcb platform: Linux, no other platform asked for, not a
    Wayland session (Qt 6 picks Wayland there)."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return env.get("XDG_SESSION_TYPE", "") != "wayland"


def display_problem(env: Mapping[str, str] | None = None,
                    loads: Callable[[str], bool] = _loads,
                    platform: str = sys.platform) -> str | None:
    """One line saying why the window cannot open here, or None when it can."""
    env = os.environ if env is None else env
    if not platform.startswith("linux") or not uses_xcb(env):
        return None
    missing = sorted({package for soname, package in XCB_LIBRARIES.items()
                      if not loads(soname)})
    if missing:
        return ("the console's window needs system libraries that are missing: "
                f"{' '.join(missing)} (run scripts/setup-linux, or apt-get install them)")
    if not env.get("DISPLAY"):
        return ("no X display (DISPLAY is not set): run the console on a desktop, under "
                "xvfb-run, or with QT_QPA_PLATFORM=offscreen")
    return None
