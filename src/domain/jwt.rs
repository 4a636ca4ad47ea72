//! ID tokens from an OpenID provider, the pure part: a compact JWS checked against the
//! provider's published keys (RS256 or ES256 only: never `none`, never a shared-secret HMAC a
//! key confusion could forge), then its claims against what the sign-in expects. PKCE's
//! challenge is here too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A key from the provider's JWKS document.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    // RSA
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    // EC
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the ID token is not a signed JWT")]
    Malformed,
    #[error("the ID token is signed with {0}, which Baton does not accept")]
    Algorithm(String),
    #[error("no key of the provider matches the ID token")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    Signature,
    #[error("the ID token {0}")]
    Claims(&'static str),
}

fn b64(s: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).map_err(|_| TokenError::Malformed)
}

/// The token's `kid`, when it names one (to know whether the key set must be fetched again).
pub fn key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let v: Value = serde_json::from_slice(&b64(header).ok()?).ok()?;
    v.get("kid").and_then(Value::as_str).map(str::to_string)
}

/// Checks the signature with the key set; the claims when it verifies.
pub fn verify(token: &str, jwks: &Jwks) -> Result<Value, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else { return Err(TokenError::Malformed) };
    let header: Value = serde_json::from_slice(&b64(h)?).map_err(|_| TokenError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("").to_string();
    let kid = header.get("kid").and_then(Value::as_str);
    let (kty, crv) = match alg.as_str() {
        "RS256" => ("RSA", None),
        "ES256" => ("EC", Some("P-256")),
        other => return Err(TokenError::Algorithm(if other.is_empty() { "no algorithm".into() } else { other.to_string() })),
    };
    let signed = format!("{h}.{p}");
    let sig = b64(s)?;
    let candidates = jwks.keys.iter().filter(|k| {
        k.kty == kty
            && kid.is_none_or(|kid| k.kid.as_deref() == Some(kid))
            && k.alg.as_deref().is_none_or(|a| a == alg)
            && k.use_.as_deref().is_none_or(|u| u == "sig")
            && crv.is_none_or(|c| k.crv.as_deref() == Some(c))
    });
    let mut any = false;
    for key in candidates {
        any = true;
        let ok = match kty {
            "RSA" => verify_rs256(key, signed.as_bytes(), &sig),
            _ => verify_es256(key, signed.as_bytes(), &sig),
        };
        if ok {
            return serde_json::from_slice(&b64(p)?).map_err(|_| TokenError::Malformed);
        }
    }
    Err(if any { TokenError::Signature } else { TokenError::UnknownKey })
}

fn verify_rs256(key: &Jwk, msg: &[u8], sig: &[u8]) -> bool {
    use rsa::signature::Verifier;
    let (Some(n), Some(e)) = (key.n.as_deref().and_then(|n| b64(n).ok()), key.e.as_deref().and_then(|e| b64(e).ok())) else { return false };
    let Ok(public) = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from_bytes_be(&e)) else { return false };
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(sig) else { return false };
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public).verify(msg, &signature).is_ok()
}

fn verify_es256(key: &Jwk, msg: &[u8], sig: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier;
    let (Some(x), Some(y)) = (key.x.as_deref().and_then(|x| b64(x).ok()), key.y.as_deref().and_then(|y| b64(y).ok())) else { return false };
    if x.len() != 32 || y.len() != 32 {
        return false;
    }
    let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    let Ok(vk) = p256::ecdsa::VerifyingKey::from_encoded_point(&point) else { return false };
    let Ok(signature) = p256::ecdsa::Signature::from_slice(sig) else { return false };
    vk.verify(msg, &signature).is_ok()
}

/// What a verified ID token must say for this sign-in.
pub struct Expect<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// Now, in seconds.
    pub now: i64,
}

/// The person signing in: their email, once the claims hold and it is verified.
pub fn check_claims(c: &Value, want: &Expect<'_>) -> Result<String, TokenError> {
    check_token(c, want)?;
    verified_email(c)
}

/// The ID token is for this sign-in (issuer, audience, time, nonce); its subject.
pub fn check_token(c: &Value, want: &Expect<'_>) -> Result<String, TokenError> {
    const SKEW: i64 = 120;
    if c.get("iss").and_then(Value::as_str) != Some(want.issuer) {
        return Err(TokenError::Claims("was issued by another provider"));
    }
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == want.client_id,
        Some(Value::Array(list)) => {
            list.iter().any(|a| a.as_str() == Some(want.client_id))
                && (list.len() == 1 || c.get("azp").and_then(Value::as_str) == Some(want.client_id))
        }
        _ => false,
    };
    if !aud_ok {
        return Err(TokenError::Claims("is meant for another application"));
    }
    match c.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp + SKEW > want.now => {}
        _ => return Err(TokenError::Claims("has expired")),
    }
    if c.get("iat").and_then(Value::as_i64).is_some_and(|iat| iat > want.now + SKEW) {
        return Err(TokenError::Claims("was issued in the future"));
    }
    if c.get("nonce").and_then(Value::as_str) != Some(want.nonce) {
        return Err(TokenError::Claims("belongs to another sign-in"));
    }
    c.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).ok_or(TokenError::Claims("names nobody (no subject)"))
}

