//! Studio offline, end to end with the local SmolLM2 model (installed by
//! `scripts/setup-models.sh`): a brand's rules, one past post in its examples library and
//! the voice learned from it, then a brief written through the whole loop — a
//! grammar-constrained draft, the model-free repairs, at most one rewrite — and stored with
//! its provenance. The tiny model's words are not asserted; what the loop guarantees about
//! them is.

use brandpilot_app::Brandpilot;
use brandpilot_app::llm::LazyLlm;
use brandpilot_app::studio::{Brief, ExampleInput};
use brandpilot_extract::PdfRunner;
use brandpilot_studio::language::Language;
use brandpilot_studio::{BrandRules, Channel, Field};

#[tokio::test]
async fn a_brief_is_written_offline_by_the_local_model_through_the_whole_loop() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = super::service::settings(&dir);
    settings.studio.max_repair_passes = 1;
    settings.studio.max_tokens = 200;
    // Greedy: the same draft every run, so a failure here can be replayed.
    settings.studio.temperature = 0.0;
    let app = Brandpilot::open(settings, PdfRunner::InProcess)
        .await
        .unwrap();
    let brand = app.brand("roastery", true).await.unwrap();
    let rules: BrandRules = serde_json::from_value(serde_json::json!({
        "banned_words": ["guarantee"],
        "hashtags": { "min": 1, "max": 2, "required": ["#coffee"], "banned": [] },
        "emoji": { "mode": "none" },
        "cta_library": ["Order a bag today"],
    }))
    .unwrap();
    app.put_studio_rules(&brand, rules).await.unwrap();
    let example = app
        .add_example(
            &brand,
            ExampleInput {
                channel: Channel::XPost,
                sector: None,
                title: None,
                text: "Fresh beans every Tuesday. You taste the difference. Order a bag today. \
                       #coffee"
                    .into(),
                performance: None,
            },
            "test",
        )
        .await
        .unwrap();
    app.learn_studio_voice(&brand, None, "test").await.unwrap();

    let llm = LazyLlm::default();
    let generation = app
        .generate_copy(
            &llm,
            &brand,
            Brief {
                channel: Channel::XPost,
                goal: "Sell the Tuesday roast".into(),
                audience: String::new(),
                tone: String::new(),
                offer: String::new(),
                key_facts: vec!["Roasted every Tuesday".into()],
                language: Language::En,
                variants: 1,
            },
            Some("test".into()),
        )
        .await
        .unwrap();
    llm.flush().await;

    let provenance = &generation.provenance;
    assert_eq!(provenance.provider.as_deref(), Some("local"));
    assert!(
        provenance.model.as_deref().unwrap().contains("smollm2"),
        "{provenance:?}"
    );
    assert!((1..=4).contains(&provenance.model_calls), "{provenance:?}");
    assert!(provenance.prompt_tokens > 0 && provenance.completion_tokens > 0);
    assert_eq!(provenance.examples.len(), 1);
    assert_eq!(provenance.examples[0].id, example.id);
    assert!(provenance.repair_passes <= 1);

    let variant = &generation.variants[0];
    let post = variant
        .content
        .fields
        .iter()
        .find(|f| f.field == Field::Post)
        .expect("the grammar makes the model answer the channel's fields");
    // The required hashtag is the repairs' to add, whatever the model wrote.
    assert!(post.text.contains("#coffee"), "{}", post.text);
    assert!(!post.text.is_empty());
    // The verdict is the report's and the grounding check's, never the model's.
    assert_eq!(
        variant.passed,
        variant.report.passed && variant.content.unbacked_figures.is_empty()
    );
    let voice = variant
        .content
        .voice
        .as_ref()
        .expect("the brand has a voice");
    assert!((0.0..=1.0).contains(&voice.score), "{voice:?}");

    let stored = app.generation(&brand, generation.id).await.unwrap();
    assert_eq!(stored, generation);
}
