//! Fetching a web page a user names (add-by-URL) without letting them use the server to
//! reach its own network: the classic server-side request forgery (SSRF) hole.
//!
//! Every way to an internal address is closed: the URL's own host when it is an address
//! (the `url` parser already turns `http://2130706433/` and `http://127.1/` into
//! `127.0.0.1`), every address a host name resolves to (a name with any internal address is
//! refused, not filtered), and each redirect hop (scheme, port and address again). The
//! resolver that vets the addresses is the one the connection uses, so there is no second
//! lookup for DNS rebinding to answer differently. Proxies from the environment are
//! ignored (a proxy would resolve the name itself, past the vetting). Bodies are read
//! against a byte cap whatever `Content-Length` claims, with connect, read and total
//! timeouts. Errors say what was refused, never which internal address a name resolved to.

pub mod policy;

pub use policy::AddressPolicy;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Why a page could not be fetched. Messages are written for the person who gave the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0:?} is not a valid URL")]
    InvalidUrl(String),
    #[error("only http and https URLs can be fetched, not {0}")]
    UnsupportedScheme(String),
    #[error("port {0} is not allowed; ask an administrator to add it to fetch.allowed_ports")]
    PortNotAllowed(u16),
    #[error("URLs with a user name or password are not fetched")]
    Credentials,
    #[error(
        "this address is on a private, loopback or reserved network, which the server does \
         not fetch from"
    )]
    Blocked,
    #[error("the host name could not be resolved")]
    Unresolvable,
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("the page answered HTTP {0}")]
    Status(u16),
    #[error("the page is larger than the {0}-byte limit")]
    TooLarge(u64),
    #[error("the page took too long to answer")]
    Timeout,
    #[error("the page could not be reached: {0}")]
    Unreachable(String),
}

impl FetchError {
    /// Whether trying again later may succeed (timeouts, server errors, resets).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout | FetchError::Unreachable(_) => true,
            FetchError::Status(status) => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// How fetching is bounded.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub max_bytes: u64,
    pub max_redirects: usize,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of the body.
    pub read_timeout: Duration,
    /// Longest the whole fetch may take.
    pub total_timeout: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
        }
    }
}

/// A fetched page.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the page was in the end, after redirects.
    pub url: Url,
    /// What the server said it is (a hint: formats are sniffed from the bytes).
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Resolves a host name to addresses. The system resolver by default; tests inject one to
/// play DNS tricks.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The system's resolver (through tokio).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .map(|address| address.ip())
                .collect())
        })
    }
}

