"""Text from data is shown as text, never as markup.

A QLabel, and a tooltip, render their text as HTML whenever ``Qt::mightBeRichText`` thinks
it looks like markup (``Qt.TextFormat.AutoText``, the default).  Much of what the console
shows comes from data, not from the product: calendar titles imported from a ForexFactory
file, cluster names and symbols from a user's config file, error and reason texts, journal
rows, file paths.  Rendered as HTML, a calendar title such as
``NFP<br><span style="font-size:28pt">ALL CLEAR</span><img src="/tmp/x.png">`` would draw a
large fake all-clear inside the risk banner and load a local image file.

So a label that shows data is set to ``Qt.TextFormat.PlainText`` (``plain`` /
``plain_label``), and a tooltip that carries data goes through ``plain_tip``: tooltips have
no format setting, so the text is escaped inside a rich-text paragraph that keeps its line
breaks and spaces.  Deliberate rich text built by the console (bold headings, coloured
legends) escapes each data piece with ``html.escape`` instead.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def plain(label: QLabel) -> QLabel:
    """``label``, set to show its text literally (data is not markup); returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that shows ``text`` (and every later ``setText``) literally: for text that
    comes from data (names, titles, reasons, paths), which is not markup."""
    return plain(QLabel(text, parent))


def plain_tip(text: str) -> str:
    """A tooltip string that Qt shows as ``text`` literally, whatever it contains.

    Tooltips have no text-format setting: Qt renders one as HTML when it looks like markup.
    The text is escaped (``html.escape``) inside a paragraph whose ``white-space:pre-wrap``
    keeps its line breaks (CR LF and CR read as LF) and runs of spaces, so a tooltip from
    data (a release title, a cluster name, an error) cannot draw markup or load images.  An
    empty text stays empty, so that no tooltip is shown.
    """
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    # & < > are escaped; quotes need no escaping outside an attribute value
    return f"<p style='white-space:pre-wrap'>{escape(lines, quote=False)}</p>"
