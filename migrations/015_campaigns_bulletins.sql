-- Campaigns (专项整治) and bulletins (日通报、周调度、月总结): issue 18.

-- A campaign is a named drive over categories, an area and a period. The
-- area is a polygon, or grid codes (grids: as given; grid_subtree: those
-- grids and every grid under them when the campaign was made; area: their
-- union, for the map and for checking inspection sites).
CREATE TABLE campaigns (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    categories   text[] NOT NULL DEFAULT '{}', -- code prefixes; empty: every category
    grids        text[],
    grid_subtree text[],
    area         geometry (MultiPolygon, 4326) NOT NULL,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    target_kind  text NOT NULL CHECK (target_kind IN ('on_time_rate', 'inspect_sites')),
    target_value float8 NOT NULL CHECK (target_value > 0 AND target_value <= 1),
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_period CHECK (ends_at > starts_at),
    CHECK ((grids IS NULL) = (grid_subtree IS NULL))
);

-- The sites of a campaign's inspection list; each is inspected once, pass
-- or fail, and a failure makes a case (case_id).
CREATE TABLE campaign_sites (
    id           bigserial PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id),
    ref          text NOT NULL CHECK (ref <> ''),
    name         text NOT NULL DEFAULT '',
    category     text NOT NULL,
    geom         geometry (Point, 4326) NOT NULL,
    result       text CHECK (result IN ('pass', 'fail')),
    inspected_at timestamptz,
    inspected_by text NOT NULL DEFAULT '',
    note         text NOT NULL DEFAULT '',
    case_id      bigint REFERENCES cases (id),
    CONSTRAINT campaign_sites_ref_key UNIQUE (campaign_id, ref),
    CHECK ((result IS NULL) = (inspected_at IS NULL)),
    CHECK (result = 'fail' OR case_id IS NULL)
);

-- campaign_covers is the one rule of which cases a campaign holds: of its
-- categories, reported in its period, in its grids (by the grid the case
-- has) or inside its polygon. A failed inspection's case meets it by
-- construction (a site inside the area, a category of the campaign, an
-- inspection within the period). Plain SQL, so that the planner inlines it.
CREATE FUNCTION campaign_covers(k campaigns, c cases) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT (cardinality(k.categories) = 0 OR c.category ^@ ANY (k.categories))
       AND c.reported_at >= k.starts_at AND c.reported_at < k.ends_at
       AND CASE WHEN k.grid_subtree IS NOT NULL THEN COALESCE(c.grid = ANY (k.grid_subtree), false)
                ELSE ST_Covers(k.area, c.geom) END
$$;

-- A bulletin is a record: (kind, scope, period, revision) is stored once
-- and never changed; a correction is the next revision, with its reason.
-- The body is kept as the JSON text it was generated as (json, not jsonb),
-- so that it reads back byte for byte.
CREATE TABLE bulletins (
    kind         text NOT NULL CHECK (kind IN ('daily', 'weekly', 'monthly')),
    scope        text NOT NULL, -- district, street:CODE or unit:CODE
    period       text NOT NULL, -- 2026-11-27, 2026-W48 or 2026-11
    revision     integer NOT NULL CHECK (revision >= 1),
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    generated_at timestamptz NOT NULL,
    generated_by text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    body         json NOT NULL,
    PRIMARY KEY (kind, scope, period, revision),
    CHECK (revision = 1 OR reason <> '')
);

CREATE INDEX bulletins_period_idx ON bulletins (kind, scope, period_start DESC);

CREATE FUNCTION bulletins_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bulletins are records: % refused (a correction is a new revision)', TG_OP;
END $$;
CREATE TRIGGER bulletins_immutable BEFORE UPDATE OR DELETE ON bulletins
    FOR EACH ROW EXECUTE FUNCTION bulletins_immutable();
CREATE TRIGGER bulletins_no_truncate BEFORE TRUNCATE ON bulletins
    FOR EACH STATEMENT EXECUTE FUNCTION bulletins_immutable();

-- A period's indicators read the cases that ended in it or after, or not at
-- all (reported_at < end AND (closed_at IS NULL OR closed_at >= start)):
-- for a day, a small part of the table, which without this index was read
-- whole (a district daily bulletin at a million cases).
CREATE INDEX cases_closed_at_idx ON cases (closed_at);
