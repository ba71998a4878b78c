"""Reading reports in tests."""
import html
import re
import socket


def text_of(report_html: str) -> str:
    """The visible text of a report, tags removed, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", report_html)).split())


def closed_port() -> int:
    """A local TCP port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
