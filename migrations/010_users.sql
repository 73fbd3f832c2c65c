-- People (issue 13): users sign in with a password and hold a session,
-- with the same role, scope and unit as an API key. Users are disabled,
-- never deleted, so that the audit trail's user ids keep their meaning.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 64),
    display_name  text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'handler', 'inspector', 'planner', 'viewer')),
    scope         text[] NOT NULL DEFAULT '{}', -- grid codes; empty: the whole district
    unit          text REFERENCES units (code),
    disabled      boolean NOT NULL DEFAULT false,
    demo          boolean NOT NULL DEFAULT false, -- made by serve -demo
    password_hash text NOT NULL,                  -- argon2id, PHC-encoded with its salt and parameters
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'handler' OR unit IS NOT NULL)
);

-- A session: the cookie's token is stored only as its SHA-256. The CSRF
-- token is kept as it is: it is no credential on its own (it needs the
-- cookie), and the page is given it again by GET /v1/me.
CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- The audit trail names the user a row's request was signed in as.
ALTER TABLE audit_log ADD COLUMN user_id bigint; -- no foreign key: a row outlives anything
