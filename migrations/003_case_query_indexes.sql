-- Area queries walk cases cell by cell, newest first (see postgres/case_query.go),
-- and radius queries order by great-circle distance on a geography index. A
-- geometry GiST index would tempt the planner into bitmap-ANDing it with the
-- cell index, which loses the time order and reads every case of the area; and
-- it would cost every ingest an index update. Areas are bounded by H3 cells.
DROP INDEX cases_h3_idx;
DROP INDEX cases_geom_idx;
CREATE INDEX cases_h3_time_idx ON cases (h3, reported_at DESC, id DESC);
CREATE INDEX cases_geog_idx ON cases USING gist ((geom::geography));
