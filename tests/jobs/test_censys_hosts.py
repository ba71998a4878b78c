"""CensysHostsCheckJob and CensysHostsEnumeration against a local fake of Censys Search 2.0."""
import base64

import pytest

from bots_scheduler import JobFailed
from bots_scheduler.jobs.builtin.censys_hosts import CensysHostsCheckJob, CensysHostsEnumeration
from tests.jobs.helpers import text_of


def _check(context, path, secret="censys-secret"):
    job = CensysHostsCheckJob("j1", "e1", context)
    return job, job.run("censys-id", secret, path).html()


def _enumerate(context, path):
    job = CensysHostsEnumeration("j1", "e1", context)
    return job, job.run("censys-id", "censys-secret", path).html()


def test_hosts_are_viewed_with_basic_auth(context, data_file, censys_service):
    _check(context, data_file("ips.txt", "198.51.100.7\n"))
    seen = censys_service.seen[0]
    assert seen.path == "/api/v2/hosts/198.51.100.7"
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(
        b"censys-id:censys-secret").decode()


def test_hosts_are_reported_sorted_with_ports_and_services(context, data_file, censys_service):
    job, html = _check(context, data_file("ips.txt", "203.0.113.9\n198.51.100.7\n192.0.2.50\n"))
    text = text_of(html)
    assert text.index("198.51.100.7") < text.index("203.0.113.9")
    assert "open ports 22, 443" in text
    assert "443/tcp HTTP nginx 1.0 HTTP/1.1 200 OK" in text
    assert job._data == {
        "198.51.100.7": {"ports": [22, 443], "hostnames": ["www.example.org"],
                         "services": ["22/tcp SSH OpenSSH 1.0", "443/tcp HTTP nginx 1.0"]},
        "203.0.113.9": {"ports": [3389], "hostnames": [], "services": ["3389/tcp RDP"]}}


def test_networks_are_searched_page_by_page(context, data_file, censys_service):
    censys_service.page_size = 1
    job, html = _check(context, data_file("ips.txt", "198.51.100.0/24\n"))
    searches = [s for s in censys_service.seen if s.path == "/api/v2/hosts/search"]
    assert [s.arg("q") for s in searches] == ['ip: "198.51.100.0/24"'] * 2
    assert searches[1].arg("cursor") == "1"
    assert sorted(job._data) == ["198.51.100.30", "198.51.100.7"]


def test_bad_lines_are_listed(context, data_file, censys_service):
    _, html = _check(context, data_file("ips.txt", "198.51.100.7\nexample.org\n"))
    assert "2 example.org not an IP address or CIDR network" in text_of(html)


def test_wrong_credentials_fail_the_run_with_the_service_message(context, data_file,
                                                                 censys_service):
    with pytest.raises(JobFailed) as failed:
        _check(context, data_file("ips.txt", "198.51.100.7\n"), secret="wrong")
    assert "Censys: HTTP 401: You must authenticate with a valid API ID and secret." \
        in str(failed.value)


def test_quota_exceeded_fails_the_run(context, data_file, censys_service):
    censys_service.force(403, {"code": 403, "status": "Forbidden",
                               "error": "You have used your full quota for this billing period."})
    with pytest.raises(JobFailed, match="HTTP 403: You have used your full quota"):
        _check(context, data_file("ips.txt", "198.51.100.7\n"))


def test_rate_limit_is_waited_out_then_bounded(context, data_file, censys_service):
    censys_service.force(429, {"code": 429, "status": "Too Many Requests",
                               "error": "rate limit exceeded"}, {"Retry-After": "1"})
    job, _ = _check(context, data_file("ips.txt", "198.51.100.7\n"))
    assert len(censys_service.seen) == 2 and list(job._data) == ["198.51.100.7"]
    censys_service.force(429, {"code": 429, "status": "Too Many Requests",
                               "error": "rate limit exceeded"}, {"Retry-After": "900"})
    with pytest.raises(JobFailed, match="retry after 900 s"):
        _check(context, data_file("ips.txt", "198.51.100.7\n"))


def test_server_error_fails_the_run(context, data_file, censys_service):
    censys_service.force(500, {"code": 500, "status": "Internal Server Error",
                               "error": "An unexpected error occurred."})
    with pytest.raises(JobFailed, match="HTTP 500: An unexpected error occurred."):
        _check(context, data_file("ips.txt", "198.51.100.7\n"))


def test_timeout_fails_the_run(context, data_file, censys_service, quick_timeout):
    censys_service.delay = 3
    with pytest.raises(JobFailed, match="Censys: no answer within 1 s"):
        _check(context, data_file("ips.txt", "198.51.100.7\n"))


def test_enumeration_lists_host_names_of_the_domain_from_certificates(context, data_file,
                                                                     censys_service):
    job, html = _enumerate(context, data_file("domains.txt", "Example.org\n"))
    text = text_of(html)
    assert "3 certificates, 4 host names, 2 hosts." in text
    assert "mx.other.net" not in text
    assert job._data == {"example.org": {
        "names": ["*.dev.example.org", "example.org", "mail.example.org", "www.example.org"],
        "hosts": ["198.51.100.7", "198.51.100.30"]}}
    queries = [s.arg("q") for s in censys_service.seen]
    assert queries == ["names: example.org",
                       "services.tls.certificates.leaf_data.names: example.org"]


def test_enumeration_lists_bad_domains(context, data_file, censys_service):
    job, html = _enumerate(context, data_file("domains.txt", "example.org\nbad_domain\n-x.org\n"))
    text = text_of(html)
    assert "2 bad_domain not a valid domain name" in text
    assert "3 -x.org not a valid domain name" in text


def test_enumeration_of_an_unknown_domain_finds_nothing(context, data_file, censys_service):
    job, html = _enumerate(context, data_file("domains.txt", "nothing-here.net\n"))
    assert job._data == {}
    assert "0 certificates, 0 host names, 0 hosts." in text_of(html)
