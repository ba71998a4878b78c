"""The data folder and its table: uploads written atomically, deletions, start-up synchronisation.

The folder is the truth and the files table is its index: a file is written to a temporary file
beside its final place, checked while it streams, flushed to disk, then renamed into place inside
the database transaction that records it.  A refused, broken or crashed upload therefore never
leaves a partial file or a row; the temporary files of a crash are removed at the next start,
where the table is brought in line with the folder (``synchronise``).
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from sqlalchemy import and_, delete, func, insert, select, true, update

from bots_scheduler.datafiles.validation import (ALLOWED_EXTENSIONS, DEFAULT_MAX_SIZE,
                                                 ContentChecker, DataFileConflict, DataFileError,
                                                 DataFileNotFound, DataFolderNotWritable,
                                                 check_name)
from bots_scheduler.datastore.store import to_iso, to_naive_utc, utcnow

log = logging.getLogger(__name__)

TEMP_PREFIX = ".upload-"
TEMP_SUFFIX = ".part"
READ_CHUNK = 64 * 1024


class DataFiles:
    """The data files of one data folder, recorded in the files table of a Datastore; each
    change leaves an entry in the audit log (``audit``: the ExecutionStore, its owner)."""

    def __init__(self, data_dir, datastore, max_size: int = DEFAULT_MAX_SIZE, *, audit):
        self.root = Path(os.path.realpath(data_dir))
        self.datastore = datastore
        self.audit = audit
        self.table = datastore.tables.files
        self.max_size = max_size
        self._lock = threading.Lock()   # one commit or deletion at a time: check-then-rename

    # -- names -------------------------------------------------------------------------------
    def path_of(self, name: str) -> Path:
        """The path of a valid data-file name, refused if a symbolic link leads outside."""
        name = check_name(name)
        path = self.root / name
        if not _inside(Path(os.path.realpath(path)), self.root):
            raise DataFileError(f"file name {name!r} leads outside the data folder "
                                f"(through a symbolic link)")
        return path

    def exists(self, name: str) -> bool:
        return self.path_of(name).is_file()

    def missing(self) -> list[str]:
        """The names the files table lists that this data folder lacks (a worker whose
        folder is not the schedulers', docs/cluster.md)."""
        with self.datastore.engine.connect() as conn:
            names = list(conn.execute(select(self.table.c.filename)).scalars())
        return [name for name in names if not (self.root / name).is_file()]

    def jobs_using(self, name: str, jobs, registry) -> list[dict]:
        """The jobs (API Job objects) with ``name`` as one of their ``file`` arguments."""
        target = os.path.realpath(self.root / check_name(name))
        users = []
        for job in jobs:
            klass = registry.get(job.get("job_class_string", ""))
            if klass is None:
                continue
            pub_args = job.get("pub_args") or []
            for index, spec in enumerate(klass.meta_info()["arguments"]):
                if (isinstance(spec, dict) and spec.get("type") == "file"
                        and index < len(pub_args) and isinstance(pub_args[index], str)
                        and "\x00" not in pub_args[index]
                        and os.path.realpath(self.root / pub_args[index]) == target):
                    users.append(job)
                    break
        return users

    # -- queries -----------------------------------------------------------------------------
    def list(self, start=None, end=None, limit: int = 500, offset: int = 0):
        """``(files, total)``: File objects created in [start, end], newest first."""
        table = self.table
        where = []
        if start is not None:
            where.append(table.c.created_time >= to_naive_utc(start))
        if end is not None:
            where.append(table.c.created_time <= to_naive_utc(end))
        condition = and_(true(), *where)
        with self.datastore.engine.connect() as conn:
            rows = conn.execute(select(table).where(condition)
                                .order_by(table.c.created_time.desc(), table.c.filename)
                                .limit(limit).offset(offset)).mappings().all()
            total = conn.execute(select(func.count()).select_from(table).where(condition)).scalar()
        return [file_dict(row) for row in rows], int(total or 0)

    def get(self, name: str) -> dict | None:
        with self.datastore.engine.connect() as conn:
            row = conn.execute(select(self.table)
                               .where(self.table.c.filename == name)).mappings().first()
        return file_dict(row) if row else None

    # -- changes -----------------------------------------------------------------------------
    def start_upload(self, name: str, user: str, replace: bool = False) -> "Upload":
        return Upload(self, name, user, replace)

    def add(self, name: str, content: bytes, user: str, replace: bool = False) -> dict:
        """Stores a whole file held in memory (the upload path for small files and tests)."""
        upload = self.start_upload(name, user, replace)
        try:
            upload.write(content)
            return upload.commit()
        finally:
            upload.abort()

    def delete(self, name: str, user: str, used_by=(), force: bool = False) -> dict:
        """Deletes the file and its row; refused (409) while jobs use it unless ``force``."""
        path = self.path_of(name)
        if used_by and not force:
            names = ", ".join(f"{job.get('name', '')!r} ({job.get('job_id', '')})"
                              for job in used_by)
            raise DataFileConflict(f"{name} is used by {len(used_by)} job(s): {names}; change "
                                   f"or delete them first, or add ?force=1 to delete it anyway")
        with self._lock:
            if path.is_dir() and not path.is_symlink():
                raise DataFileError(f"{name} is a folder, not a data file")
            on_disk = os.path.lexists(path)
            with self.datastore.engine.begin() as conn:
                in_table = conn.execute(delete(self.table)
                                        .where(self.table.c.filename == name)).rowcount > 0
                if not on_disk and not in_table:
                    raise DataFileNotFound(f"no data file {name!r}")
                if on_disk:
                    os.unlink(path)   # inside the transaction: a failure keeps the row
        _remove_empty_folders(path.parent, self.root)
        forced = f"; forced while used by {len(used_by)} job(s)" if used_by else ""
        self._audit("file deleted", user, f"{name}{forced}")
        return {"file": name}

    def synchronise(self, user: str) -> dict:
        """Brings the table in line with the folder: hand-copied files appear, removed ones
        disappear, changed ones are re-read.  Called at start-up, before serving."""
        self.root.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(self.root)
        with self.datastore.engine.connect() as conn:
            rows = {row["filename"]: row for row in conn.execute(select(self.table)).mappings()}
        found = {}
        for name, path in _candidate_files(self.root):
            row = rows.get(name)
            size = path.stat().st_size
            if row is not None and row["size"] == size:
                found[name] = None           # unchanged: not read again
                continue
            facts = self._read_facts(name, path)
            if facts is not None:
                found[name] = facts
        added, changed, removed = [], [], []
        now = utcnow()
        with self.datastore.engine.begin() as conn:
            for name in sorted(set(rows) - set(found)):
                conn.execute(delete(self.table).where(self.table.c.filename == name))
                removed.append(name)
            for name, facts in sorted(found.items()):
                if facts is None:
                    continue
                if name in rows:
                    conn.execute(update(self.table).where(self.table.c.filename == name)
                                 .values(**facts))
                    changed.append(name)
                else:
                    conn.execute(insert(self.table).values(filename=name, user=user,
                                                           created_time=now, **facts))
                    added.append(name)
        for name in added:
            self._audit("file added", user, f"{name}: found in the data folder at start-up")
        for name in removed:
            self._audit("file deleted", user, f"{name}: no longer in the data folder at start-up")
        if added or changed or removed:
            log.info("data folder %s: %d file(s) added, %d changed, %d removed", self.root,
                     len(added), len(changed), len(removed))
        return {"added": added, "changed": changed, "removed": removed}

    # -- internals ---------------------------------------------------------------------------
    def _read_facts(self, name: str, path: Path) -> dict | None:
        checker = ContentChecker(self.max_size)
        try:
            if not _inside(Path(os.path.realpath(path)), self.root):
                raise DataFileError("a symbolic link that leads outside the data folder")
            with open(path, "rb") as handle:
                while chunk := handle.read(READ_CHUNK):
                    checker.feed(chunk)
            checker.finish()
        except DataFileError as exc:
            log.warning("data folder: %s is not listed: %s", name, exc.message)
            return None
        except OSError as exc:
            log.warning("data folder: %s cannot be read: %s", name, exc.strerror or exc)
            return None
        return {"description": checker.description, "entries": checker.entries,
                "size": checker.size}

    def _audit(self, event: str, user: str, description: str) -> None:
        self.audit.add_log("", "", event, user, description)


class Upload:
    """One file being received: ``write`` chunks, then ``commit`` (or ``abort``, always safe)."""

    def __init__(self, files: DataFiles, name: str, user: str, replace: bool):
        self.files = files
        self.name = check_name(name)
        self.user = user
        self.replace = replace
        self.target = files.path_of(self.name)
        self._refuse_existing()
        self.checker = ContentChecker(files.max_size)
        self._created = _make_folders(self.target.parent, files.root, self.name)
        try:
            handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX,
                                            dir=self.target.parent)
        except OSError as exc:
            _remove_empty_folders(self.target.parent, files.root, self._created)
            raise DataFolderNotWritable(f"cannot write in the data folder: "
                                        f"{exc.strerror or exc}") from None
        self._file = os.fdopen(handle, "wb")
        self._temp = Path(temp)
        self._done = False

    def write(self, chunk: bytes) -> None:
        self.checker.feed(chunk)
        self._file.write(chunk)

    def commit(self) -> dict:
        self.checker.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        files = self.files
        row = {"filename": self.name, "description": self.checker.description,
               "entries": self.checker.entries, "user": self.user, "created_time": utcnow(),
               "size": self.checker.size}
        with files._lock:
            self._refuse_existing()
            replaced = os.path.lexists(self.target)
            with files.datastore.engine.begin() as conn:
                conn.execute(delete(files.table).where(files.table.c.filename == self.name))
                conn.execute(insert(files.table).values(**row))
                os.replace(self._temp, self.target)   # inside the transaction: see module doc
            self._done = True
        _sync_folder(self.target.parent)
        how = "replaced" if replaced else "uploaded"
        files._audit("file added", self.user, f"{self.name} {how}: {row['entries']} entries, "
                                               f"{row['size']} bytes")
        return file_dict(row)

    def abort(self) -> None:
        """Removes what an unfinished upload left; does nothing after a commit."""
        if self._done:
            return
        self._done = True
        self._file.close()
        try:
            os.unlink(self._temp)
        except FileNotFoundError:
            pass
        _remove_empty_folders(self.target.parent, self.files.root, self._created)

    def _refuse_existing(self) -> None:
        if self.target.is_dir() and not self.target.is_symlink():
            raise DataFileConflict(f"{self.name} is a folder of the data folder")
        if not self.replace and os.path.lexists(self.target):
            raise DataFileConflict(f"{self.name} already exists; delete it first or upload "
                                   f"with replace=1 to replace it")


