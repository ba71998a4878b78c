"""What a data file may be called and what it may contain.

Names are relative paths inside the data folder; contents are UTF-8 text lists.  Every refusal
raises ``DataFileError`` (or one of its kinds below) whose message names the reason (and, for
contents, the line).
"""
from __future__ import annotations

import codecs
import posixpath
import re
import unicodedata
from urllib.parse import unquote

from bots_scheduler import defaults
from bots_scheduler.errors import Conflict, InvalidInput, NotFound, StorageFailed, TooLarge

ALLOWED_EXTENSIONS = (".dat", ".lst", ".raw", ".txt")
DEFAULT_MAX_SIZE = defaults.MAX_FILE_SIZE
MAX_NAME_LENGTH = 191          # characters of the whole relative path: the key of the files
                               # table, VARCHAR(191) so that MySQL can index it in utf8mb4
MAX_COMPONENT_BYTES = 255      # what common file systems allow for one name
MAX_DESCRIPTION_LENGTH = 255
_BOM = "\ufeff"
# a blank or comment line (whitespace other than space and tab is refused anyway)
_NOT_ENTRY = re.compile(r"^[ \t]*(?:#|$)", re.MULTILINE)


class DataFileError(InvalidInput):
    """A data file refused: a bad name or content."""


class DataFileNotFound(DataFileError, NotFound):
    """No data file of that name."""


class DataFileConflict(DataFileError, Conflict):
    """The name is taken (by a file, a folder, or jobs that use the file)."""


class DataFileTooLarge(DataFileError, TooLarge):
    """Larger than --max-file-size."""


class DataFolderNotWritable(DataFileError, StorageFailed):
    """The data folder refuses the write (full, read-only)."""


# -- names -------------------------------------------------------------------------------------

def check_name(name) -> str:
    """The relative path ``name`` if it is an acceptable data-file name, else DataFileError."""
    if not isinstance(name, str) or name == "":
        raise DataFileError("file name is empty")
    if "\x00" in name:
        raise DataFileError("file name contains a NUL byte")
    _check_characters(name)
    if "\\" in name:
        raise DataFileError(f"file name {name!r} contains a backslash; use / between folders")
    if name.startswith("/"):
        raise DataFileError(f"file name {name!r} is an absolute path; give a path relative to "
                            f"the data folder")
    for variant in _decoded_variants(name):
        if _is_traversal(variant):
            raise DataFileError(f"file name {name!r} leaves the data folder (path traversal)")
    if len(name) > MAX_NAME_LENGTH:
        raise DataFileError(f"file name is longer than {MAX_NAME_LENGTH} characters")
    for part in name.split("/"):
        _check_component(name, part)
    extension = posixpath.splitext(name)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        shown = f"extension {extension!r}" if extension else "no extension"
        raise DataFileError(f"file name {name!r} has {shown}; allowed: "
                            f"{' '.join(ALLOWED_EXTENSIONS)}")
    return name


def _check_characters(name: str) -> None:
    for char in name:
        if unicodedata.category(char).startswith("C"):
            raise DataFileError(f"file name {name!r} contains the control or invisible "
                                f"character U+{ord(char):04X}")


def _decoded_variants(name: str):
    """The name as the server or a later tool might decode it: percent-decoding (repeated,
    for double encoding) and Unicode compatibility folding (fullwidth dots and slashes)."""
    seen = [name]
    current = name
    for _ in range(3):
        current = unquote(current)
        seen.append(current)
    seen.extend(unicodedata.normalize("NFKC", variant) for variant in list(seen))
    return seen


def _is_traversal(path: str) -> bool:
    if path.startswith(("/", "\\")):
        return True
    parts = path.replace("\\", "/").split("/")
    return any(part.strip() == ".." for part in parts)


def _check_component(name: str, part: str) -> None:
    if part == "":
        raise DataFileError(f"file name {name!r} has an empty folder name (// or a trailing /)")
    if part == ".":
        raise DataFileError(f"file name {name!r} contains a '.' folder")
    if part.startswith("."):
        raise DataFileError(f"file name {name!r}: names starting with '.' are reserved "
                            f"(hidden and temporary files)")
    if part != part.strip():
        raise DataFileError(f"file name {name!r}: a name may not start or end with a space")
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise DataFileError(f"file name {name!r}: one name is longer than "
                            f"{MAX_COMPONENT_BYTES} bytes")


# -- contents ------------------------------------------------------------------------------------

def format_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


