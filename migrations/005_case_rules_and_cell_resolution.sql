-- "Open" is defined once for SQL: the statuses whose deadline runs
-- (cases.Status.Open in Go; a test ties the two). Queries and the partial
-- index below use the function, which PostgreSQL inlines, so the index still
-- serves them.
CREATE FUNCTION case_status_open(status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN status IN ('reported', 'accepted', 'dispatched', 'in_progress');

DROP INDEX cases_open_due_idx;
CREATE INDEX cases_open_due_idx ON cases (due_at) WHERE case_status_open(status);

-- The H3 resolution of cases.h3 (grid.CellRes). Hotspots, map clusters and
-- h3= area queries must count a case in the same cell, so a process refuses
-- a database written at another resolution. A database that already holds
-- cases records theirs (an H3 index keeps its resolution in bits 52-55).
CREATE TABLE stored_cell_resolution (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    res smallint NOT NULL CHECK (res BETWEEN 0 AND 15)
);
INSERT INTO stored_cell_resolution (res)
SELECT COALESCE((SELECT ((h3 >> 52) & 15)::smallint FROM cases LIMIT 1), 9);
