-- An active chat put aside by its agent: out of the inbox until a time (snoozed_until) or, with
-- no time, until the visitor writes. The timers wake those whose time came.
ALTER TABLE conversations ADD COLUMN snoozed BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed;
