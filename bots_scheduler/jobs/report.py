"""Report items a job returns from ``run``, the ``Report`` value that holds them, and the one
``Renderer`` that turns them into HTML.

A run's report stays a value (a title and a list of items) until the run has ended and every
post-run step had its say (notices, change sections, findings); it is rendered once, when the
execution is recorded, and once more for each e-mail.  Nothing ever edits rendered HTML.

Every string that reaches the HTML goes through ``Renderer.text``: it is escaped (a report never
carries live markup from job data) and passed to the renderer's ``redact`` hook first (secret
values become ``[secret:NAME]``, CONTRACT §7).  Items nest: a Section may hold Text, Tables,
other Sections...

To add a kind of item, subclass ``ReportItem`` and implement ``render(renderer)`` using
``renderer.text``, ``renderer.value`` and ``renderer.items`` for everything inside it.
"""
from __future__ import annotations

import base64
import functools
import html
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["ReportItem", "Section", "Subsection", "Title", "Text", "Code", "List", "Table",
           "Data", "Image", "Report", "Renderer", "render_items", "render_report", "report"]


class Renderer:
    """Renders report items to HTML.

    ``redact(text) -> text`` is applied to every string before it is escaped (default: none).
    ``image_source(image) -> str`` gives an image's ``src`` (default: a ``data:`` URL; e-mails
    use ``cid:`` references to inline parts instead).
    """

    def __init__(self, redact: Callable[[str], str] | None = None,
                 image_source: Callable[["Image"], str] | None = None):
        self.redact = redact
        self.image_source = image_source or data_url

    def text(self, value) -> str:
        """Any value as escaped (and redacted) text."""
        value = value if isinstance(value, str) else str(value)
        if self.redact is not None:
            value = self.redact(value)
        return html.escape(value, quote=True)

    def value(self, value) -> str:
        """A report item, or a JSON-like value (mappings, sequences, scalars)."""
        if isinstance(value, ReportItem):
            return value.render(self)
        if isinstance(value, Mapping):
            if not value:
                return '<span class="report-empty">(empty)</span>'
            rows = "".join(f"<dt>{self.text(k)}</dt><dd>{self.value(v)}</dd>"
                           for k, v in value.items())
            return f"<dl>{rows}</dl>"
        if isinstance(value, (list, tuple, set, frozenset)):
            if not value:
                return '<span class="report-empty">(none)</span>'
            items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
            return "<ul>" + "".join(f"<li>{self.value(v)}</li>" for v in items) + "</ul>"
        if value is None:
            return ""
        return self.text(value)

    def items(self, items) -> str:
        """A sequence of items; a plain string is a paragraph."""
        return "".join(f'<p class="report-text">{self.text(item)}</p>'
                       if isinstance(item, str) else self.value(item)
                       for item in as_item_list(items))

    def report(self, report: "Report") -> str:
        """A complete, self-contained HTML fragment for one run's report."""
        head = f'<h1 class="report-title">{self.text(report.title)}</h1>'
        if report.notes:
            head += f'<p class="report-notes">{self.text(report.notes)}</p>'
        return f'<div class="bots-report">{head}{self.items(report.items)}</div>'


def data_url(image: "Image") -> str:
    return f"data:{image.mime_type};base64,{base64.b64encode(image.content).decode('ascii')}"


PLAIN = Renderer()


def as_item_list(items) -> list:
    """``items`` as a list: None is empty, one item or string is a list of one."""
    if items is None:
        return []
    if isinstance(items, (ReportItem, str, Mapping)) or not hasattr(items, "__iter__"):
        return [items]
    return list(items)


class ReportItem:
    """Base of every report item. ``children`` are rendered after the item itself."""

    def __init__(self, *children):
        self.children = list(children)

    def render(self, renderer: Renderer | None = None) -> str:
        return (renderer or PLAIN).items(self.children)

    def walk(self) -> Iterator["ReportItem"]:
        """This item and every item inside it, depth first."""
        yield self
        for child in self.children:
            if isinstance(child, ReportItem):
                yield from child.walk()

    def __repr__(self):
        return f"{type(self).__name__}({self.children!r})"


class _Heading(ReportItem):
    level = 2
    css = ""

    def __init__(self, text, *children):
        super().__init__(*children)
        self.text = text

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        head = f'<h{self.level} class="{self.css}">{r.text(self.text)}</h{self.level}>'
        return f'<section class="{self.css}">{head}{r.items(self.children)}</section>'


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

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return f'<p class="report-text">{r.text(self.text)}</p>{r.items(self.children)}'


class Code(ReportItem):
    def __init__(self, text, *children):
        super().__init__(*children)
        self.text = text

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return (f'<pre class="report-code"><code>{r.text(self.text)}</code></pre>'
                f'{r.items(self.children)}')


