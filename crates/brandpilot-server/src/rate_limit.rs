//! Token-bucket rate limits, per client IP, per API key and per signed-in person (all of a
//! person's sessions share one bucket), with a much tighter bucket per address for the
//! sign-in routes (password guessing), the `RateLimit-*` headers of the IETF draft and
//! `Retry-After` on 429.
//!
//! A key's or a person's bucket follows the rate tier of their workspace's plan. The limit
//! is checked before the request is authenticated (a flood must not reach the store), so
//! the tier comes from [`RateTiers`]: what authentication learnt about the same credential
//! on its previous request. A credential's first request, and one that never
//! authenticates, gets the server's default tier; a person acting in workspaces on
//! different plans gets the tier of the one they last acted in.
//!
//! The bucket is GCRA (the generic cell rate algorithm): per key one number, the
//! theoretical arrival time (TAT) of the next request if the client sent at exactly the
//! allowed rate. A request at `now` is allowed when `max(TAT, now) + interval - now` stays
//! within the burst allowance; it then moves TAT forward by one interval. This is the same
//! admission as a bucket of `burst` tokens refilled every `interval`, without a refill timer.
//! Keys live in 16 mutex-guarded shards; entries whose bucket is full again are dropped once
//! a shard grows, so memory follows the active clients, not every address ever seen.

use crate::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;
/// A shard larger than this drops its full buckets on the next insert.
const SWEEP_ABOVE: usize = 4_096;

/// Requests per minute with a burst allowance; `per_minute == 0` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

impl Quota {
    fn interval_nanos(self) -> u64 {
        60_000_000_000 / u64::from(self.per_minute.max(1))
    }
    fn tolerance_nanos(self) -> u64 {
        self.interval_nanos() * u64::from(self.burst.max(1))
    }
}

/// Whose bucket a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKey {
    Ip(IpAddr),
    /// Sign-up, log-in and refresh from one address.
    SignIn(IpAddr),
    /// The first 16 bytes of the presented credential's SHA-256 (never the credential).
    Credential([u8; 16]),
    /// A signed-in person, whichever of their access tokens they present.
    User(i64),
    /// A widget visitor of a brand (by the visitor id its session token carries).
    Visitor(i64, String),
    /// New widget sessions from one address.
    WidgetSessions(IpAddr),
}

/// The outcome of one check, with what the headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
    /// When limited: until the next request would be allowed.
    pub retry_after: Duration,
}

pub struct RateLimiter {
    shards: Vec<Mutex<HashMap<LimitKey, u64>>>,
    epoch: Instant,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            epoch: Instant::now(),
        }
    }
}

impl RateLimiter {
    pub fn check(&self, key: &LimitKey, quota: Quota) -> Decision {
        let now = self.epoch.elapsed().as_nanos() as u64;
        self.check_at(key, quota, now)
    }

    /// [`Self::check`] at a given time (nanoseconds on the limiter's clock), for tests.
    pub fn check_at(&self, key: &LimitKey, quota: Quota, now: u64) -> Decision {
        let interval = quota.interval_nanos();
        let tolerance = quota.tolerance_nanos();
        let shard = &self.shards[shard_of(key)];
        let mut buckets = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let tat = buckets.get(key).copied().unwrap_or(now).max(now);
        let next = tat + interval;
        let used = next - now;
        if used > tolerance {
            let backlog = tat - now;
            return Decision {
                allowed: false,
                limit: quota.burst,
                remaining: 0,
                reset: Duration::from_nanos(backlog),
                retry_after: Duration::from_nanos(used - tolerance),
            };
        }
        if buckets.len() > SWEEP_ABOVE && !buckets.contains_key(key) {
            buckets.retain(|_, tat| *tat > now);
        }
        buckets.insert(key.clone(), next);
        Decision {
            allowed: true,
            limit: quota.burst,
            remaining: ((tolerance - used) / interval) as u32,
            reset: Duration::from_nanos(used),
            retry_after: Duration::ZERO,
        }
    }
}

fn shard_of(key: &LimitKey) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() as usize) % SHARDS
}

/// The rate tier of each credential's workspace plan, as authentication last found it.
#[derive(Default)]
pub struct RateTiers {
    tiers: Mutex<HashMap<LimitKey, (Quota, Instant)>>,
}

