-- Reports: when an agent first took each chat and first answered the visitor, and its rating,
-- kept on the conversation by the write path (filled in here for chats before it), and the
-- indexes the report queries range over: one that covers every column a report reads, so a
-- report is one pass over an index of the range.
ALTER TABLE conversations ADD COLUMN claimed_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_response_at BIGINT;
ALTER TABLE conversations ADD COLUMN rating_score BIGINT;
ALTER TABLE conversations ADD COLUMN rating_scale TEXT;
UPDATE conversations SET
    claimed_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id AND m.event IN ('claimed', 'accepted')),
    first_response_at = (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id AND m.author_kind = 'agent' AND NOT m.internal),
    rating_score = (SELECT r.score FROM ratings r WHERE r.conversation_id = conversations.id),
    rating_scale = (SELECT r.scale FROM ratings r WHERE r.conversation_id = conversations.id)
WHERE escalated_at IS NOT NULL;
CREATE INDEX conversations_reports ON conversations
    (team_id, escalated_at, bot_id, assignee_id, state, claimed_at, first_response_at, resolved_at, rating_score, rating_scale)
    WHERE escalated_at IS NOT NULL;
CREATE INDEX conversations_bot_only ON conversations (team_id, created_at, bot_id) WHERE escalated_at IS NULL;
