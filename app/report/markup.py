"""HTML building blocks the page's sections share: escaping, tooltips, lists, legends.

Every piece of text that comes from the inputs goes through :func:`html.escape` (here or in
the section that writes it): a cluster or basket name is data, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

#: The page's icon, empty: served over HTTP, a browser would otherwise ask for /favicon.ico
#: and log the server's 404 as an error in its console.
EMPTY_ICON = '<link rel="icon" href="data:,">'

_GLYPHS = {"long": "&#9650;", "short": "&#9660;", "win": "&#9679;", "loss": "&#9679;"}


def attr(text: str) -> str:
    """Text escaped for an attribute value in double quotes."""
    return escape(text, quote=True)


def title_attr(text: str) -> str:
    """A ``title`` attribute (a tooltip) when there is something to say."""
    return f' title="{attr(text)}"' if text else ""


def notes_list(notes: Sequence[str]) -> str:
    """The non-blank notes as a bulleted list; nothing when there is none."""
    items = "".join(f"<li>{escape(str(note))}</li>" for note in notes if str(note).strip())
    return f"<ul>{items}</ul>" if items else ""


def legend(*items: tuple[str, str]) -> str:
    """A chart legend: (swatch class, label); ``glyph <kind>`` draws a marker character."""
    spans = []
    for css, label in items:
        if css.startswith("glyph"):
            swatch = f'<b class="{css}">{_GLYPHS[css.split()[1]]}</b> '
        else:
            swatch = f'<i class="{css}"></i>'
        spans.append(f"<span>{swatch}{escape(label)}</span>")
    return f'<div class="legend">{"".join(spans)}</div>'


def section_open(key: str, title: str, lead: str = "") -> str:
    """A section's opening tag, heading and lead paragraph (``lead`` is markup, not escaped)."""
    intro = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{key}"><h2>{escape(title)}</h2>{intro}'
