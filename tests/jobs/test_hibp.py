"""HaveIBeenPwnedJob: e-mail and domain breaches, required headers, rate limit, errors."""
import pytest

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin.hibp import HaveIBeenPwnedJob
from bots_scheduler.jobs.builtin._service import USER_AGENT
from tests.jobs.helpers import text_of

ACCOUNTS = "alice@example.org\nnobody@example.org\nexample.org\nnot an address@\n"


def _run(context, path, key="hibp-key"):
    job = HaveIBeenPwnedJob("j1", "e1", context)
    return job, job.run(key, path).html()


def test_every_request_carries_the_api_key_and_user_agent(context, data_file, hibp_service):
    _run(context, data_file("accounts.txt", ACCOUNTS))
    keyed = [s for s in hibp_service.seen if s.path.startswith("/api/v3/breached")]
    assert keyed
    for seen in hibp_service.seen:
        assert seen.headers["hibp-api-key"] == "hibp-key"
        assert seen.headers["user-agent"] == USER_AGENT


def test_breaches_of_an_address_are_listed_with_details(context, data_file, hibp_service):
    job, html = _run(context, data_file("accounts.txt", ACCOUNTS))
    text = text_of(html)
    assert "alice@example.org Found in 2 breaches." in text
    assert "Adobe 2013-10-04 152,445,165 Email addresses, Password hints, Passwords, " \
           "Usernames verified" in text
    assert "nobody@example.org Not found in any breach." in text
    assert job._data["alice@example.org"] == ["Adobe", "LinkedIn"]
    assert "nobody@example.org" not in job._data
    alice = [s for s in hibp_service.seen if s.path == "/api/v3/breachedaccount/alice@example.org"]
    assert alice[0].arg("truncateResponse") == "false"


def test_domain_lists_breached_addresses_and_breaches_of_the_site(context, data_file,
                                                                  hibp_service):
    job, html = _run(context, data_file("accounts.txt", "example.org\n"))
    text = text_of(html)
    assert "Breached addresses (2)" in text
    assert "alice@example.org Adobe, LinkedIn" in text
    assert "bob@example.org Adobe" in text
    assert "Breaches of this site" in text
    assert "ExampleShop 2021-02-03 12,000 Email addresses, Names sensitive, unverified" in text
    assert job._data == {"example.org": {
        "addresses": {"alice@example.org": ["Adobe", "LinkedIn"], "bob@example.org": ["Adobe"]},
        "site_breaches": ["ExampleShop"]}}


def test_bad_lines_are_listed_and_others_still_checked(context, data_file, hibp_service):
    job, html = _run(context, data_file("accounts.txt", ACCOUNTS))
    text = text_of(html)
    assert "Lines skipped (1)" in text
    assert "4 not an address@ not a valid e-mail address" in text


def test_description_markup_from_the_service_is_escaped(context, data_file, hibp_service):
    hibp_service.breaches["Adobe"]["Title"] = "<img src=x onerror=alert(1)>"
    _, html = _run(context, data_file("accounts.txt", "alice@example.org\n"))
    assert "<img" not in html and "&lt;img src=x" in html


def test_bad_api_key_fails_the_run_with_the_service_message(context, data_file, hibp_service):
    with pytest.raises(JobFailed) as failed:
        _run(context, data_file("accounts.txt", "alice@example.org\n"), key="wrong")
    assert "HTTP 401: Access denied due to invalid hibp-api-key." in str(failed.value)
    assert "Run failed" in text_of(failed.value.report_html)


def test_missing_api_key_argument_fails(context, data_file, hibp_service):
    with pytest.raises(JobFailed, match="no HIBP API key"):
        _run(context, data_file("accounts.txt", "alice@example.org\n"), key="")


def test_rate_limit_answer_is_waited_out(context, data_file, hibp_service):
    hibp_service.force(429, {"statusCode": 429, "message": "Rate limit is exceeded. "
                                                           "Try again in 1 seconds."},
                       {"Retry-After": "1"}, times=2)
    job, html = _run(context, data_file("accounts.txt", "alice@example.org\n"))
    assert [s.path for s in hibp_service.seen] == ["/api/v3/breachedaccount/alice@example.org"] * 3
    assert job._data == {"alice@example.org": ["Adobe", "LinkedIn"]}


def test_too_long_retry_after_ends_the_run_with_a_report(context, data_file, hibp_service):
    hibp_service.force(429, {"statusCode": 429, "message": "Rate limit is exceeded."},
                       {"Retry-After": "3600"})
    with pytest.raises(JobFailed) as failed:
        _run(context, data_file("accounts.txt", "alice@example.org\n"))
    assert "HTTP 429: Rate limit is exceeded." in str(failed.value)
    assert "retry after 3600 s" in str(failed.value)
    assert len(hibp_service.seen) == 1


def test_plan_limit_answer_fails_the_run(context, data_file, hibp_service):
    hibp_service.force(403, {"statusCode": 403, "message": "Your subscription does not "
                                                           "include domain search."})
    with pytest.raises(JobFailed, match="HTTP 403: Your subscription does not include"):
        _run(context, data_file("accounts.txt", "example.org\n"))


def test_results_before_an_error_stay_in_the_failure_report(context, data_file, hibp_service):
    path = data_file("accounts.txt", "alice@example.org\nbob@example.org\n")
    hibp_service.force_at(2, 500, "Internal Server Error")
    job = HaveIBeenPwnedJob("j1", "e1", context)
    with pytest.raises(JobFailed) as failed:
        job.run("hibp-key", path)
    text = text_of(failed.value.report_html)
    assert "HTTP 500: Internal Server Error" in text
    assert "alice@example.org Found in 2 breaches." in text
    assert "entries not checked (run ended early) 1" in text


def test_timeout_fails_the_run(context, data_file, hibp_service, quick_timeout):
    hibp_service.delay = 3
    with pytest.raises(JobFailed, match="no answer within 1 s"):
        _run(context, data_file("accounts.txt", "alice@example.org\n"))
