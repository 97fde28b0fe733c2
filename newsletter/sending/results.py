"""Recording "sent" without waiting on the database in the hot loop (issue 17), and no later than before.

The bound kept (docs/delivery.md, "Exactly once"): **message k's result is committed in the database before
message k+1 can be accepted by the SMTP server**. On PostgreSQL the UPDATE of message k is sent the moment
the server answers 250 (libpq's asynchronous API: the query goes out, its reply is not awaited), then the
worker writes message k+1's envelope and reads its replies; only before k+1's final dot (the point at which
the server may accept it) does it wait for the UPDATE's reply, usually already there. The database's round
trip overlaps the SMTP server's instead of following it. At most one result is unconfirmed at a time, and it
is confirmed (committed, and checked against the lease token) before anything else uses the connection: a
lease renewal, another record, a release, the end of the batch.

Elsewhere (SQLite, a connection inside a transaction) each UPDATE runs at once, as before.
"""

import select

from django.db import DatabaseError, connection

from newsletter.sending.lease import RECORD_SENT_SQL, LeaseLost

# The same statement with libpq's numbered parameters, prepared once per database connection.
_PREPARED = b"newsletter_record_sent"
_PG_SQL = RECORD_SENT_SQL.replace("%s", "${}").format(1, 2, 3, 4).encode()


class Recorder:
    """`sent(delivery_id, message_id, sent_at)` records one result; `settle()` waits for the one in flight."""

    def __init__(self, lease):
        self.lease = lease
        self.in_flight = None  # the delivery id whose UPDATE has been sent and not yet confirmed
        self.confirmed = 0
        self.pgconn = None
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            if connection.get_autocommit() and not connection.in_atomic_block:
                self.pgconn = connection.connection.pgconn
                self._prepare()
        lease.recorder = self

    def _prepare(self):
        from psycopg import pq

        result = self.pgconn.prepare(_PREPARED, _PG_SQL)
        if result.status != pq.ExecStatus.COMMAND_OK and result.error_field(pq.DiagnosticField.SQLSTATE) != b"42P05":
            raise DatabaseError(result.error_message.decode(errors="replace"))  # 42P05: prepared on this connection

    def sent(self, delivery_id, message_id, sent_at):
        self.settle()
        if self.pgconn is None:
            with connection.cursor() as cursor:
                cursor.execute(RECORD_SENT_SQL, [sent_at, message_id, delivery_id, self.lease.token])
                if cursor.rowcount != 1:
                    raise LeaseLost(f"delivery {delivery_id} was sent after another worker took it over")
            self.confirmed += 1
            return
        params = [sent_at.isoformat().encode(), message_id.encode(), b"%d" % delivery_id, b"%d" % self.lease.token]
        self.pgconn.send_query_prepared(_PREPARED, params)
        self.in_flight = delivery_id
        while self.pgconn.flush():  # the whole query is on its way before the next message starts
            select.select([], [self.pgconn.socket], [])

    def settle(self):
        """Wait for the result in flight (if any): committed, and still this batch's row, or LeaseLost."""
        if self.in_flight is None:
            return
        delivery_id, self.in_flight = self.in_flight, None
        from psycopg import pq

        pgconn = self.pgconn
        pgconn.consume_input()
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        results = []
        while (result := pgconn.get_result()) is not None:
            results.append(result)
        for result in results:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise DatabaseError(result.error_message.decode(errors="replace"))
        if sum(int(r.command_tuples or 0) for r in results) != 1:
            raise LeaseLost(f"delivery {delivery_id} was sent after another worker took it over")
        self.confirmed += 1

    def close(self):
        """Consume what is in flight without judging it (a batch already stopping: a lost lease, an error)."""
        try:
            self.settle()
        except (LeaseLost, DatabaseError):
            pass
        finally:
            self.lease.recorder = None
