"""Where admin pages find the import kind of their model, without importing the ingest room.

The ingest room sits above the rooms whose models it writes, so their admin classes cannot
import it; it registers each kind's django-import-export resource here instead (when
``performance.ingest.kinds`` is imported, which the app config does on start-up).
"""

import hashlib

_RESOURCES: dict[str, type] = {}
_FORMATS: list[type] = []


def register(kind: str, resource_class: type) -> None:
    _RESOURCES[kind] = resource_class


def resource_class(kind: str) -> type:
    try:
        return _RESOURCES[kind]
    except KeyError:
        raise LookupError(f"no import kind {kind!r} is registered; known: {', '.join(sorted(_RESOURCES))}") from None


def checksum(content: bytes) -> str:
    """The SHA-256 of a file's bytes, as an import batch and a payroll batch record it."""
    return hashlib.sha256(content).hexdigest()


def file_checksum(path) -> str:
    """The SHA-256 of a file on disk, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register_formats(formats: list[type]) -> None:
    """The django-import-export import formats of every door (they hand the file to the ingest reader)."""
    _FORMATS[:] = formats


def import_formats() -> list[type]:
    return list(_FORMATS)
