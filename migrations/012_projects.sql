-- Pain-point projects (痛点难点) and disputed cases on the battle map
-- (issue 17).
CREATE TABLE projects (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    kind          text NOT NULL DEFAULT '',
    geom          geometry (MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    grid_codes    text[],                   -- the area as given as grids; NULL when drawn as a polygon
    grids         text[] NOT NULL,          -- every grid whose interior the area's meets: whose scope sees it
    categories    text[] NOT NULL DEFAULT '{}',
    leader_user   text,                     -- a user's name, or NULL for a name and a unit
    leader_name   text NOT NULL,
    leader_unit   text REFERENCES units (code),
    leader_key    text NOT NULL,            -- project.Leader.Key: the overlap rule compares it
    units         text[] NOT NULL DEFAULT '{}',
    plan          text NOT NULL DEFAULT '',
    budget_fen    bigint NOT NULL DEFAULT 0 CHECK (budget_fen >= 0),
    budget_source text NOT NULL DEFAULT '',
    spent_fen     bigint NOT NULL DEFAULT 0 CHECK (spent_fen >= 0),
    deadline      date NOT NULL,
    status        text NOT NULL CHECK (status IN ('planned', 'in_progress', 'done', 'suspended')),
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((leader_user IS NULL) <> (leader_unit IS NULL))
);
CREATE INDEX projects_geom_idx ON projects USING gist (geom);
CREATE INDEX projects_grids_idx ON projects USING gin (grids);
CREATE INDEX projects_status_idx ON projects (status, id);

CREATE TABLE project_milestones (
    project_id   bigint NOT NULL REFERENCES projects (id),
    ord          integer NOT NULL,
    name         text NOT NULL,
    working_days integer NOT NULL CHECK (working_days > 0),
    start_on     date NOT NULL,
    due_on       date NOT NULL CHECK (due_on >= start_on),
    done_at      timestamptz,
    PRIMARY KEY (project_id, ord)
);
-- Late milestones: not done, past due.
CREATE INDEX project_milestones_open_idx ON project_milestones (due_on) WHERE done_at IS NULL;

-- Cases linked by hand (escalated disputes among them); cases in a
-- project's area and categories are linked without a row.
CREATE TABLE project_cases (
    project_id bigint NOT NULL REFERENCES projects (id),
    case_id    bigint NOT NULL REFERENCES cases (id),
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, case_id)
);
CREATE INDEX project_cases_case_idx ON project_cases (case_id);

CREATE TABLE project_events (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id),
    at         timestamptz NOT NULL,
    actor      text NOT NULL DEFAULT '',
    kind       text NOT NULL,
    note       text NOT NULL DEFAULT '',
    data       jsonb
);
CREATE INDEX project_events_project_idx ON project_events (project_id, id);

-- A dispute settled: an owner assigned (through the case's re-assignment)
-- or the case escalated into a project. A settlement ends the dispute of
-- a case's place (no unit grid, a border between units); only two more
-- returns after it make the case disputed again.
CREATE TABLE case_dispute_settlements (
    id         bigserial PRIMARY KEY,
    case_id    bigint NOT NULL REFERENCES cases (id),
    at         timestamptz NOT NULL,
    actor      text NOT NULL DEFAULT '',
    unit       text,
    grid       text,
    project_id bigint REFERENCES projects (id),
    note       text NOT NULL DEFAULT ''
);
CREATE INDEX case_dispute_settlements_case_idx ON case_dispute_settlements (case_id, at DESC);
-- Returns since the last settlement are counted per case.
CREATE INDEX case_events_returned_idx ON case_events (case_id, at) WHERE kind = 'returned';
