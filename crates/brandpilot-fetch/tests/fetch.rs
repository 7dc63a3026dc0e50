//! Fetching against real sockets: a small HTTP server on loopback that can redirect, send
//! too much, or drip-feed, and an injectable resolver for DNS tricks. Loopback is internal,
//! so the server is reachable only where a test opens `127.0.0.1/32` and its exact port.

use brandpilot_fetch::{AddressPolicy, FetchError, FetchLimits, Fetcher, Lookup};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the test server answers for a path.
#[derive(Clone)]
enum Reply {
    Page(&'static str),
    Redirect(String),
    Status(u16),
    /// `n` bytes, with or without a Content-Length.
    Big {
        bytes: usize,
        declared: bool,
    },
    /// Headers, then one byte every `every`.
    Drip {
        every: Duration,
    },
}

struct Site {
    port: u16,
    connections: Arc<AtomicUsize>,
}

async fn site(route: fn(&str) -> Reply) -> Site {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let _ = answer(&mut socket, route(&path)).await;
            });
        }
    });
    Site { port, connections }
}

async fn answer(socket: &mut tokio::net::TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Page(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(body.as_bytes()).await
        }
        Reply::Redirect(location) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await
        }
        Reply::Status(status) => {
            let head =
                format!("HTTP/1.1 {status} Nope\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            socket.write_all(head.as_bytes()).await
        }
        Reply::Big { bytes, declared } => {
            let length = if declared {
                format!("content-length: {bytes}\r\n")
            } else {
                String::new()
            };
            socket
                .write_all(
                    format!("HTTP/1.1 200 OK\r\n{length}connection: close\r\n\r\n").as_bytes(),
                )
                .await?;
            let block = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent < bytes {
                let n = block.len().min(bytes - sent);
                socket.write_all(&block[..n]).await?;
                sent += n;
            }
            Ok(())
        }
        Reply::Drip { every } => {
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n")
                .await?;
            for _ in 0..100 {
                socket.write_all(b"x").await?;
                tokio::time::sleep(every).await;
            }
            Ok(())
        }
    }
}

fn limits() -> FetchLimits {
    FetchLimits {
        max_bytes: 1024 * 1024,
        read_timeout: Duration::from_millis(300),
        ..FetchLimits::default()
    }
}

/// A fetcher that may reach loopback only on `ports`.
fn opened(ports: &[u16]) -> Fetcher {
    Fetcher::new(
        AddressPolicy::new(&["127.0.0.1/32".into()], ports).unwrap(),
        limits(),
    )
    .unwrap()
}

/// A resolver with fixed answers, counting its calls.
struct FixedLookup {
    answers: Vec<IpAddr>,
    calls: AtomicUsize,
}

impl Lookup for FixedLookup {
    fn lookup(
        &self,
        _host: String,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answers = self.answers.clone();
        Box::pin(async move { Ok(answers) })
    }
}