/// Entries not refreshed for this long are dropped once the map grows past
/// [`SWEEP_ABOVE`] times the shard count.
const TIER_IDLE: Duration = Duration::from_secs(600);

impl RateTiers {
    pub fn remember(&self, key: LimitKey, quota: Quota) {
        let mut tiers = self.tiers.lock().unwrap_or_else(|p| p.into_inner());
        if tiers.len() > SWEEP_ABOVE * SHARDS && !tiers.contains_key(&key) {
            tiers.retain(|_, (_, seen)| seen.elapsed() < TIER_IDLE);
        }
        tiers.insert(key, (quota, Instant::now()));
    }

    pub fn get(&self, key: &LimitKey) -> Option<Quota> {
        let tiers = self.tiers.lock().unwrap_or_else(|p| p.into_inner());
        tiers.get(key).map(|(quota, _)| *quota)
    }
}

/// The bucket a presented credential draws from: a person's, whichever access token they
/// present, else the credential's own (an API key; a forged token names nobody and draws
/// from the bucket of its own text).
pub(crate) fn credential_key(credential: &str, tokens: &crate::tokens::AccessTokens) -> LimitKey {
    match tokens.verify(credential, crate::tokens::now_secs()) {
        Ok(user) if !credential.starts_with("bpk_") => LimitKey::User(user.0),
        _ => {
            let digest = Sha256::digest(credential.as_bytes());
            let mut key = [0u8; 16];
            key.copy_from_slice(&digest[..16]);
            LimitKey::Credential(key)
        }
    }
}

/// The limits the middleware applies.
#[derive(Clone)]
pub(crate) struct Limits {
    pub limiter: Arc<RateLimiter>,
    pub per_ip: Quota,
    /// The default tier of keys and people, until [`RateTiers`] knows their plan's.
    pub per_credential: Quota,
    pub tiers: Arc<RateTiers>,
    /// The sign-in routes, per address.
    pub sign_in: Quota,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Checks access tokens, so a person's bucket is keyed by who they are (a forged
    /// token names nobody and draws from the bucket of its own text).
    pub tokens: Arc<crate::tokens::AccessTokens>,
}

/// The address a request comes from. Behind a trusted reverse proxy the peer is the proxy,
/// so the client is the last `X-Forwarded-For` hop that is not itself a trusted proxy; from
/// anyone else the header is ignored (a client could write anything in it).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted_proxies.contains(hop))
        .unwrap_or(peer)
}

/// Checks the client's IP bucket and, when a credential is presented, its bucket too;
/// health probes are exempt. Every limited route's response carries the `RateLimit-*`
/// headers of the tighter bucket.
pub(crate) async fn rate_limit(
    State(limits): State<Limits>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let mut decisions = Vec::with_capacity(3);
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| client_ip(peer.ip(), request.headers(), &limits.trusted_proxies));
    if let Some(ip) = ip {
        if limits.per_ip.per_minute > 0 {
            decisions.push(limits.limiter.check(&LimitKey::Ip(ip), limits.per_ip));
        }
        if limits.sign_in.per_minute > 0 && is_sign_in(path) {
            decisions.push(limits.limiter.check(&LimitKey::SignIn(ip), limits.sign_in));
        }
    }
    if let Some(credential) = crate::auth::presented_key(request.headers()) {
        let key = credential_key(credential, &limits.tokens);
        let quota = limits.tiers.get(&key).unwrap_or(limits.per_credential);
        if quota.per_minute > 0 {
            decisions.push(limits.limiter.check(&key, quota));
        }
    }
    let Some(tightest) = decisions
        .iter()
        .copied()
        .min_by_key(|d| (d.allowed, d.remaining))
    else {
        return next.run(request).await;
    };
    if !tightest.allowed {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests; retry in {} s",
                seconds_up(tightest.retry_after)
            ),
        )
        .into_response();
        rate_limit_headers(response.headers_mut(), &tightest);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(seconds_up(tightest.retry_after)),
        );
        return response;
    }
    let mut response = next.run(request).await;
    rate_limit_headers(response.headers_mut(), &tightest);
    response
}

/// The routes that take a password or a refresh token.
fn is_sign_in(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/auth/login" | "/api/v1/auth/signup" | "/api/v1/auth/refresh"
    )
}

