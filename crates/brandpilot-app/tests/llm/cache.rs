//! The answer cache as a user meets it: the same question is answered from the cache, a
//! reworded one too when everything around it is the same, but never with other retrieved
//! context, in another brand or workspace, after its TTL, for a creative draft, or when the
//! answer called tools or was cut short.

use crate::{Tenants, open_store, tenants};
use brandpilot_app::settings::{EmbedderKind, LlmCacheSettings};
use brandpilot_app::{AnswerCache, CacheScope, Settings, build_embedder};
use brandpilot_embed::{Embedder, HashingEmbedder, TokenCounter, WordTokenCounter};
use brandpilot_llm::{ChatRequest, ChatResponse, FinishReason, Message, ToolCall, ToolSpec, Usage};
use brandpilot_store::Store;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

const REFUND_POLICY: &str = "Answer from these passages only.\n[1] Refunds are paid within 14 \
                             days of the return reaching our warehouse.";
const SHIPPING_POLICY: &str = "Answer from these passages only.\n[1] Orders placed before \
                               11am ship the same day.";

fn ask(context: &str, question: &str) -> ChatRequest {
    ChatRequest {
        temperature: Some(0.0),
        ..ChatRequest::new(vec![Message::system(context), Message::user(question)])
    }
}

fn answer(text: &str) -> ChatResponse {
    ChatResponse {
        text: text.into(),
        tool_calls: Vec::new(),
        usage: Some(Usage {
            prompt_tokens: 40,
            completion_tokens: 12,
        }),
        finish_reason: FinishReason::Stop,
        served_by: None,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    tenants: Tenants,
    clock: Arc<AtomicI64>,
}

impl Fixture {
    async fn new() -> Self {
        let (dir, store) = open_store().await;
        let tenants = tenants(&store).await;
        Self {
            _dir: dir,
            store,
            tenants,
            clock: Arc::new(AtomicI64::new(1_768_003_200_000)),
        }
    }

    fn acme(&self) -> CacheScope {
        CacheScope {
            workspace: self.tenants.default,
            brand: Some(self.tenants.acme),
        }
    }

    fn cache_with(
        &self,
        settings: LlmCacheSettings,
        embedder: Arc<dyn Embedder>,
        counter: Arc<dyn TokenCounter>,
    ) -> AnswerCache {
        let clock = self.clock.clone();
        AnswerCache::new(settings, self.store.clone(), embedder, counter)
            .unwrap()
            .with_clock(Arc::new(move || clock.load(Ordering::SeqCst)))
    }

    /// The cache with default settings and the hashing embedder.
    fn hashing_cache(&self, settings: LlmCacheSettings) -> AnswerCache {
        self.cache_with(
            settings,
            Arc::new(HashingEmbedder::new(384)),
            Arc::new(WordTokenCounter::new()),
        )
    }

    fn advance_secs(&self, secs: i64) {
        self.clock.fetch_add(secs * 1_000, Ordering::SeqCst);
    }
}

/// The models directory `scripts/setup-models.sh` fills: `$BRANDPILOT_MODELS_DIR` or
/// `<repo>/models`.
fn models_dir() -> PathBuf {
    std::env::var_os("BRANDPILOT_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// all-MiniLM-L6-v2 through the app's own embedder choice, shared by the tests of this
/// binary (its GGUF conversion is cached under the target directory). Fails, never skips,
/// when the model is missing.
fn minilm() -> (Arc<dyn Embedder>, Arc<dyn TokenCounter>) {
    static MODEL: OnceLock<(Arc<dyn Embedder>, Arc<dyn TokenCounter>)> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let mut settings = Settings {
                data_dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("brandpilot-app-llm"),
                models_dir: models_dir(),
                ..Settings::default()
            };
            settings.embedder.kind = EmbedderKind::Local;
            settings.embedder.threads = 1;
            let choice = build_embedder(&settings).unwrap_or_else(|error| {
                panic!("all-MiniLM-L6-v2 is needed: run scripts/setup-models.sh ({error})")
            });
            (choice.embedder, choice.counter)
        })
        .clone()
}

#[tokio::test]
async fn the_same_question_is_answered_from_the_cache() {
    let fixture = Fixture::new().await;
    let cache = fixture.hashing_cache(LlmCacheSettings::default());
    let scope = fixture.acme();
    let request = ask(REFUND_POLICY, "How long do refunds take?");

    assert_eq!(
        cache.lookup(&scope, "answer", &request).await.unwrap(),
        None
    );
    cache
        .store(&scope, "answer", &request, &answer("Within 14 days [1]."))
        .await
        .unwrap();
    let hit = cache
        .lookup(&scope, "answer", &request)
        .await
        .unwrap()
        .expect("the same request hits");
    assert!(hit.exact);
    assert_eq!(hit.similarity, 1.0);
    assert_eq!(hit.response, answer("Within 14 days [1]."));

    // Any other sampling makes it another request, for both paths.
    let mut hotter = request.clone();
    hotter.max_tokens = Some(50);
    assert_eq!(cache.lookup(&scope, "answer", &hotter).await.unwrap(), None);
    // Another route never shares answers.
    assert_eq!(cache.lookup(&scope, "judge", &request).await.unwrap(), None);
}

#[tokio::test]
async fn other_brands_and_workspaces_never_see_the_answer() {
    let fixture = Fixture::new().await;
    let cache = fixture.hashing_cache(LlmCacheSettings::default());
    let request = ask(REFUND_POLICY, "How long do refunds take?");
    cache
        .store(&fixture.acme(), "answer", &request, &answer("14 days."))
        .await
        .unwrap();
    let t = &fixture.tenants;
    for scope in [
        CacheScope {
            workspace: t.default,
            brand: Some(t.zeta),
        },
        CacheScope {
            workspace: t.default,
            brand: None,
        },
        CacheScope {
            workspace: t.other,
            brand: Some(t.rival),
        },
        CacheScope {
            workspace: t.other,
            brand: None,
        },
        // A scope pairing another workspace with acme's id is not acme.
        CacheScope {
            workspace: t.other,
            brand: Some(t.acme),
        },
    ] {
        assert_eq!(
            cache.lookup(&scope, "answer", &request).await.unwrap(),
            None,
            "{scope:?}"
        );
    }
    // Nor can a wrong scope file an answer under another workspace's brand.
    let forged = CacheScope {
        workspace: t.default,
        brand: Some(t.rival),
    };
    cache
        .store(&forged, "answer", &request, &answer("forged"))
        .await
        .unwrap();
    let rival = CacheScope {
        workspace: t.other,
        brand: Some(t.rival),
    };
    assert_eq!(
        cache.lookup(&rival, "answer", &request).await.unwrap(),
        None
    );
    assert_eq!(
        cache.lookup(&forged, "answer", &request).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn answers_expire_after_their_ttl_and_old_ones_are_evicted() {
    let fixture = Fixture::new().await;
    let cache = fixture.hashing_cache(LlmCacheSettings {
        ttl_secs: 60,
        max_entries: 2,
        ..LlmCacheSettings::default()
    });
    let scope = fixture.acme();
    let questions = ["refunds?", "shipping?", "returns?"];
    for question in questions {
        let request = ask(REFUND_POLICY, question);
        cache
            .store(&scope, "answer", &request, &answer(question))
            .await
            .unwrap();
        fixture.advance_secs(1);
    }
    let found = |question: &'static str| {
        let cache = &cache;
        async move {
            cache
                .lookup(&scope, "answer", &ask(REFUND_POLICY, question))
                .await
                .unwrap()
                .is_some_and(|hit| hit.exact)
        }
    };
    assert!(
        !found("refunds?").await,
        "the oldest of three went at max 2"
    );
    assert!(found("shipping?").await);
    assert!(found("returns?").await);
    fixture.advance_secs(58);
    assert!(found("returns?").await, "59 s old: alive");
    fixture.advance_secs(1);
    assert!(!found("returns?").await, "60 s old: expired");
}

#[tokio::test]
async fn only_whole_tool_free_answers_on_listed_routes_are_kept() {
    let fixture = Fixture::new().await;
    let scope = fixture.acme();
    let cache = fixture.hashing_cache(LlmCacheSettings::default());
    let stored = |route: &'static str, request: ChatRequest, response: ChatResponse| {
        let cache = &cache;
        async move {
            cache
                .store(&scope, route, &request, &response)
                .await
                .unwrap();
            cache
                .lookup(&scope, route, &request)
                .await
                .unwrap()
                .is_some()
        }
    };
    let request = || ask(REFUND_POLICY, "How long do refunds take?");

    let tool_call = ChatResponse {
        text: String::new(),
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "lookup_order".into(),
            arguments: "{\"order\": 42}".into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        ..answer("")
    };
    assert!(!stored("answer", request(), tool_call).await);
    let cut = ChatResponse {
        finish_reason: FinishReason::Length,
        ..answer("Refunds are paid within")
    };
    assert!(!stored("answer", request(), cut).await);
    let filtered = ChatResponse {
        finish_reason: FinishReason::ContentFilter,
        ..answer("Refunds")
    };
    assert!(!stored("answer", request(), filtered).await);
    assert!(!stored("answer", request(), answer("  ")).await);
    let with_tools = ChatRequest {
        tools: vec![ToolSpec {
            name: "lookup_order".into(),
            description: "Finds an order.".into(),
            parameters: serde_json::json!({"type": "object"}),
        }],
        ..request()
    };
    assert!(!stored("answer", with_tools, answer("14 days.")).await);
    // `generate` is not a cached route by default.
    assert!(!stored("generate", request(), answer("A draft.")).await);
    assert!(stored("answer", request(), answer("14 days.")).await);

    // Disabled: nothing is kept or served, not even what was kept before.
    let disabled = fixture.hashing_cache(LlmCacheSettings {
        enabled: false,
        ..LlmCacheSettings::default()
    });
    assert_eq!(
        disabled.lookup(&scope, "answer", &request()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_creative_route_keeps_only_unsampled_drafts_even_when_listed() {
    let fixture = Fixture::new().await;
    let scope = fixture.acme();
    let mut settings = LlmCacheSettings::default();
    settings.routes.push("generate".into());
    let cache = fixture.hashing_cache(settings);
    let brief = |temperature| ChatRequest {
        temperature,
        ..ChatRequest::new(vec![
            Message::system("Write in the brand's voice."),
            Message::user("A LinkedIn post about our refund promise."),
        ])
    };
    for temperature in [Some(0.8), None] {
        let request = brief(temperature);
        cache
            .store(&scope, "generate", &request, &answer("Draft"))
            .await
            .unwrap();
        assert_eq!(
            cache.lookup(&scope, "generate", &request).await.unwrap(),
            None,
            "temperature {temperature:?}"
        );
    }
    let deterministic = brief(Some(0.0));
    cache
        .store(&scope, "generate", &deterministic, &answer("Draft"))
        .await
        .unwrap();
    assert!(
        cache
            .lookup(&scope, "generate", &deterministic)
            .await
            .unwrap()
            .is_some()
    );
}

/// The hashing embedder ignores case and punctuation, so these two questions embed to the
/// same vector (cosine 1.0) while their requests differ: only the similarity path can serve
/// one with the other's answer.
#[tokio::test]
async fn the_similarity_path_needs_the_same_context_and_a_threshold_below_one() {
    let fixture = Fixture::new().await;
    let scope = fixture.acme();
    let cache = fixture.hashing_cache(LlmCacheSettings::default());
    let asked = ask(REFUND_POLICY, "How long do refunds take?");
    let reworded = ask(REFUND_POLICY, "how long do refunds take");
    cache
        .store(&scope, "answer", &asked, &answer("14 days [1]."))
        .await
        .unwrap();

    let hit = cache
        .lookup(&scope, "answer", &reworded)
        .await
        .unwrap()
        .expect("same context, same words");
    assert!(!hit.exact);
    assert!(hit.similarity > 0.999, "{}", hit.similarity);
    assert_eq!(hit.response.text, "14 days [1].");

    // The same question over other retrieved passages must not get this answer.
    let other_context = ask(SHIPPING_POLICY, "How long do refunds take?");
    assert_eq!(
        cache
            .lookup(&scope, "answer", &other_context)
            .await
            .unwrap(),
        None
    );
    // Nor with other sampling, or an earlier turn added.
    let mut capped = reworded.clone();
    capped.max_tokens = Some(20);
    assert_eq!(cache.lookup(&scope, "answer", &capped).await.unwrap(), None);
    let mut follow_up = reworded.clone();
    follow_up
        .messages
        .insert(1, Message::user("Hi, I returned a kettle."));
    assert_eq!(
        cache.lookup(&scope, "answer", &follow_up).await.unwrap(),
        None
    );

    // A threshold of 1.0 keeps only exact matches.
    let exact_only = fixture.hashing_cache(LlmCacheSettings {
        similarity_threshold: 1.0,
        ..LlmCacheSettings::default()
    });
    assert_eq!(
        exact_only
            .lookup(&scope, "answer", &reworded)
            .await
            .unwrap(),
        None
    );
    assert!(
        exact_only
            .lookup(&scope, "answer", &asked)
            .await
            .unwrap()
            .is_some_and(|hit| hit.exact)
    );
}

#[tokio::test]
async fn a_threshold_that_would_match_anything_is_refused() {
    let fixture = Fixture::new().await;
    for threshold in [0.0, -0.5, f32::NAN] {
        let settings = LlmCacheSettings {
            similarity_threshold: threshold,
            ..LlmCacheSettings::default()
        };
        let built = AnswerCache::new(
            settings,
            fixture.store.clone(),
            Arc::new(HashingEmbedder::new(8)),
            Arc::new(WordTokenCounter::new()),
        );
        assert!(built.is_err(), "threshold {threshold}");
    }
}

#[tokio::test]
async fn a_paraphrase_is_served_by_meaning_with_minilm_and_an_unrelated_question_is_not() {
    let fixture = Fixture::new().await;
    let scope = fixture.acme();
    let (embedder, counter) = minilm();
    let cache = fixture.cache_with(
        LlmCacheSettings {
            similarity_threshold: 0.85,
            ..LlmCacheSettings::default()
        },
        embedder.clone(),
        counter.clone(),
    );
    let asked = ask(REFUND_POLICY, "How long does it take to get a refund?");
    cache
        .store(&scope, "answer", &asked, &answer("Within 14 days [1]."))
        .await
        .unwrap();

    let paraphrase = ask(REFUND_POLICY, "How long until I get my refund?");
    let hit = cache
        .lookup(&scope, "answer", &paraphrase)
        .await
        .unwrap()
        .expect("a paraphrase in the same context hits");
    assert!(!hit.exact);
    assert!(
        hit.similarity >= 0.85 && hit.similarity < 1.0,
        "{}",
        hit.similarity
    );
    assert_eq!(hit.response.text, "Within 14 days [1].");

    let unrelated = ask(REFUND_POLICY, "Do you ship to Canada?");
    assert_eq!(
        cache.lookup(&scope, "answer", &unrelated).await.unwrap(),
        None
    );
    // The paraphrase over other passages is a miss, however close the questions are.
    let elsewhere = ask(SHIPPING_POLICY, "How long until I get my refund?");
    assert_eq!(
        cache.lookup(&scope, "answer", &elsewhere).await.unwrap(),
        None
    );

    // A question longer than MiniLM reads is never embedded (that would be an error or a
    // silent cut): it is cached and served for exact matches only.
    let long_question = format!(
        "How long does it take to get a refund? {}",
        "I returned the kettle last week and I am still waiting. ".repeat(30)
    );
    assert!(counter.count(&long_question) > embedder.max_tokens());
    let long = ask(REFUND_POLICY, &long_question);
    cache
        .store(&scope, "answer", &long, &answer("Within 14 days."))
        .await
        .unwrap();
    assert!(
        cache
            .lookup(&scope, "answer", &long)
            .await
            .unwrap()
            .is_some_and(|hit| hit.exact)
    );
    let longer = ask(REFUND_POLICY, &format!("{long_question} Thanks."));
    assert_eq!(cache.lookup(&scope, "answer", &longer).await.unwrap(), None);
}
