-- Addresses each user has logged in from (as rate limits key them): failed logins from an
-- address never seen for a user cannot lock that user out of the addresses they use.
CREATE TABLE login_addresses (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, address)
);
