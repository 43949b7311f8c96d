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


#: What a desktop notification shows for each character its server may take for markup.
_NOTIFICATION_LOOKALIKES = str.maketrans({"&": "\uff06", "<": "\u2039", ">": "\u203a"})


def notification_text(text: str) -> str:
    """``text`` for a system-tray message, which no notification server renders as markup.

    On Linux the tray's message goes to the desktop's notification server, and one that
    advertises ``body-markup`` (the freedesktop notification specification) renders ``<b>``,
    ``<a href>`` and ``<img>`` in the body, while one that does not shows the raw text.
    Escaping (``&lt;``) would then read as entities on the second kind, so the three markup
    characters are replaced by look-alikes instead (fullwidth ampersand, single angle
    quotation marks): the same text on every server, and never a tag.  An alert's text
    carries data (a calendar title in a NEWS lock reason, a broker's error message)."""
    return text.translate(_NOTIFICATION_LOOKALIKES)
