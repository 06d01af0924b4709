"""Exact query counts, Zulip style: a test pins the number of statements a page or a close runs."""

from contextlib import contextmanager

from django.db import connection
from django.test.utils import CaptureQueriesContext


@contextmanager
def assert_num_queries(expected, *, exclude: tuple[str, ...] = ()):
    """Exactly ``expected`` statements run inside the block.

    ``expected`` is a number, or a number per database vendor ({"sqlite": 12, "postgresql": 11})
    where the backends differ (COPY against batched INSERTs, say). Statements that start with
    one of ``exclude`` (bulk writes the backend splits by its parameter limit) are not counted.
    On failure the message lists every counted statement.
    """
    with CaptureQueriesContext(connection) as ctx:
        yield ctx
    counted = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(exclude)]
    want = expected[connection.vendor] if isinstance(expected, dict) else expected
    assert len(counted) == want, f"{len(counted)} queries, expected {want}:\n" + "\n".join(counted)
