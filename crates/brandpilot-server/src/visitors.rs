//! Anonymous visitor sessions of the website widget: a random visitor id and the brand it
//! belongs to, signed (HMAC-SHA256) with a key the database keeps, and an expiry. The
//! widget keeps the token in the page's local storage and sends it as a bearer token; the
//! server needs no session table, and a token is good only for the brand it was made for.
//! A visitor token can never pass as an access token: it has its own `bpv1.` form and its
//! own key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use brandpilot_core::BrandId;
use ring::hmac;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "bpv1.";

/// What a visitor token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    #[serde(rename = "b")]
    pub brand: i64,
    /// Random, URL-safe: the conversation's end user is `visitor:<id>`.
    #[serde(rename = "v")]
    pub id: String,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
}

pub struct VisitorTokens {
    key: hmac::Key,
}

impl VisitorTokens {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    pub fn issue(&self, visitor: &Visitor) -> String {
        let payload = BASE64URL.encode(serde_json::to_vec(visitor).unwrap_or_default());
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{PREFIX}{payload}.{}", BASE64URL.encode(tag.as_ref()))
    }

    /// The visitor a token names, if it is signed with our key, not expired at `now` (Unix
    /// seconds) and made for `brand`.
    pub fn check(&self, token: &str, brand: BrandId, now: i64) -> Option<Visitor> {
        let (payload, tag) = token.strip_prefix(PREFIX)?.split_once('.')?;
        let tag = BASE64URL.decode(tag).ok()?;
        hmac::verify(&self.key, payload.as_bytes(), &tag).ok()?;
        let visitor: Visitor = serde_json::from_slice(&BASE64URL.decode(payload).ok()?).ok()?;
        (visitor.brand == brand.0 && visitor.expires_at > now).then_some(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(brand: i64, expires_at: i64) -> Visitor {
        Visitor {
            brand,
            id: "v-1".into(),
            expires_at,
        }
    }

    #[test]
    fn a_token_is_good_for_its_brand_until_it_expires() {
        let tokens = VisitorTokens::new(b"0123456789abcdef0123456789abcdef");
        let token = tokens.issue(&visitor(7, 1_000));
        assert_eq!(
            tokens.check(&token, BrandId(7), 999),
            Some(visitor(7, 1_000))
        );
        assert_eq!(tokens.check(&token, BrandId(8), 999), None, "another brand");
        assert_eq!(tokens.check(&token, BrandId(7), 1_000), None, "expired");
    }

    #[test]
    fn a_changed_or_foreign_token_is_refused() {
        let tokens = VisitorTokens::new(b"0123456789abcdef0123456789abcdef");
        let token = tokens.issue(&visitor(7, 1_000));
        // Someone else's visitor id, or a later expiry, under the old signature.
        let (_, tag) = token.rsplit_once('.').unwrap();
        for claims in [
            Visitor {
                id: "v-2".into(),
                ..visitor(7, 1_000)
            },
            visitor(7, 9_999),
        ] {
            let payload = BASE64URL.encode(serde_json::to_vec(&claims).unwrap());
            let forged = format!("{PREFIX}{payload}.{tag}");
            assert_eq!(tokens.check(&forged, BrandId(7), 0), None);
        }
        let other = VisitorTokens::new(b"another key, another server......");
        assert_eq!(other.check(&token, BrandId(7), 0), None);
        for junk in [
            "",
            "bpv1.",
            "bpv1..",
            "bpv1.x.y",
            "eyJhbGciOi.x.y",
            &token[1..],
        ] {
            assert_eq!(tokens.check(junk, BrandId(7), 0), None, "{junk}");
        }
    }
}
