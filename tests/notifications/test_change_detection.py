"""What appeared and what disappeared between two runs' data."""
from __future__ import annotations

from bots_scheduler.jobs.report import render_items
from bots_scheduler.notifications.changes import compare, report_section
from bots_scheduler.notifications.text import html_to_text


def places(entries):
    return [(change.where, change.value) for change in entries]


def test_identical_data_has_no_change():
    data = {"10.0.0.1": {"ports": [22, 80]}, "breaches": ["Adobe"]}
    changes = compare(data, {"breaches": ["Adobe"], "10.0.0.1": {"ports": [22, 80]}})
    assert not changes and changes.summary() == "0 appeared, 0 disappeared"


def test_list_order_and_sets_do_not_count_as_changes():
    assert not compare({"ports": [80, 22]}, {"ports": [22, 80]})
    assert not compare({"ports": {22, 80}}, {"ports": [80, 22]})


def test_without_previous_data_everything_appeared():
    changes = compare(None, {"10.0.0.1": [22], "10.0.0.2": [80]})
    assert changes.no_previous_data
    assert places(changes.appeared) == [("10.0.0.1", [22]), ("10.0.0.2", [80])]
    assert changes.disappeared == []


def test_no_data_now_or_before_has_no_change():
    assert not compare(None, None) and not compare(None, {}) and not compare(None, [])


def test_new_and_removed_keys_of_a_dict():
    changes = compare({"a@x.org": ["Adobe"], "b@x.org": ["MySpace"]},
                      {"a@x.org": ["Adobe"], "c@x.org": ["LinkedIn"]})
    assert places(changes.appeared) == [("c@x.org", ["LinkedIn"])]
    assert places(changes.disappeared) == [("b@x.org", ["MySpace"])]


def test_a_newly_exposed_port_on_a_known_host_is_just_that_port():
    changes = compare({"10.0.0.1": {"ports": [22, 80]}},
                      {"10.0.0.1": {"ports": [22, 80, 3389]}})
    assert places(changes.appeared) == [("10.0.0.1 › ports", 3389)]
    assert changes.disappeared == []


def test_repeated_list_items_count_one_for_one():
    changes = compare({"seen": ["x", "x"]}, {"seen": ["x", "x", "x"]})
    assert places(changes.appeared) == [("seen", "x")]


def test_records_are_paired_on_an_identifying_field():
    old = {"hosts": [{"ip": "10.0.0.1", "ports": [22]}, {"ip": "10.0.0.9", "ports": [25]}]}
    new = {"hosts": [{"ip": "10.0.0.2", "ports": [80]}, {"ip": "10.0.0.1", "ports": [22, 443]}]}
    changes = compare(old, new)
    assert places(changes.appeared) == [
        ("hosts › ip=10.0.0.2", {"ip": "10.0.0.2", "ports": [80]}),
        ("hosts › ip=10.0.0.1 › ports", 443)]
    assert places(changes.disappeared) == [("hosts › ip=10.0.0.9",
                                            {"ip": "10.0.0.9", "ports": [25]})]


def test_records_without_a_unique_identity_compare_whole():
    old = [{"port": 22}, {"port": 80}]
    new = [{"port": 22}, {"port": 8080}]
    changes = compare(old, new)
    assert places(changes.appeared) == [("(top level)", {"port": 8080})]
    assert places(changes.disappeared) == [("(top level)", {"port": 80})]


def test_a_changed_value_is_the_old_one_gone_and_the_new_one_come():
    changes = compare({"10.0.0.1": {"os": "Linux 4"}}, {"10.0.0.1": {"os": "Linux 6"}})
    assert places(changes.appeared) == [("10.0.0.1 › os", "Linux 6")]
    assert places(changes.disappeared) == [("10.0.0.1 › os", "Linux 4")]


def test_everything_disappearing_is_a_change():
    changes = compare({"10.0.0.1": [22]}, None)
    assert places(changes.disappeared) == [("10.0.0.1", [22])] and changes.appeared == []


def test_the_report_section_lists_both_sides_escaped():
    changes = compare({"<old>": 1}, {"<script>alert(1)</script>": 2})
    html = render_items(report_section(changes))
    assert "Changes since the previous successful run" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    text = html_to_text(html)
    assert "Appeared\n\n<script>alert(1)</script>: 2" in text
    assert "Disappeared\n\n<old>: 1" in text


def test_the_report_section_says_when_nothing_changed():
    html = render_items(report_section(compare({"a": 1}, {"a": 1})))
    assert "No change" in html and "Appeared" not in html
