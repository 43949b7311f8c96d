"""The one-file terminal server: a zipapp of just the modules that serve a module.

The Windows Python inside a Wine prefix should need nothing but ``pip install MetaTrader5
numpy``: no checkout of the product, no pandas, Qt or numba.  ``main.py terminal-server
--write-zipapp FILE.pyz`` writes those modules (``SERVER_FILES``: the engine's error types,
the MetaTrader5 constants and structs, the remote link) with a ``__main__`` that runs
``mt5bridge.remote.module_server``, through the standard library's ``zipapp``; then::

    python.exe FILE.pyz --module MetaTrader5 --address 127.0.0.1:18813 --secret-from SECRET

``tests/integration/mt5bridge/test_module_server_install.py`` runs such a file serving a
test module, and checks that the server's modules import with the product's heavy
dependencies blocked.
"""

from __future__ import annotations

import shutil
import tempfile
import zipapp
from pathlib import Path

#: The files of the one-file server, relative to the repository's root: the closure of
#: ``mt5bridge.remote.module_server``'s imports within the product.
SERVER_FILES = (
    "engine/__init__.py",
    "engine/errors.py",
    "mt5bridge/__init__.py",
    "mt5bridge/constants.py",
    "mt5bridge/structs.py",
    "mt5bridge/remote/__init__.py",
    "mt5bridge/remote/address.py",
    "mt5bridge/remote/client.py",
    "mt5bridge/remote/codec.py",
    "mt5bridge/remote/launch.py",
    "mt5bridge/remote/link.py",
    "mt5bridge/remote/module_server.py",
    "mt5bridge/remote/private_dir.py",
    "mt5bridge/remote/secret.py",
    "mt5bridge/remote/server.py",
    "mt5bridge/remote/wire.py",
)
#: The archive's entry point; ``prog`` names the file in the help text.
_MAIN = '''"""The MetaTrader5 module served over the trading console's terminal link."""
import sys

from mt5bridge.remote.module_server import main

sys.exit(main(prog={name!r}))
'''
_ROOT = Path(__file__).resolve().parents[2]


def write_server_zipapp(target: str | Path) -> Path:
    """Write the one-file server to ``target`` (replaced if it exists); its absolute path."""
    target = Path(target).absolute()
    missing = [f for f in SERVER_FILES if not (_ROOT / f).is_file()]
    if missing:
        raise FileNotFoundError(f"the server's sources are not all here: {missing}")
    with tempfile.TemporaryDirectory(prefix="fxcluster-pyz-") as folder:
        source = Path(folder) / "server"
        for name in SERVER_FILES:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_ROOT / name, source / name)
        (source / "__main__.py").write_text(_MAIN.format(name=target.name), encoding="utf-8")
        zipapp.create_archive(source, target, interpreter=None, compressed=True)
    return target
