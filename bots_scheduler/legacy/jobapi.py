"""The job API of the original Bots Scheduler: what ``from botscheduler import *`` gave there.

The original's job modules import ``JobBase``, ``report``, ``OrderedDict``, ``ip2int`` and the
report items of tinyscript's report module (``tinyscript.report``), which it re-exported.  The
items here take the positional and keyword arguments of tinyscript's, and render what they meant
(heading levels, colours, sizes, table headers and footers, image sizes, ordered lists...), with
our renderer: every string is escaped (tinyscript put them into its HTML as they were), colours
and sizes become classes of report.css (the report frame's Content-Security-Policy refuses
inline styles), nothing is fetched from elsewhere.

They are subclasses of the items of ``bots_scheduler.jobs.report``, so that everything that
walks a report (findings, notifications) sees them as report items.  A keyword argument that
tinyscript's item does not take is ignored; the log says so once per job class, and the run goes
on.  ``from bots_scheduler import *`` keeps our own items and their signatures.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import html
import logging
import re
import socket
import threading
from collections import OrderedDict
from collections.abc import Mapping

from bots_scheduler.jobs import report as items
from bots_scheduler.jobs.report import PLAIN, Renderer

log = logging.getLogger(__name__)

__all__ = ["OrderedDict", "ip2int", "report", "Blockquote", "Code", "Data", "Footer", "Header",
           "Image", "List", "Rule", "Section", "Subsection", "Subsubsection", "Subsubsubsection",
           "Table", "Text", "Title"]

# the CSS colour names report.css has a class for (report-color-NAME)
COLORS = ("black", "gray", "grey", "silver", "white", "maroon", "red", "orange", "yellow",
          "olive", "lime", "green", "teal", "aqua", "cyan", "navy", "blue", "purple", "fuchsia",
          "magenta", "brown", "pink")
SIZES = range(6, 49)            # font sizes in px with a class (report-size-N)
FONT_STYLES = ("italic", "oblique")
TEXT_TAGS = ("p", "div", "span", "pre", "code", "blockquote", "small", "strong", "em", "b", "i",
             "u", "h1", "h2", "h3", "h4", "h5", "h6")
_LENGTH = re.compile(r"^\d{1,4}(\.\d{1,2})?(px|%|em|rem)?$")
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+#-]{1,30}$")
MAX_IMAGE = 5 * 1024 * 1024     # bytes of an image file read into a report
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg",
               b"GIF87a": "image/gif", b"GIF89a": "image/gif"}


def ip2int(address: str) -> int:
    """An IPv4 address as an integer, as the original's ``ip2int`` (``inet_aton`` rules)."""
    return int.from_bytes(socket.inet_aton(address), "big")


# -- one warning per job class for what is ignored --------------------------------------------

_job_class: contextvars.ContextVar = contextvars.ContextVar("botscheduler_job_class",
                                                            default=None)
_warned: set = set()
_warned_lock = threading.Lock()


def _ignored(item: str, what: str) -> None:
    job_class = _job_class.get()
    key = job_class or "(outside a run)"
    with _warned_lock:
        if key in _warned:
            return
        _warned.add(key)
    log.warning("job class %s: %s ignores %s (it is accepted for the original Bots "
                "Scheduler's job modules; further ones of this class are not logged)",
                key, item, what)


def _unknown(item, unknown: dict) -> None:
    if unknown:
        names = ", ".join(f"{name}=" for name in sorted(unknown))
        _ignored(type(item).__name__, f"the keyword argument(s) {names}")


def report(run):
    """The original's ``@report``: ``run`` returns report items (one, or a list), which become
    the run's report (under the job's ``report_title``, else its class name)."""
    inner = items.report(run)

    @functools.wraps(run)
    def wrapper(self, *args, **kwargs):
        cls = type(self)
        token = _job_class.set(f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}")
        try:
            return inner(self, *args, **kwargs)
        finally:
            _job_class.reset(token)

    wrapper.is_report = True
    return wrapper


