-- Notifications: agents' preferences and push subscriptions, the durable push and email outboxes,
-- the VAPID key, and what a visitor's email link needs to reopen their conversation.

CREATE TABLE notification_prefs (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    while_online BOOLEAN NOT NULL,
    while_offline BOOLEAN NOT NULL,
    new_escalation BOOLEAN NOT NULL,
    visitor_message BOOLEAN NOT NULL,
    transfer BOOLEAN NOT NULL
);

CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    last_success_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- One row per (notification, device) until delivered or given up.
CREATE TABLE push_outbox (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at);

-- Keys generated on first start and kept (the VAPID key pair).
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Unread-reply emails to visitors. At most one pending row per conversation: one email per burst.
CREATE TABLE email_outbox (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'cancelled', 'failed')),
    due_at BIGINT NOT NULL,
    from_seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE UNIQUE INDEX email_outbox_one_pending ON email_outbox (conversation_id) WHERE state = 'pending';
CREATE INDEX email_outbox_due ON email_outbox (state, due_at);

-- Where the visitor was (the email's link goes back there), and extra tokens for a visitor who
-- comes back through an email link on another device.
ALTER TABLE visitors ADD COLUMN page_url TEXT;
CREATE TABLE visitor_tokens (
    token_hash TEXT PRIMARY KEY,
    visitor_id TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE TABLE visitor_resume (
    token_hash TEXT PRIMARY KEY,
    visitor_id TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
