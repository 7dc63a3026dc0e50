//! Access tokens: short-lived JWTs (RFC 7519) signed with HMAC-SHA256 (RFC 7518 `HS256`),
//! naming the signed-in user.
//!
//! Only `HS256` is accepted, whatever the token's header claims (`none`, `HS512` and the
//! public-key algorithms are refused before anything else is read), the signature is checked
//! in constant time before the claims are parsed, and issuer, audience and expiry must all
//! match. Tokens carry no role: the role is read from the store on every request, so a
//! changed role or a removed member takes effect at once, not when the token expires.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use brandpilot_core::UserId;
use ring::hmac;
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "brandpilot";
pub const AUDIENCE: &str = "brandpilot-api";
/// Clock difference tolerated between replicas, in seconds.
const LEEWAY_SECS: i64 = 30;
/// Longer input is never a token of ours; refused before decoding.
const MAX_TOKEN_LEN: usize = 2048;

/// Why a presented access token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed")]
    Malformed,
    #[error("the access token must be signed with HS256")]
    WrongAlgorithm,
    #[error("the access token's signature is invalid")]
    BadSignature,
    #[error("the access token has expired; refresh it")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token was issued for another service")]
    WrongAudience,
    #[error("the access token was issued by someone else")]
    WrongIssuer,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: Audience,
    sub: String,
    iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    exp: i64,
    /// A random id, so no two tokens are the same even within one second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
}

/// RFC 7519 allows one audience or several.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn includes(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

/// Issues and checks access tokens with one key.
pub struct AccessTokens {
    key: hmac::Key,
    ttl_secs: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("key", &"<redacted>")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl AccessTokens {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            ttl_secs: i64::try_from(ttl_secs.max(1)).unwrap_or(i64::MAX / 4),
        }
    }

    /// How long a token lives, in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// A token for `user`, issued at `now` (Unix seconds).
    pub fn issue(&self, user: UserId, now: i64) -> String {
        let header = Header {
            alg: "HS256".into(),
            typ: Some("JWT".into()),
        };
        let claims = Claims {
            iss: ISSUER.into(),
            aud: Audience::One(AUDIENCE.into()),
            sub: user.0.to_string(),
            iat: now,
            nbf: None,
            exp: now.saturating_add(self.ttl_secs),
            jti: Some(token_id()),
        };
        self.sign_parts(&header, &claims)
    }

    fn sign_parts(&self, header: &Header, claims: &Claims) -> String {
        // Serialising these two plain structs cannot fail.
        let header = serde_json::to_vec(header).unwrap_or_default();
        let claims = serde_json::to_vec(claims).unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = hmac::sign(&self.key, signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }

    /// The user a token names, if it is ours, intact and current at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<UserId, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = decode_json(header_part)?;
        if header.alg != "HS256" {
            return Err(TokenError::WrongAlgorithm);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_part)
            .map_err(|_| TokenError::Malformed)?;
        let signing_input = &token[..header_part.len() + 1 + claims_part.len()];
        hmac::verify(&self.key, signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims = decode_json(claims_part)?;
        if claims.iss != ISSUER {
            return Err(TokenError::WrongIssuer);
        }
        if !claims.aud.includes(AUDIENCE) {
            return Err(TokenError::WrongAudience);
        }
        if now >= claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::Expired);
        }
        let not_before = claims.nbf.map_or(claims.iat, |nbf| nbf.max(claims.iat));
        if not_before > now.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
        claims
            .sub
            .parse()
            .map(UserId)
            .map_err(|_| TokenError::Malformed)
    }
}