def file_dict(row) -> dict:
    return {"filename": row["filename"], "description": row["description"] or "",
            "entries": int(row["entries"] or 0), "user": row["user"] or "",
            "created_time": to_iso(row["created_time"]), "size": int(row["size"] or 0)}


# -- folder helpers --------------------------------------------------------------------------

def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _make_folders(folder: Path, root: Path, name: str) -> list[Path]:
    """Creates the missing folders of an upload; returns those created (to undo on failure)."""
    missing = []
    current = folder
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    created = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            _remove_empty_folders(folder, root, created)
            reason = "a file is in the way" if isinstance(exc, NotADirectoryError) \
                else exc.strerror or str(exc)
            raise DataFileConflict(f"cannot create the folder of {name}: {reason}") from None
        created.append(path)
    if not folder.is_dir():
        raise DataFileConflict(f"cannot create the folder of {name}: a file is in the way")
    return created


def _remove_empty_folders(folder: Path, root: Path, only=None) -> None:
    """Removes ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and _inside(folder, root):
        if only is not None and folder not in only:
            return
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _sync_folder(folder: Path) -> None:
    """Makes a rename durable (the folder entry), where the platform allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _candidate_files(root: Path):
    """``(relative name, path)`` of the files of the data folder that may be data files."""
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            path = Path(folder) / filename
            name = path.relative_to(root).as_posix()
            if os.path.splitext(filename)[1].lower() not in ALLOWED_EXTENSIONS:
                continue
            try:
                check_name(name)
            except DataFileError as exc:
                log.warning("data folder: %s is not listed: %s", name, exc.message)
                continue
            if path.is_file():
                yield name, path


def _remove_stale_temporaries(root: Path) -> None:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(TEMP_PREFIX) and filename.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(Path(folder) / filename)
                    log.info("removed %s, left by an interrupted upload", filename)
                except OSError:
                    pass
