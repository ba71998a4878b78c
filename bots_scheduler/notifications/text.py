"""The plain-text part of a report e-mail, written from the report's HTML.

Reports are built from a small set of tags (see jobs/report.py), so a short HTMLParser is
enough: headings are underlined, list items become "- " lines, tables become "a | b" rows,
definition lists become "key: value", and <pre> keeps its layout.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIPPED = {"style", "script", "head", "title"}
_PARAGRAPHS = {"p", "section", "table", "caption", "pre", "blockquote"}
_LISTS = {"ul", "ol", "dl"}
_UNDERLINES = {"h1": "=", "h2": "-"}


def html_to_text(markup: str) -> str:
    writer = _TextWriter()
    writer.feed(markup or "")
    writer.close()
    return writer.text()


class _TextWriter(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: str | None = None     # None: no line started yet
        self.depth = 0          # nesting of lists, for indentation
        self.skip = 0
        self.pre = 0
        self.cells = 0
        self.cell = 0           # > 0 while inside <td>/<th>

    # -- output helpers ----------------------------------------------------------------------
    # Inside a table cell everything stays on the row's line: blocks become "; " separators.
    def end_line(self):
        if self.cell:
            return
        if self.line is not None and self.line.strip():
            self.lines.append(self.line.rstrip())
        self.line = None

    def blank_line(self):
        self.end_line()
        if not self.cell and self.lines and self.lines[-1]:
            self.lines.append("")

    def start_line(self, prefix=""):
        if self.cell:
            if self.line and not self.line.rstrip().endswith(("|", ":", ";")):
                self.line = self.line.rstrip() + "; "
            return
        self.end_line()
        self.line = "  " * max(self.depth - 1, 0) + prefix

    def write(self, text: str):
        if self.line is None:
            self.line = "  " * self.depth
        self.line += text

    def text(self) -> str:
        self.cell = 0
        self.end_line()
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    # -- parser callbacks --------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skip += 1
        elif tag in ("h1", "h2", "h3", "h4"):
            self.blank_line()
        elif tag in _PARAGRAPHS:
            self.blank_line()
            self.pre += tag == "pre"
        elif tag in _LISTS:
            self.end_line()
            self.depth += 1
        elif tag == "li":
            self.start_line("- ")
        elif tag == "dt":
            self.start_line()
        elif tag == "dd":
            if self.line and self.line.strip():
                self.line += ": "
        elif tag == "tr":
            self.end_line()
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.write(" | ")
            self.cells += 1
            self.cell += 1
        elif tag in ("br", "div"):
            self.end_line()
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            self.write(f"[image{': ' + alt if alt else ''}]")

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skip = max(self.skip - 1, 0)
        elif tag in _UNDERLINES:
            heading = (self.line or "").strip()
            self.end_line()
            if heading:
                self.lines.append(_UNDERLINES[tag] * len(heading))
            self.blank_line()
        elif tag in ("h3", "h4"):
            self.blank_line()
        elif tag in _PARAGRAPHS:
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
            self.blank_line()
        elif tag in _LISTS:
            self.end_line()
            self.depth = max(self.depth - 1, 0)
        elif tag in ("td", "th"):
            self.cell = max(self.cell - 1, 0)
        elif tag in ("tr", "div"):
            self.end_line()

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre and not self.cell:
            first, *rest = data.split("\n")
            self.write(first)
            for part in rest:
                self.lines.append(self.line.rstrip())
                self.line = part
            return
        text = re.sub(r"\s+", " ", data)
        if not (self.line or "").strip() or self.line.endswith(" "):
            text = text.lstrip()
        if text:
            self.write(text)
