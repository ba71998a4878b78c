"""Report items a job returns from ``run``, and their rendering to HTML.

Every string that reaches the HTML is escaped: a report never carries live markup from job data.
Items nest: a Section may hold Text, Tables, other Sections...
"""
from __future__ import annotations

import base64
import functools
import html
import json
from collections.abc import Mapping

__all__ = ["ReportItem", "Section", "Subsection", "Title", "Text", "Code", "List", "Table",
           "Data", "Image", "render_items", "render_report", "report"]


def _esc(value) -> str:
    return html.escape(value if isinstance(value, str) else str(value), quote=True)


class ReportItem:
    """Base of every report item. ``children`` are rendered after the item itself."""

    tag = "div"
    css = ""

    def __init__(self, *children):
        self.children = list(children)

    def render(self) -> str:
        return render_items(self.children)

    def __repr__(self):
        return f"{type(self).__name__}({self.children!r})"


class _Heading(ReportItem):
    level = 2

    def __init__(self, text, *children):
        super().__init__(*children)
        self.text = text

    def render(self) -> str:
        head = f'<h{self.level} class="{self.css}">{_esc(self.text)}</h{self.level}>'
        return f'<section class="{self.css}">{head}{render_items(self.children)}</section>'


class Title(_Heading):
    level = 1
    css = "report-title"


class Section(_Heading):
    level = 2
    css = "report-section"


class Subsection(_Heading):
    level = 3
    css = "report-subsection"


class Text(ReportItem):
    def __init__(self, text, *children):
        super().__init__(*children)
        self.text = text

    def render(self) -> str:
        return f'<p class="report-text">{_esc(self.text)}</p>{render_items(self.children)}'


class Code(ReportItem):
    def __init__(self, text, *children):
        super().__init__(*children)
        self.text = text

    def render(self) -> str:
        return f'<pre class="report-code"><code>{_esc(self.text)}</code></pre>{render_items(self.children)}'


class List(ReportItem):
    """A bullet list; each entry may be a string or a report item."""

    def __init__(self, items, ordered=False):
        super().__init__()
        self.items = list(items)
        self.ordered = ordered

    def render(self) -> str:
        tag = "ol" if self.ordered else "ul"
        entries = "".join(f"<li>{_render_value(item)}</li>" for item in self.items)
        return f'<{tag} class="report-list">{entries}</{tag}>'


class Table(ReportItem):
    """A table from rows (lists, or dicts when ``headers`` is omitted)."""

    def __init__(self, rows, headers=None, caption=None):
        super().__init__()
        rows = list(rows)
        if headers is None and rows and isinstance(rows[0], Mapping):
            headers = list(rows[0].keys())
        if rows and isinstance(rows[0], Mapping):
            rows = [[row.get(h, "") for h in headers] for row in rows]
        self.rows = rows
        self.headers = list(headers) if headers else []
        self.caption = caption

    def render(self) -> str:
        out = ['<table class="report-table">']
        if self.caption:
            out.append(f"<caption>{_esc(self.caption)}</caption>")
        if self.headers:
            out.append("<thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in self.headers)
                       + "</tr></thead>")
        out.append("<tbody>")
        for row in self.rows:
            out.append("<tr>" + "".join(f"<td>{_render_value(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)


class Data(ReportItem):
    """Any JSON-like structure (dicts, lists, scalars), shown as nested definition lists."""

    def __init__(self, data):
        super().__init__()
        self.data = data

    def render(self) -> str:
        return f'<div class="report-data">{_render_value(self.data)}</div>'


class Image(ReportItem):
    """An image from bytes (or a base64 string) and its MIME type; shown as a data: URL."""

    ALLOWED = {"image/png", "image/jpeg", "image/gif", "image/webp"}

    def __init__(self, content, mime_type="image/png", alt=""):
        super().__init__()
        if mime_type not in self.ALLOWED:
            raise ValueError(f"unsupported image type {mime_type!r} (allowed: {sorted(self.ALLOWED)})")
        if isinstance(content, str):
            content = base64.b64decode(content, validate=True)
        self.content = bytes(content)
        self.mime_type = mime_type
        self.alt = alt

    def render(self) -> str:
        encoded = base64.b64encode(self.content).decode("ascii")
        return (f'<img class="report-image" alt="{_esc(self.alt)}" '
                f'src="data:{self.mime_type};base64,{encoded}">')


def _render_value(value) -> str:
    if isinstance(value, ReportItem):
        return value.render()
    if isinstance(value, Mapping):
        if not value:
            return '<span class="report-empty">(empty)</span>'
        rows = "".join(f"<dt>{_esc(k)}</dt><dd>{_render_value(v)}</dd>" for k, v in value.items())
        return f"<dl>{rows}</dl>"
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            return '<span class="report-empty">(none)</span>'
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return "<ul>" + "".join(f"<li>{_render_value(v)}</li>" for v in items) + "</ul>"
    if value is None:
        return ""
    return _esc(value)


def render_items(items) -> str:
    if items is None:
        return ""
    if isinstance(items, (ReportItem, str)) or not hasattr(items, "__iter__"):
        items = [items]
    return "".join(_render_value(item) if not isinstance(item, str) else
                   f'<p class="report-text">{_esc(item)}</p>' for item in items)


def render_report(title: str, items, notes: str = "") -> str:
    """A complete, self-contained HTML fragment for one run's report."""
    body = render_items(items)
    head = f'<h1 class="report-title">{_esc(title)}</h1>'
    if notes:
        head += f'<p class="report-notes">{_esc(notes)}</p>'
    return f'<div class="bots-report">{head}{body}</div>'


def report(run):
    """Decorator for ``JobBase.run``: renders what ``run`` returns into the HTML report.

    The wrapped method returns the HTML string; the raw items stay on ``self._report_items``.
    """

    @functools.wraps(run)
    def wrapper(self, *args, **kwargs):
        items = run(self, *args, **kwargs)
        self._report_items = items
        info = self.meta_info()
        title = info["report_title"] or info["job_class_name"]
        return render_report(title, items)

    wrapper.is_report = True
    return wrapper


def data_to_json(data) -> str:
    """Serialise a job's ``_data`` for storage; sets become sorted lists."""
    def default(obj):
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=str)
        return str(obj)
    return json.dumps(data, default=default, sort_keys=True)
