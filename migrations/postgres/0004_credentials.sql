-- Personal API tokens: when each was last used, and an optional expiry.
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
