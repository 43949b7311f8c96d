"""live-check's connection row gives the fix for what the bridge said, not one advice for
every failure (a wrong secret and a full server were told to install MetaTrader 5)."""

from __future__ import annotations

import pytest

from app.livecheck.connect import Connection
from app.livecheck.terminal_checks import connection_check

WHERE = "127.0.0.1:18812"


@pytest.mark.parametrize(("refusal", "fix"), [
    (f"IPC initialize failed, the terminal server at {WHERE}: it refused the secret (is the "
     "secret file the one this server wrote?)", "give the secret file the terminal server"),
    (f"IPC initialize failed, the terminal server at {WHERE}: it is serving as many "
     "connections as it accepts; try again when one has closed",
     "close another client of the terminal server"),
    (f"IPC initialize failed, no terminal server at {WHERE} (Connection refused)",
     f"start the terminal server at {WHERE} and the MetaTrader 5 terminal it serves"),
])
def test_the_connection_row_gives_the_fix_for_what_failed(refusal, fix):
    # Act
    row = connection_check(Connection(adapter=None, refusal=refusal), WHERE)

    # Assert
    assert row.detail == refusal and row.fix.startswith(fix)
