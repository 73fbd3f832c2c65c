-- Grids and the units responsible for them.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE units (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    kind       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- level: 1 district, 2 street, 3 community, 4 unit grid (grid.Level).
CREATE TABLE grids (
    code              text PRIMARY KEY,
    name              text NOT NULL,
    level             smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    parent            text REFERENCES grids (code) DEFERRABLE INITIALLY DEFERRED,
    unit              text REFERENCES units (code),
    units_by_category jsonb NOT NULL DEFAULT '{}'::jsonb,
    geom              geometry (Geometry, 4326) NOT NULL
                      CHECK (GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')),
    area_m2           double precision NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 1) = (parent IS NULL))
);

CREATE INDEX grids_geom_idx ON grids USING gist (geom);
CREATE INDEX grids_parent_idx ON grids (parent);
CREATE INDEX grids_level_idx ON grids (level, code);
