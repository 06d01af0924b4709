"""The import kinds: each declares its columns once and writes its rows one way, for both doors.

A kind is registered by name (``base.register``); ``import_data KIND`` and the admin page of
its model (through the resource ``resources.kind_resource`` builds from it) then run the same
code: parse, check, lock, write, all rows or none. Importing this package registers them all.
"""

from . import complaints, holidays, kci, metrics, orders, staff, tickets  # noqa: F401
from .base import KINDS, Imported, Kind  # noqa: F401