# -- presentation: tinyscript's color, size and style keywords ----------------------------------

class _Look:
    """The ``color``, ``size`` and ``style`` keywords every tinyscript item takes, as classes."""

    def _look(self, item: str, color=None, size=None, style=None) -> None:
        classes = []
        if color is not None:
            name = str(color).strip().lower()
            if name in COLORS:
                classes.append(f"report-color-{name}")
            else:
                _ignored(item, f"the colour {str(color)[:40]!r} (named colours only)")
        if size is not None:
            try:
                pixels = round(float(size))
            except (TypeError, ValueError):
                _ignored(item, f"the size {str(size)[:40]!r} (a number of pixels)")
            else:
                classes.append(f"report-size-{min(max(pixels, SIZES.start), SIZES.stop - 1)}")
        if style is not None:
            name = str(style).strip().lower()
            if name in FONT_STYLES:
                classes.append(f"report-{name}")
            elif name != "normal":
                _ignored(item, f"the style {str(style)[:40]!r} (italic, oblique or normal)")
        self.look = " ".join(classes)

    def _classes(self, *base: str) -> str:
        return " ".join(part for part in (*base, getattr(self, "look", "")) if part)


def _lines(renderer: Renderer, value) -> str:
    """Content as tinyscript rendered it: an item as itself, text with its line breaks."""
    if isinstance(value, items.ReportItem):
        return value.render(renderer)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return renderer.value(value)
    return renderer.text("" if value is None else value).replace("\n", "<br>")


def _walk_values(values):
    for value in values:
        if isinstance(value, items.ReportItem):
            yield from value.walk()


# -- headings -------------------------------------------------------------------------------------

