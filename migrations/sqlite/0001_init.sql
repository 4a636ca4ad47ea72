-- Baton schema (SQLite). Ids are UUIDv7 text; times are milliseconds since the Unix epoch (BIGINT), the
-- same in the SQLite schema so one row type decodes from either backend.

-- One row once the first user exists: makes concurrent first-run setups race on a primary key.
CREATE TABLE instance (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    set_up_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    avatar_version BIGINT,
    active_team_id TEXT,
    status TEXT NOT NULL DEFAULT 'offline',
    status_source TEXT NOT NULL DEFAULT 'manual',
    status_reason TEXT,
    last_active_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE avatars (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    png BLOB NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    auto_away_minutes BIGINT NOT NULL DEFAULT 10,
    heartbeat_timeout_seconds BIGINT NOT NULL DEFAULT 60,
    visitor_email_delay_seconds BIGINT NOT NULL DEFAULT 120,
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'chat_agent', 'member')),
    all_bots BOOLEAN NOT NULL DEFAULT TRUE,
    capacity BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE bots (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    greeting TEXT NOT NULL DEFAULT '',
    human_escalation BOOLEAN NOT NULL,
    human_only BOOLEAN NOT NULL,
    show_agent_availability BOOLEAN NOT NULL,
    auto_escalate_unanswered BOOLEAN NOT NULL,
    -- JSON array of origins
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    webhook_url TEXT,
    webhook_secret TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX bots_team ON bots (team_id);

-- Bots a restricted member reaches (members.all_bots = FALSE).
CREATE TABLE member_bots (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id, bot_id),
    FOREIGN KEY (team_id, user_id) REFERENCES members (team_id, user_id) ON DELETE CASCADE
);

CREATE TABLE knowledge (
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    PRIMARY KEY (bot_id, position)
);

CREATE TABLE visitors (
    id TEXT PRIMARY KEY,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT,
    email TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    bot_id TEXT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    visitor_id TEXT NOT NULL REFERENCES visitors (id) ON DELETE CASCADE,
    state TEXT NOT NULL CHECK (state IN ('bot', 'pending', 'active', 'transferred', 'resolved')),
    assignee_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    escalated_at BIGINT,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    -- seq of the newest message: the next one gets last_seq + 1 under the row lock
    last_seq BIGINT NOT NULL DEFAULT 0,
    last_preview TEXT,
    last_author_kind TEXT,
    last_message_at BIGINT
);
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at);
CREATE INDEX conversations_inbox ON conversations (team_id, last_activity_at DESC, id DESC) WHERE escalated_at IS NOT NULL;
CREATE INDEX conversations_assignee ON conversations (assignee_id, state);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    author_kind TEXT NOT NULL CHECK (author_kind IN ('visitor', 'bot', 'agent', 'system')),
    author_id TEXT,
    body TEXT NOT NULL,
    text TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    client_id TEXT,
    event TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages (conversation_id, author_id, client_id) WHERE client_id IS NOT NULL;

CREATE TABLE read_markers (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- a user id (agent) or visitor id
    reader_id TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, reader_id)
);

CREATE TABLE shortcuts (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- NULL: team-wide
    owner_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX shortcuts_name ON shortcuts (team_id, COALESCE(owner_id, ''), LOWER(name));
