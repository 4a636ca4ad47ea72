-- What agents see about a visitor beside the chat: where they are and what they use (as the
-- widget last reported it) and the attributes the host page set, as JSON documents checked on
-- the way in.
CREATE TABLE visitor_context (
    visitor_id TEXT PRIMARY KEY REFERENCES visitors (id) ON DELETE CASCADE,
    context TEXT NOT NULL DEFAULT '{}',
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL
);