/// The email in a set of claims (the ID token's, or the user info's), if the provider verified it.
pub fn verified_email(c: &Value) -> Result<String, TokenError> {
    let email = c.get("email").and_then(Value::as_str).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    let Some(email) = email else { return Err(TokenError::Claims("carries no email (ask for the email scope)")) };
    // Only an address the provider verified names a Baton account.
    let verified = matches!(c.get("email_verified"), Some(Value::Bool(true))) || c.get("email_verified").and_then(Value::as_str) == Some("true");
    if !verified {
        return Err(TokenError::Claims("carries an email the provider has not verified"));
    }
    Ok(email)
}

/// PKCE (S256): the challenge sent with the authorization request for `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn es256_key() -> (p256::ecdsa::SigningKey, Jwk) {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let point = sk.verifying_key().to_encoded_point(false);
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some("k1".into()),
            alg: Some("ES256".into()),
            use_: Some("sig".into()),
            n: None,
            e: None,
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(point.x().unwrap())),
            y: Some(URL_SAFE_NO_PAD.encode(point.y().unwrap())),
        };
        (sk, jwk)
    }

    fn sign(sk: &p256::ecdsa::SigningKey, header: Value, claims: Value) -> String {
        use p256::ecdsa::signature::Signer;
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let sig: p256::ecdsa::Signature = sk.sign(format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    fn claims() -> Value {
        json!({"iss": "https://id.test", "aud": "baton", "exp": 2000, "iat": 1000, "nonce": "n1", "email": "Ann@Acme.test", "email_verified": true, "sub": "ann"})
    }

    const WANT: Expect<'static> = Expect { issuer: "https://id.test", client_id: "baton", nonce: "n1", now: 1500 };

    #[test]
    fn a_signed_token_verifies_and_a_tampered_one_does_not() {
        let (sk, jwk) = es256_key();
        let jwks = Jwks { keys: vec![jwk] };
        let token = sign(&sk, json!({"alg": "ES256", "kid": "k1"}), claims());
        let c = verify(&token, &jwks).unwrap();
        assert_eq!(check_claims(&c, &WANT).unwrap(), "ann@acme.test");
        assert_eq!(key_id(&token).as_deref(), Some("k1"));
        // The payload changed after signing.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"email": "eve@acme.test"}).to_string());
        parts[1] = &forged;
        assert_eq!(verify(&parts.join("."), &jwks), Err(TokenError::Signature));
        // Another key, an unknown kid, alg none or HS256, junk.
        let other = sign(&p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap(), json!({"alg": "ES256", "kid": "k1"}), claims());
        assert_eq!(verify(&other, &jwks), Err(TokenError::Signature));
        assert_eq!(verify(&sign(&sk, json!({"alg": "ES256", "kid": "k2"}), claims()), &jwks), Err(TokenError::UnknownKey));
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()), URL_SAFE_NO_PAD.encode(claims().to_string()));
        assert_eq!(verify(&none, &jwks), Err(TokenError::Algorithm("none".into())));
        assert!(matches!(verify(&sign(&sk, json!({"alg": "HS256"}), claims()), &jwks), Err(TokenError::Algorithm(_))));
        assert_eq!(verify("a.b", &jwks), Err(TokenError::Malformed));
    }

    #[test]
    fn claims_must_fit_this_sign_in() {
        let ok = claims();
        assert!(check_claims(&ok, &WANT).is_ok());
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            c
        };
        for (c, why) in [
            (with("iss", json!("https://evil.test")), "another provider"),
            (with("aud", json!("other")), "another application"),
            (with("aud", json!(["baton", "other"])), "another application"),
            (with("exp", json!(1000)), "expired"),
            (with("iat", json!(9000)), "future"),
            (with("nonce", json!("n2")), "another sign-in"),
            (with("email_verified", json!(false)), "not verified"),
            (with("email", json!("")), "no email"),
        ] {
            let e = check_claims(&c, &WANT).unwrap_err();
            assert!(e.to_string().contains(why), "{e} for {c}");
        }
        let mut azp = with("aud", json!(["baton", "other"]));
        azp["azp"] = json!("baton");
        assert!(check_claims(&azp, &WANT).is_ok(), "several audiences with azp naming Baton");
    }

    #[test]
    fn pkce_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        assert_eq!(pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }
}
