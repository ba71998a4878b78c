"""PwnedPasswordsJob: k-anonymity range queries, masked report, service errors."""
import re
import threading
import time
from pathlib import Path

import pytest

import bots_scheduler

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin.pwned_passwords import PwnedPasswordsJob, mask, read_passwords
from tests.jobs.conftest import PWNED
from tests.jobs.helpers import closed_port, text_of

PASSWORDS = "hunter2hunter2\ncorrect horse battery staple\nletmein123\n\nTr0ub4dor&3\n"


def _run(context, path):
    return PwnedPasswordsJob("j1", "e1", context).run(path).html()


def test_only_five_character_hash_prefixes_leave_the_machine(context, data_file,
                                                             pwned_passwords_service):
    _run(context, data_file("passwords.txt", PASSWORDS))
    seen = pwned_passwords_service.seen
    assert len(seen) == 4
    for request in seen:
        assert request.method == "GET"
        assert re.fullmatch(r"/range/[0-9A-F]{5}", request.path)
        assert request.query == {} and request.body == b""
        sent = request.path + " ".join(request.headers.values())
        for password in PASSWORDS.split():
            assert password not in sent


def test_padding_is_asked_for(context, data_file, pwned_passwords_service):
    _run(context, data_file("passwords.txt", "hunter2hunter2\n"))
    assert pwned_passwords_service.seen[0].headers["add-padding"] == "true"


def test_found_passwords_are_listed_with_counts_but_never_in_full(context, data_file,
                                                                  pwned_passwords_service):
    job = PwnedPasswordsJob("j1", "e1", context)
    html = job.run(data_file("passwords.txt", PASSWORDS)).html()
    text = text_of(html)
    for password in PWNED:
        assert password not in html
    assert "correct horse" not in html
    assert "found in breaches 3" in text
    assert "1 h***** 9,659,365" in text
    assert "3 l***** 23,431" in text
    assert "5 T***** 120" in text
    assert job._data == {"line 1 (h*****)": 9659365, "line 3 (l*****)": 23431,
                         "line 5 (T*****)": 120}


def test_short_passwords_are_masked_entirely():
    assert mask("abc") == "*****"
    assert mask("abcdefgh") == "a*****"


def test_no_pwned_password_gives_empty_data(context, data_file, pwned_passwords_service):
    job = PwnedPasswordsJob("j1", "e1", context)
    html = job.run(data_file("passwords.txt", "an unguessable passphrase 42\n")).html()
    assert "None of the checked passwords was found" in text_of(html)
    assert job._data == {}


def test_same_prefix_is_asked_once(context, data_file, pwned_passwords_service):
    _run(context, data_file("passwords.txt", "hunter2hunter2\nhunter2hunter2\n"))
    assert len(pwned_passwords_service.seen) == 1


def test_lines_that_are_not_utf8_are_listed_not_shown(context, data_file,
                                                      pwned_passwords_service):
    html = _run(context, data_file("passwords.txt", b"hunter2hunter2\n\xff\xfesecret\n"))
    text = text_of(html)
    assert "Lines skipped (1)" in text and "2 (not shown) not UTF-8 text" in text
    assert "secret" not in html


def test_service_error_fails_the_run_saying_what_it_answered(context, data_file,
                                                             pwned_passwords_service):
    pwned_passwords_service.force(503, "Service Unavailable: try later")
    with pytest.raises(JobFailed) as failed:
        _run(context, data_file("passwords.txt", "hunter2hunter2\n"))
    assert "HTTP 503: Service Unavailable: try later" in str(failed.value)
    assert "Run failed" in text_of(failed.value.report_html)
    assert "hunter2" not in failed.value.report_html


def test_429_is_retried_after_the_asked_delay(context, data_file, pwned_passwords_service):
    pwned_passwords_service.force(429, "Too many requests", {"Retry-After": "1"})
    job = PwnedPasswordsJob("j1", "e1", context)
    job.run(data_file("passwords.txt", "hunter2hunter2\n"))
    assert len(pwned_passwords_service.seen) == 2
    assert job._data == {"line 1 (h*****)": 9659365}


def test_timeout_fails_the_run(context, data_file, pwned_passwords_service, quick_timeout):
    pwned_passwords_service.delay = 3
    with pytest.raises(JobFailed, match="no answer within 1 s"):
        _run(context, data_file("passwords.txt", "hunter2hunter2\n"))


def test_unreachable_service_fails_the_run(context, data_file, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("BOTS_SCHEDULER_PWNEDPASSWORDS_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(JobFailed, match=rf"cannot reach http://127.0.0.1:{port}/range/\w+: "
                                        r"\[Errno 111\] Connection refused"):
        _run(context, data_file("passwords.txt", "hunter2hunter2\n"))


def test_base_url_must_be_http(context, data_file, monkeypatch):
    monkeypatch.setenv("BOTS_SCHEDULER_PWNEDPASSWORDS_URL", "ftp://example.org")
    with pytest.raises(JobFailed, match="not an http:// or https:// URL"):
        _run(context, data_file("passwords.txt", "hunter2hunter2\n"))


def test_stopping_the_job_interrupts_a_retry_wait(context, data_file, pwned_passwords_service):
    pwned_passwords_service.force(429, "Too many requests", {"Retry-After": "30"})
    threading.Timer(0.5, context.stop_event.set).start()
    started = time.monotonic()
    with pytest.raises(JobFailed, match="stopped while waiting to retry"):
        _run(context, data_file("passwords.txt", "hunter2hunter2\n"))
    assert time.monotonic() - started < 10


def test_comment_lines_and_a_byte_order_mark_are_not_passwords(context, data_file,
                                                               pwned_passwords_service):
    job = PwnedPasswordsJob("j1", "e1", context)
    passwords = data_file("passwords.txt", "\ufeff# my list\nhunter2hunter2\n #not a comment\n")
    html = job.run(passwords).html()
    assert "passwords in the file 2" in text_of(html)
    assert job._data == {"line 2 (h*****)": 9659365}


def test_the_shipped_sample_list_holds_six_passwords():
    sample = Path(bots_scheduler.__file__).parent / "samples" / "passwords.txt"
    passwords, bad = read_passwords(sample)
    assert len(passwords) == 6 and bad == []
