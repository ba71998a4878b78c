"""/api/v1/files: list, upload (multipart field ``file``), delete, exists (CONTRACT §3).

Uploads stream: the body is parsed as it arrives and the file part goes, checked chunk by
chunk, into a temporary file of the data folder, so a 10 MiB list never sits in memory and a
body cut off half-way leaves nothing behind (``on_connection_close``).  A problem found while
the body streams is remembered and answered once the body is read, so that an ordinary HTTP
client (one that sends the whole body before reading) gets the JSON error, not a reset.
"""
from __future__ import annotations

import re
from urllib.parse import unquote

import multipart
import tornado.web

from bots_scheduler.access.roles import OPERATOR, VIEWER
from bots_scheduler.datafiles.storage import DataFiles, Upload
from bots_scheduler.datafiles.validation import DataFileNotFound, format_size
from bots_scheduler.errors import BotsSchedulerError
from bots_scheduler.web.handlers.base import ApiError, ApiHandler, RefusedUnread

from typing import TYPE_CHECKING

if TYPE_CHECKING:     # the collaborators' types (given in web/server.py's routes)
    from bots_scheduler.jobs.loader import JobRegistry
    from bots_scheduler.scheduling.scheduler import JobScheduler

FIELD = "file"
# what a multipart body may add to the file itself: boundaries, part headers, small fields
ENVELOPE = 64 * 1024
MAX_FIELD_SIZE = 1024
_EXTENDED_FILENAME = re.compile(r";\s*filename\*\s*=\s*([^;]+)", re.IGNORECASE)