class List(ReportItem):
    """A bullet list; each entry may be a string or a report item."""

    def __init__(self, items, ordered=False):
        super().__init__()
        self.items = list(items)
        self.ordered = ordered

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        tag = "ol" if self.ordered else "ul"
        entries = "".join(f"<li>{r.value(item)}</li>" for item in self.items)
        return f'<{tag} class="report-list">{entries}</{tag}>'

    def walk(self):
        yield self
        for item in self.items:
            if isinstance(item, ReportItem):
                yield from item.walk()


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

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        out = ['<table class="report-table">']
        if self.caption:
            out.append(f"<caption>{r.text(self.caption)}</caption>")
        if self.headers:
            out.append("<thead><tr>" + "".join(f"<th>{r.text(h)}</th>" for h in self.headers)
                       + "</tr></thead>")
        out.append("<tbody>")
        for row in self.rows:
            out.append("<tr>" + "".join(f"<td>{r.value(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    def walk(self):
        yield self
        for row in self.rows:
            for cell in row:
                if isinstance(cell, ReportItem):
                    yield from cell.walk()


class Data(ReportItem):
    """Any JSON-like structure (dicts, lists, scalars), shown as nested definition lists."""

    def __init__(self, data):
        super().__init__()
        self.data = data

    def render(self, renderer: Renderer | None = None) -> str:
        return f'<div class="report-data">{(renderer or PLAIN).value(self.data)}</div>'


class Image(ReportItem):
    """An image from bytes (or a base64 string) and its MIME type."""

    ALLOWED = {"image/png", "image/jpeg", "image/gif", "image/webp"}

    def __init__(self, content, mime_type="image/png", alt=""):
        super().__init__()
        if mime_type not in self.ALLOWED:
            raise ValueError(f"unsupported image type {mime_type!r} "
                             f"(allowed: {sorted(self.ALLOWED)})")
        if isinstance(content, str):
            content = base64.b64decode(content, validate=True)
        self.content = bytes(content)
        self.mime_type = mime_type
        self.alt = alt

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return (f'<img class="report-image" alt="{r.text(self.alt)}" '
                f'src="{html.escape(r.image_source(self), quote=True)}">')


class PrerenderedHtml(ReportItem):
    """HTML a job built itself with ``render_report`` (the API before ``Report`` existed:
    ``raise JobFailed(reason, html)`` or a ``run`` returning a string).  It is shown as it
    is, since our own renderer made it; only the redaction hook still applies to it."""

    def __init__(self, markup: str):
        super().__init__()
        self.markup = markup

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return r.redact(self.markup) if r.redact is not None else self.markup


@dataclass
class Report:
    """One run's report as data: a title and its items (rendered once, at the end)."""

    title: str
    items: list = field(default_factory=list)
    notes: str = ""

    def __post_init__(self):
        self.items = as_item_list(self.items)

    def html(self, renderer: Renderer | None = None) -> str:
        return (renderer or PLAIN).report(self)

    __str__ = html

    def walk(self) -> Iterator[ReportItem]:
        """Every report item of the report, depth first (findings are collected this way)."""
        for item in self.items:
            if isinstance(item, ReportItem):
                yield from item.walk()

    def with_notice(self, title: str, message: str) -> "Report":
        """A copy with a section saying why the run ended, first under the title."""
        return Report(self.title, [Section(title, Text(message)), *self.items], self.notes)

    def with_items(self, *items) -> "Report":
        """A copy with ``items`` added at the end."""
        return Report(self.title, [*self.items, *items], self.notes)

    @classmethod
    def of(cls, value, title: str) -> "Report":
        """What a job's ``run`` returned, as a Report: a Report as is, HTML text (the older
        API) kept as it is, items under ``title``."""
        if isinstance(value, Report):
            return value
        if isinstance(value, str):
            return cls(title, [PrerenderedHtml(value)]) if value else cls(title)
        return cls(title, value)


def render_items(items, renderer: Renderer | None = None) -> str:
    return (renderer or PLAIN).items(items)


def render_report(title: str, items, notes: str = "") -> str:
    """HTML of a report made of ``items`` (for code that needs the text right away)."""
    return Report(title, items, notes).html()


def report_title(job) -> str:
    """The title of a job's reports: its ``report_title``, else its class name."""
    info = job.meta_info()
    return info["report_title"] or info["job_class_name"]


def report(run):
    """Decorator for ``JobBase.run``: what ``run`` returns becomes the run's ``Report`` (the
    job's report title and the items).  The runner renders it once the run has ended; call
    ``.html()`` on it to see the HTML (in a job's own tests)."""

    @functools.wraps(run)
    def wrapper(self, *args, **kwargs):
        items = run(self, *args, **kwargs)
        return items if isinstance(items, Report) else Report(report_title(self), items)

    wrapper.is_report = True
    return wrapper


def data_to_json(data) -> str:
    """Serialise a job's data for storage; sets become sorted lists."""
    def default(obj):
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=str)
        return str(obj)
    return json.dumps(data, default=default, sort_keys=True)
