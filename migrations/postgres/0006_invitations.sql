-- Invitations to join a team, by email. Adding someone to a team never makes them a member
-- directly: they accept first (an account made by the invitation itself accepts at its first
-- login). One pending invitation per team and email.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- The account invited: the one holding the email when invited (or made then). Only it can
    -- accept; an invitation to an email with no account waits until one is made by inviting
    -- again with a password (so nobody can claim it by taking the email later).
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    -- The account was made by this invitation: its first login accepts it.
    created_account BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (team_id, email)
);
CREATE INDEX invitations_user ON invitations (user_id);
