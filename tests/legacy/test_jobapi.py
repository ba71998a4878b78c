"""The original Bots Scheduler's job API (``from botscheduler import *``): tinyscript's report
items with their positional and keyword arguments, rendered by our renderer and escaped."""
from __future__ import annotations

import importlib.util
import logging
import re
from pathlib import Path

import pytest

import bots_scheduler
import botscheduler
from bots_scheduler.jobs.report import Report
from bots_scheduler.legacy import jobapi

MODULES = Path(__file__).parent / "original_jobs"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"original_{name}", MODULES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(*items) -> str:
    return Report("t", list(items)).html()


def test_botscheduler_gives_the_original_names_and_bots_scheduler_stays_clean():
    names = set(botscheduler.__all__)
    assert {"JobBase", "report", "OrderedDict", "ip2int", "Blockquote", "Code", "Data", "Footer",
            "Header", "Image", "List", "Rule", "Section", "Subsection", "Subsubsection",
            "Subsubsubsection", "Table", "Text", "Title"} <= names
    assert set(bots_scheduler.__all__) - {"Code", "Data", "Image", "List", "Section",
                                          "Subsection", "Table", "Text", "Title"} <= names
    assert not {"OrderedDict", "ip2int", "Blockquote", "Rule"} & set(bots_scheduler.__all__)
    assert bots_scheduler.List is not botscheduler.List
    assert issubclass(botscheduler.List, bots_scheduler.List)
    assert botscheduler.JobBase is bots_scheduler.JobBase


def test_ip2int_follows_inet_aton():
    assert botscheduler.ip2int("10.0.0.2") == 0x0A000002
    assert botscheduler.ip2int("127.1") == 0x7F000001
    assert sorted(["10.0.0.10", "10.0.0.2", "9.255.0.1"], key=botscheduler.ip2int) == [
        "9.255.0.1", "10.0.0.2", "10.0.0.10"]


def test_list_takes_one_entry_per_argument():
    html = render(botscheduler.List(*["hunter2"]), botscheduler.List("a", "b", ordered=True),
                  botscheduler.List(["x", "y"]))
    assert '<ul class="report-list"><li>hunter2</li></ul>' in html
    assert '<ol class="report-list"><li>a</li><li>b</li></ol>' in html
    assert "<li>x</li><li>y</li>" in html


def test_headings_take_their_tag_colour_size_and_style():
    html = render(botscheduler.Title("Breach", "h4", color="red", size=20, style="italic"),
                  botscheduler.Section("S"), botscheduler.Subsection("U"),
                  botscheduler.Subsubsection("V"), botscheduler.Subsubsubsection("W"))
    assert ('<h4 class="report-heading report-color-red report-size-20 report-italic">Breach'
            '</h4>') in html
    for level, text in ((2, "S"), (3, "U"), (4, "V"), (5, "W")):
        assert f'<h{level} class="report-heading">{text}</h{level}>' in html


def test_a_heading_may_hold_an_item_as_the_original_did():
    html = render(botscheduler.Subsection(botscheduler.Code("alice@example.com", size=20)))
    assert re.search(r'<h3 class="report-heading"><pre class="report-code report-size-20">'
                     r'<code>alice@example.com</code></pre></h3>', html)


def test_text_keeps_line_breaks_and_escapes_markup():
    html = render(botscheduler.Text("one\n<b>two</b>", "div", color="green", size=14,
                                    style="oblique"),
                  botscheduler.Blockquote("quoted <i>"))
    assert ('<div class="report-text report-color-green report-size-14 report-oblique">one<br>'
            '&lt;b&gt;two&lt;/b&gt;</div>') in html
    assert '<blockquote class="report-text">quoted &lt;i&gt;</blockquote>' in html