class ContentChecker:
    """Checks a file's bytes as they arrive (``feed`` then ``finish``), so that an upload is
    validated while it streams to disk, in constant memory whatever the line lengths.
    Collects the description (a first line ``# text``) and the entry count (non-empty lines
    that are not ``#`` comments)."""

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE):
        self.max_size = max_size
        self.size = 0
        self.entries = 0
        self.description = ""
        self.line_number = 1          # the line being read
        self._column = 0              # characters read of that line
        self._first_char = None       # its first non-blank character
        self._first_line = ""         # the start of line 1 (the description)
        self._undecoded = b""         # a UTF-8 sequence cut by the chunk boundary
        self._carriage_return = False # a \r that ended the last chunk: CRLF or an error

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_size:
            raise DataFileTooLarge(f"file is larger than the limit of "
                                   f"{format_size(self.max_size)}")
        data = self._undecoded + bytes(chunk)
        text, used = self._decode(data, final=False)
        self._undecoded = data[used:]
        self._take_text(text, final=False)

    def finish(self) -> None:
        text, _ = self._decode(self._undecoded, final=True)
        self._undecoded = b""
        self._take_text(text, final=True)
        if self._column:
            self._end_line()

    # -- internals --
    def _decode(self, data: bytes, final: bool):
        try:
            return codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError as exc:
            # read the valid part first: an earlier problem is reported first, the line is right
            good, _ = codecs.utf_8_decode(data[:exc.start], "strict", True)
            self._take_text(good, final=False)
            raise DataFileError(f"not UTF-8 text (binary content?): invalid byte "
                                f"0x{data[exc.start]:02x} on line {self.line_number}") from None

    def _take_text(self, text: str, final: bool) -> None:
        if self._carriage_return:
            text = "\r" + text
            self._carriage_return = False
        head, newline, rest = text.partition("\n")
        if newline:
            self._extend_line(head[:-1] if head.endswith("\r") else head)
            self._end_line()
            middle, newline, last = rest.rpartition("\n")
            if newline:
                self._take_lines(middle + newline)
        else:
            last = head
        if last.endswith("\r") and not final:
            self._carriage_return = True
            last = last[:-1]
        self._extend_line(last)

    def _take_lines(self, lines: str) -> None:
        """Whole lines (after line 1) at once: the common case, checked without a Python loop
        over the lines; any doubt falls back to line by line, which finds the exact place."""
        clean = lines.replace("\r\n", "\n")
        if "\r" in clean or not clean.replace("\t", " ").replace("\n", " ").isprintable():
            for line in lines.split("\n")[:-1]:
                self._extend_line(line[:-1] if line.endswith("\r") else line)
                self._end_line()
            return
        count = clean.count("\n")
        # "$" also matches after the final newline: that empty match is not a line
        self.entries += count - (len(_NOT_ENTRY.findall(clean)) - 1)
        self.line_number += count

    def _extend_line(self, piece: str) -> None:
        if not piece:
            return
        if self.line_number == 1 and self._column == 0 and piece.startswith(_BOM):
            piece = piece[1:]
        if not piece.replace("\t", " ").isprintable():
            self._refuse_character(piece)
        if self._first_char is None and piece.strip():
            self._first_char = piece.lstrip()[0]
        if self.line_number == 1 and len(self._first_line) < 4 * MAX_DESCRIPTION_LENGTH:
            self._first_line += piece[:4 * MAX_DESCRIPTION_LENGTH]
        self._column += len(piece)

    def _refuse_character(self, piece: str) -> None:
        for index, char in enumerate(piece):
            if char == "\t" or char.isprintable():
                continue
            where = f"line {self.line_number}, column {self._column + index + 1}"
            if char == "\x00":
                raise DataFileError(f"binary content: NUL byte on {where}")
            if char == "\r":
                raise DataFileError(f"carriage return not followed by a newline on {where}")
            raise DataFileError(f"non-printable character U+{ord(char):04X} on {where}")

    def _end_line(self) -> None:
        if self._first_char == "#" and self.line_number == 1:
            self.description = self._first_line.strip()[1:].strip()[:MAX_DESCRIPTION_LENGTH]
        elif self._first_char not in (None, "#"):
            self.entries += 1
        self.line_number += 1
        self._column = 0
        self._first_char = None


def check_content(data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> ContentChecker:
    """Checks a whole file held in memory; returns the checker with description and entries."""
    checker = ContentChecker(max_size)
    checker.feed(data)
    checker.finish()
    return checker
