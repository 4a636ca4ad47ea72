-- Alerts that repeat while a chat waits unclaimed: the team's interval (0: off), and when each
-- pending chat was last announced (a node takes the next reminder by moving it forward, so a
-- cluster sends each once).
ALTER TABLE teams ADD COLUMN pending_alert_seconds BIGINT NOT NULL DEFAULT 120;
ALTER TABLE conversations ADD COLUMN alerted_at BIGINT;
