-- Cases, their history, the category table and the working calendar.

CREATE TABLE categories (
    code       text PRIMARY KEY,
    name_zh    text NOT NULL,
    name_en    text NOT NULL,
    limit_value integer NOT NULL CHECK (limit_value > 0),
    limit_unit  text NOT NULL CHECK (limit_unit IN ('working_hours', 'working_days'))
);

-- settings holds small configuration documents, e.g. the calendar.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    external_id text NOT NULL,
    category    text NOT NULL,
    title       text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    priority    smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    geom        geometry (Point, 4326) NOT NULL,
    -- H3 cell at the service's resolution (default 9), as a signed bigint.
    h3          bigint NOT NULL,
    grid        text,
    unit        text,
    status      text NOT NULL CHECK (status IN ('reported', 'accepted', 'dispatched', 'in_progress',
                                                'resolved', 'verified', 'closed', 'rejected')),
    reported_at timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    closed_at   timestamptz,
    paused_at   timestamptz,
    merged_into bigint REFERENCES cases (id),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    properties  jsonb,
    CONSTRAINT cases_source_external_id_key UNIQUE (source, external_id)
);

CREATE INDEX cases_geom_idx ON cases USING gist (geom);
CREATE INDEX cases_reported_idx ON cases (reported_at DESC, id DESC);
CREATE INDEX cases_grid_idx ON cases (grid, reported_at DESC);
CREATE INDEX cases_h3_idx ON cases (h3);
CREATE INDEX cases_open_due_idx ON cases (due_at) WHERE status IN ('reported', 'accepted', 'dispatched', 'in_progress');

CREATE TABLE case_events (
    id      bigserial PRIMARY KEY,
    case_id bigint NOT NULL REFERENCES cases (id),
    at      timestamptz NOT NULL,
    actor   text NOT NULL DEFAULT '',
    kind    text NOT NULL,
    from_status text,
    to_status   text,
    note    text NOT NULL DEFAULT '',
    data    jsonb
);

CREATE INDEX case_events_case_idx ON case_events (case_id, id);
CREATE INDEX case_events_status_idx ON case_events (to_status, at);
