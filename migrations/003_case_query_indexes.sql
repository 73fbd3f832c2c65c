-- Area queries walk cases cell by cell, newest first (see postgres/case_query.go),
-- and radius queries order by great-circle distance on a geography index.
DROP INDEX cases_h3_idx;
CREATE INDEX cases_h3_time_idx ON cases (h3, reported_at DESC, id DESC);
CREATE INDEX cases_geog_idx ON cases USING gist ((geom::geography));
