-- Who did what to whom: one row per change that matters to the people who run a team. Rows are
-- only ever added; the triggers refuse an UPDATE or DELETE from anyone, Baton included. Names
-- are kept as they were at the time (a renamed member's old entries keep the old name). No
-- foreign keys: an entry outlives what it names.
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

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
