-- The moments the indicators count (cases.StatsRow), kept on the case so
-- that /v1/stats is one pass over cases without replaying histories:
-- filed_at, when the case was filed (立案); overdue_at, when its handling
-- clock first ran past the deadline, or, while the clock runs and that has
-- not happened yet, when it will (cases/clock.go). Both are set by the code
-- that writes every case change (cases.ApplyUpdate), never by hand.
ALTER TABLE cases ADD COLUMN filed_at timestamptz, ADD COLUMN overdue_at timestamptz;

-- Cases stored before this migration: filed when accepted, or when they
-- arrived past acceptance; overdue judged on their present state (the
-- exact moment would need each history replayed, and such cases predate
-- the rules that make it a fixed fact).
UPDATE cases c SET
    filed_at = CASE
        WHEN c.status IN ('reported', 'rejected') THEN NULL
        ELSE COALESCE((SELECT min(e.at) FROM case_events e WHERE e.case_id = c.id AND e.to_status = 'accepted'), c.reported_at)
    END,
    overdue_at = CASE
        WHEN c.status IN ('accepted', 'dispatched', 'in_progress') AND c.paused_at IS NULL THEN c.due_at
        WHEN c.status IN ('closed', 'resolved', 'verified') AND c.merged_into IS NULL
             AND COALESCE((SELECT max(e.at) FROM case_events e WHERE e.case_id = c.id AND e.to_status = 'resolved'), c.closed_at) > c.due_at
            THEN c.due_at
    END;

-- The events /v1/stats reads by time: a period's extensions and reworks,
-- and the re-assignments after a period's end (the grid, unit or category a
-- case had then). A few in a hundred events; the index on every status
-- change by time that it replaces had no reader, and cost a bulk load of
-- histories a third of its time.
DROP INDEX case_events_status_idx;
CREATE INDEX case_events_stats_idx ON case_events (kind, at)
    WHERE to_status IS NULL OR (to_status = 'dispatched' AND from_status IN ('resolved', 'verified'));
