-- Search over what people wrote (not system lines): a GIN index of messages' text as words
-- (the 'simple' configuration: lower-cased, no stemming, any language). Visitors' names and
-- emails are searched with LIKE.
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', text)) WHERE author_kind <> 'system';
