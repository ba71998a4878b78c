"""The proxy's rules as plain functions: Basic credentials, https redirects, CSRF."""
from __future__ import annotations

import base64

import pytest

from bots_scheduler.proxy.policy import (csrf_refusal, encode_user, forwarded_fields,
                                         https_location, parse_basic, parse_bearer,
                                         secured_fields)

def basic(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return "Basic " + base64.b64encode(raw).decode()


def test_basic_credentials_are_split_at_the_first_colon():
    assert parse_basic(basic("alice:a:b:c")) == ("alice", "a:b:c")


def test_the_scheme_is_case_insensitive_and_an_empty_password_is_kept():
    assert parse_basic("bAsIc " + base64.b64encode(b"alice:").decode()) == ("alice", "")


def test_latin1_credentials_of_older_clients_are_understood():
    assert parse_basic(basic("j\xfcrgen:pw".encode("latin-1"))) == ("jürgen", "pw")


@pytest.mark.parametrize("header", ["", "Basic", "Basic !!!notbase64", "Bearer abc",
                                    basic("no-colon"), basic(":password-without-user")])
def test_unusable_authorization_headers_give_no_credentials(header):
    assert parse_basic(header) is None


def test_user_names_are_percent_encoded_only_where_needed():
    assert encode_user("alice@example.com") == "alice@example.com"
    assert encode_user("50%") == "50%25"
    assert encode_user("jürgen") == "j%C3%BCrgen"


def test_a_plain_http_request_is_sent_to_the_same_host_and_path_over_https():
    assert https_location("example.com:8888", "/a?b=1") == "https://example.com:8888/a?b=1"
    assert https_location("[::1]:8888", "/") == "https://[::1]:8888/"


@pytest.mark.parametrize("host", [None, "", "bad host", "evil.com/path", "a@b"])
def test_an_unusable_host_gets_no_redirect(host):
    assert https_location(host, "/") is None


def test_safe_methods_are_never_refused():
    assert csrf_refusal("GET", {"Origin": "https://evil.example"}, "h:1") is None


def test_the_own_origin_is_accepted_and_any_other_refused():
    assert csrf_refusal("POST", {"Origin": "https://h:1"}, "h:1") is None
    assert csrf_refusal("POST", {"Origin": "https://H:1/"}, "h:1") is None
    assert csrf_refusal("POST", {"Origin": "http://h:1"}, "h:1")
    assert csrf_refusal("POST", {"Origin": "null"}, "h:1")
    assert csrf_refusal("DELETE", {"Origin": "https://h:2"}, "h:1")


def test_the_default_https_port_may_be_left_out_of_the_origin():
    assert csrf_refusal("POST", {"Origin": "https://h"}, "h:443") is None


def test_the_browsers_fetch_metadata_refuses_cross_site_requests_without_origin():
    headers = {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}
    assert csrf_refusal("PUT", headers, "h:1")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "text/plain", None])
def test_a_post_a_form_could_send_needs_origin_or_custom_header(content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    assert csrf_refusal("POST", headers, "h:1")
    assert csrf_refusal("POST", {**headers, "X-Requested-With": "x"}, "h:1") is None


def test_json_posts_and_non_form_methods_need_no_origin():
    assert csrf_refusal("POST", {"Content-Type": "application/json"}, "h:1") is None
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
        assert csrf_refusal(method, {}, "h:1") is None


def test_forwarded_headers_carry_the_proxys_identity_and_drop_the_clients():
    fields = ((b"Host", b"h"), (b"Authorization", b"Basic x"), (b"X-Bots-User", b"root"),
              (b"x-bots-proxy-secret", b"guess"), (b"X-Forwarded-For", b"1.2.3.4"),
              (b"X-Bots-Role", b"admin"), (b"X-Bots-Token", b"bst_x"), (b"Accept", b"*/*"))
    result = forwarded_fields(fields, "jürgen", "s3cret", "10.0.0.9", role="operator")
    assert result == ((b"Host", b"h"), (b"Accept", b"*/*"), (b"X-Bots-User", b"j%C3%BCrgen"),
                      (b"X-Bots-Role", b"operator"),
                      (b"X-Bots-Proxy-Secret", b"s3cret"), (b"X-Forwarded-For", b"10.0.0.9"),
                      (b"X-Forwarded-Proto", b"https"))
    # a bearer token goes on alone, for the scheduler to check: no user, no role
    result = forwarded_fields(fields, None, "s3cret", "10.0.0.9", token="bst_abc")
    assert result == ((b"Host", b"h"), (b"Accept", b"*/*"), (b"X-Bots-Token", b"bst_abc"),
                      (b"X-Bots-Proxy-Secret", b"s3cret"), (b"X-Forwarded-For", b"10.0.0.9"),
                      (b"X-Forwarded-Proto", b"https"))


def test_bearer_tokens_are_recognised_and_odd_ones_are_not():
    assert parse_bearer("Bearer bst_abc-_=") == "bst_abc-_="
    assert parse_bearer("bearer  bst_x ") == "bst_x"
    for bad in ("Basic abc", "Bearer", "Bearer a b", "Bearer " + "x" * 201, "Bearer \x00x"):
        assert parse_bearer(bad) is None, bad


def test_security_headers_replace_the_upstreams_own_csp_and_frame_options():
    """An upstream (or a squatter on PORT+1) cannot loosen the policy: its CSP is replaced."""
    fields = ((b"content-type", b"text/html"), (b"x-frame-options", b"SAMEORIGIN"),
              (b"Content-Security-Policy", b"default-src * 'unsafe-inline'"))
    result = secured_fields(fields)
    names = [name.lower() for name, _ in result]
    assert names.count(b"content-security-policy") == 1
    assert names.count(b"x-frame-options") == 1
    headers = dict(result)
    assert headers[b"X-Frame-Options"] == b"DENY"
    assert headers[b"Content-Security-Policy"].startswith(b"default-src 'self'")
    assert b"unsafe-inline" not in headers[b"Content-Security-Policy"]
    assert headers[b"content-type"] == b"text/html"
    assert headers[b"Strict-Transport-Security"] == b"max-age=31536000"