def test_code_takes_language_and_escapes():
    html = render(botscheduler.Code("print('<x>')", "python", hl_lines=["1"],
                                    line_numbers=True, size=11))
    assert ('<pre class="report-code language-python report-size-11"><code>'
            'print(&#x27;&lt;x&gt;&#x27;)</code></pre>') in html


def test_table_headers_row_headers_footers_title_and_float_format():
    html = render(botscheduler.Table([[1, 2.345], [3, 4.5]], column_headers=["a", "b"],
                                     row_headers="indices", column_footers=["sum", "x"],
                                     title="Numbers", flt_fmt="%.1f"))
    assert "<caption>Numbers</caption>" in html
    assert "<thead><tr><th></th><th>a</th><th>b</th></tr></thead>" in html
    assert "<tr><th>0</th><td>1</td><td>2.3</td></tr><tr><th>1</th><td>3</td><td>4.5</td></tr>" \
        in html
    assert "<tfoot><tr><th></th><th>sum</th><th>x</th></tr></tfoot>" in html


def test_table_numbers_its_columns_unless_told_otherwise():
    html = render(botscheduler.Table([["x", "y"]]), botscheduler.Table([["z"]],
                                                                       column_headers=None))
    assert "<thead><tr><th>0</th><th>1</th></tr></thead>" in html
    assert html.count("<thead>") == 1


def test_data_and_images():
    pixel = load("everything").PIXEL
    html = render(botscheduler.Data({"k": ["v<1>"]}, size=12),
                  botscheduler.Image(pixel, title="t", alt="a", width="80%", height=10),
                  botscheduler.Image("https://example.com/x.png", width="80%"),
                  botscheduler.Image("javascript:alert(1)"))
    assert '<div class="report-data report-size-12"><dl><dt>k</dt><dd><ul><li>v&lt;1&gt;' in html
    assert re.search(r'<img class="report-image" alt="a" title="t" width="80%" height="10" '
                     r'src="data:image/png;base64,iVBOR', html)
    assert "[image: https://example.com/x.png]" in html
    assert "https://example.com/x.png\"" not in html and 'src="javascript' not in html


def test_header_and_footer_show_nothing_and_rule_is_a_line():
    html = render(botscheduler.Header("l", "c", "r"), botscheduler.Rule(color="silver"),
                  botscheduler.Footer(right="r"))
    assert '<hr class="report-rule report-color-silver">' in html
    assert ">l<" not in html and ">r<" not in html


def test_unknown_keywords_are_ignored_with_one_warning_per_job_class(caplog):
    module = load("everything")
    caplog.set_level(logging.WARNING, logger="bots_scheduler.legacy.jobapi")
    jobapi._warned.discard("original_everything.Everything")
    for _ in range(3):
        result = module.Everything("j", "e").run()
    html = result.html()
    assert "ignored keywords" in html
    warnings = [r.getMessage() for r in caplog.records if "Everything" in r.getMessage()]
    assert len(warnings) == 1 and "frobnicate=" in warnings[0]


def test_every_item_of_the_everything_module_renders_escaped():
    result = load("everything").Everything("j", "e").run()
    html = result.html()
    assert "Main &lt;title&gt;" in html and "<title>" not in html
    assert "<li>&lt;three&gt;</li>" in html and "<three>" not in html
    assert html.count("<table") == 2 and "<hr" in html and "<blockquote" in html
    assert 'class="bots-report"' in html and "All the items" in html


@pytest.mark.parametrize("value", ["url(javascript:1)", "#ff0000; background: red", "12px"])
def test_colours_are_named_colours_only(value):
    html = render(botscheduler.Text("x", color=value))
    assert "report-color" not in html and "style=" not in html


def test_every_colour_and_size_class_has_a_rule_in_report_css():
    css = (Path(bots_scheduler.__file__).parent / "web" / "static" / "report.css").read_text()
    for name in jobapi.COLORS:
        assert f".report-color-{name} {{" in css
    for size in jobapi.SIZES:
        assert f".report-size-{size} {{" in css