fn seconds_up(duration: Duration) -> u64 {
    duration.as_nanos().div_ceil(1_000_000_000) as u64
}

fn rate_limit_headers(headers: &mut HeaderMap, decision: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert(
        "ratelimit-reset",
        HeaderValue::from(seconds_up(decision.reset)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn key(n: u8) -> LimitKey {
        LimitKey::Credential([n; 16])
    }

    #[test]
    fn a_burst_is_allowed_then_requests_refill_at_the_rate() {
        let limiter = RateLimiter::default();
        let quota = Quota {
            per_minute: 60,
            burst: 3,
        };
        let t0 = 1_000 * SECOND;
        let remaining: Vec<_> = (0..3)
            .map(|_| limiter.check_at(&key(1), quota, t0))
            .map(|d| {
                assert!(d.allowed);
                d.remaining
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check_at(&key(1), quota, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(refused.reset, Duration::from_secs(3));
        // Half a second later: still refused, half a second to go.
        let refused = limiter.check_at(&key(1), quota, t0 + SECOND / 2);
        assert_eq!(refused.retry_after, Duration::from_millis(500));
        // One interval later exactly one more request fits.
        assert!(limiter.check_at(&key(1), quota, t0 + SECOND).allowed);
        assert!(!limiter.check_at(&key(1), quota, t0 + SECOND).allowed);
        // A long pause refills the bucket to the burst, not beyond.
        let later = t0 + 3_600 * SECOND;
        let allowed = (0..10)
            .filter(|_| limiter.check_at(&key(1), quota, later).allowed)
            .count();
        assert_eq!(allowed, 3);
    }

    #[test]
    fn keys_have_separate_buckets_and_refusals_do_not_consume() {
        let limiter = RateLimiter::default();
        let quota = Quota {
            per_minute: 60,
            burst: 1,
        };
        let t0 = 50 * SECOND;
        assert!(limiter.check_at(&key(1), quota, t0).allowed);
        assert!(limiter.check_at(&key(2), quota, t0).allowed);
        assert!(
            limiter
                .check_at(&LimitKey::Ip([127, 0, 0, 1].into()), quota, t0)
                .allowed
        );
        // Hammering while limited does not push the next allowed time further away.
        for _ in 0..100 {
            assert!(!limiter.check_at(&key(1), quota, t0 + SECOND / 10).allowed);
        }
        assert!(limiter.check_at(&key(1), quota, t0 + SECOND).allowed);
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = [10, 0, 0, 2].into();
        let client: IpAddr = [203, 0, 113, 7].into();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.7".parse().unwrap(),
        );
        // From the proxy: the last hop it added is the client (the first is client-written).
        assert_eq!(client_ip(proxy, &headers, &[proxy]), client);
        // From anyone else the header is ignored.
        assert_eq!(client_ip(client, &headers, &[proxy]), client);
        let stranger: IpAddr = [192, 0, 2, 9].into();
        assert_eq!(client_ip(stranger, &headers, &[proxy]), stranger);
        // Two proxies in a row are both skipped; garbage hops are ignored.
        headers.insert(
            "x-forwarded-for",
            "203.0.113.7, junk, 10.0.0.3".parse().unwrap(),
        );
        let inner: IpAddr = [10, 0, 0, 3].into();
        assert_eq!(client_ip(proxy, &headers, &[proxy, inner]), client);
        // No header: the peer itself.
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }

    #[test]
    fn full_buckets_are_swept_when_a_shard_grows() {
        let limiter = RateLimiter::default();
        let quota = Quota {
            per_minute: 600,
            burst: 5,
        };
        for i in 0..(SHARDS * SWEEP_ABOVE + 1000) as u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            limiter.check_at(&LimitKey::Ip(ip), quota, SECOND);
        }
        // An hour later every bucket is full again; new clients trigger sweeps.
        for i in 0..(SHARDS * 64) as u32 {
            let ip = IpAddr::from((u32::MAX - i).to_be_bytes());
            limiter.check_at(&LimitKey::Ip(ip), quota, 3_600 * SECOND);
        }
        let total: usize = limiter.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(total < SHARDS * SWEEP_ABOVE, "{total} entries kept");
    }
}
