"""``gui.plain_text``: a tooltip from data reads as the text itself, never as markup."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument

from gui.plain_text import plain_label, plain_tip

MARKUP = ('NFP<br><span style="font-size:28pt;color:#00aa00">ALL CLEAR: no blackout</span>'
          '<img src="/tmp/x.png">')


def shown(tip: str) -> str:
    """The text Qt shows for the rich-text tooltip ``tip``."""
    document = QTextDocument()
    document.setHtml(tip)
    return document.toPlainText()


def test_a_tip_of_markup_escapes_it_and_reads_as_the_text(qapp):
    # Arrange / Act
    tip = plain_tip(MARKUP)
    # Assert: the tags are entities, and what Qt renders is the original text
    assert "&lt;br&gt;" in tip and "<br>" not in tip and "<img" not in tip
    assert shown(tip) == MARKUP


def test_a_tip_keeps_its_line_breaks_and_spaces(qapp):
    text = "USD_MAJORS: USD NFP until 14:40 UTC\nGOLD_HAVENS:  two  spaces & <b>"
    tip = plain_tip(text)
    assert shown(tip) == text


def test_a_tip_reads_carriage_returns_as_line_breaks(qapp):
    assert shown(plain_tip("one\r\ntwo\rthree")) == "one\ntwo\nthree"


def test_an_empty_text_gives_no_tip():
    assert plain_tip("") == ""


def test_a_plain_label_shows_markup_literally(qtbot):
    # Arrange / Act
    label = plain_label("<b>X</b>")
    qtbot.addWidget(label)
    label.setText(MARKUP)
    # Assert
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text() == MARKUP
