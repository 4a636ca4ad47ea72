-- Presence timers: what an automatic status change displaced, and the clocks it is judged by.
ALTER TABLE users ADD COLUMN resume_status TEXT;
ALTER TABLE users ADD COLUMN resume_source TEXT;
ALTER TABLE users ADD COLUMN last_heartbeat_at BIGINT;
ALTER TABLE users ADD COLUMN last_activity_at BIGINT;
ALTER TABLE users ADD COLUMN status_changed_at BIGINT;
-- How long an assignee may stay offline (heartbeat expired) before their chats go back to the queue.
ALTER TABLE teams ADD COLUMN orphan_grace_seconds BIGINT NOT NULL DEFAULT 120;
