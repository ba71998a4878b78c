"""The proxy's behaviour on the wire: a real mitmdump with our addon in front of a tiny upstream."""
from __future__ import annotations

import socket
import ssl
import time

import pytest

from bots_scheduler.proxy import htpasswd
from bots_scheduler.proxy.policy import CONTENT_SECURITY_POLICY
from tests.proxy.conftest import SECRET, USERS
from tests.proxy.tools import htpasswd_tool, https

pytestmark = pytest.mark.integration     # starts bots-scheduler or mitmproxy processes

ALICE = USERS["bcrypt"]
SECURITY = {"Strict-Transport-Security": "max-age=31536000", "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY}


def assert_security_headers(response):
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, response.status_code)


def paths_seen(running):
    return [entry["path"] for entry in running.upstream.seen]


# -- authentication ----------------------------------------------------------------------------

def test_a_request_without_credentials_gets_401_with_a_basic_challenge(shared):
    r = https("GET", shared.url + "/no-credentials")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith('Basic realm="Bots Scheduler"')
    assert r.json() == {"error": "authentication required"}
    assert "/no-credentials" not in paths_seen(shared)


@pytest.mark.parametrize("fmt", ["bcrypt", "apr1", "sha1"])
def test_each_htpasswd_format_of_apaches_tool_is_accepted(shared, fmt):
    user, password = USERS[fmt]
    r = https("GET", shared.url + f"/ok-{fmt}", auth=(user, password))
    assert r.status_code == 200
    assert r.json()["headers"]["X-Bots-User"] == user


def test_a_wrong_password_gets_401_and_never_reaches_the_scheduler(fresh):
    r = https("GET", fresh.url + "/wrong", auth=(ALICE[0], "not the password"))
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers
    assert fresh.upstream.seen == []


def test_an_unknown_user_gets_401(fresh):
    r = https("GET", fresh.url + "/", auth=("mallory", ALICE[1]))
    assert r.status_code == 401


def test_a_password_containing_colons_authenticates(fresh):
    htpasswd_tool(fresh.htpasswd, "dave", "a:b:c", "bcrypt")
    assert https("GET", fresh.url + "/", auth=("dave", "a:b:c")).status_code == 200


def test_the_password_never_reaches_the_scheduler(shared):
    r = https("GET", shared.url + "/auth-header", auth=ALICE)
    assert "Authorization" not in r.json()["headers"]


def test_a_non_ascii_user_name_reaches_the_scheduler_percent_encoded(fresh):
    htpasswd.set_password(fresh.htpasswd, "jürgen", "grüße")
    r = https("GET", fresh.url + "/", auth=("jürgen".encode(), "grüße".encode()))
    assert r.status_code == 200
    assert r.json()["headers"]["X-Bots-User"] == "j%C3%BCrgen"


# -- brute-force limiting ----------------------------------------------------------------------

def test_ten_failures_in_a_minute_block_the_address_even_with_the_right_password(fresh):
    for _ in range(10):
        assert https("GET", fresh.url + "/", auth=(ALICE[0], "guess")).status_code == 401
    r = https("GET", fresh.url + "/", auth=ALICE)
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 61
    assert_security_headers(r)
    assert fresh.upstream.seen == []


def test_missing_credentials_do_not_count_as_failures(fresh):
    for _ in range(12):
        assert https("GET", fresh.url + "/").status_code == 401
    assert https("GET", fresh.url + "/", auth=ALICE).status_code == 200


# -- the htpasswd file changes while running ---------------------------------------------------

def test_a_user_added_to_the_file_can_log_in_without_a_restart(fresh):
    htpasswd_tool(fresh.htpasswd, "erin", "new pass", "apr1")
    assert https("GET", fresh.url + "/", auth=("erin", "new pass")).status_code == 200


def test_a_changed_password_takes_effect_at_once_despite_the_cache(fresh):
    assert https("GET", fresh.url + "/", auth=ALICE).status_code == 200   # now cached
    htpasswd_tool(fresh.htpasswd, ALICE[0], "changed", "bcrypt")
    assert https("GET", fresh.url + "/", auth=ALICE).status_code == 401
    assert https("GET", fresh.url + "/", auth=(ALICE[0], "changed")).status_code == 200


# -- HTTPS only --------------------------------------------------------------------------------

def test_plain_http_is_redirected_to_https_without_asking_for_credentials(shared):
    r = https("GET", f"http://127.0.0.1:{shared.port}/plain?a=1")
    assert r.status_code == 308
    assert r.headers["Location"] == f"https://127.0.0.1:{shared.port}/plain?a=1"
    assert "WWW-Authenticate" not in r.headers
    assert_security_headers(r)
    assert "/plain" not in paths_seen(shared)


def test_plain_http_with_valid_credentials_is_still_not_forwarded(shared):
    r = https("POST", f"http://127.0.0.1:{shared.port}/plain-post", auth=ALICE, json={})
    assert r.status_code == 308
    assert "/plain-post" not in paths_seen(shared)


