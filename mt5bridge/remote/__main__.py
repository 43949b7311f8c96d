"""``python -m mt5bridge.remote --serve [options]``: serve a simulated terminal.

Everything lives in ``mt5bridge.remote.launch``; this file only runs it, so the classes that
travel in pickles are always the package's own (``mt5bridge.remote.EncodedStruct``), never
a second copy defined under ``__main__``.
"""

import sys

from mt5bridge.remote.launch import main

if __name__ == "__main__":
    sys.exit(main())
