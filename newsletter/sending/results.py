"""Recording "sent" without waiting on the database in the hot loop (issue 17).

The bound kept (docs/delivery.md, "Exactly once"): **message k's result is on its way to PostgreSQL before message
k+1 goes out, and confirmed (committed, and checked against the lease token) before message k+2 can be accepted**.
On PostgreSQL the UPDATE of message k is written to the database's socket the moment the SMTP server answers 250,
through libpq's pipeline mode with a sync point after each statement (so each commits on its own, even if the
worker dies a moment later); its reply is read whenever it has arrived, and waited for only before the final dot of
message k+2, by which time it is there as a rule. So the worker never waits on the database in the hot loop. At
most two results are unconfirmed at a time, and every one is confirmed before anything else uses the connection:
a lease renewal, a failure's record, a release, the end of the batch (the connection then leaves pipeline mode).

Elsewhere (SQLite, a connection inside a transaction) each UPDATE runs at once, as before.
"""

import contextlib
import select
from collections import deque

from django.db import DatabaseError, connection

from newsletter.sending.lease import RECORD_SENT_SQL, LeaseLost

# The same statement with libpq's numbered parameters, prepared once per database connection.
_PREPARED = b"newsletter_record_sent"
_PG_SQL = RECORD_SENT_SQL.replace("%s", "${}").format(1, 2, 3, 4).encode()


class Recorder:
    """`sent(delivery_id, message_id, sent_at)` records one result; `settle(keep)` waits until at most `keep`
    results are unconfirmed (0: all confirmed, and the connection free for other queries)."""

    def __init__(self, lease):
        self.lease = lease
        self.in_flight = deque()  # delivery ids whose UPDATE has been sent and not yet confirmed, oldest first
        self.replies = []  # the oldest's results read so far
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
        if self.pgconn is None:
            with connection.cursor() as cursor:
                cursor.execute(RECORD_SENT_SQL, [sent_at, message_id, delivery_id, self.lease.token])
                if cursor.rowcount != 1:
                    raise LeaseLost(f"delivery {delivery_id} was sent after another worker took it over")
            self.confirmed += 1
            return
        from psycopg import pq

        pgconn = self.pgconn
        if pgconn.pipeline_status == pq.PipelineStatus.OFF:
            pgconn.enter_pipeline_mode()
        params = [sent_at.isoformat().encode(), message_id.encode(), b"%d" % delivery_id, b"%d" % self.lease.token]
        pgconn.send_query_prepared(_PREPARED, params)
        pgconn.pipeline_sync()  # its own transaction: committed whatever happens to this worker next
        self.in_flight.append(delivery_id)
        while pgconn.flush():  # the whole query is on its way before the next message starts
            select.select([], [pgconn.socket], [])
        self._read(wait=False)

    def settle(self, keep=0):
        """Wait until at most `keep` results are unconfirmed; LeaseLost if a row was no longer this batch's."""
        if self.pgconn is None:
            return
        try:
            while len(self.in_flight) > keep:
                self._read(wait=True, until=keep)
        finally:
            # Also when the last judgement raised (LeaseLost): its replies are read, so the connection can leave
            # pipeline mode, and must, or every later query on it fails.
            if not self.in_flight and not self.replies:
                self._leave_pipeline()

    def _leave_pipeline(self):
        from psycopg import pq

        if self.pgconn.pipeline_status != pq.PipelineStatus.OFF:
            self.pgconn.exit_pipeline_mode()

    def _read(self, wait, until=0):
        """Take the replies that have arrived (waiting for more while more than `until` are unconfirmed)."""
        from psycopg import pq

        pgconn = self.pgconn
        pgconn.consume_input()
        while self.in_flight:
            if pgconn.is_busy():
                if not wait or len(self.in_flight) <= until:
                    return
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
                continue
            result = pgconn.get_result()
            if result is None:
                continue  # the end of one statement's results; its sync point follows
            if result.status != pq.ExecStatus.PIPELINE_SYNC:
                self.replies.append(result)
                continue
            results, self.replies = self.replies, []  # (before judging: a judgement may raise)
            self._judge(self.in_flight.popleft(), results)

    def _judge(self, delivery_id, results):
        from psycopg import pq

        for result in results:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise DatabaseError(result.error_message.decode(errors="replace"))
        if sum(int(r.command_tuples or 0) for r in results) != 1:
            raise LeaseLost(f"delivery {delivery_id} was sent after another worker took it over")
        self.confirmed += 1

    def close(self):
        """Consume what is in flight, its judgements ignored (a batch already stopping: a lost lease, an error)."""
        try:
            while self.in_flight:
                with contextlib.suppress(LeaseLost, DatabaseError):
                    self.settle()
            if self.pgconn is not None:
                self._leave_pipeline()
        except Exception:
            # The database connection broke mid-pipeline: let Django open a fresh one for what comes next.
            self.in_flight.clear()
            connection.close()
            raise
        finally:
            self.lease.recorder = None
