"""An RPyC classic server whose ``MetaTrader5`` is the simulated terminal: what mt5linux runs.

``python tests/helpers/rpyc_classic_server.py`` imports ``fake_mt5_module`` (options from
``FXCLUSTER_FAKE_MT5``) as ``MetaTrader5``, listens on a free port of 127.0.0.1 with RPyC's
own ``ThreadedServer`` and ``SlaveService`` (what RPyC's ``rpyc_classic`` server runs, which
is what mt5linux starts under Wine), prints the port as the first line on stdout and serves
until it is terminated.  Like every classic server it runs whatever its clients send: it
listens on loopback only, for the length of one test.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def main() -> int:
    from rpyc.core.service import SlaveService
    from rpyc.utils.server import ThreadedServer

    from tests.helpers import fake_mt5_module

    sys.modules["MetaTrader5"] = fake_mt5_module
    server = ThreadedServer(SlaveService, hostname="127.0.0.1", port=0)
    serving = threading.Thread(target=server.start, daemon=True)
    serving.start()
    deadline = time.monotonic() + 30
    while not server.active and serving.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # start() listens first: the port is announced once it accepts
    if not server.active:
        return 1
    print(server.port, flush=True)
    serving.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