@tornado.web.stream_request_body
class FilesHandler(ApiHandler):
    files: DataFiles
    scheduler: JobScheduler
    registry: JobRegistry

    def initialize(self, **collaborators):
        super().initialize(**collaborators)
        self._parser = None
        self._upload: Upload | None = None
        self._in_file_part = False
        self._file_parts = 0
        self._field_bytes = 0
        self._error: Exception | None = None
        self._closed = False

    roles = {"get": VIEWER, "options": VIEWER, "post": OPERATOR, "delete": OPERATOR}
    takes_json = False               # uploads are multipart; the other methods take no body

    def limit_body(self, limit: int) -> None:
        """An upload may be as large as --max-file-size plus its multipart envelope; a larger
        declared one is refused unread. The connection's cap leaves room for chunked uploads,
        whose file part _on_event checks as it streams."""
        if self.request.method != "POST":
            return super().limit_body(limit)
        limit = self.files.max_size + ENVELOPE
        length = self.request.headers.get("Content-Length", "").strip()
        if length.isdigit() and int(length) > limit:
            # answered before the body is read; the connection then closes
            self.request.connection.set_max_body_size(int(length))
            raise RefusedUnread(413, f"file is larger than the limit of "
                                     f"{format_size(self.files.max_size)}")
        self.request.connection.set_max_body_size(2 * limit)

    async def prepare(self):
        await super().prepare()
        if self.request.method == "POST":
            self._start_body()

    # -- GET: list ---------------------------------------------------------------------------
    async def get(self, name=None):
        if name:
            raise ApiError(405, "GET lists the files: GET /api/v1/files; "
                                "OPTIONS /api/v1/files/{path} tells whether one exists")
        start = end = None
        if self.get_query_argument("time_range_start", None) or \
                self.get_query_argument("time_range_end", None):
            start, end = self.time_range()
        limit, offset = self.paging()
        rows, total = await self.blocking(self.files.list, start, end, limit, offset)
        self.reply({"files": rows, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + len(rows) if offset + len(rows) < total else None})

    # -- OPTIONS: exists ---------------------------------------------------------------------
    async def options(self, name=None):
        if not name:
            raise ApiError(400, "give the file: OPTIONS /api/v1/files/{path}")
        if not await self.blocking(self.files.exists, name):
            raise DataFileNotFound(f"no data file {name!r}")
        self.reply({"file": name})

    # -- DELETE ------------------------------------------------------------------------------
    async def delete(self, name=None):
        if not name:
            raise ApiError(400, "give the file: DELETE /api/v1/files/{path}")
        force = self.flag("force", default=False)

        def delete():
            used_by = self.files.jobs_using(name, self.scheduler.list_jobs(), self.registry)
            return self.files.delete(name, self.user, used_by=used_by, force=force)
        self.reply(await self.blocking(delete))

    # -- POST: upload ------------------------------------------------------------------------
    def _start_body(self):
        content_type = self.request.headers.get("Content-Type", "")
        kind, options = multipart.parse_options_header(content_type)
        if kind != "multipart/form-data" or not options.get("boundary"):
            raise ApiError(400, f"upload the file as multipart/form-data with a field named "
                                f"{FIELD!r}")
        length = self.request.headers.get("Content-Length")
        try:
            self._parser = multipart.PushMultipartParser(
                options["boundary"], content_length=int(length) if length else -1,
                max_segment_count=16)
        except multipart.MultipartError as exc:
            raise ApiError(400, f"malformed multipart body: {exc}") from None

    async def data_received(self, chunk: bytes):
        if self._parser is None or self._error is not None:
            return                                   # not an upload, or already refused
        try:
            for event in self._parser.parse(chunk):
                await self._on_event(event)
        except multipart.MultipartError as exc:
            self._refuse(ApiError(400, f"malformed multipart body: {exc}"))
        except (ApiError, BotsSchedulerError) as exc:    # DataFileError, a bad ?replace=
            self._refuse(exc)

    async def _on_event(self, event):
        if isinstance(event, multipart.MultipartSegment):
            self._in_file_part = event.name == FIELD
            self._field_bytes = 0
            if self._in_file_part:
                self._file_parts += 1
                if self._file_parts > 1:
                    raise ApiError(400, f"one file per upload: the field {FIELD!r} is repeated")
                name = upload_filename(event)
                if name is None:
                    raise ApiError(400, f"the field {FIELD!r} carries no file name")
                self._upload = await self.blocking(self.files.start_upload, name, self.user,
                                                self._replace())
                if self._closed:             # the client left while the upload was set up
                    self._abort_upload()
        elif event is None:
            self._in_file_part = False
        elif self._in_file_part:
            self._upload.write(event)
        else:
            self._field_bytes += len(event)        # other fields are read and ignored
            if self._field_bytes > MAX_FIELD_SIZE:
                raise ApiError(400, "form fields other than the file are limited to "
                                    f"{MAX_FIELD_SIZE} bytes")

    async def post(self, name=None):
        if name:
            raise ApiError(405, "upload with POST /api/v1/files (the name comes from the "
                                "file part)")
        if self._error is None:
            try:
                self._parser.close()
            except multipart.MultipartError:
                self._refuse(ApiError(400, "malformed multipart body: it ends before its "
                                           "closing boundary"))
        if self._error is None and self._upload is None:
            self._refuse(ApiError(400, f"no field named {FIELD!r} with a file in the upload"))
        if self._error is not None:
            raise self._error
        info = await self.blocking(self._upload.commit)
        self.reply({"file": info["filename"], **info}, status=201)

    def _replace(self) -> bool:
        return self.flag("replace", default=False)

    def _refuse(self, error: Exception) -> None:
        self._error = error
        self._abort_upload()

    def _abort_upload(self) -> None:
        if self._upload is not None:
            self._upload.abort()

    def on_connection_close(self):
        self._closed = True
        self._abort_upload()        # a body cut off half-way: remove the temporary file
        super().on_connection_close()

    def on_finish(self):
        self._abort_upload()        # no-op after a commit


def upload_filename(segment) -> str | None:
    """The file name of a part as the client sent it, sub-folders included (the IE-era
    stripping of ``C:\\...`` paths is not applied: such names are refused, not rewritten)."""
    raw = segment.header("Content-Disposition", "")
    extended = _EXTENDED_FILENAME.search(raw)
    if extended:                              # RFC 5987: filename*=UTF-8''na%C3%AFve.txt
        charset, _, rest = extended.group(1).strip().strip('"').partition("'")
        encoded = rest.partition("'")[2]
        try:
            return unquote(encoded, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            raise ApiError(400, "the file name (filename*) cannot be decoded") from None
    _, options = multipart.parse_options_header(
        raw, unquote=lambda value, _is_filename=False: multipart.content_disposition_unquote(value))
    return options.get("filename")
