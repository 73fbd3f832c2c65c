-- API keys (issue 12): the token itself is shown once and never stored;
-- only its SHA-256, by which every request looks it up. Revocation and
-- expiry are kept, not deleted, so the audit trail's key ids stay
-- meaningful.
CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    role         text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'handler', 'inspector', 'planner', 'viewer', 'integration')),
    scope        text[] NOT NULL DEFAULT '{}', -- grid codes; empty: the whole district
    unit         text REFERENCES units (code),
    source       text,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    demo         boolean NOT NULL DEFAULT false, -- issued by serve -demo, revoked by the next one
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    CHECK (role <> 'handler' OR unit IS NOT NULL),
    CHECK (role <> 'integration' OR source IS NOT NULL)
);

-- The audit trail: every change and every refused attempt, written in the
-- same transaction as the change. Append-only: the service has no
-- statement that changes or deletes a row, and the database refuses them
-- (the trigger below holds for every role but one that drops it).
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor        text NOT NULL DEFAULT '',       -- the key's name
    role         text NOT NULL DEFAULT '',
    key_id       bigint,                          -- no foreign key: a row outlives anything
    action       text NOT NULL,                   -- e.g. case.status, grids.import, key.create, authz_fail
    object_type  text NOT NULL DEFAULT '',
    object_id    text NOT NULL DEFAULT '',
    outcome      text NOT NULL CHECK (outcome IN ('allow', 'deny')),
    http_status  int,
    from_version int,
    to_version   int,
    detail       text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    client_addr  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
