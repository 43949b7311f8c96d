"""Importers of market-data files (MT5 exports, HistData M1, Dukascopy CSV) into the store.

``import_file`` is the entry point; formats are detected by content (see ``formats``), text
is read in blocks whatever its encoding (``textfile``) and parsed column-wise (``fields``).
"""

from storage.importers.formats import DUKASCOPY, FORMATS, HISTDATA, MT5, DetectedFormat
from storage.importers.run import (
    ImportSummary,
    detect_file,
    import_file,
    iter_parsed_blocks,
    parse_server_time,
    resolve_symbol,
)

__all__ = [
    "DUKASCOPY",
    "FORMATS",
    "HISTDATA",
    "MT5",
    "DetectedFormat",
    "ImportSummary",
    "detect_file",
    "import_file",
    "iter_parsed_blocks",
    "parse_server_time",
    "resolve_symbol",
]
