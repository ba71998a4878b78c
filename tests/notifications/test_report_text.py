"""The plain-text part of report e-mails, written from the report HTML."""
from __future__ import annotations

from bots_scheduler.jobs.report import (Code, Data, Image, List, Section, Subsection, Table,
                                        Text, render_report)
from bots_scheduler.notifications.text import html_to_text

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def text_of(*items, title="Report"):
    return html_to_text(render_report(title, list(items)))


def test_headings_are_underlined_and_separated():
    text = text_of(Section("Hosts", Subsection("Details", Text("ok"))), title="Scan")
    assert text.startswith("Scan\n====\n\nHosts\n-----\n\nDetails\n\nok\n")


def test_lists_become_dash_lines():
    assert "- one\n- two <i>" in text_of(List(["one", "two <i>"]))


def test_tables_become_rows_of_cells():
    text = text_of(Table([{"ip": "10.0.0.1", "port": 22}, {"ip": "10.0.0.2", "port": 80}]))
    assert "ip | port\n10.0.0.1 | 22\n10.0.0.2 | 80" in text


def test_nested_data_is_indented_key_value_lines():
    text = text_of(Data({"10.0.0.1": {"ports": [22, 80], "os": "Linux"}}))
    assert "10.0.0.1:\n  ports:\n    - 22\n    - 80\n  os: Linux" in text


def test_code_keeps_its_layout():
    assert "def f():\n    return 1" in text_of(Code("def f():\n    return 1"))


def test_images_are_named_not_inlined():
    text = text_of(Image(PNG, alt="screenshot"))
    assert "[image: screenshot]" in text and "base64" not in text


def test_entities_are_decoded_and_whitespace_collapsed():
    assert "a & b < c\n" in html_to_text("<p>a &amp;   b\n &lt; c</p>")


def test_data_inside_a_table_cell_stays_on_the_row():
    text = text_of(Table([["10.0.0.1", Data([22, 80])]], headers=["host", "ports"]))
    assert "10.0.0.1 | 22; 80" in text