/// The marker a refused address leaves in the error chain.
#[derive(Debug)]
struct Refused(FetchError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

/// Resolves with [`Lookup`], then refuses the name if any address is not allowed.
struct VettingResolver {
    lookup: Arc<dyn Lookup>,
    policy: Arc<AddressPolicy>,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.lookup.clone();
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            type Failure = Box<dyn std::error::Error + Send + Sync>;
            let refused = |error: FetchError| -> Failure { Box::new(Refused(error)) };
            let addresses = lookup
                .lookup(host)
                .await
                .map_err(|_| refused(FetchError::Unresolvable))?;
            if addresses.is_empty() {
                return Err(refused(FetchError::Unresolvable));
            }
            // A mixed answer (public and internal) is refused whole: filtering would let
            // a rebinding server steer which address is used.
            if addresses.iter().any(|ip| !policy.allows(*ip)) {
                return Err(refused(FetchError::Blocked));
            }
            let addrs: Addrs = Box::new(
                addresses
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}

/// Fetches pages within an [`AddressPolicy`] and [`FetchLimits`].
pub struct Fetcher {
    client: reqwest::Client,
    /// For [`Fetcher::post`]: the same vetting resolver, and no redirects.
    poster: reqwest::Client,
    policy: Arc<AddressPolicy>,
    limits: FetchLimits,
}

impl Fetcher {
    pub fn new(policy: AddressPolicy, limits: FetchLimits) -> Result<Self, FetchError> {
        Self::with_lookup(policy, limits, Arc::new(SystemLookup))
    }

    /// The same, resolving names with `lookup`.
    pub fn with_lookup(
        policy: AddressPolicy,
        limits: FetchLimits,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, FetchError> {
        let policy = Arc::new(policy);
        let redirect_policy = {
            let policy = policy.clone();
            let max = limits.max_redirects;
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > max {
                    return attempt.error(Refused(FetchError::TooManyRedirects(max)));
                }
                match check_url(attempt.url(), &policy) {
                    Ok(()) => attempt.follow(),
                    Err(error) => attempt.error(Refused(error)),
                }
            })
        };
        let builder = || {
            reqwest::Client::builder()
                .no_proxy()
                .dns_resolver(Arc::new(VettingResolver {
                    lookup: lookup.clone(),
                    policy: policy.clone(),
                }))
                .connect_timeout(limits.connect_timeout)
                .read_timeout(limits.read_timeout)
                .timeout(limits.total_timeout)
                .user_agent(concat!("Brandpilot/", env!("CARGO_PKG_VERSION")))
        };
        let unreachable = |error: reqwest::Error| FetchError::Unreachable(error.to_string());
        let client = builder()
            .redirect(redirect_policy)
            .build()
            .map_err(unreachable)?;
        let poster = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(unreachable)?;
        Ok(Self {
            client,
            poster,
            policy,
            limits,
        })
    }

    /// The URL parsed, if it passes every check that needs no network (scheme, port,
    /// credentials, an address host): for answering at once, before a fetch is queued.
    pub fn check(&self, url: &str) -> Result<Url, FetchError> {
        let parsed = Url::parse(url.trim()).map_err(|_| FetchError::InvalidUrl(url.to_owned()))?;
        check_url(&parsed, &self.policy)?;
        Ok(parsed)
    }

    /// Fetches `url`, following allowed redirects, reading at most the byte cap.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = self.check(url)?;
        let mut response = self.client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.limits.max_bytes)
        {
            return Err(FetchError::TooLarge(self.limits.max_bytes));
        }
        let final_url = response.url().clone();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if (bytes.len() + chunk.len()) as u64 > self.limits.max_bytes {
                return Err(FetchError::TooLarge(self.limits.max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            url: final_url,
            content_type,
            bytes,
        })
    }
}

impl Fetcher {
    /// Posts `body` to `url` with `headers` (a webhook delivery): the same address checks
    /// as a fetch, no redirects (a receiver that moved answers 3xx, which is a failure like
    /// any status outside 2xx), and the answer's body is not read. The status on success.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<u16, FetchError> {
        let url = self.check(url)?;
        let mut request = self.poster.post(url).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        Ok(status.as_u16())
    }
}

/// The checks a URL passes before any connection: scheme, credentials, port, and the host
/// itself when it is an address (an address host skips the resolver).
fn check_url(url: &Url, policy: &AddressPolicy) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::UnsupportedScheme(url.scheme().to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::Credentials);
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::InvalidUrl(url.to_string()))?;
    if !policy.allows_port(port) {
        return Err(FetchError::PortNotAllowed(port));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(FetchError::InvalidUrl(url.to_string())),
    };
    if ip.is_some_and(|ip| !policy.allows(ip)) {
        return Err(FetchError::Blocked);
    }
    Ok(())
}

/// What a reqwest error means for the person: our own refusal if one is in the chain.
fn classify(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = source {
        if let Some(Refused(refusal)) = current.downcast_ref::<Refused>() {
            return match refusal {
                FetchError::Blocked => FetchError::Blocked,
                FetchError::Unresolvable => FetchError::Unresolvable,
                FetchError::TooManyRedirects(max) => FetchError::TooManyRedirects(*max),
                FetchError::UnsupportedScheme(scheme) => {
                    FetchError::UnsupportedScheme(scheme.clone())
                }
                FetchError::PortNotAllowed(port) => FetchError::PortNotAllowed(*port),
                FetchError::Credentials => FetchError::Credentials,
                other => FetchError::Unreachable(other.to_string()),
            };
        }
        source = current.source();
    }
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    // The chain below reqwest's message may name addresses the person never gave, so
    // only the kind of failure is told.
    FetchError::Unreachable(
        if error.is_connect() {
            "the connection was refused or failed"
        } else {
            "the connection broke off"
        }
        .to_owned(),
    )
}
