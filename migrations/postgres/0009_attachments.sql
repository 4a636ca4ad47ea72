-- Files in chats. The bytes live in the blob store (under the data directory); a row says what
-- a file is, who sent it and in which conversation, so that only those who may see the
-- conversation get it. A file is uploaded first (no message yet) and becomes part of the message
-- that names it; uploads never sent are removed by the timers. The message keeps a copy of its
-- files' descriptions for the history and the live frames.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The user's or the visitor's id.
    uploader TEXT NOT NULL,
    message_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'pdf', 'text', 'office', 'archive')),
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    width BIGINT,
    height BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE INDEX attachments_unsent ON attachments (created_at) WHERE message_id IS NULL;
ALTER TABLE messages ADD COLUMN attachments TEXT;
-- What a team accepts: the largest file (bytes, 0: no files) and the kinds.
ALTER TABLE teams ADD COLUMN attachment_max_bytes BIGINT NOT NULL DEFAULT 10485760;
ALTER TABLE teams ADD COLUMN attachment_kinds TEXT NOT NULL DEFAULT '["image","pdf","text","office"]';
