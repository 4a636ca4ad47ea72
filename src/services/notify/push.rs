//! Web Push: the VAPID key pair (generated on first start, kept in the database so every node
//! and every restart signs with the same key) and delivery of the push outbox.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::jwt_simple::algorithms::ES256KeyPair;
use web_push_native::{Auth, WebPushBuilder, p256};

use crate::services::AppState;
use crate::store::{PushJob, Store, StoreError};

/// Give up on a push after this many attempts.
const MAX_ATTEMPTS: i64 = 8;

pub struct Vapid {
    key: ES256KeyPair,
    /// The public key as browsers' `applicationServerKey` wants it: base64url, uncompressed point.
    pub public_key: String,
    /// Who to contact about our pushes (a mailto: or https: URL), sent to push services.
    subject: String,
}

impl Vapid {
    pub async fn load(store: &dyn Store, subject: String) -> Result<Self, StoreError> {
        let candidate = URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes());
        let stored = store.instance_key("vapid_private_key", &candidate).await?;
        let bytes = URL_SAFE_NO_PAD.decode(stored.as_bytes()).map_err(|e| StoreError::Invalid(format!("stored VAPID key: {e}")))?;
        let key = ES256KeyPair::from_bytes(&bytes).map_err(|e| StoreError::Invalid(format!("stored VAPID key: {e}")))?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|e| StoreError::Invalid(format!("stored VAPID key: {e}")))?;
        let public_key = URL_SAFE_NO_PAD.encode(p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false).as_bytes());
        Ok(Self { key, public_key, subject })
    }
}

/// Checks a subscription's keys as a browser sent them.
pub fn valid_keys(p256dh: &str, auth: &str) -> bool {
    let point = URL_SAFE_NO_PAD.decode(p256dh.trim_end_matches('=')).ok().and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok());
    let secret = URL_SAFE_NO_PAD.decode(auth.trim_end_matches('=')).ok().filter(|b| b.len() == 16);
    point.is_some() && secret.is_some()
}

enum Outcome {
    Delivered,
    Gone,
    Retry(String),
    GiveUp(String),
}

async fn send(state: &AppState, job: &PushJob) -> Outcome {
    let sub = &job.subscription;
    let built = (|| -> Result<_, String> {
        // Stored before the address rule, or while private targets were allowed: checked again.
        if !state.settings.allow_private_webhooks {
            let url = reqwest::Url::parse(&sub.endpoint).map_err(|e| format!("endpoint: {e}"))?;
            if let Some(why) = crate::services::outbound::refuse_url(&url) {
                return Err(format!("endpoint {why}"));
            }
        }
        let endpoint = sub.endpoint.parse().map_err(|e| format!("endpoint: {e}"))?;
        let ua_public = URL_SAFE_NO_PAD
            .decode(sub.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or("the subscription's p256dh key is not a P-256 point")?;
        let auth: [u8; 16] = URL_SAFE_NO_PAD
            .decode(sub.auth.trim_end_matches('='))
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("the subscription's auth secret is not 16 bytes")?;
        let vapid = &state.notifier.vapid;
        WebPushBuilder::new(endpoint, ua_public, Auth::from(auth))
            .with_vapid(&vapid.key, &vapid.subject)
            .build(job.payload.clone())
            .map_err(|e| format!("cannot encrypt the payload: {e}"))
    })();
    let request = match built {
        Ok(r) => r,
        Err(e) => return Outcome::GiveUp(e),
    };
    let (parts, body) = request.into_parts();
    let res = state.http.request(parts.method, parts.uri.to_string()).headers(parts.headers).body(body).send().await;
    match res {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => Outcome::Gone,
        Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => Outcome::Retry(format!("push service answered {}", r.status())),
        Ok(r) => Outcome::GiveUp(format!("push service refused the push: {}", r.status())),
        Err(e) => Outcome::Retry(format!("push service unreachable: {e}")),
    }
}

/// Delivers every due push.
pub async fn drain(state: &AppState) {
    loop {
        let jobs = match state.store.claim_pushes(state.now(), 50).await {
            Ok(j) if !j.is_empty() => j,
            Ok(_) => return,
            Err(e) => return tracing::warn!(error = %e, "claiming pushes failed"),
        };
        for job in jobs {
            // Stopping: the claimed jobs left go to whoever drains next, after their lease.
            if state.shutdown.is_stopping() {
                return;
            }
            let now = state.now();
            let sub = &job.subscription.id;
            let stored = match send(state, &job).await {
                Outcome::Delivered => state.store.push_delivered(&job.id, sub, now).await,
                Outcome::Gone => state.store.push_gone(sub).await,
                Outcome::Retry(e) if job.attempts < MAX_ATTEMPTS => {
                    let backoff = 30_000_i64.saturating_mul(1 << (job.attempts - 1).min(7)).min(3_600_000);
                    state.store.push_failed(&job.id, sub, &e, now, Some(now + backoff)).await
                }
                Outcome::Retry(e) | Outcome::GiveUp(e) => state.store.push_failed(&job.id, sub, &e, now, None).await,
            };
            if let Err(e) = stored {
                tracing::warn!(error = %e, "recording a push result failed");
            }
        }
    }
}
