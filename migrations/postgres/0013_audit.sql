-- Who did what to whom: one row per change that matters to the people who run a team. Rows are
-- only ever added; the triggers refuse an UPDATE or DELETE (TRUNCATE too) from anyone, Baton
-- included. Names are kept as they were at the time. No foreign keys: an entry outlives what it
-- names.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    team_id TEXT,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT,
    target_label TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_team ON audit_log (team_id, at DESC, id DESC);
CREATE INDEX audit_log_team_action ON audit_log (team_id, action, at DESC, id DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
