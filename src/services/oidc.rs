//! Sign-in with an OpenID Connect provider (authorization code flow with PKCE), configured by
//! flags. The provider vouches for an email; the Baton account with that (verified) email is
//! signed in. Nobody gets an account this way: invite them first.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::AppState;
use super::auth;
use crate::domain::jwt::{self, Expect, Jwks};

#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The provider as the sign-in button names it.
    pub name: String,
}

/// What discovery told about the provider, and its keys, kept a while.
#[derive(Clone, Debug)]
struct Provider {
    /// As discovery spells it (ID tokens name it exactly so).
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    jwks: Option<Jwks>,
    fetched_at: std::time::Instant,
}

/// Discovery and keys, fetched once an hour at most (and the keys again when a token names one
/// not seen yet).
#[derive(Default)]
pub struct Cache(Mutex<Option<Provider>>);

/// Why a sign-in failed (the login page words each [`SignInError::code`] itself).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("single sign-on is not set up on this Baton")]
    Off,
    #[error("the sign-in took too long or was already used; try again")]
    Expired,
    #[error("the identity provider could not be reached ({0}); try again in a moment")]
    Provider(String),
    #[error("{0}")]
    Token(#[from] jwt::TokenError),
    #[error("no Baton account uses {0} (ask an admin of your team to invite you)")]
    NoAccount(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SignInError {
    /// What the login page is told (a code it words itself: nothing from the address bar
    /// reaches the page as text).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Expired => "expired",
            Self::Provider(_) => "provider",
            Self::Token(jwt::TokenError::Claims(why)) if why.contains("not verified") => "unverified",
            Self::Token(jwt::TokenError::Claims(why)) if why.contains("no email") => "no_email",
            Self::Token(_) => "token",
            Self::NoAccount(_) => "no_account",
            Self::Store(_) => "error",
        }
    }
}

/// Requests to the provider: an address the operator configured, so private ones are fine; no
/// redirects followed.
fn client(state: &AppState) -> Result<reqwest::Client, SignInError> {
    reqwest::Client::builder()
        .timeout(state.settings.webhook_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| SignInError::Provider(e.to_string()))
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value, SignInError> {
    let res = http.get(url).header("accept", "application/json").send().await.map_err(|e| SignInError::Provider(e.to_string()))?;
    if !res.status().is_success() {
        return Err(SignInError::Provider(format!("{url} answered {}", res.status())));
    }
    res.json().await.map_err(|e| SignInError::Provider(format!("{url}: {e}")))
}

async fn provider(state: &AppState, s: &OidcSettings, fresh_keys: bool) -> Result<Provider, SignInError> {
    let mut cached = state.oidc.0.lock().await;
    let stale = cached.as_ref().is_none_or(|p| p.fetched_at.elapsed() > std::time::Duration::from_secs(3600));
    let http = client(state)?;
    if stale {
        let doc = get_json(&http, &format!("{}/.well-known/openid-configuration", s.issuer)).await?;
        let field =
            |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string).ok_or_else(|| SignInError::Provider(format!("discovery has no {k}")));
        let issuer = field("issuer")?;
        if issuer.trim_end_matches('/') != s.issuer {
            return Err(SignInError::Provider("discovery names another issuer".into()));
        }
        *cached = Some(Provider {
            issuer,
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            userinfo_endpoint: doc.get("userinfo_endpoint").and_then(|v| v.as_str()).map(str::to_string),
            jwks_uri: field("jwks_uri")?,
            jwks: None,
            fetched_at: std::time::Instant::now(),
        });
    }
    let p = cached.as_mut().expect("just set");
    if p.jwks.is_none() || fresh_keys {
        let keys = get_json(&http, &p.jwks_uri).await?;
        p.jwks = Some(serde_json::from_value(keys).map_err(|e| SignInError::Provider(format!("the key set does not decode: {e}")))?);
    }
    Ok(p.clone())
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/api/auth/oidc/callback", state.base_url)
}