fn token_id() -> String {
    let mut bytes = [0u8; 12];
    // Without randomness the id is only less unique; the token is still sound.
    let _ = getrandom::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn tokens() -> AccessTokens {
        AccessTokens::new(b"a test key that is long enough....", 900)
    }

    /// A token with any header and claims, signed with `key` as HS256 whatever the header says.
    fn hand_made(key: &[u8], header: serde_json::Value, claims: serde_json::Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn claims(exp: i64) -> serde_json::Value {
        serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "7", "iat": NOW, "exp": exp})
    }

    #[test]
    fn a_token_names_its_user_until_it_expires() {
        let tokens = tokens();
        let token = tokens.issue(UserId(7), NOW);
        assert_eq!(tokens.verify(&token, NOW), Ok(UserId(7)));
        assert_ne!(
            token,
            tokens.issue(UserId(7), NOW),
            "every token is its own"
        );
        assert_eq!(tokens.verify(&token, NOW + 899), Ok(UserId(7)));
        assert_eq!(
            tokens.verify(&token, NOW + 900 + LEEWAY_SECS),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn another_key_a_changed_claim_or_another_algorithm_is_refused() {
        let tokens = tokens();
        let token = tokens.issue(UserId(7), NOW);
        let other = AccessTokens::new(b"another key, just as long as that", 900);
        assert_eq!(other.verify(&token, NOW), Err(TokenError::BadSignature));

        // Claims edited after signing (user 7 becomes user 1).
        let parts: Vec<&str> = token.split('.').collect();
        let edited = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "1", "iat": NOW, "exp": NOW + 900});
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(edited.to_string()),
            parts[2]
        );
        assert_eq!(tokens.verify(&forged, NOW), Err(TokenError::BadSignature));

        let key = b"a test key that is long enough....";
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims(NOW + 900).to_string())
        );
        assert_eq!(tokens.verify(&none, NOW), Err(TokenError::WrongAlgorithm));
        let hs512 = hand_made(key, serde_json::json!({"alg": "HS512"}), claims(NOW + 900));
        assert_eq!(tokens.verify(&hs512, NOW), Err(TokenError::WrongAlgorithm));
        let good = hand_made(key, serde_json::json!({"alg": "HS256"}), claims(NOW + 900));
        assert_eq!(tokens.verify(&good, NOW), Ok(UserId(7)));
    }

    #[test]
    fn issuer_audience_and_time_are_checked() {
        let tokens = tokens();
        let key = b"a test key that is long enough....";
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let mut wrong_aud = claims(NOW + 900);
        wrong_aud["aud"] = "someone-else".into();
        assert_eq!(
            tokens.verify(&hand_made(key, header.clone(), wrong_aud), NOW),
            Err(TokenError::WrongAudience)
        );
        let mut listed = claims(NOW + 900);
        listed["aud"] = serde_json::json!(["x", AUDIENCE]);
        assert_eq!(
            tokens.verify(&hand_made(key, header.clone(), listed), NOW),
            Ok(UserId(7))
        );
        let mut wrong_iss = claims(NOW + 900);
        wrong_iss["iss"] = "evil".into();
        assert_eq!(
            tokens.verify(&hand_made(key, header.clone(), wrong_iss), NOW),
            Err(TokenError::WrongIssuer)
        );
        let mut future = claims(NOW + 10_000);
        future["nbf"] = (NOW + 5_000).into();
        assert_eq!(
            tokens.verify(&hand_made(key, header.clone(), future), NOW),
            Err(TokenError::NotYetValid)
        );
        let mut no_user = claims(NOW + 900);
        no_user["sub"] = "ada".into();
        assert_eq!(
            tokens.verify(&hand_made(key, header, no_user), NOW),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn malformed_input_is_refused_without_panicking() {
        let tokens = tokens();
        for bad in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "bpk_abc",
            "eyJhbGciOiJIUzI1NiJ9..",
            "eyJhbGciOiJIUzI1NiJ9.e30.!!!",
            "é.é.é",
        ] {
            assert!(tokens.verify(bad, NOW).is_err(), "{bad:?}");
        }
        assert_eq!(
            tokens.verify(&"a".repeat(5000), NOW),
            Err(TokenError::Malformed)
        );
    }
}
