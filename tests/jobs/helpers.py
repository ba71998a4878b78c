"""Reading reports in tests."""
import html
import re


def text_of(report_html: str) -> str:
    """The visible text of a report, tags removed, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", report_html)).split())
