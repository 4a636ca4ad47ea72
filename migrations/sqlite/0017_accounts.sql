-- Accounts: an invitation for someone without an account carries a link (its secret's hash
-- here) to set their password and join; password resets by email (one use, short-lived); and the
-- state of OpenID Connect sign-ins under way (PKCE verifier and nonce, one use).
ALTER TABLE invitations ADD COLUMN token_hash TEXT;
CREATE UNIQUE INDEX invitations_token ON invitations (token_hash) WHERE token_hash IS NOT NULL;

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    -- The browser that started it (a cookie's hash): a sign-in cannot be finished in another.
    binding_hash TEXT NOT NULL,
    verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX oidc_logins_age ON oidc_logins (created_at);
