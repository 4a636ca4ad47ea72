-- Reports: when an agent first took each chat and first answered the visitor, kept on the
-- conversation by the write path (filled in here from the messages for chats before it), and
-- the indexes the report queries range over.
ALTER TABLE conversations ADD COLUMN claimed_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_response_at BIGINT;
UPDATE conversations SET
    claimed_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id AND m.event IN ('claimed', 'accepted')),
    first_response_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id AND m.author_kind = 'agent' AND NOT m.internal)
WHERE escalated_at IS NOT NULL;
CREATE INDEX conversations_reports ON conversations (team_id, escalated_at) WHERE escalated_at IS NOT NULL;
CREATE INDEX conversations_bot_only ON conversations (team_id, created_at, bot_id) WHERE escalated_at IS NULL;
