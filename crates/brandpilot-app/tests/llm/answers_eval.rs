//! `eval answers` end to end on a two-document corpus: per-question outcomes say which
//! questions were answerable and whether the answer cited a relevant document; citation
//! precision is the verifier's by default and the `judge` route's when asked, with the
//! judge (a fake OpenAI-compatible server) shown the cited passage and the bare sentence.

use brandpilot_app::eval_answers::{AnswerCase, AnswerSet};
use brandpilot_app::settings::{EmbedderKind, ProviderKind, ProviderSettings};
use brandpilot_app::{Brandpilot, Quiet, Settings, TextDocument};
use brandpilot_assistant::profile::AnswerMode;
use brandpilot_extract::PdfRunner;
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use std::collections::HashSet;

fn set() -> AnswerSet {
    let document = |origin: &str, title: &str, text: &str| TextDocument {
        origin: origin.into(),
        title: title.into(),
        text: text.into(),
    };
    AnswerSet {
        corpus: vec![
            document(
                "beir:d1",
                "Refund policy",
                "You can ask for a refund within 30 days of purchase. Refunds go back to the \
                 original card.",
            ),
            document(
                "beir:d2",
                "Shipping",
                "Shipping to Canada takes 7 business days. Orders ship on weekdays.",
            ),
        ],
        cases: vec![
            AnswerCase {
                id: "q1".into(),
                question: "How many days do I have to ask for a refund?".into(),
                relevant: HashSet::from(["d1".to_owned()]),
            },
            AnswerCase {
                id: "q2".into(),
                question: "What warranty do espresso grinders carry?".into(),
                relevant: HashSet::new(),
            },
        ],
    }
}

#[tokio::test]
async fn the_judge_route_scores_citations_instead_of_the_verifier() {
    let judge = OpenAiChatServer::start(OpenAiChatOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().join("data"),
        models_dir: dir.path().join("no-models"),
        ..Settings::default()
    };
    settings.embedder.kind = EmbedderKind::Hashing;
    settings.assistant.classify_with_model = false;
    settings.llm.providers.insert(
        "judge".into(),
        ProviderSettings {
            kind: ProviderKind::Openai,
            model: "judge-model".into(),
            base_url: Some(judge.base_url()),
            api_key: Some("sk-test".into()),
            ..ProviderSettings::default()
        },
    );
    let app = Brandpilot::open(settings, PdfRunner::InProcess)
        .await
        .unwrap();
    let brand = app.brand("eval", true).await.unwrap();
    let llm = brandpilot_app::llm::LazyLlm::default();
    let set = set();

    let verified = app
        .eval_answers(&llm, &brand, &set, AnswerMode::Extractive, false, &Quiet)
        .await
        .unwrap();
    assert_eq!(verified.judged_by, "verifier");
    assert_eq!((verified.answerable, verified.unanswerable), (1, 1));
    assert_eq!(
        verified.citation_precision, 1.0,
        "extractive sentences are backed"
    );
    let first = &verified.cases[0];
    assert_eq!((first.id.as_str(), first.answerable), ("q1", true));
    assert!(first.cites_relevant, "{first:?}");
    assert!(first.inputs["best_coverage"].is_number(), "{first:?}");
    assert!(!verified.cases[1].answerable);
    assert!(judge.requests().is_empty(), "no judge without --judge");

    // The judge disagrees with every citation: precision falls to 0.
    judge.script((0..20).map(|_| ChatReply::Text(TextReply::new(r#"{"supported": false}"#))));
    let judged = app
        .eval_answers(&llm, &brand, &set, AnswerMode::Extractive, true, &Quiet)
        .await
        .unwrap();
    assert_eq!(judged.judged_by, "judge route");
    assert_eq!(judged.citation_precision, 0.0);
    let requests = judge.requests();
    assert!(!requests.is_empty());
    let asked = &requests[0].body;
    assert_eq!(asked["response_format"]["json_schema"]["name"], "verdict");
    let passage = asked["messages"][0]["content"].as_str().unwrap();
    assert!(
        passage.contains("<passage>") && passage.contains("30 days"),
        "{passage}"
    );
    let sentence = asked["messages"][1]["content"].as_str().unwrap();
    assert!(
        sentence.contains("30 days") && !sentence.contains('['),
        "{sentence}"
    );
}
