"""A ticket's QA sampling key: the first 60 bits of md5(seed + ":" + external id).

Computed once when a ticket is written (``Ticket.qa_key``, for the configured ``QA_SEED``) so
that a draw reads keys instead of hashing every ticket of the window; a draw with another
seed, or over tickets without a stored key, computes the same number on the fly (``QaHash``).
"""

import hashlib

from django.conf import settings
from django.db import connection
from django.db.models import F, Func, IntegerField, Value


def qa_hash(seed_prefix: str, external_id: str) -> int:
    """The sampling key of ``external_id`` for ``seed_prefix`` (the seed followed by ":").

    The same number PostgreSQL computes in ``QaHash``; SQLite, which has no md5, calls this.
    """
    return int(hashlib.md5(f"{seed_prefix}{external_id}".encode()).hexdigest()[:15], 16)


def key_seed() -> str:
    """The seed whose keys tickets store: the configured default seed of a draw."""
    return str(settings.QA["SEED"])


def sample_key(external_id: str) -> int:
    """The key a ticket stores (``Ticket.qa_key``)."""
    return qa_hash(f"{key_seed()}:", external_id)


def qa_hash_sql(seed_sql: str, external_id_sql: str) -> str:
    """PostgreSQL's expression of ``qa_hash`` over SQL text operands (seed already ending in ":")."""
    return f"('x' || substr(md5({seed_sql} || {external_id_sql}), 1, 15))::bit(60)::bigint"


class QaHash(Func):
    """A reproducible pseudo-random key per ticket: md5 of seed and external id, as an integer."""

    output_field = IntegerField()

    def __init__(self, seed: str):
        super().__init__(Value(f"{seed}:"), F("external_id"))

    def as_sql(self, compiler, conn, **extra):
        seed_sql, seed_params = compiler.compile(self.source_expressions[0])
        ext_sql, ext_params = compiler.compile(self.source_expressions[1])
        if conn.vendor == "postgresql":
            sql = qa_hash_sql(seed_sql, ext_sql)
        else:
            conn.ensure_connection()  # cheap, so on every compile
            conn.connection.create_function("qa_hash", 2, qa_hash, deterministic=True)
            sql = f"qa_hash({seed_sql}, {ext_sql})"
        return sql, (*seed_params, *ext_params)


def sample_key_sql(external_id_sql: str, conn=None) -> str:
    """SQL computing ``sample_key`` of a column, for set-based writes (imports)."""
    conn = conn or connection
    prefix = "'" + f"{key_seed()}:".replace("'", "''") + "'"
    if conn.vendor == "postgresql":
        return qa_hash_sql(prefix, external_id_sql)
    conn.ensure_connection()
    conn.connection.create_function("qa_hash", 2, qa_hash, deterministic=True)
    return f"qa_hash({prefix}, {external_id_sql})"
