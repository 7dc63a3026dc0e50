//! The OpenAI-compatible client against the fake server from brandpilot-testkit, over a real
//! socket.

use crate::norm;
use brandpilot_core::{Fault, FaultKind};
use brandpilot_embed::{
    ApiKey, EmbedError, Embedder, OpenAiConfig, OpenAiEmbedder, WordTokenCounter, l2_normalize,
};
use brandpilot_testkit::embedding_server::{
    EmbeddingServer, EmbeddingServerOptions, Reply, fake_vector,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "sk-test-secret-0123";

fn server() -> EmbeddingServer {
    EmbeddingServer::start(EmbeddingServerOptions {
        api_key: Some(KEY.to_owned()),
        dimensions: 8,
    })
}

fn config(server: &EmbeddingServer) -> OpenAiConfig {
    let mut config = OpenAiConfig::new(server.base_url(), "fake-embed");
    config.api_key = Some(ApiKey::new(KEY));
    config.timeout = Duration::from_secs(10);
    // Keep retry waits short so the suite stays fast; the cap itself is under test.
    config.max_retry_wait = Duration::from_millis(50);
    config
}

fn expected(text: &str) -> Vec<f32> {
    let mut vector = fake_vector(text, 8);
    l2_normalize(&mut vector);
    vector
}

#[test]
fn embeds_in_input_order_across_batches() {
    let server = server();
    let mut config = config(&server);
    config.batch_size = 2;
    let embedder = OpenAiEmbedder::new(config).expect("client builds");
    assert_eq!(embedder.model_id(), "openai:fake-embed");
    assert_eq!(embedder.dimensions(), 0, "unknown until the first response");

    let texts = ["first text", "second text", "third text"];
    let vectors = embedder.embed(&texts).expect("fake answers");
    // The fake answers each batch in reverse index order; the client must restore it.
    let wanted: Vec<Vec<f32>> = texts.iter().map(|t| expected(t)).collect();
    assert_eq!(vectors, wanted);
    assert!(vectors.iter().all(|v| (norm(v) - 1.0).abs() < 1e-5));
    assert_eq!(embedder.dimensions(), 8, "learned from the response");

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "batches of 2");
    assert_eq!(requests[0].inputs, ["first text", "second text"]);
    assert_eq!(requests[1].inputs, ["third text"]);
    assert_eq!(requests[0].model, "fake-embed");
    assert_eq!(requests[0].encoding_format.as_deref(), Some("float"));
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn base_url_may_end_in_v1_and_nothing_is_sent_for_no_texts() {
    let server = server();
    let mut config = config(&server);
    config.base_url = format!("{}/v1/", server.base_url());
    let embedder = OpenAiEmbedder::new(config).expect("client builds");
    assert_eq!(
        embedder.embed(&[]).expect("nothing to do"),
        Vec::<Vec<f32>>::new()
    );
    assert!(server.requests().is_empty());
    assert_eq!(embedder.probe().expect("probe"), 8);
}

#[test]
fn rate_limit_is_retried_once_after_the_capped_wait() {
    let server = server();
    server.script([Reply::TooManyRequests {
        retry_after_secs: 30,
    }]);
    let embedder = OpenAiEmbedder::new(config(&server)).expect("client builds");
    let started = Instant::now();
    let vectors = embedder.embed(&["hello"]).expect("succeeds on the retry");
    let waited = started.elapsed();
    assert_eq!(vectors, vec![expected("hello")]);
    assert_eq!(server.requests().len(), 2);
    // Retry-After asked for 30 s; the cap of 50 ms wins, but the client did wait.
    assert!(
        waited >= Duration::from_millis(50),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
}

#[test]
fn server_errors_are_transient_after_one_retry() {
    let server = server();
    server.script([Reply::ServerError, Reply::ServerError]);
    let embedder = OpenAiEmbedder::new(config(&server)).expect("client builds");
    let error = embedder.embed(&["hello"]).expect_err("two 500s");
    assert!(matches!(error, EmbedError::Unavailable(_)), "{error:?}");
    assert_eq!(error.fault(), FaultKind::Transient);
    assert!(error.to_string().contains("500"), "{error}");
    assert_eq!(server.requests().len(), 2, "exactly one retry");

    // One 500 followed by success recovers.
    server.script([Reply::ServerError]);
    assert_eq!(
        embedder.embed(&["hello"]).expect("retry succeeds"),
        vec![expected("hello")]
    );
}

#[test]
fn bad_key_is_a_user_fault_with_the_providers_message_and_no_key() {
    let server = server();
    let mut config = config(&server);
    config.api_key = Some(ApiKey::new("sk-wrong-key-9999"));
    let embedder = OpenAiEmbedder::new(config.clone()).expect("client builds");
    let error = embedder.embed(&["hello"]).expect_err("401");
    assert!(
        matches!(error, EmbedError::Rejected { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(error.fault(), FaultKind::User);
    let message = error.to_string();
    assert!(message.contains("Incorrect API key provided"), "{message}");
    assert!(!message.contains("sk-wrong-key-9999"));
    assert_eq!(server.requests().len(), 1, "4xx is not retried");

    // Neither the config nor the embedder prints the key.
    let printed = format!("{config:?} {embedder:?}");
    assert!(
        printed.contains("***") && !printed.contains("sk-wrong-key-9999"),
        "{printed}"
    );

    server.script([Reply::Unauthorized]);
    let right = OpenAiEmbedder::new(self::config(&server)).expect("client builds");
    assert!(matches!(
        right.embed(&["x"]),
        Err(EmbedError::Rejected { status: 401, .. })
    ));
}

#[test]
fn wrong_dimension_and_wrong_count_are_clear_errors() {
    let server = server();
    let mut config = config(&server);
    config.dimensions = Some(8);
    let embedder = OpenAiEmbedder::new(config).expect("client builds");
    server.script([Reply::WrongDimension]);
    let error = embedder.embed(&["a", "b"]).expect_err("9 dimensions");
    assert!(
        matches!(
            error,
            EmbedError::DimensionMismatch {
                expected: 8,
                actual: 9
            }
        ),
        "{error:?}"
    );

    server.script([Reply::WrongCount]);
    let error = embedder.embed(&["a", "b"]).expect_err("one vector short");
    assert!(matches!(error, EmbedError::Protocol(_)), "{error:?}");
    assert!(
        error.to_string().contains("1 vectors for 2 texts"),
        "{error}"
    );

    // Learned dimensions are held to as well.
    let learner = OpenAiEmbedder::new(self::config(&server)).expect("client builds");
    learner.embed(&["a"]).expect("learns 8");
    server.script([Reply::WrongDimension]);
    assert!(matches!(
        learner.embed(&["a"]),
        Err(EmbedError::DimensionMismatch {
            expected: 8,
            actual: 9
        })
    ));
}

#[test]
fn timeouts_are_transient() {
    let server = server();
    server.script([
        Reply::Stall(Duration::from_secs(3)),
        Reply::Stall(Duration::from_secs(3)),
    ]);
    let mut config = config(&server);
    config.timeout = Duration::from_millis(200);
    let embedder = OpenAiEmbedder::new(config).expect("client builds");
    let error = embedder.embed(&["slow"]).expect_err("times out twice");
    assert!(matches!(error, EmbedError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("no answer"), "{error}");
}

#[test]
fn refused_connection_is_transient() {
    // Bind then drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut config = OpenAiConfig::new(format!("http://127.0.0.1:{port}"), "m");
    config.max_retry_wait = Duration::ZERO;
    let error = OpenAiEmbedder::new(config)
        .expect("client builds")
        .embed(&["x"])
        .expect_err("refused");
    assert_eq!(error.fault(), FaultKind::Transient, "{error}");
}

#[test]
fn over_long_text_is_refused_before_sending_when_a_counter_is_given() {
    let server = server();
    let mut config = config(&server);
    config.max_tokens = 3;
    let embedder = OpenAiEmbedder::new(config)
        .expect("client builds")
        .with_token_counter(Arc::new(WordTokenCounter::new()));
    let error = embedder
        .embed(&["fits here", "this one is too long"])
        .expect_err("too long");
    assert!(
        matches!(
            error,
            EmbedError::TooLong {
                index: 1,
                tokens: 5,
                max_tokens: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.fault(), FaultKind::User);
    assert!(server.requests().is_empty());
}

#[test]
fn invalid_settings_are_refused() {
    let mut config = OpenAiConfig::new("http://127.0.0.1:1", "m");
    config.batch_size = 0;
    assert!(matches!(
        OpenAiEmbedder::new(config),
        Err(EmbedError::Config(_))
    ));
    let config = OpenAiConfig::new("not a url", "m");
    assert!(matches!(
        OpenAiEmbedder::new(config),
        Err(EmbedError::Config(_))
    ));
}
