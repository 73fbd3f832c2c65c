-- Effective-dated grid versions (issue 19).
--
-- grids stays the version in force now: every reader (locate, tiles, case
-- queries, stats) keeps reading it. grid_history keeps every grid row that
-- ever was in force with its validity period, written by a trigger on grids,
-- so that nothing that changes grids can forget it. A version is one
-- reviewed batch: a draft (its full set of grids in grid_version_grids),
-- scheduled, in force, or superseded; an import is a version activated at
-- once.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE grid_versions (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('initial', 'import', 'draft')),
    status       text NOT NULL CHECK (status IN ('draft', 'scheduled', 'active', 'superseded')),
    note         text NOT NULL DEFAULT '',
    -- successors maps a code the version retires to the code that takes
    -- over its references (key and user scopes), as the draft named them;
    -- codes it leaves out get the grid covering most of them.
    successors   jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- rejected lists the draft's features that failed the checks; a draft
    -- with any cannot be activated.
    rejected     jsonb NOT NULL DEFAULT '[]'::jsonb,
    features     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL DEFAULT '',
    effective_at timestamptz,
    activated_at timestamptz,  -- when it was put in force (may be after effective_at)
    activated_by text NOT NULL DEFAULT '',
    CHECK ((status = 'draft') = (effective_at IS NULL))
);

-- At most one version waits for its time: a second would have to be
-- diffed against the first, not against the grids in force.
CREATE UNIQUE INDEX grid_versions_one_scheduled ON grid_versions ((true)) WHERE status = 'scheduled';

-- A draft's grids: the whole map it proposes (grids it leaves out retire).
CREATE TABLE grid_version_grids (
    version_id        bigint NOT NULL REFERENCES grid_versions (id) ON DELETE CASCADE,
    code              text NOT NULL,
    name              text NOT NULL,
    level             smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent            text,
    unit              text,
    units_by_category jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom              geometry (Geometry, 4326) NOT NULL,
    area_m2           double precision NOT NULL,
    PRIMARY KEY (version_id, code)
);
CREATE INDEX grid_version_grids_geom_idx ON grid_version_grids USING gist (geom);

-- Every grid row with the period it was in force, [from, to). The
-- exclusion constraint refuses two periods of one code that overlap; the
-- check refuses empty periods, which && would let through.
CREATE TABLE grid_history (
    id                bigserial PRIMARY KEY,
    code              text NOT NULL,
    version_id        bigint REFERENCES grid_versions (id),
    valid             tstzrange NOT NULL,
    name              text NOT NULL,
    level             smallint NOT NULL,
    parent            text,
    unit              text,
    units_by_category jsonb NOT NULL,
    geom              geometry (Geometry, 4326) NOT NULL,
    area_m2           double precision NOT NULL,
    CONSTRAINT grid_history_valid_period CHECK (NOT isempty(valid) AND lower_inc(valid) AND NOT upper_inc(valid)),
    CONSTRAINT grid_history_no_overlap EXCLUDE USING gist (code WITH =, valid WITH &&)
);
CREATE INDEX grid_history_valid_idx ON grid_history USING gist (valid);
CREATE INDEX grid_history_geom_idx ON grid_history USING gist (geom);

-- The grids in force before versions were kept: one initial version, in
-- force since ever.
INSERT INTO grid_versions (kind, status, note, effective_at, activated_at, features)
SELECT 'initial', 'active', 'grids in force when versions began to be kept', '-infinity', now(), count(*) FROM grids;
INSERT INTO grid_history (code, version_id, valid, name, level, parent, unit, units_by_category, geom, area_m2)
SELECT g.code, v.id, tstzrange('-infinity', NULL, '[)'), g.name, g.level, g.parent, g.unit, g.units_by_category, g.geom, g.area_m2
FROM grids g, (SELECT max(id) AS id FROM grid_versions) v;

-- grid_history_record keeps grid_history in step with grids. The change
-- takes effect at citygrid.grid_effective_at when the writer sets it (a
-- scheduled activation applied late still dates its grids exactly), else
-- at the transaction's start; it belongs to citygrid.grid_version when
-- set. A row changed twice in one transaction keeps one period.
CREATE FUNCTION grid_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at  timestamptz := COALESCE(NULLIF(current_setting('citygrid.grid_effective_at', true), '')::timestamptz, now());
    ver bigint := NULLIF(current_setting('citygrid.grid_version', true), '')::bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.code = NEW.code AND OLD.name = NEW.name AND OLD.level = NEW.level
       AND OLD.parent IS NOT DISTINCT FROM NEW.parent AND OLD.unit IS NOT DISTINCT FROM NEW.unit
       AND OLD.units_by_category = NEW.units_by_category AND ST_AsEWKB(OLD.geom) = ST_AsEWKB(NEW.geom) THEN
        RETURN NEW;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM grid_history WHERE code = OLD.code AND upper_inf(valid) AND lower(valid) = at;
        UPDATE grid_history SET valid = tstzrange(lower(valid), at, '[)') WHERE code = OLD.code AND upper_inf(valid);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO grid_history (code, version_id, valid, name, level, parent, unit, units_by_category, geom, area_m2)
        VALUES (NEW.code, ver, tstzrange(at, NULL, '[)'), NEW.name, NEW.level, NEW.parent, NEW.unit, NEW.units_by_category, NEW.geom, NEW.area_m2);
        RETURN NEW;
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER grids_history AFTER INSERT OR UPDATE OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION grid_history_record();
