"""SMTP profiles (CONTRACT §2): reading and validating the --smtp-config INI file."""
from __future__ import annotations

import pytest

from bots_scheduler.notifications.profiles import load_profiles
from bots_scheduler.errors import UsageError

GOOD = {"hostname": "smtp.example.org", "port": "587", "security": "starttls",
        "user": "bots", "password": "s3cret-pw", "from": "Bots <bots@example.org>",
        "to": "a@example.org"}


def write(tmp_path, sections: dict, name="smtp.ini"):
    path = tmp_path / name
    path.write_text("".join(
        f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()) + "\n"
        for section, fields in sections.items()))
    return path


def error_of(path, names) -> str:
    with pytest.raises(UsageError) as caught:
        load_profiles(path, names)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_all_seven_fields_are_read(tmp_path):
    (profile,) = load_profiles(write(tmp_path, {"team": GOOD}), ["team"])
    assert (profile.name, profile.hostname, profile.port, profile.security) == \
        ("team", "smtp.example.org", 587, "starttls")
    assert (profile.user, profile.password) == ("bots", "s3cret-pw")
    assert profile.sender == "Bots <bots@example.org>"
    assert profile.envelope_sender == "bots@example.org"
    assert profile.recipients == ("a@example.org",)


@pytest.mark.parametrize("port, security", [(25, "unencrypted"), (465, "ssl"),
                                            (587, "starttls")])
def test_security_follows_the_port_when_absent(tmp_path, port, security):
    fields = {k: v for k, v in GOOD.items() if k != "security"} | {"port": str(port)}
    (profile,) = load_profiles(write(tmp_path, {"p": fields}), ["p"])
    assert profile.security == security


def test_explicit_security_wins_over_the_port_and_ignores_case(tmp_path):
    fields = GOOD | {"port": "465", "security": "STARTTLS"}
    (profile,) = load_profiles(write(tmp_path, {"p": fields}), ["p"])
    assert profile.security == "starttls"


def test_to_lists_several_addresses_separated_by_commas(tmp_path):
    fields = GOOD | {"to": "a@example.org, Bob <b@example.org>,c@example.org"}
    (profile,) = load_profiles(write(tmp_path, {"p": fields}), ["p"])
    assert profile.recipients == ("a@example.org", "b@example.org", "c@example.org")


def test_a_quoted_display_name_may_hold_a_comma(tmp_path):
    fields = GOOD | {"to": '"Doe, John" <j@example.org>, b@example.org'}
    (profile,) = load_profiles(write(tmp_path, {"p": fields}), ["p"])
    assert profile.recipients == ("j@example.org", "b@example.org")


def test_user_and_password_are_optional(tmp_path):
    fields = {k: v for k, v in GOOD.items() if k not in ("user", "password")}
    (profile,) = load_profiles(write(tmp_path, {"p": fields}), ["p"])
    assert not profile.uses_auth and profile.user is None and profile.password is None


def test_several_profiles_are_returned_in_the_order_given(tmp_path):
    path = write(tmp_path, {"a": GOOD, "b": GOOD | {"to": "b@example.org"}})
    assert [p.name for p in load_profiles(path, ["b", "a", "b"])] == ["b", "a"]


def test_without_selected_profiles_the_file_is_not_needed(tmp_path):
    assert load_profiles(tmp_path / "missing.ini", []) == ()
    assert load_profiles(tmp_path / "missing.ini", None) == ()


def test_the_password_never_shows_in_repr_or_description(tmp_path):
    (profile,) = load_profiles(write(tmp_path, {"p": GOOD}), ["p"])
    assert "s3cret-pw" not in repr(profile)
    assert "s3cret-pw" not in profile.describe()
    assert "bots" in profile.describe()


def test_a_missing_config_file_with_a_selected_profile_is_an_error(tmp_path):
    message = error_of(tmp_path / "nope.ini", ["team"])
    assert "nope.ini not found" in message and "team" in message


def test_an_unknown_profile_lists_the_available_ones(tmp_path):
    path = write(tmp_path, {"alpha": GOOD, "beta": GOOD})
    message = error_of(path, ["gamma"])
    assert "no profile 'gamma'" in message and "available: alpha, beta" in message


@pytest.mark.parametrize("field", ["hostname", "port", "from", "to"])
def test_each_mandatory_field_is_required(tmp_path, field):
    fields = {k: v for k, v in GOOD.items() if k != field}
    message = error_of(write(tmp_path, {"p": fields}), ["p"])
    assert f"[p]: missing {field}" in message


def test_an_empty_mandatory_field_counts_as_missing(tmp_path):
    message = error_of(write(tmp_path, {"p": GOOD | {"hostname": ""}}), ["p"])
    assert "missing hostname" in message


@pytest.mark.parametrize("port, expected", [("smtp", "whole number"), ("0", "between 1 and"),
                                            ("65536", "between 1 and"), ("-25", "between 1")])
def test_a_bad_port_is_an_error(tmp_path, port, expected):
    message = error_of(write(tmp_path, {"p": GOOD | {"port": port}}), ["p"])
    assert expected in message and "port" in message


def test_a_bad_security_value_is_an_error(tmp_path):
    message = error_of(write(tmp_path, {"p": GOOD | {"security": "tls-please"}}), ["p"])
    assert "security must be one of unencrypted, ssl, starttls" in message


def test_security_cannot_be_guessed_from_an_unusual_port(tmp_path):
    fields = {k: v for k, v in GOOD.items() if k != "security"} | {"port": "2525"}
    message = error_of(write(tmp_path, {"p": fields}), ["p"])
    assert "security is missing" in message and "2525" in message


def test_user_without_password_is_an_error(tmp_path):
    fields = {k: v for k, v in GOOD.items() if k != "password"}
    assert "without password" in error_of(write(tmp_path, {"p": fields}), ["p"])


def test_password_without_user_is_an_error_that_does_not_print_it(tmp_path):
    fields = {k: v for k, v in GOOD.items() if k != "user"}
    message = error_of(write(tmp_path, {"p": fields}), ["p"])
    assert "password given without user" in message and "s3cret-pw" not in message


@pytest.mark.parametrize("field, value", [("from", "not-an-address"), ("from", "a@b, c@d"),
                                          ("to", "a@example.org, nobody"),
                                          ("to", "a@example.org,,b@example.org")])
def test_bad_addresses_are_errors(tmp_path, field, value):
    message = error_of(write(tmp_path, {"p": GOOD | {field: value}}), ["p"])
    assert f"{field} " in message


def test_an_unknown_key_is_reported(tmp_path):
    message = error_of(write(tmp_path, {"p": GOOD | {"hots": "x"}}), ["p"])
    assert "unknown key 'hots'" in message


def test_an_unreadable_ini_file_is_one_line(tmp_path):
    path = tmp_path / "smtp.ini"
    path.write_text("hostname = no section header\n")
    assert "not a valid INI file" in error_of(path, ["p"])


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_timeout_is_an_error(tmp_path, value):
    assert "timeout" in error_of(write(tmp_path, {"p": GOOD | {"timeout": value}}), ["p"])


def test_a_missing_cafile_is_an_error(tmp_path):
    message = error_of(write(tmp_path, {"p": GOOD | {"cafile": tmp_path / "ca.pem"}}), ["p"])
    assert "cafile" in message and "ca.pem" in message
