"""Tell "the database cannot record anything right now" from a bug.

An outage (server unreachable, connection cut mid-query, disk full, read-only file,
database locked too long) is expected and passes: the update should be redelivered
later and will then be recorded. A bug (bad SQL, a constraint we broke) would fail the
same way on every redelivery, so it must not be refused for redelivery forever.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    InvalidatePoolError,
    OperationalError,
    PendingRollbackError,
    ResourceClosedError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes of a server that cannot work now: 08 connection, 53 insufficient
# resources (disk full, out of memory, too many connections), 57 operator intervention
# (shutdown, cancelled), 58 system error (I/O); plus a read-only transaction (25006),
# serialization failure and deadlock (40001, 40P01): all pass if tried again.
_TRANSIENT_CLASSES = ("08", "53", "57", "58")
_TRANSIENT_STATES = {"25006", "40001", "40P01", "55P03"}

_OUTAGE_TYPES = (
    OperationalError,  # SQLite: locked, disk full, read-only, cannot open
    InterfaceError,
    PoolTimeout,
    InvalidatePoolError,
    PendingRollbackError,  # the connection died under a transaction
    ResourceClosedError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    OSError,  # refused, reset, unreachable before the driver wraps it
)


def is_outage(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database is unavailable."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            state = getattr(current.orig, "sqlstate", None) or getattr(current.orig, "pgcode", None)
            if isinstance(state, str) and (
                state.startswith(_TRANSIENT_CLASSES) or state in _TRANSIENT_STATES
            ):
                return True
        if isinstance(current, _OUTAGE_TYPES):
            return True
        if _is_driver_disconnect(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_driver_disconnect(exc: BaseException) -> bool:
    """asyncpg's own connection errors, which may surface unwrapped (e.g. on rollback)."""
    module = type(exc).__module__ or ""
    if not module.startswith("asyncpg"):
        return False
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(
        names
        & {
            "PostgresConnectionError",
            "ConnectionDoesNotExistError",
            "InterfaceError",
            "InternalClientError",
            "ConnectionFailureError",
        }
    )
