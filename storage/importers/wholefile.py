"""The C parser's path for a Dukascopy file: the whole file parsed by ``pyarrow.csv`` with
typed columns, then the same vectorised checks as the block parser.

The block parser (``formats.DukascopyTickParser`` over ``textfile.iter_line_blocks``) reads
any file in bounded memory and names every defect, but splits lines and matches every number
against a pattern in Arrow compute; the C parser converts numbers and splits fields itself,
several times faster.  So a file is read here when it is small enough to hold whole (under
``MAX_RAW_BYTES`` on disk and ``MAX_CONTENT_BYTES`` decompressed) and plain UTF-8, and only
if every row converts cleanly: a field count that differs, a number the C parser refuses, an
empty or NaN value, a blank line or a quote character sends the whole file to the block
parser, which then gives exactly the errors and skipped-row reports it always gave.  Rows
that convert but fail a check (a crossed quote, an implausible price or date, time going
backwards) are reported here by the block parser's own checks (``checked``), with the same
``file:line`` (line numbers are row numbers + 1: the header is line 1 and no line is
blank).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from storage.datafile import read_data_bytes, sniff_encoding
from storage.importers.fields import Reasons, parse_iso_or_epoch
from storage.importers.formats import DUKASCOPY, BlockParser, DukascopyTickParser, ParsedBlock

__all__ = ["MAX_CONTENT_BYTES", "MAX_RAW_BYTES", "whole_file_blocks"]

#: The largest file (on disk) read whole: bigger files stream through the block parser in
#: bounded memory.  A day of EURUSD ticks is about 1 MB gzipped.
MAX_RAW_BYTES = 64 * 1024 * 1024
#: The most decompressed text read whole (a gzip bomb stops here).
MAX_CONTENT_BYTES = 512 * 1024 * 1024


def whole_file_blocks(path: Path, parser: BlockParser) -> list[ParsedBlock] | None:
    """The file as one parsed block, or ``None`` when the block parser must read it."""
    if not isinstance(parser, DukascopyTickParser) or parser.detected.format != DUKASCOPY:
        return None
    try:
        if path.stat().st_size > MAX_RAW_BYTES:
            return None
    except OSError:
        return None  # the block parser's opening names the problem
    content = read_data_bytes(path).content(MAX_CONTENT_BYTES)
    if content is None or sniff_encoding(content[:4]) != "utf-8" or content[:1] in (b"\n", b"\r"):
        return None
    header = parser.detected.header
    if len(set(header)) != len(header):
        return None
    time_name, bid_name, ask_name = parser.names
    try:
        table = pacsv.read_csv(
            pa.py_buffer(content),
            read_options=pacsv.ReadOptions(column_names=list(header), skip_rows=1),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={time_name: pa.string(), bid_name: pa.float64(),
                              ask_name: pa.float64()},
                include_columns=[time_name, bid_name, ask_name], strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if any(column.null_count for column in table.columns):
        return None
    quotes = {"bid": table[bid_name].to_numpy(), "ask": table[ask_name].to_numpy()}
    if any(np.isnan(values).any() for values in quotes.values()):
        return None  # a NaN is named by the block parser ("NaN bid")
    n = table.num_rows
    if n == 0:
        return None
    msc, time_ok = parse_iso_or_epoch(table[time_name].combine_chunks())
    reasons = Reasons.for_rows(n)
    reasons.mark(~time_ok, "bad timestamp")
    numbers = np.arange(2, n + 2, dtype=np.int64)
    return [parser.checked(msc, time_ok, quotes, numbers, reasons)]
