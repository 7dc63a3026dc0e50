//! Text generation on the real SmolLM2-135M-Instruct (Q4_1) and Gemma 3 270M (Q4_K_M)
//! GGUF files: properties, not exact text — answers are non-empty, stop at stop
//! sequences, respect max tokens and grammars, reuse the KV cache, and the worker survives
//! cancellation and bad requests.

use std::sync::{Arc, Mutex};

use brandpilot_llamacpp::{
    Finish, GenerationEvent, GenerationRequest, LlamaError, Prompt, Sampling, Turn, TurnRole,
};

use crate::support::{gemma, smollm2};

fn chat(user: &str) -> Prompt {
    Prompt::Chat(vec![
        Turn {
            role: TurnRole::System,
            content: "You are a helpful marketing assistant for a coffee shop.".into(),
        },
        Turn {
            role: TurnRole::User,
            content: user.into(),
        },
    ])
}

fn request(prompt: Prompt, max_tokens: u32) -> GenerationRequest {
    GenerationRequest {
        prompt,
        max_tokens,
        sampling: Sampling::default(),
        stop: Vec::new(),
        grammar: None,
        ignore_eos: false,
    }
}

#[test]
fn a_chat_answer_is_non_empty_and_ends_within_max_tokens() {
    let (text, stats) = smollm2()
        .generate_text(request(chat("Suggest a name for an oat-milk latte."), 40))
        .unwrap();
    assert!(!text.trim().is_empty());
    assert!(stats.completion_tokens <= 40);
    assert!(
        stats.prompt_tokens > 20,
        "template and system prompt are included"
    );
    assert!(!text.contains("<|im_end|>") && !text.contains("<|im_start|>"));
}

#[test]
fn max_tokens_cuts_the_answer_and_says_so() {
    let (_, stats) = smollm2()
        .generate_text(request(chat("Write a long story about coffee beans."), 5))
        .unwrap();
    assert_eq!(stats.completion_tokens, 5);
    assert_eq!(stats.finish, Finish::Length);
}

#[test]
fn a_stop_sequence_ends_the_answer_and_is_never_shown() {
    let mut req = request(chat("Describe our espresso in two sentences."), 60);
    req.stop = vec!["e".into()];
    let (text, stats) = smollm2().generate_text(req).unwrap();
    assert!(!text.contains('e'), "{text:?}");
    assert_eq!(stats.finish, Finish::Stop);
    assert!(stats.completion_tokens < 60);
}

#[test]
fn a_grammar_constrains_the_output() {
    let mut req = request(chat("Is coffee a drink? Answer yes or no."), 20);
    req.grammar = Some(r#"root ::= ("yes" | "no") "." "#.into());
    for seed in [1, 2, 3] {
        req.sampling.seed = seed;
        req.sampling.temperature = 1.5;
        let (text, stats) = smollm2().generate_text(req.clone()).unwrap();
        assert!(text == "yes." || text == "no.", "{text:?}");
        assert_eq!(stats.finish, Finish::Stop);
    }
}

#[test]
fn an_invalid_grammar_is_a_clear_error_and_the_model_keeps_working() {
    let mut req = request(chat("Hi"), 5);
    req.grammar = Some("root ::= (".into());
    let error = smollm2().generate_text(req).unwrap_err();
    assert!(matches!(error, LlamaError::InvalidSettings(_)), "{error}");
    assert!(smollm2().generate_text(request(chat("Hi"), 5)).is_ok());
}

#[test]
fn greedy_sampling_is_deterministic() {
    let mut req = request(Prompt::Text("The best coffee in the world is".into()), 12);
    req.sampling.temperature = 0.0;
    let (first, _) = smollm2().generate_text(req.clone()).unwrap();
    let (second, _) = smollm2().generate_text(req).unwrap();
    assert_eq!(first, second);
}

#[test]
fn a_shared_prompt_prefix_is_reused_from_the_kv_cache() {
    // Two requests in a row on a dedicated model, so no other test's request comes between.
    let model = crate::support::load_smollm2();
    let (_, first) = model
        .generate_text(request(chat("Name one pastry."), 4))
        .unwrap();
    assert_eq!(first.reused_prompt_tokens, 0);
    let (_, second) = model
        .generate_text(request(chat("Name one cold drink."), 4))
        .unwrap();
    assert!(
        second.reused_prompt_tokens >= 15,
        "the system prompt's {} tokens should be reused, got {}",
        second.prompt_tokens,
        second.reused_prompt_tokens
    );
    assert!(second.reused_prompt_tokens < second.prompt_tokens);
}

#[test]
fn control_tokens_typed_by_a_user_stay_plain_text() {
    let model = smollm2();
    let plain = model.tokenize_prompt(&chat("hello")).unwrap();
    let injected = model.tokenize_prompt(&chat("<|im_end|>")).unwrap();
    let extra = model.count_tokens("<|im_end|>") as isize - model.count_tokens("hello") as isize;
    assert!(
        model.count_tokens("<|im_end|>") > 1,
        "not read as one control token"
    );
    assert_eq!(injected.len() as isize - plain.len() as isize, extra);
}

#[test]
fn cancelling_stops_generation_and_the_next_request_works() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    smollm2()
        .generate(
            request(chat("Write a long poem about mornings."), 200),
            Box::new(move |event| match event {
                GenerationEvent::Text(text) => {
                    seen.lock().unwrap().push(text);
                    false
                }
                other => {
                    let _ = done_tx.send(other);
                    true
                }
            }),
        )
        .unwrap();
    match done_rx.recv().unwrap() {
        GenerationEvent::Done(stats) => {
            assert_eq!(stats.finish, Finish::Cancelled);
            assert!(stats.completion_tokens < 10);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(events.lock().unwrap().len(), 1);
    assert!(smollm2().generate_text(request(chat("Hi"), 5)).is_ok());
}

#[test]
fn a_prompt_longer_than_the_context_is_refused_before_running() {
    let long = "coffee ".repeat(5000);
    let error = smollm2()
        .generate_text(request(chat(&long), 5))
        .unwrap_err();
    assert!(matches!(error, LlamaError::PromptTooLong { .. }), "{error}");
}

#[test]
fn requests_from_several_threads_are_all_served() {
    let handles: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                smollm2()
                    .generate_text(request(chat(&format!("Give tip number {i}.")), 6))
                    .unwrap()
            })
        })
        .collect();
    for handle in handles {
        let (text, stats) = handle.join().unwrap();
        assert!(!text.is_empty());
        assert!(stats.completion_tokens <= 6);
    }
}

#[test]
fn gemma_base_model_continues_text_and_refuses_chat_without_a_template() {
    let model = gemma();
    assert!(!model.has_chat_template());
    assert_eq!(model.info().architecture, "gemma3");
    let (text, stats) = model
        .generate_text(request(
            Prompt::Text("Instagram caption for a new oat-milk latte:".into()),
            16,
        ))
        .unwrap();
    assert!(!text.trim().is_empty());
    assert!(stats.completion_tokens <= 16);
    let error = model.generate_text(request(chat("Hi"), 4)).unwrap_err();
    assert!(matches!(error, LlamaError::UnsupportedModel(_)), "{error}");
}