def test_plain_http_without_a_usable_host_is_refused(shared):
    with socket.create_connection(("127.0.0.1", shared.port), timeout=10) as conn:
        conn.sendall(b"GET /no-host HTTP/1.0\r\nHost: bad host\r\n\r\n")
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    assert b"WWW-Authenticate" not in answer


# -- identity ----------------------------------------------------------------------------------

def test_client_identity_headers_are_replaced_by_the_proxys(shared):
    forged = {"X-Bots-User": "root", "X-Bots-Proxy-Secret": "guess", "x-bots-user": "admin",
              "X-Bots-Anything": "x"}
    r = https("GET", shared.url + "/forged", auth=ALICE, headers=forged)
    headers = r.json()["headers"]
    assert headers["X-Bots-User"] == ALICE[0]
    assert headers["X-Bots-Proxy-Secret"] == SECRET
    assert "X-Bots-Anything" not in headers


def test_the_secret_is_not_on_the_proxys_command_line(shared):
    with open(f"/proc/{shared.proxy._process.pid}/cmdline", "rb") as handle:
        assert SECRET.encode() not in handle.read()


# -- security headers --------------------------------------------------------------------------

def test_security_headers_are_on_forwarded_responses(shared):
    assert_security_headers(https("GET", shared.url + "/page", auth=ALICE))


def test_security_headers_are_on_the_schedulers_error_responses(shared):
    r = https("GET", shared.url + "/missing", auth=ALICE)
    assert r.status_code == 404
    assert_security_headers(r)


def test_security_headers_are_on_the_proxys_own_refusals(shared):
    assert_security_headers(https("GET", shared.url + "/"))
    r = https("POST", shared.url + "/", auth=ALICE, data={"a": "1"},
              headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert_security_headers(r)


# -- cross-site request forgery ----------------------------------------------------------------

def test_a_cross_site_form_post_is_refused(shared):
    r = https("POST", shared.url + "/api/v1/jobs", auth=ALICE, data={"name": "x"},
              headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert "cross-origin" in r.json()["error"]
    assert "/api/v1/jobs" not in paths_seen(shared)


def test_a_form_post_without_origin_or_custom_header_is_refused(shared):
    r = https("POST", shared.url + "/form-no-origin", auth=ALICE, data={"name": "x"})
    assert r.status_code == 403
    assert "X-Requested-With" in r.json()["error"]


def test_a_cross_site_delete_is_refused(shared):
    r = https("DELETE", shared.url + "/cross-delete", auth=ALICE,
              headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


@pytest.mark.parametrize("kwargs", [
    {"json": {"name": "x"}},
    {"data": {"name": "x"}, "headers": {"X-Requested-With": "script"}},
    {"files": {"file": ("a.txt", b"1.2.3.4\n")}, "headers": {"X-Requested-With": "script"}},
], ids=["json", "form-with-custom-header", "upload-with-custom-header"])
def test_posts_a_cross_site_page_cannot_make_are_forwarded(shared, kwargs):
    assert https("POST", shared.url + "/post-ok", auth=ALICE, **kwargs).status_code == 200


def test_a_form_post_from_the_uis_own_origin_is_forwarded(shared):
    r = https("POST", shared.url + "/same-origin", auth=ALICE, data={"name": "x"},
              headers={"Origin": f"https://127.0.0.1:{shared.port}"})
    assert r.status_code == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_methods_forms_cannot_send_are_forwarded_without_origin(shared, method):
    assert https(method, shared.url + "/method", auth=ALICE).status_code == 200


# -- bodies of refused requests ----------------------------------------------------------------

def test_a_large_body_without_credentials_is_cut_off_unread(fresh):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", fresh.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as conn:
            conn.sendall(b"POST /big HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Length: 10000000\r\n\r\n" + b"x" * 1000)
            assert conn.recv(4096) == b""   # closed without an answer
    assert fresh.upstream.seen == []


def test_an_authenticated_upload_reaches_the_scheduler_whole(shared):
    body = b"z" * (3 * 1024 * 1024)
    r = https("POST", shared.url + "/upload", auth=ALICE, data=body,
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    assert r.json()["body_size"] == len(body)



def test_a_chunked_authenticated_upload_is_streamed_to_the_scheduler_whole(shared):
    chunks = (b"y" * 65536 for _ in range(40))
    r = https("POST", shared.url + "/chunked", auth=ALICE, data=chunks,
              headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200
    assert r.json()["body_size"] == 40 * 65536


def test_a_failed_login_logs_known_user_names_only(fresh):
    https("GET", fresh.url + "/", auth=("hunter2-typed-as-user", "x"))
    https("GET", fresh.url + "/", auth=(ALICE[0], "x"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(
            "'alice'" in line for line in fresh.proxy.last_lines()):
        time.sleep(0.1)
    log = "\n".join(fresh.proxy.last_lines())
    assert "login failed for (unknown user)" in log
    assert "login failed for 'alice'" in log
    assert "hunter2" not in log