class Title(_Look, items.Title):
    """``Title(title, tag="h1", color=…, size=…, style=…)``: a heading; ``title`` may be an item."""

    default_tag = "h1"

    def __init__(self, title, tag=None, *, name=None, color=None, size=None, style=None,
                 **unknown):
        super().__init__(title)
        tag = self.default_tag if tag is None else str(tag).lower()
        if not re.fullmatch(r"h[1-6]", tag):
            _ignored(type(self).__name__, f"the tag {tag[:20]!r} (h1 to h6)")
            tag = self.default_tag
        self.level = int(tag[1])
        self._look(type(self).__name__, color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return (f'<h{self.level} class="{self._classes("report-heading")}">'
                f'{_lines(r, self.text)}</h{self.level}>')

    def walk(self):
        yield self
        yield from _walk_values([self.text])


class Section(Title):
    default_tag = "h2"


class Subsection(Title):
    default_tag = "h3"


class Subsubsection(Title):
    default_tag = "h4"


class Subsubsubsection(Title):
    default_tag = "h5"


# -- text -----------------------------------------------------------------------------------------

class Text(_Look, items.Text):
    """``Text(content, tag="p", color=…, size=…, style=…)``: its line breaks are kept."""

    def __init__(self, content, tag="p", *, name=None, color=None, size=None, style=None,
                 **unknown):
        super().__init__(content)
        tag = str(tag).lower()
        if tag not in TEXT_TAGS:
            _ignored(type(self).__name__, f"the tag {tag[:20]!r}")
            tag = "p"
        self.tag = tag
        self._look(type(self).__name__, color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return (f'<{self.tag} class="{self._classes("report-text")}">{_lines(r, self.text)}'
                f'</{self.tag}>')

    def walk(self):
        yield self
        yield from _walk_values([self.text])


class Blockquote(Text):
    """``Blockquote(content, color=…, size=…, style=…)``."""

    def __init__(self, content, *, name=None, color=None, size=None, style=None, **unknown):
        super().__init__(content, "blockquote", color=color, size=size, style=style, **unknown)


class Code(_Look, items.Code):
    """``Code(code, language=None, hl_lines=None, line_numbers=False, size=…, color=…)``."""

    def __init__(self, code, language=None, hl_lines=None, line_numbers=False, *, name=None,
                 color=None, size=None, style=None, **unknown):
        super().__init__(code)
        self.language = None
        if language is not None:
            if _LANGUAGE.match(str(language)):
                self.language = str(language).lower()
            else:
                _ignored("Code", f"the language {str(language)[:30]!r}")
        self._look("Code", color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        language = f"language-{self.language}" if self.language else ""
        content = self.text.render(r) if isinstance(self.text, items.ReportItem) \
            else r.text("" if self.text is None else self.text)
        return f'<pre class="{self._classes("report-code", language)}"><code>{content}</code></pre>'

    def walk(self):
        yield self
        yield from _walk_values([self.text])


class Rule(_Look, items.ReportItem):
    """``Rule(color=…, size=…)``: a horizontal rule."""

    def __init__(self, *, name=None, color=None, size=None, style=None, **unknown):
        super().__init__()
        self._look("Rule", color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        return f'<hr class="{self._classes("report-rule")}">'


class Header(items.ReportItem):
    """``Header(left, center, right)``: page headers of tinyscript's PDF output; an HTML report
    has no pages, so it shows nothing (as tinyscript's HTML did)."""

    def __init__(self, left="", center="", right="", *, name=None, color=None, size=None,
                 style=None, **unknown):
        super().__init__()
        self.parts = (left, center, right)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        return ""


class Footer(Header):
    """``Footer(left, center, right)``: see Header."""


# -- lists, tables, data, images -----------------------------------------------------------------

class List(_Look, items.List):
    """``List(*items, ordered=False)``: one entry per argument (a single list argument is the
    entries, as in tinyscript)."""

    def __init__(self, *entries, ordered=False, name=None, color=None, size=None, style=None,
                 **unknown):
        if len(entries) == 1 and isinstance(entries[0], (list, tuple)):
            entries = entries[0]
        super().__init__(list(entries), ordered=bool(ordered))
        self._look("List", color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        tag = "ol" if self.ordered else "ul"
        entries = "".join(f"<li>{_lines(r, item)}</li>" for item in self.items)
        return f'<{tag} class="{self._classes("report-list")}">{entries}</{tag}>'


class Table(_Look, items.Table):
    """``Table(data, column_headers="indices", row_headers=None, column_footers=None,
    title=None, flt_fmt="%.2g")``: "indices" numbers the columns (or rows) from 0; with both
    headers, the corner cell is empty; floats are shown with ``flt_fmt``."""

    def __init__(self, data, column_headers="indices", row_headers=None, column_footers=None,
                 title=None, flt_fmt="%.2g", *, name=None, color=None, size=None, style=None,
                 **unknown):
        rows = [list(row) if isinstance(row, (list, tuple)) else [row] for row in data or []]
        width = max((len(row) for row in rows), default=0)
        if column_headers == "indices":
            column_headers = [str(index) for index in range(width)]
        if row_headers == "indices":
            row_headers = [str(index) for index in range(len(rows))]
        super().__init__(rows, headers=list(column_headers) if column_headers else None,
                         caption=title or None)
        self.row_headers = list(row_headers) if row_headers else None
        if self.row_headers is not None and len(self.row_headers) != len(rows):
            _ignored("Table", "row headers whose number differs from the rows'")
        self.footers = list(column_footers) if column_footers else None
        self.float_format = flt_fmt if isinstance(flt_fmt, str) else "%.2g"
        self._look("Table", color, size, style)
        _unknown(self, unknown)

    def _cell(self, r: Renderer, value) -> str:
        if isinstance(value, float):
            try:
                return r.text(self.float_format % value)
            except (TypeError, ValueError):
                return r.text(value)
        return _lines(r, value)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        out = [f'<table class="{self._classes("report-table")}">']
        if self.caption:
            out.append(f"<caption>{_lines(r, self.caption)}</caption>")
        if self.headers:
            corner = "<th></th>" if self.row_headers is not None else ""
            out.append("<thead><tr>" + corner + "".join(
                f"<th>{_lines(r, h)}</th>" for h in self.headers) + "</tr></thead>")
        out.append("<tbody>")
        for index, row in enumerate(self.rows):
            head = ""
            if self.row_headers is not None:
                label = self.row_headers[index] if index < len(self.row_headers) else ""
                head = f"<th>{_lines(r, label)}</th>"
            out.append("<tr>" + head + "".join(f"<td>{self._cell(r, c)}</td>" for c in row)
                       + "</tr>")
        out.append("</tbody>")
        if self.footers:
            corner = "<th></th>" if self.row_headers is not None else ""
            out.append("<tfoot><tr>" + corner + "".join(
                f"<th>{_lines(r, f)}</th>" for f in self.footers) + "</tr></tfoot>")
        out.append("</table>")
        return "".join(out)

    def walk(self):
        yield from super().walk()
        yield from _walk_values([*(self.row_headers or ()), *self.headers,
                                 *(self.footers or ()), self.caption])


class Data(_Look, items.Data):
    """``Data(data, size=…, color=…)``: a dict or list shown as nested lists."""

    def __init__(self, data, *, name=None, color=None, size=None, style=None, **unknown):
        super().__init__(data)
        self._look("Data", color, size, style)
        _unknown(self, unknown)

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        return f'<div class="{self._classes("report-data")}">{r.value(self.data)}</div>'


class Image(items.Image):
    """``Image(source, title=None, alt=None, width=None, height=None)``.

    ``source`` is a ``data:image/…;base64,…`` URL, the bytes of a PNG, JPEG or GIF image, or the
    path of such a file (read when the item is made).  A remote URL is not fetched (a report
    loads nothing from elsewhere): it is shown as its text."""

    def __init__(self, source, title=None, alt=None, width=None, height=None, *, name=None,
                 color=None, size=None, style=None, **unknown):
        items.ReportItem.__init__(self)
        self.title = "" if title is None else str(title)
        self.alt = "" if alt is None else str(alt)
        self.width = self._length("width", width)
        self.height = self._length("height", height)
        self.source_text = ""
        self.content, self.mime_type = self._load(source)
        _unknown(self, unknown)

    @staticmethod
    def _length(what: str, value):
        if value is None or value == "":
            return None
        text = str(value).strip()
        if _LENGTH.match(text):
            return text
        _ignored("Image", f"the {what} {text[:20]!r}")
        return None

    def _load(self, source):
        if isinstance(source, (bytes, bytearray)):
            return self._typed(bytes(source))
        text = str(source)
        if text.startswith("data:"):
            match = re.match(r"^data:(image/(?:png|jpeg|gif|webp));base64,(.*)$", text, re.S)
            if match:
                try:
                    return base64.b64decode(match.group(2), validate=True), match.group(1)
                except (binascii.Error, ValueError):
                    pass
            self.source_text = "(an image that cannot be read)"
            return b"", ""
        if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            self.source_text = text
            return b"", ""
        try:
            with open(text, "rb") as handle:
                return self._typed(handle.read(MAX_IMAGE + 1))
        except OSError:
            self.source_text = text
            return b"", ""

    def _typed(self, content: bytes):
        for magic, mime_type in IMAGE_TYPES.items():
            if content.startswith(magic) and len(content) <= MAX_IMAGE:
                return content, mime_type
        self.source_text = "(an image that cannot be read)"
        return b"", ""

    def render(self, renderer: Renderer | None = None) -> str:
        r = renderer or PLAIN
        if not self.content:
            label = self.title or self.alt or self.source_text
            return f'<span class="report-image-missing">[image: {r.text(label)}]</span>'
        attributes = "".join(f' {name}="{r.text(value)}"' for name, value in
                             (("title", self.title), ("width", self.width),
                              ("height", self.height)) if value)
        return (f'<img class="report-image" alt="{r.text(self.alt)}"{attributes} '
                f'src="{html.escape(r.image_source(self), quote=True)}">')
