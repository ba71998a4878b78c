"""An execution's stored result in ndscheduler 0.3 / the original Bots Scheduler, as our report.

ndscheduler stores ``json.dumps(what run returned, indent=4, sort_keys=True)`` for a run that
succeeded, and a bare traceback for one that failed.  The original Bots Scheduler's ``run``
returned its report as an HTML string (so the stored result is that string as JSON text), and
its failures stored an HTML report directly.

- a JSON structure becomes a report with that data;
- the original's HTML is kept as HTML, cleaned by an allow-list sanitiser (Ammonia, through
  nh3): headings, paragraphs, lists, tables, code, quotes and ``data:`` images stay; scripts,
  event handlers, links, remote images, styles and every other attribute go, so nothing of it
  is live;
- any other text (a traceback) becomes a code block.
"""
from __future__ import annotations

import json

import nh3

from bots_scheduler.jobs.report import Code, Data, ReportItem, Text, render_report

NOTE = "Copied by bots-scheduler migrate from the datastore of ndscheduler or the original " \
       "Bots Scheduler."
HTML_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "pre", "code", "blockquote",
             "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot",
             "tr", "th", "td", "b", "i", "em", "strong", "u", "s", "small", "sub", "sup", "span",
             "div", "img"}
# no style attributes: the report frame's Content-Security-Policy refuses inline styles
HTML_ATTRIBUTES = {"img": {"src", "alt", "title", "width", "height"},
                   "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def _only_inline_images(tag: str, attribute: str, value: str):
    """No request leaves the report: an image is kept only when it is inside it."""
    if attribute == "src" and not value.startswith("data:image/"):
        return None
    return value


def sanitise(html_text: str) -> str:
    return nh3.clean(html_text, tags=HTML_TAGS, attributes=HTML_ATTRIBUTES,
                     attribute_filter=_only_inline_images, url_schemes={"data"},
                     link_rel=None, strip_comments=True)


class OriginalHtml(ReportItem):
    """A report of the original Bots Scheduler: its HTML, sanitised when rendered."""

    def __init__(self, html_text: str):
        super().__init__()
        self.html_text = html_text

    def render(self, renderer=None) -> str:
        return f'<div class="report-original">{sanitise(self.html_text)}</div>'


def _looks_like_html(value: str) -> bool:
    start = value.lstrip()[:200].lower()
    return start.startswith("<html") or start.startswith("<h") or start.startswith("<p") \
        or start.startswith("<table") or start.startswith("<ul")


def report_items(result: str) -> list:
    """Our report items for a stored result (an empty list for no result)."""
    if not result or not result.strip():
        return []
    try:
        value = json.loads(result)
    except ValueError:
        if _looks_like_html(result):          # the original's failure report
            return [OriginalHtml(result)]
        return [Code(result)]                 # ndscheduler's traceback
    if isinstance(value, str):
        return [OriginalHtml(value)] if _looks_like_html(value) else [Text(value)]
    if isinstance(value, (dict, list)):
        return [Data(value)]
    if value is None:
        return [Text("The job returned nothing.")]
    return [Code(json.dumps(value))]


def report_html(result: str, title: str) -> str | None:
    """The execution's report as stored in our executions table (None: no result)."""
    items = report_items(result)
    if not items:
        return None
    return render_report(title, items, notes=NOTE)
