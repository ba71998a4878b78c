"""ShodanHostsCheckJob with the shodan library against a local fake of the Shodan API."""
import pytest

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin.shodan_hosts import ShodanHostsCheckJob
from tests.jobs.helpers import closed_port, text_of


def _run(context, path, key="shodan-key"):
    job = ShodanHostsCheckJob("j1", "e1", context)
    return job, job.run(key, path).html()


def test_hosts_are_reported_sorted_by_address_with_ports_services_and_vulns(
        context, data_file, shodan_service):
    job, html = _run(context, data_file("ips.txt", "203.0.113.9\n198.51.100.7\n"))
    text = text_of(html)
    assert text.index("198.51.100.7") < text.index("203.0.113.9")
    assert "hostnames www.example.org" in text
    assert "open ports 22, 80" in text
    assert "vulnerabilities CVE-2023-38408" in text
    assert "22/tcp OpenSSH 8.9p1 CVE-2023-38408 SSH-2.0-OpenSSH_8.9p1" in text
    assert job._data["198.51.100.7"] == {
        "ports": [22, 80], "hostnames": ["www.example.org"], "vulns": ["CVE-2023-38408"],
        "services": ["22/tcp OpenSSH 8.9p1", "80/tcp nginx 1.18.0"]}
    assert job._data["203.0.113.9"]["ports"] == [8080]


def test_the_key_and_address_go_to_the_documented_endpoint(context, data_file, shodan_service):
    _run(context, data_file("ips.txt", "198.51.100.7\n"))
    assert shodan_service.paths() == ["/shodan/host/198.51.100.7"]
    assert shodan_service.seen[0].arg("key") == "shodan-key"


def test_networks_are_searched_with_net_filter(context, data_file, shodan_service):
    job, html = _run(context, data_file("ips.txt", "198.51.100.0/24\n"))
    assert shodan_service.paths() == ["/shodan/host/search"]
    assert shodan_service.seen[0].arg("query") == "net:198.51.100.0/24"
    assert sorted(job._data) == ["198.51.100.30", "198.51.100.7"]
    assert job._data["198.51.100.7"]["vulns"] == ["CVE-2023-38408"]


def test_unknown_address_is_no_finding(context, data_file, shodan_service):
    job, html = _run(context, data_file("ips.txt", "192.0.2.1\n"))
    assert "Shodan has no information on these addresses." in text_of(html)
    assert job._data == {}


def test_banners_are_escaped(context, data_file, shodan_service):
    _, html = _run(context, data_file("ips.txt", "198.51.100.30\n"))
    assert "<script>" not in html and "Moved &lt;script&gt;" in html


def test_bad_lines_are_listed_and_valid_ones_still_checked(context, data_file, shodan_service):
    job, html = _run(context, data_file(
        "ips.txt", "# office\n198.51.100.7\nnot-an-ip\n10.0.0.1/8\n300.1.1.1\n"))
    text = text_of(html)
    assert "Lines skipped (3)" in text
    assert "3 not-an-ip not an IP address or CIDR network" in text
    assert "4 10.0.0.1/8 host bits set: did you mean 10.0.0.0/8?" in text
    assert "5 300.1.1.1" in text
    assert list(job._data) == ["198.51.100.7"]


def test_invalid_key_fails_the_run_with_the_service_message(context, data_file, shodan_service):
    with pytest.raises(JobFailed) as failed:
        _run(context, data_file("ips.txt", "198.51.100.7\n"), key="bad")
    assert "Shodan: HTTP 401: Invalid API key" in str(failed.value)
    assert "Run failed" in text_of(failed.value.report_html)


def test_missing_credits_fail_the_run(context, data_file, shodan_service):
    shodan_service.force(402, {"error": "Insufficient query credits, please upgrade your API "
                                        "plan or wait for the monthly limit to reset"})
    with pytest.raises(JobFailed, match="HTTP 402: Insufficient query credits"):
        _run(context, data_file("ips.txt", "198.51.100.0/24\n"))


def test_membership_required_answer_fails_the_run(context, data_file, shodan_service):
    shodan_service.force(403, "<html><body>403 Forbidden</body></html>")
    with pytest.raises(JobFailed, match="HTTP 403: <html><body>403 Forbidden"):
        _run(context, data_file("ips.txt", "198.51.100.7\n"))


def test_rate_limit_answer_is_retried_after_the_asked_delay(context, data_file, shodan_service):
    shodan_service.force(429, {"error": "Rate limit reached (1/second)."}, {"Retry-After": "1"})
    job, _ = _run(context, data_file("ips.txt", "198.51.100.7\n"))
    assert len(shodan_service.seen) == 2
    assert list(job._data) == ["198.51.100.7"]


def test_server_error_fails_the_run(context, data_file, shodan_service):
    shodan_service.force(502, "Bad Gateway")
    with pytest.raises(JobFailed, match="HTTP 502: Bad Gateway"):
        _run(context, data_file("ips.txt", "198.51.100.7\n"))


def test_timeout_fails_the_run(context, data_file, shodan_service, quick_timeout):
    shodan_service.delay = 3
    with pytest.raises(JobFailed, match="Shodan: no answer within 1 s"):
        _run(context, data_file("ips.txt", "198.51.100.7\n"))


def test_unreachable_service_fails_the_run(context, data_file, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("BOTS_SCHEDULER_SHODAN_URL", f"http://127.0.0.1:{port}")
    with pytest.raises(JobFailed, match=rf"Shodan: cannot reach http://127.0.0.1:{port}: "
                                        r"\[Errno 111\] Connection refused"):
        _run(context, data_file("ips.txt", "198.51.100.7\n"))
