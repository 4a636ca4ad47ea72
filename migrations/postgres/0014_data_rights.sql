-- Data rights: a retention period per team (0 keeps resolved conversations), the index the
-- timers use to find what it removes, and finding a visitor by email for a data request.
ALTER TABLE teams ADD COLUMN retention_days BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_resolved ON conversations (team_id, resolved_at) WHERE state = 'resolved';
CREATE INDEX visitors_email ON visitors (lower(email)) WHERE email IS NOT NULL;
