"""``python -m mt5bridge.remote --serve [options]``: serve a simulated terminal.

Everything lives in ``mt5bridge.remote.launch``; this file only runs it, so no class of the
package is defined a second time under ``__main__``.
"""

import sys

from mt5bridge.remote.launch import main

if __name__ == "__main__":
    sys.exit(main())
