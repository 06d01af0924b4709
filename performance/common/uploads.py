"""Uploaded files: a size limit enforced while the request is read, and the import files kept
between the admin's preview and its confirmation.

``SizeLimitUploadHandler`` is the first of ``FILE_UPLOAD_HANDLERS``: it stops receiving a
file as soon as it passes ``IMPORTS["MAX_UPLOAD_MB"]`` (the bytes already written to a
temporary file are deleted with it) and notes the refusal on the request, so the import
form can say why. A request that announces a body far over the limit is cut off at once.

``ImportUploadStorage`` is the django-import-export temporary storage of the admin's import
doors: the upload is copied chunk by chunk to a file in ``IMPORTS["TMP_DIR"]`` (never
joined in memory), and reading it gives the file's path, so the import reader streams it
from disk instead of holding the file's bytes.
"""

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from import_export.tmp_storages import BaseStorage

MB = 1024 * 1024
STALE_SECONDS = 24 * 60 * 60  # a preview nobody confirmed within a day is deleted


def max_upload_bytes() -> int:
    return int(settings.IMPORTS["MAX_UPLOAD_MB"] * MB)


class SizeLimitUploadHandler(FileUploadHandler):
    """Refuses an uploaded file over the import limit while it is being received."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > 4 * self.limit + MB:
            # nothing sane sends this much: stop reading at once instead of draining it
            self.request.upload_refused = content_length
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.request.upload_refused = start + len(raw_data)
            raise SkipFile  # Django closes (and so deletes) what the other handlers wrote
        return raw_data

    def file_complete(self, file_size):
        return None


def import_tmp_dir() -> Path:
    path = Path(settings.IMPORTS.get("TMP_DIR") or Path(tempfile.gettempdir()) / "appraisal-imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImportUploadStorage(BaseStorage):
    """An uploaded import file on disk between the admin's preview and its confirmation."""

    def save_upload(self, uploaded) -> None:
        directory = import_tmp_dir()
        remove_stale(directory)
        with tempfile.NamedTemporaryFile(dir=directory, prefix="import-", delete=False) as out:
            self.name = os.path.basename(out.name)
            for chunk in uploaded.chunks():
                out.write(chunk)

    def save(self, data):
        directory = import_tmp_dir()
        with tempfile.NamedTemporaryFile(dir=directory, prefix="import-", delete=False) as out:
            self.name = os.path.basename(out.name)
            out.write(data if isinstance(data, bytes) else data.encode())

    def read(self) -> Path:
        """The stored file's path: the import formats read it from disk."""
        return self.path()

    def path(self) -> Path:
        return import_tmp_dir() / os.path.basename(self.name)

    def remove(self):
        self.path().unlink(missing_ok=True)


def remove_stale(directory: Path) -> None:
    """Delete stored imports older than a day (previews that were never confirmed)."""
    cutoff = time.time() - STALE_SECONDS
    for path in directory.glob("import-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
