-- The change feed (issue 14): every change of a case leaves a row here in
-- the transaction that made it, and every process follows the rows in the
-- order their transactions finished, so that none is missed (NOTIFY is only
-- the wake-up: a notification sent while a listener is away is lost).
--
-- xid is the writing transaction's id (pg_current_xact_id(), an xid8 kept
-- as bigint: xid8 has no ordering aggregates in PostgreSQL 15, and 2^63
-- transactions are not reached). A follower reads only the rows of
-- transactions below pg_snapshot_xmin(pg_current_snapshot()) — every one
-- of them has ended, so none can still add rows below that horizon — and
-- takes that horizon as its position. A plain sequence cursor would skip
-- a row whose transaction took its number first but committed last.
CREATE TABLE case_changes (
    seq     bigserial PRIMARY KEY,
    xid     bigint NOT NULL,
    case_id bigint NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_changes_xid ON case_changes (xid, seq);
CREATE INDEX case_changes_at ON case_changes (at);

-- One row: the database's identity (a snapshot of another database, or of
-- this one before it was reset, is refused) and how far the log has been
-- pruned (a follower behind that has missed rows: it resyncs).
CREATE TABLE case_change_log (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    database_id uuid NOT NULL DEFAULT gen_random_uuid(),
    pruned_upto bigint NOT NULL DEFAULT 0 -- every row of a transaction below it may be gone
);
INSERT INTO case_change_log DEFAULT VALUES;

-- A trigger rather than an insert in each store method: every writer of
-- cases (the API's stores, the bulk COPY, the demo loader, a hand-run
-- UPDATE) is logged without having to remember to, and one statement-level
-- trigger with a transition table costs one INSERT ... SELECT per
-- statement, not one per row, so a bulk batch pays in proportion to it.
CREATE FUNCTION case_changes_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO case_changes (xid, case_id) SELECT pg_current_xact_id()::text::bigint, id FROM changed;
    PERFORM pg_notify('citygrid_changes', ''); -- once per transaction: equal notifications are folded
    RETURN NULL;
END $$;

CREATE TRIGGER cases_log_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION case_changes_log();
CREATE TRIGGER cases_log_update AFTER UPDATE ON cases
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION case_changes_log();