#[tokio::test]
async fn an_opened_site_is_fetched_through_its_address_and_through_a_name() {
    let site = site(|_| Reply::Page("<html><title>Hi</title><p>Hello</p></html>")).await;
    let fetched = opened(&[site.port])
        .fetch(&format!("http://127.0.0.1:{}/page", site.port))
        .await
        .unwrap();
    assert_eq!(fetched.bytes, b"<html><title>Hi</title><p>Hello</p></html>");
    assert_eq!(fetched.content_type.as_deref(), Some("text/html"));

    // A name the resolver maps to the opened address is fetched at that address.
    let lookup = Arc::new(FixedLookup {
        answers: vec!["127.0.0.1".parse().unwrap()],
        calls: AtomicUsize::new(0),
    });
    let fetcher = Fetcher::with_lookup(
        AddressPolicy::new(&["127.0.0.1/32".into()], &[site.port]).unwrap(),
        limits(),
        lookup.clone(),
    )
    .unwrap();
    let fetched = fetcher
        .fetch(&format!("http://intranet.example:{}/", site.port))
        .await
        .unwrap();
    assert!(fetched.bytes.starts_with(b"<html>"));
    assert_eq!(lookup.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn internal_addresses_are_refused_before_any_connection() {
    let site = site(|_| Reply::Page("secret")).await;
    let port = site.port;
    // The port is allowed; the addresses are not.
    let fetcher = Fetcher::new(AddressPolicy::new(&[], &[port, 80]).unwrap(), limits()).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://[fd00::1]/".to_owned(),
    ] {
        let error = fetcher.fetch(&url).await.unwrap_err();
        assert!(matches!(error, FetchError::Blocked), "{url}: {error:?}");
        let message = error.to_string();
        for address in ["127.0.0.1", "::1", "169.254", "10.0.0.1"] {
            assert!(!message.contains(address), "{url}: {message}");
        }
    }
    assert_eq!(
        site.connections.load(Ordering::SeqCst),
        0,
        "nothing connected"
    );
}

#[tokio::test]
async fn other_schemes_ports_and_credentials_are_refused() {
    let fetcher = opened(&[80, 443]);
    for (url, expected) in [
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/x", "ftp"),
        ("gopher://example.com/", "gopher"),
    ] {
        let error = fetcher.fetch(url).await.unwrap_err();
        assert!(
            matches!(&error, FetchError::UnsupportedScheme(s) if s == expected),
            "{url}: {error:?}"
        );
    }
    assert!(matches!(
        fetcher.fetch("http://example.com:8080/").await,
        Err(FetchError::PortNotAllowed(8080))
    ));
    assert!(matches!(
        fetcher.fetch("http://user:pass@example.com/").await,
        Err(FetchError::Credentials)
    ));
    assert!(matches!(
        fetcher.fetch("not a url").await,
        Err(FetchError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn each_redirect_is_checked_again() {
    let target = site(|_| Reply::Page("internal")).await;
    let target_port = target.port;
    // The opened site redirects according to the path it is asked for.
    let entry = site(|path| {
        let rest = path.trim_start_matches('/');
        match rest.split_once('/') {
            Some(("to", location)) => Reply::Redirect(location.replace('|', "/")),
            _ => Reply::Redirect("/to/http:||127.0.0.1:1|".into()),
        }
    })
    .await;
    let fetcher = opened(&[entry.port]);
    let base = format!("http://127.0.0.1:{}", entry.port);
    // Another port of the opened address: refused for its port.
    let error = fetcher
        .fetch(&format!("{base}/to/http:||127.0.0.1:{target_port}|"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, FetchError::PortNotAllowed(port) if port == target_port),
        "{error:?}"
    );
    // IPv6 loopback and the metadata address: refused for their address.
    for location in [
        format!("http:||[::1]:{}|", entry.port),
        format!("http:||169.254.169.254:{}|", entry.port),
    ] {
        let error = fetcher
            .fetch(&format!("{base}/to/{location}"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::Blocked),
            "{location}: {error:?}"
        );
    }
    assert_eq!(target.connections.load(Ordering::SeqCst), 0);

    // A redirect loop ends at the limit.
    let looping = site(|_| Reply::Redirect("/again".into())).await;
    let error = opened(&[looping.port])
        .fetch(&format!("http://127.0.0.1:{}/", looping.port))
        .await
        .unwrap_err();
    assert!(
        matches!(error, FetchError::TooManyRedirects(5)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_name_with_any_internal_address_is_refused_whole() {
    let site = site(|_| Reply::Page("x")).await;
    for answers in [
        vec!["8.8.8.8".parse().unwrap(), "127.0.0.1".parse().unwrap()],
        vec!["169.254.169.254".parse().unwrap()],
    ] {
        let lookup = Arc::new(FixedLookup {
            answers,
            calls: AtomicUsize::new(0),
        });
        let fetcher = Fetcher::with_lookup(
            AddressPolicy::new(&[], &[site.port]).unwrap(),
            limits(),
            lookup.clone(),
        )
        .unwrap();
        let error = fetcher
            .fetch(&format!("http://rebind.example:{}/", site.port))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Blocked), "{error:?}");
        assert_eq!(lookup.calls.load(Ordering::SeqCst), 1, "one lookup, vetted");
    }
    assert_eq!(site.connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn bodies_stop_at_the_cap_and_slow_servers_at_the_timeout() {
    let big = site(|path| Reply::Big {
        bytes: 20 * 1024 * 1024,
        declared: path == "/declared",
    })
    .await;
    let fetcher = opened(&[big.port]);
    for path in ["/declared", "/undeclared"] {
        let error = fetcher
            .fetch(&format!("http://127.0.0.1:{}{path}", big.port))
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::TooLarge(1_048_576)),
            "{path}: {error:?}"
        );
        assert!(!error.is_transient());
    }

    let slow = site(|_| Reply::Drip {
        every: Duration::from_secs(2),
    })
    .await;
    let error = opened(&[slow.port])
        .fetch(&format!("http://127.0.0.1:{}/", slow.port))
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Timeout), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn error_statuses_say_whether_to_retry() {
    let site = site(|path| Reply::Status(if path == "/gone" { 404 } else { 503 })).await;
    let fetcher = opened(&[site.port]);
    let gone = fetcher
        .fetch(&format!("http://127.0.0.1:{}/gone", site.port))
        .await
        .unwrap_err();
    assert!(matches!(gone, FetchError::Status(404)) && !gone.is_transient());
    let busy = fetcher
        .fetch(&format!("http://127.0.0.1:{}/busy", site.port))
        .await
        .unwrap_err();
    assert!(matches!(busy, FetchError::Status(503)) && busy.is_transient());
}

#[tokio::test]
async fn a_post_is_vetted_like_a_fetch_and_never_follows_a_redirect() {
    let target = site(|_| Reply::Page("moved here")).await;
    let target_port = target.port;
    let receiver = site(|path| match path {
        "/ok" => Reply::Page("thanks"),
        "/down" => Reply::Status(503),
        _ => Reply::Redirect("/ok".into()),
    })
    .await;
    let fetcher = opened(&[receiver.port, target_port]);
    let base = format!("http://127.0.0.1:{}", receiver.port);
    let headers = [("content-type", "application/json".to_owned())];
    let status = fetcher
        .post(&format!("{base}/ok"), &headers, b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(status, 200);
    // A redirect is an answer outside 2xx, not a second request.
    let before = receiver.connections.load(Ordering::SeqCst);
    let error = fetcher
        .post(&format!("{base}/elsewhere"), &headers, b"{}".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Status(302)), "{error:?}");
    assert_eq!(receiver.connections.load(Ordering::SeqCst), before + 1);
    let error = fetcher
        .post(&format!("{base}/down"), &headers, b"{}".to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(error, FetchError::Status(503)) && error.is_transient(),
        "{error:?}"
    );

    // Without the opening, loopback is refused before any connection.
    let closed =
        Fetcher::new(AddressPolicy::new(&[], &[receiver.port]).unwrap(), limits()).unwrap();
    let before = receiver.connections.load(Ordering::SeqCst);
    let error = closed
        .post(&format!("{base}/ok"), &headers, b"{}".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::Blocked), "{error:?}");
    assert_eq!(receiver.connections.load(Ordering::SeqCst), before);
    assert_eq!(target.connections.load(Ordering::SeqCst), 0);
}
