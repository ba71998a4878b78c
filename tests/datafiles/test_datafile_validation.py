"""What a data file may be called and contain (bots_scheduler.datafiles.validation)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots_scheduler.datafiles.validation import (ContentChecker, DataFileError, check_content,
                                                 check_name)
from bots_scheduler.web.errors import http_answer  # the status the API answers with


@pytest.mark.parametrize("name", ["ips.txt", "lists/ips.lst", "a/b/c/passwords.raw",
                                  "DATA.DAT", "données-été.txt", "with space.txt",
                                  "100%.txt", "v1.2.list.txt"])
def test_acceptable_names_are_returned_unchanged(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name, reason", [
    ("", "empty"),
    (None, "empty"),
    ("ips.exe", "extension '.exe'"),
    ("ips", "no extension"),
    ("ips.txt.sh", "extension '.sh'"),
    ("../ips.txt", "path traversal"),
    ("lists/../../ips.txt", "path traversal"),
    ("..", "path traversal"),
    ("%2e%2e/ips.txt", "path traversal"),
    ("%2e%2e%2fips.txt", "path traversal"),
    ("%252e%252e%252fips.txt", "path traversal"),
    ("\uff0e\uff0e/ips.txt", "path traversal"),          # fullwidth dots
    ("..\uff0fips.txt", "path traversal"),                # fullwidth solidus
    ("/etc/ips.txt", "absolute path"),
    ("..\\ips.txt", "backslash"),
    ("lists\\ips.txt", "backslash"),
    ("C:\\ips.txt", "backslash"),
    ("ips\x00.txt", "NUL byte"),
    ("ips\n.txt", "U+000A"),
    ("ips\u202etxt.exe", "U+202E"),                       # right-to-left override
    ("lists//ips.txt", "empty folder name"),
    ("lists/", "empty folder name"),
    ("./ips.txt", "'.' folder"),
    (".hidden.txt", "reserved"),
    ("lists/.ips.txt", "reserved"),
    (" ips.txt", "space"),
    ("a" * 300 + ".txt", "longer than 191"),
])
def test_refused_names_say_why(name, reason):
    with pytest.raises(DataFileError) as caught:
        check_name(name)
    assert http_answer(caught.value)[0] == 400
    assert reason in caught.value.message


def test_description_is_the_first_comment_line_and_entries_the_other_lines():
    checker = check_content(b"# Office networks\n192.0.2.1\n\n  # a comment\n198.51.100.0/24\n"
                            b"   \n203.0.113.7")
    assert checker.description == "Office networks"
    assert checker.entries == 3


def test_a_comment_after_the_first_line_is_not_the_description():
    checker = check_content(b"192.0.2.1\n# not a description\n")
    assert (checker.description, checker.entries) == ("", 1)


def test_crlf_line_endings_tabs_and_a_bom_are_accepted():
    checker = check_content("\ufeff# Names\r\nalice\texample.com\r\nbob\r\n".encode())
    assert (checker.description, checker.entries) == ("Names", 2)


def test_an_empty_file_has_no_entries():
    checker = check_content(b"")
    assert (checker.description, checker.entries, checker.size) == ("", 0, 0)


@pytest.mark.parametrize("content, message", [
    (b"ok\nok\nbad\x00line\n", "binary content: NUL byte on line 3, column 4"),
    (b"\x89PNG\r\n\x1a\n", "invalid byte 0x89 on line 1"),
    (b"first\nsecond \xe9t\xe9\n", "invalid byte 0xe9 on line 2"),
    (b"ok\n\x1b[31mred\n", "non-printable character U+001B on line 2, column 1"),
    (b"a\rb\n", "carriage return not followed by a newline on line 1, column 2"),
    ("ok\nzero\u200bwidth\n".encode(), "U+200B on line 2, column 5"),
    (b"ok\n\xc3", "invalid byte 0xc3 on line 2"),          # truncated UTF-8 sequence at the end
])
def test_refused_contents_name_the_reason_and_the_line(content, message):
    with pytest.raises(DataFileError) as caught:
        check_content(content)
    assert http_answer(caught.value)[0] == 400
    assert message in caught.value.message


def test_a_file_over_the_size_limit_is_refused_with_413():
    with pytest.raises(DataFileError) as caught:
        check_content(b"x" * 1025, max_size=1024)
    assert http_answer(caught.value)[0] == 413
    assert "larger than the limit of 1 KiB" in caught.value.message


def test_a_file_exactly_at_the_size_limit_is_accepted():
    assert check_content(b"x" * 1024, max_size=1024).entries == 1


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64])
def test_results_do_not_depend_on_how_the_bytes_are_chunked(chunk_size):
    content = "# Été\r\nrésumé@example.com\r\n\r\n# x\r\n名前@example.com\n".encode()
    checker = ContentChecker()
    for start in range(0, len(content), chunk_size):
        checker.feed(content[start:start + chunk_size])
    checker.finish()
    assert (checker.description, checker.entries, checker.size) == ("Été", 2, len(content))


@pytest.mark.parametrize("chunk_size", [1, 3, 5])
def test_the_line_of_an_error_does_not_depend_on_chunking(chunk_size):
    content = b"one\r\ntwo\r\nthr\xffee\r\n"
    checker = ContentChecker()
    with pytest.raises(DataFileError) as caught:
        for start in range(0, len(content), chunk_size):
            checker.feed(content[start:start + chunk_size])
        checker.finish()
    assert "invalid byte 0xff on line 3" in caught.value.message


def test_a_single_line_of_several_mebibytes_is_one_entry():
    checker = ContentChecker(max_size=8 * 1024 * 1024)
    for _ in range(100):
        checker.feed(b"a" * 65536)
    checker.finish()
    assert checker.entries == 1 and checker.size == 6553600


line_texts = st.lists(st.text(alphabet="a #\té", max_size=6), max_size=40)


@given(lines=line_texts, crlf=st.booleans(), trailing=st.booleans(),
       chunk=st.integers(min_value=1, max_value=50))
@settings(max_examples=300, deadline=None)
def test_entries_and_description_match_a_line_by_line_reading(lines, crlf, trailing, chunk):
    ending = "\r\n" if crlf else "\n"
    text = ending.join(lines) + (ending if trailing and lines else "")
    content = text.encode()
    expected_lines = text.split(ending)
    if expected_lines and expected_lines[-1] == "":
        expected_lines.pop()
    first = expected_lines[0].strip() if expected_lines else ""
    description = first[1:].strip() if first.startswith("#") else ""
    entries = sum(1 for line in expected_lines if line.strip() and not line.strip().startswith("#"))
    checker = ContentChecker()
    for start in range(0, len(content), chunk):
        checker.feed(content[start:start + chunk])
    checker.finish()
    assert (checker.description, checker.entries) == (description, entries)
