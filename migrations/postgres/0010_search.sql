-- Search over what people wrote (not system lines): a GIN index of messages' text as words
-- (the 'simple' configuration: lower-cased, no stemming, any language). Visitors' names and
-- emails by their words too.
CREATE INDEX messages_search ON messages USING GIN (to_tsvector('simple', text)) WHERE author_kind <> 'system';
-- Visitors by the words of their name and email (an address splits at @ and dots).
CREATE INDEX visitors_search ON visitors USING GIN (to_tsvector('simple', COALESCE(name, '') || ' ' || regexp_replace(COALESCE(email, ''), '[^[:alnum:]]+', ' ', 'g')));
