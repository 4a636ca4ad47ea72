//! Credentials: argon2id password hashes and random bearer secrets.
//!
//! Session cookies, API tokens and visitor tokens are 32 random bytes; only their SHA-256 is
//! stored, so a leaked database does not leak working credentials. (A fast hash is right for
//! high-entropy secrets; argon2id is for the low-entropy ones people choose.)

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Prefixes tell token kinds apart at a glance (and in logs, where they are never printed whole).
pub const API_TOKEN_PREFIX: &str = "bt_";
pub const VISITOR_TOKEN_PREFIX: &str = "bv_";

/// At most this many password hashes at once. Each argon2id run takes 19 MiB and a core for tens
/// of milliseconds; unbounded, a burst of logins spreads that memory over many threads whose
/// allocator arenas keep it, and starves everything else of CPU.
fn password_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)))
}

/// Hashes a password off the async threads, a bounded number at a time.
pub async fn hash(password: String) -> Result<String, String> {
    let _slot = password_slots().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|e| e.to_string())?
}

/// Verifies a password off the async threads, a bounded number at a time.
pub async fn verify(hash: String, password: String) -> bool {
    let Ok(_slot) = password_slots().acquire().await else { return false };
    tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false)
}

/// Hashes with argon2id's default parameters. CPU-heavy: use [`hash`] from async code.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// CPU-heavy: use [`verify`] from async code.
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the email is unknown, so both paths take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// A new random secret with the given prefix.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for a secret.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "wrong"));
        assert!(!verify_password("garbage", "wrong"));
    }

    #[test]
    fn secrets_are_random_prefixed_and_stored_hashed() {
        let a = new_secret(API_TOKEN_PREFIX);
        assert!(a.starts_with("bt_") && a.len() > 40);
        assert_ne!(a, new_secret(API_TOKEN_PREFIX));
        assert_eq!(hash_secret(&a).len(), 64);
        assert!(constant_time_eq("abc", "abc") && !constant_time_eq("abc", "abd") && !constant_time_eq("abc", "ab"));
    }
}

/// Why a login was refused.
#[derive(Debug)]
pub enum LoginRefused {
    /// Wrong email or password (never which).
    Invalid,
    /// Too many failures; retry after this many seconds.
    Throttled(u64),
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for LoginRefused {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Store(e)
    }
}

/// How long an address a user logged in from stays known.
pub const KNOWN_ADDRESS_DAYS: i64 = 90;

/// Checks an email and password from `address` (a client address key), under the failed-login
/// limits: failures count per address, and per email only from addresses the user has not
/// logged in from before. So guessing from anywhere is slowed, but a stranger's guesses cannot
/// lock a user out of the places they use. Only failures count: a whole office behind one
/// address can still log in at 9:00.
pub async fn login(state: &super::AppState, email: &str, password: String, address: &str) -> Result<crate::store::User, LoginRefused> {
    let address_key = format!("ip:{address}");
    let email_key = format!("email:{email}");
    state.login_limit.allow(&address_key).await.map_err(LoginRefused::Throttled)?;
    let found = state.store.credentials(email).await?;
    let known = match &found {
        Some((u, _)) if !address.is_empty() => {
            state.store.known_login_address(&u.id, address, state.now() - KNOWN_ADDRESS_DAYS * 24 * 3600 * 1000).await?
        }
        _ => false,
    };
    if !known {
        state.login_limit.allow(&email_key).await.map_err(LoginRefused::Throttled)?;
    }
    // Verify against a dummy hash for unknown emails so timing does not reveal which exist.
    let (user, stored) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, dummy_hash().to_string()),
    };
    match (user, verify(stored, password).await) {
        (Some(user), true) => {
            if !address.is_empty() {
                let now = state.now();
                state.store.remember_login_address(&user.id, address, now, now - KNOWN_ADDRESS_DAYS * 24 * 3600 * 1000).await?;
            }
            super::teams::accept_own_invitations(state, &user.id, address).await?;
            if !known && !address.is_empty() {
                let actor = super::audit::Actor::user(&user.id, address);
                let target = super::audit::Target::new(crate::domain::audit::TargetKind::User, &user.id, user.display_name());
                let detail = serde_json::json!({"address": address});
                super::audit::record_account(state, &user.id, &actor, crate::domain::audit::Action::LoginNewAddress, target, detail).await;
            }
            Ok(user)
        }
        _ => {
            state.login_limit.record(&address_key).await;
            if !known {
                state.login_limit.record(&email_key).await;
            }
            Err(LoginRefused::Invalid)
        }
    }
}

/// After a sign-in by other means than a password (single sign-on): the address is remembered,
/// an invitation that made the account is accepted, and a new address is in the audit log.
pub async fn after_sign_in(state: &super::AppState, user: &crate::store::User, address: &str) -> Result<(), crate::store::StoreError> {
    if !address.is_empty() {
        let now = state.now();
        let since = now - KNOWN_ADDRESS_DAYS * 24 * 3600 * 1000;
        let known = state.store.known_login_address(&user.id, address, since).await?;
        state.store.remember_login_address(&user.id, address, now, since).await?;
        if !known {
            let actor = super::audit::Actor::user(&user.id, address);
            let target = super::audit::Target::new(crate::domain::audit::TargetKind::User, &user.id, user.display_name());
            let detail = serde_json::json!({"address": address, "by": "single sign-on"});
            super::audit::record_account(state, &user.id, &actor, crate::domain::audit::Action::LoginNewAddress, target, detail).await;
        }
    }
    super::teams::accept_own_invitations(state, &user.id, address).await
}
