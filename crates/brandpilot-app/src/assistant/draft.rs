//! How a turn's answer text is made and reaches a streaming caller: the extractive
//! composition, optionally handed to the model on the `answer` route (generative, or a
//! rephrasing of the extractive draft) and kept only when it passes verification; and the
//! [`Relay`] that makes what was streamed equal the final answer.

use super::sources::Sources;
use super::turn::TurnEvent;
use crate::llm::{LazyLlm, route_capability};
use crate::{Brandpilot, Result};
use brandpilot_assistant::evidence::Evidence;
use brandpilot_assistant::extractive::{ExtractiveConfig, compose};
use brandpilot_assistant::language::Language;
use brandpilot_assistant::profile::{AnswerMode, BrandProfile};
use brandpilot_assistant::prompt::{NO_ANSWER, PromptPassage, answer_prompt, rephrase_prompt};
use brandpilot_assistant::trace::TurnTrace;
use brandpilot_assistant::verify::verify;
use brandpilot_llm::{ChatRequest, Message, StreamEvent};
use brandpilot_store::{Brand, ConversationRecord};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// Relays a turn's events to a streaming caller and remembers the text streamed so far, so
/// that the final answer (renumbered, replaced after a failed verification, handed over, or
/// never streamed because it needed no model) reaches the caller exactly once.
pub(super) struct Relay {
    pub(super) events: Option<UnboundedSender<TurnEvent>>,
    pub(super) streamed: Mutex<String>,
}

impl Relay {
    pub(super) fn send(&self, event: TurnEvent) {
        if let Some(events) = &self.events {
            // A caller that went away only stops hearing; the turn still completes.
            let _ = events.send(event);
        }
    }

    fn delta(&self, text: String) {
        self.streamed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_str(&text);
        self.send(TurnEvent::Delta(text));
    }

    /// Streams the final answer a word at a time when nothing was streamed, or replaces
    /// what was streamed when the final answer differs from it.
    pub(super) fn settle(&self, answer: &str) {
        let streamed = self
            .streamed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if streamed.is_empty() {
            for (index, word) in answer.split(' ').filter(|w| !w.is_empty()).enumerate() {
                self.send(TurnEvent::Delta(if index == 0 {
                    word.to_owned()
                } else {
                    format!(" {word}")
                }));
            }
        } else if streamed.trim() != answer {
            self.send(TurnEvent::Replace(answer.to_owned()));
        }
    }
}

/// How the answer was made, and from what.
pub(super) struct Drafted {
    pub(super) text: String,
    pub(super) mode: &'static str,
    /// Set when the answer is a set phrase (no citations expected).
    pub(super) fixed: bool,
    /// Set when a capable model found the passages silent on the question.
    pub(super) declined: bool,
}

pub(super) fn fixed(text: &str) -> Drafted {
    Drafted {
        text: text.to_owned(),
        mode: "fixed",
        fixed: true,
        declined: false,
    }
}

impl Brandpilot {
    /// Makes the answer's text: extractive, rephrased or generative.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn draft(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        profile: &BrandProfile,
        language: Language,
        conversation: &ConversationRecord,
        message: &str,
        sources: &Sources,
        relay: &Relay,
        trace: &mut TurnTrace,
    ) -> Result<Drafted> {
        let started = Instant::now();
        let texts = sources.texts();
        let evidence = Evidence::new(&texts);
        let composition = compose(message, &evidence, &ExtractiveConfig::default());
        let extractive = composition.text();
        let capability = route_capability(&self.settings.llm, "answer");
        let generative = match profile.answer_mode {
            AnswerMode::Extractive => false,
            AnswerMode::Generative => true,
            AnswerMode::Auto => capability >= self.settings.assistant.generative_min_capability,
        };
        trace.record(
            "extract",
            started,
            json!({ "sentences": composition.sentences, "quarantined": composition.quarantined, "generative": generative, "capability": capability }),
        );
        let use_model = !texts.is_empty()
            && (generative || (self.settings.assistant.rephrase && !composition.is_empty()));
        if use_model && self.check_credits(brand.workspace).await.is_ok() {
            let prompt = if generative {
                let prompt_passages: Vec<PromptPassage<'_>> = sources
                    .record
                    .iter()
                    .map(|record| PromptPassage {
                        title: "The customer's account",
                        text: record,
                    })
                    .chain(sources.passages.iter().map(|p| PromptPassage {
                        title: &p.source_title,
                        text: &p.text,
                    }))
                    .collect();
                answer_prompt(
                    &brand.name,
                    profile,
                    language,
                    &conversation.summary,
                    &prompt_passages,
                    message,
                )
            } else {
                rephrase_prompt(&brand.name, profile, language, &extractive, message)
            };
            let started = Instant::now();
            let mut request = ChatRequest::new(vec![
                Message::system(prompt.system),
                Message::user(prompt.user),
            ]);
            request.max_tokens = Some(400);
            request.temperature = Some(0.2);
            match self.stream_model(llm, brand, &request, relay).await {
                Ok(text) if generative && text.starts_with(NO_ANSWER) => {
                    trace.record(
                        "generate",
                        started,
                        json!({ "route": "answer", "kept": false, "declined": true }),
                    );
                    return Ok(Drafted {
                        text: String::new(),
                        mode: "generative",
                        fixed: false,
                        declined: true,
                    });
                }
                Ok(text) => {
                    let check = verify(&text, &evidence);
                    let kept = check.passes() && !check.cited.is_empty();
                    trace.record(
                        "generate",
                        started,
                        json!({ "route": "answer", "kept": kept, "invalid_markers": check.invalid_markers, "supported_share": check.supported_share() }),
                    );
                    if kept {
                        return Ok(Drafted {
                            text,
                            mode: if generative {
                                "generative"
                            } else {
                                "rephrased"
                            },
                            fixed: false,
                            declined: false,
                        });
                    }
                    return Ok(Drafted {
                        text: extractive,
                        mode: "extractive",
                        fixed: false,
                        declined: false,
                    });
                }
                Err(error) => {
                    trace.record(
                        "generate",
                        started,
                        json!({ "route": "answer", "error": error.to_string() }),
                    );
                }
            }
        }
        // Extractive: streamed once final (it costs no model time to wait).
        Ok(Drafted {
            text: extractive,
            mode: "extractive",
            fixed: false,
            declined: false,
        })
    }

    async fn stream_model(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        request: &ChatRequest,
        relay: &Relay,
    ) -> Result<String> {
        let (mut stream, _) = llm
            .get(self)
            .await?
            .stream_in(brand.workspace, Some(brand.id), "answer", request)
            .await?;
        let mut text = String::new();
        // Held back while the text could still be the `NO_ANSWER` reply, which the caller
        // must never see.
        let mut relayed = 0;
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Delta(delta) => {
                    text.push_str(&delta);
                    let start = text.len() - text.trim_start().len();
                    let shown = &text[start..];
                    let undecided = NO_ANSWER.starts_with(shown) || shown.starts_with(NO_ANSWER);
                    if !undecided && relayed < text.len() {
                        relay.delta(text[relayed..].to_owned());
                        relayed = text.len();
                    }
                }
                StreamEvent::Done { .. } => break,
                StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallDelta { .. } => {}
            }
        }
        Ok(text.trim().to_owned())
    }
}
