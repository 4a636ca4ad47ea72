-- The visitor's side: a bot's widget settings (business hours, what the widget does when nobody
-- can answer, the pre-chat form, its look and words) as one JSON document, checked on the way
-- in and refused on the way out if it does not decode; the bot's logo; the answers a visitor
-- gave in the pre-chat form; what system lines are about (names, the trigger), so the widget
-- words them for visitors; satisfaction ratings; and transcripts in the email outbox.
ALTER TABLE bots ADD COLUMN widget TEXT NOT NULL DEFAULT '{}';
ALTER TABLE bots ADD COLUMN logo_version BIGINT;
CREATE TABLE bot_logos (
    bot_id TEXT PRIMARY KEY REFERENCES bots (id) ON DELETE CASCADE,
    png BLOB NOT NULL
);
ALTER TABLE visitors ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE messages ADD COLUMN event_detail TEXT;
ALTER TABLE teams ADD COLUMN csat TEXT NOT NULL DEFAULT 'stars' CHECK (csat IN ('stars', 'thumbs', 'off'));
CREATE TABLE ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    score BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    scale TEXT NOT NULL CHECK (scale IN ('stars', 'thumbs')),
    comment TEXT,
    created_at BIGINT NOT NULL
);
-- The queue of a bot, oldest escalation first, and its recent claims for the expected wait.
CREATE INDEX conversations_queue ON conversations (bot_id, state, escalated_at);
-- A transcript is an email of its own kind, to the address the visitor asked for; at most one
-- of each kind waits per conversation.
ALTER TABLE email_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply', 'transcript'));
ALTER TABLE email_outbox ADD COLUMN to_address TEXT;
DROP INDEX email_outbox_one_pending;
CREATE UNIQUE INDEX email_outbox_one_pending ON email_outbox (conversation_id, kind) WHERE state = 'pending';
