"""Alert profiles: what the INI file may say, and the one-line errors of what it may not."""
from __future__ import annotations

import pytest

from bots_scheduler.alerts.profiles import DEFAULT_EVENTS, load_alert_config
from bots_scheduler.settings import UsageError


def test_a_profile_reads_urls_separated_by_spaces_and_lines_events_and_after_failures(
        alerts_ini):
    path = alerts_ini({"ops": {"urls": "json://127.0.0.1:1/a json://127.0.0.1:1/b\n"
                                       "  secret:slack-hook",
                               "events": "new-findings, gone-findings,\n every-run",
                               "after_failures": "3"},
                       "quiet": {"urls": "json://127.0.0.1:1/c"}})
    config = load_alert_config(path, ["ops"])
    ops = config.get("ops")
    assert [u.label for u in ops.urls] == ["url 1", "url 2", "url 3 (secret slack-hook)"]
    assert ops.events == {"new-findings", "gone-findings", "every-run"}
    assert ops.after_failures == 3
    assert config.get("quiet").events == set(DEFAULT_EVENTS)
    assert config.selected == ("ops",)
    assert "json://" not in ops.describe()


def test_no_file_and_no_profile_selected_is_no_alert_at_all(tmp_path):
    assert not load_alert_config(tmp_path / "missing.ini").any


@pytest.mark.parametrize("fields, message", [
    ({"urls": "json://127.0.0.1:1/a", "events": "new-findings, fire"}, "unknown event 'fire'"),
    ({"urls": "nosuchscheme://token-123/abc"},
     r"url 1 \(nosuchscheme://\.\.\.\) is not a URL Apprise"),
    ({"urls": ""}, "urls is missing"),
    ({"urls": "json://127.0.0.1:1/a", "after_failures": "0"}, "after_failures must be"),
    ({"urls": "json://127.0.0.1:1/a", "colour": "red"}, "unknown key 'colour'"),
])
def test_a_bad_profile_is_one_line_that_never_shows_the_url(alerts_ini, fields, message):
    path = alerts_ini({"bad": fields})
    with pytest.raises(UsageError, match=message) as caught:
        load_alert_config(path)
    assert "token-123" not in str(caught.value) and "\n" not in str(caught.value)


def test_an_unknown_selected_profile_names_the_available_ones(alerts_ini, tmp_path):
    path = alerts_ini({"ops": {"urls": "json://127.0.0.1:1/a"}})
    with pytest.raises(UsageError, match=r"no profile 'nope' .*available: ops"):
        load_alert_config(path, ["nope"])
    with pytest.raises(UsageError, match="not found"):
        load_alert_config(tmp_path / "missing.ini", ["ops"])