/// Starts a sign-in: where to send the browser (the provider's authorization page, with a
/// one-time state, a nonce and a PKCE challenge kept here), bound to `binding` (a secret the
/// browser keeps in a cookie).
pub async fn start(state: &AppState, binding: &str) -> Result<String, SignInError> {
    let s = state.settings.oidc.clone().ok_or(SignInError::Off)?;
    let p = provider(state, &s, false).await?;
    let login_state = auth::new_secret("");
    let nonce = auth::new_secret("");
    let verifier = auth::new_secret("");
    state.store.save_oidc_login(&auth::hash_secret(&login_state), &auth::hash_secret(binding), &verifier, &nonce, state.now()).await?;
    let mut url = reqwest::Url::parse(&p.authorization_endpoint).map_err(|e| SignInError::Provider(e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &s.client_id)
        .append_pair("redirect_uri", &redirect_uri(state))
        .append_pair("scope", "openid email profile")
        .append_pair("state", &login_state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &jwt::pkce_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.to_string())
}

/// Finishes a sign-in from the provider's redirect: the code is exchanged (with the PKCE
/// verifier), the ID token verified, and the account with its verified email returned.
pub async fn finish(state: &AppState, code: &str, login_state: &str, binding: &str) -> Result<crate::store::User, SignInError> {
    let s = state.settings.oidc.clone().ok_or(SignInError::Off)?;
    let (verifier, nonce) =
        state.store.take_oidc_login(&auth::hash_secret(login_state), &auth::hash_secret(binding), state.now()).await?.ok_or(SignInError::Expired)?;
    let p = provider(state, &s, false).await?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &redirect_uri(state))
        .append_pair("code_verifier", &verifier)
        .append_pair("client_id", &s.client_id)
        .finish();
    let mut req =
        client(state)?.post(&p.token_endpoint).header("content-type", "application/x-www-form-urlencoded").header("accept", "application/json");
    if let Some(secret) = &s.client_secret {
        req = req.basic_auth(
            url::form_urlencoded::byte_serialize(s.client_id.as_bytes()).collect::<String>(),
            Some(url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()),
        );
    }
    let res = req.body(body).send().await.map_err(|e| SignInError::Provider(e.to_string()))?;
    if !res.status().is_success() {
        let status = res.status();
        let why = res
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("error_description").or(v.get("error")).and_then(|e| e.as_str()).map(str::to_string));
        return Err(SignInError::Provider(format!("the token endpoint answered {status}{}", why.map(|w| format!(": {w}")).unwrap_or_default())));
    }
    let tokens: serde_json::Value = res.json().await.map_err(|e| SignInError::Provider(e.to_string()))?;
    let id_token = tokens.get("id_token").and_then(|t| t.as_str()).ok_or_else(|| SignInError::Provider("no ID token in the answer".into()))?;
    // A key not seen yet: the provider may have rotated its keys.
    let known =
        jwt::key_id(id_token).is_none_or(|kid| p.jwks.as_ref().is_some_and(|k| k.keys.iter().any(|k| k.kid.as_deref() == Some(kid.as_str()))));
    let p = if known { p } else { provider(state, &s, true).await? };
    let claims = jwt::verify(id_token, p.jwks.as_ref().expect("fetched"))?;
    let sub = jwt::check_token(&claims, &Expect { issuer: &p.issuer, client_id: &s.client_id, nonce: &nonce, now: state.now().div_euclid(1000) })?;
    // Providers may keep the email for the user info endpoint (OpenID Connect Core 5.4): asked
    // there with the access token, for the same subject.
    let email = if claims.get("email").is_some() {
        jwt::verified_email(&claims)?
    } else {
        let (Some(endpoint), Some(access)) = (p.userinfo_endpoint.as_deref(), tokens.get("access_token").and_then(|t| t.as_str())) else {
            return Err(jwt::TokenError::Claims("carries no email (ask for the email scope)").into());
        };
        let res = client(state)?
            .get(endpoint)
            .bearer_auth(access)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        if !res.status().is_success() {
            return Err(SignInError::Provider(format!("the user info endpoint answered {}", res.status())));
        }
        let info: serde_json::Value = res.json().await.map_err(|e| SignInError::Provider(format!("the user info does not decode: {e}")))?;
        if info.get("sub").and_then(|v| v.as_str()) != Some(sub.as_str()) {
            return Err(jwt::TokenError::Claims("and the user info name different people").into());
        }
        jwt::verified_email(&info)?
    };
    let (user, _) = state.store.credentials(&email).await?.ok_or(SignInError::NoAccount(email))?;
    Ok(user)
}

/// The cache every node keeps for itself.
pub fn cache() -> Arc<Cache> {
    Arc::new(Cache::default())
}
