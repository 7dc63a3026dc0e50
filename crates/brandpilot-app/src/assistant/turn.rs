//! One chat turn. The steps, each recorded in the trace with its time and decision:
//!
//! 1. `screen`: a message that tries to instruct the model gets a fixed refusal, and no
//!    retrieval or model call.
//! 2. `sentiment` and `language` of the message.
//! 3. `route`: the specialist, by rules (and by the `classify` route when the rules are
//!    unsure and the model there is capable).
//! 4. `rewrite`: a follow-up made standalone from the conversation; both queries are
//!    searched when they differ (multi-query).
//! 5. `retrieve`: hybrid search in the brand (policy questions look in policy sources
//!    first; account questions also read the customer's record).
//! 6. `answer`: extractive (retrieved sentences, each cited) or generative (a capable model
//!    writes from numbered passages); a small model may rephrase an extractive draft.
//! 7. `verify`: every marker names a retrieved passage, every claim is backed; a generated
//!    or rephrased answer that fails falls back to the extractive one.
//! 8. `confidence` and `escalate`: under the brand's threshold (raised for a frustrated
//!    customer) the assistant says it does not know and opens a ticket; a request for a
//!    human always opens one.
//! 9. `store`: the customer's message, the answer with citations, confidence and trace.
//!
//! Streaming callers get the answer's text as it is made, then the citations, the
//! confidence and the escalation decision, as [`TurnEvent`]s.

use super::draft::{Relay, fixed};
use super::records::MessageView;
use super::sources::Sources;
use crate::llm::{LazyLlm, route_capability};
use crate::{AppError, Brandpilot, Result};
use brandpilot_assistant::confidence::{ConfidenceInputs, confidence};
use brandpilot_assistant::evidence::Evidence;
use brandpilot_assistant::language::{Language, detect, phrases};
use brandpilot_assistant::memory::{Remembered, fold_summary, window_start};
use brandpilot_assistant::rewrite::standalone_query;
use brandpilot_assistant::route::{CLEAR, Specialist, classification_prompt, route_by_rules};
use brandpilot_assistant::screen::screen;
use brandpilot_assistant::sentiment::sentiment;
use brandpilot_assistant::text::content_terms;
use brandpilot_assistant::trace::TurnTrace;
use brandpilot_assistant::verify::{Verification, renumber, verify};
use brandpilot_core::{ChunkId, ChunkLocator, ConversationId, MessageId, SourceId, TicketId};
use brandpilot_llm::{ChatRequest, Message, ResponseFormat};
use brandpilot_store::{Brand, ConversationRecord, MessageRecord, NewMessage, NewTicket};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// Who the assistant is talking to: an anonymous widget visitor, a customer the brand
/// identified (their record may be read), or an operator of the workspace trying it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndUser {
    Visitor(String),
    Customer(String),
    Operator(String),
}

impl EndUser {
    /// How the conversation stores it.
    pub fn key(&self) -> String {
        match self {
            EndUser::Visitor(id) => format!("visitor:{id}"),
            EndUser::Customer(id) => format!("customer:{id}"),
            EndUser::Operator(id) => format!("operator:{id}"),
        }
    }

    pub(super) fn customer_id(&self) -> Option<&str> {
        match self {
            EndUser::Customer(id) => Some(id),
            EndUser::Visitor(_) | EndUser::Operator(_) => None,
        }
    }
}

/// What a turn is asked.
#[derive(Debug, Clone)]
pub struct TurnInput {
    pub conversation: Option<ConversationId>,
    pub end_user: EndUser,
    pub message: String,
    /// Earlier customer messages the caller holds and the store does not (an OpenAI client
    /// sends the whole conversation each time), oldest first.
    pub earlier_messages: Vec<String>,
}

/// A passage an answer cites, numbered as in the answer's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    pub marker: usize,
    /// `passage` (a chunk of the brand's material) or `customer_record`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_id: Option<ChunkId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<SourceId>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locator: Option<ChunkLocator>,
    /// The cited text.
    pub quote: String,
}

/// The outcome of a turn.
#[derive(Debug, Clone, Serialize)]
pub struct ChatTurn {
    pub conversation: ConversationId,
    pub question_message: MessageId,
    pub message: MessageView,
    pub answer: String,
    pub citations: Vec<Citation>,
    pub confidence: f32,
    pub escalated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_reason: Option<String>,
    pub specialist: Specialist,
    pub language: Language,
    /// `extractive`, `rephrased`, `generative` or `fixed` (a set phrase: greeting, refusal,
    /// hand-over).
    pub mode: String,
    pub verification: Verification,
    #[serde(skip)]
    pub trace: TurnTrace,
}

/// What a streaming caller receives, in this order: `Started`, `Delta`s, at most one
/// `Replace` (the whole final answer, when it differs from what was streamed: a generated
/// answer that failed verification, a hand-over, renumbered markers), then `Done` with
/// everything else. Deltas followed by the replacement, if any, always equal the answer.
#[derive(Debug, Clone)]
pub enum TurnEvent {
    Started {
        conversation: ConversationId,
        question_message: MessageId,
    },
    Delta(String),
    Replace(String),
    Done(Box<ChatTurn>),
}

impl Brandpilot {
    /// Runs one chat turn for `brand` (already resolved inside the caller's workspace).
    /// When `events` is given, the answer is streamed to it as it is made.
    pub async fn chat_turn(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        input: TurnInput,
        events: Option<UnboundedSender<TurnEvent>>,
    ) -> Result<ChatTurn> {
        let settings = &self.settings.assistant;
        let message = input.message.trim().to_owned();
        if message.is_empty() {
            return Err(AppError::InvalidInput("the message is empty".into()));
        }
        if message.chars().count() > settings.max_message_chars {
            return Err(AppError::InvalidInput(format!(
                "a message may hold at most {} characters",
                settings.max_message_chars
            )));
        }
        let end_user_key = input.end_user.key();
        let conversation = match input.conversation {
            Some(id) => self
                .store
                .conversation(brand.id, id)
                .await?
                // Another end user's conversation does not exist for this one.
                .filter(|c| c.end_user == end_user_key)
                .ok_or(AppError::ConversationNotFound(id.0))?,
            None => {
                self.store
                    .create_conversation(brand.id, &end_user_key)
                    .await?
            }
        };
        let history = self
            .store
            .recent_messages(brand.id, conversation.id, 40)
            .await?;
        let question = self
            .store
            .append_message(
                brand.id,
                conversation.id,
                &NewMessage {
                    role: "user".into(),
                    content: message.clone(),
                    citations_json: "[]".into(),
                    confidence: None,
                    escalated: false,
                    trace_json: None,
                    token_count: self.token_counter().count(&message) as i64,
                },
            )
            .await?
            .ok_or(AppError::ConversationNotFound(conversation.id.0))?;
        let relay = Relay {
            events,
            streamed: Mutex::default(),
        };
        relay.send(TurnEvent::Started {
            conversation: conversation.id,
            question_message: question.id,
        });
        let profile = self.brand_profile(brand).await?;
        let mut trace = TurnTrace::default();

        let started = Instant::now();
        let screening = screen(&message);
        trace.record("screen", started, json!({ "signals": screening.signals }));
        let started = Instant::now();
        let feeling = sentiment(&message);
        let language = detect(&message);
        trace.record(
            "sentiment",
            started,
            json!({ "score": feeling.score, "frustrated": feeling.frustrated, "cues": feeling.cues, "language": language.code() }),
        );
        let words = phrases(language);

        let specialist = if screening.is_suspicious() {
            Specialist::OutOfScope
        } else {
            self.route(llm, brand, &message, &mut trace).await
        };

        let mut escalation_reason: Option<&'static str> = None;
        let mut sources = Sources {
            passages: Vec::new(),
            record: None,
        };
        let drafted = match specialist {
            _ if screening.is_suspicious() => fixed(words.refuse_injection),
            Specialist::SmallTalk => fixed(if profile.greeting.trim().is_empty() {
                words.small_talk
            } else {
                profile.greeting.trim()
            }),
            Specialist::OutOfScope => fixed(words.out_of_scope),
            Specialist::Escalation => {
                escalation_reason = Some("asked_for_human");
                fixed(words.handed_over)
            }
            Specialist::CourseContent | Specialist::Policy | Specialist::Account => {
                let earlier: Vec<&str> = input
                    .earlier_messages
                    .iter()
                    .map(String::as_str)
                    .chain(
                        history
                            .iter()
                            .filter(|m| m.role == "user")
                            .map(|m| m.content.as_str()),
                    )
                    .collect();
                let started = Instant::now();
                let rewritten = standalone_query(&message, &earlier);
                trace.record("rewrite", started, json!({ "standalone": rewritten }));
                sources = self
                    .gather(
                        brand,
                        &profile,
                        specialist,
                        &input.end_user,
                        &message,
                        rewritten.as_deref(),
                        &mut trace,
                    )
                    .await?;
                self.draft(
                    llm,
                    brand,
                    &profile,
                    language,
                    &conversation,
                    &message,
                    &sources,
                    &relay,
                    &mut trace,
                )
                .await?
            }
        };

        // Verify, score, decide.
        let started = Instant::now();
        let evidence_texts = sources.texts();
        let evidence = Evidence::new(&evidence_texts);
        let verification = verify(&drafted.text, &evidence);
        let query_terms = content_terms(&message);
        let inputs = ConfidenceInputs {
            best_semantic: if self.embedder().is_semantic() {
                evidence.best_semantic()
            } else {
                None
            },
            best_coverage: evidence.best_passage_coverage(&query_terms),
            supported_share: verification.supported_share(),
            answered: !drafted.fixed && !verification.cited.is_empty(),
        };
        let score = if drafted.fixed {
            1.0
        } else if drafted.declined {
            // A capable model read the passages and found no answer in them.
            0.0
        } else {
            confidence(inputs)
        };
        trace.record(
            "verify",
            started,
            json!({ "invalid_markers": verification.invalid_markers, "claims": verification.claims(), "supported_share": verification.supported_share(), "confidence": score, "inputs": inputs }),
        );
        let started = Instant::now();
        // A frustrated customer is handed over sooner.
        let threshold = if feeling.frustrated {
            (profile.escalation_threshold + 0.15).min(1.0)
        } else {
            profile.escalation_threshold
        };
        let mut answer = drafted.text.clone();
        let mut mode = drafted.mode.to_owned();
        let mut cited = verification.cited.clone();
        // Nothing to say (no sentence found, or a model found the passages silent) is a
        // hand-over whatever the threshold: a brand that set it to 0 gets no empty answers.
        if !drafted.fixed && (score < threshold || !inputs.answered) {
            escalation_reason = Some(if inputs.answered {
                "low_confidence"
            } else {
                "no_answer"
            });
            answer = format!("{} {}", words.dont_know, words.handed_over);
            mode = "fixed".into();
            cited.clear();
        } else if !drafted.fixed
            && specialist == Specialist::Account
            && sources.record.is_none()
            && input.end_user.customer_id().is_none()
        {
            // Account questions from someone the brand has not identified go to a person.
            escalation_reason = Some("account_needs_human");
        } else if feeling.frustrated && escalation_reason.is_none() {
            answer = format!("{answer} {}", words.offer_human);
        }
        let answer = renumber(&answer, &cited);
        relay.settle(&answer);
        let citations: Vec<Citation> = cited
            .iter()
            .enumerate()
            .map(|(index, &old)| sources.citation(old, index + 1))
            .collect();
        let escalated = escalation_reason.is_some();
        trace.record(
            "escalate",
            started,
            json!({ "threshold": threshold, "escalated": escalated, "reason": escalation_reason }),
        );

        let started = Instant::now();
        let trace_json = serde_json::to_string(&trace).ok();
        let stored = self
            .store
            .append_message(
                brand.id,
                conversation.id,
                &NewMessage {
                    role: "assistant".into(),
                    content: answer.clone(),
                    citations_json: serde_json::to_string(&citations)
                        .unwrap_or_else(|_| "[]".into()),
                    confidence: Some(f64::from(score)),
                    escalated,
                    trace_json,
                    token_count: self.token_counter().count(&answer) as i64,
                },
            )
            .await?
            .ok_or(AppError::ConversationNotFound(conversation.id.0))?;
        let ticket = match escalation_reason {
            None => None,
            Some(reason) => Some(
                self.open_ticket(brand, &conversation, &stored, &message, reason)
                    .await?,
            ),
        };
        self.remember(brand, &conversation).await?;
        trace.record(
            "store",
            started,
            json!({ "message": stored.id, "ticket": ticket }),
        );

        let turn = ChatTurn {
            conversation: conversation.id,
            question_message: question.id,
            message: MessageView::from_record(stored, false),
            answer,
            citations,
            confidence: score,
            escalated,
            ticket,
            escalation_reason: escalation_reason.map(str::to_owned),
            specialist,
            language,
            mode,
            verification,
            trace,
        };
        self.metrics
            .chat_turns
            .get_or_create(&crate::telemetry::OutcomeLabels {
                outcome: if escalated { "escalated" } else { "answered" },
            })
            .inc();
        relay.send(TurnEvent::Done(Box::new(turn.clone())));
        Ok(turn)
    }

    async fn route(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        message: &str,
        trace: &mut TurnTrace,
    ) -> Specialist {
        let started = Instant::now();
        let rules = route_by_rules(message);
        let capable = route_capability(&self.settings.llm, "classify")
            >= self.settings.assistant.generative_min_capability;
        if rules.certainty >= CLEAR || !capable || !self.settings.assistant.classify_with_model {
            trace.record(
                "route",
                started,
                json!({ "by": "rules", "decision": rules }),
            );
            return rules.specialist;
        }
        // The instruction is the system turn and the message alone the user turn: the
        // answer cache's similarity path compares user turns, which must differ as the
        // questions do (a template in the user turn made every question look alike).
        let (instruction, schema) = classification_prompt();
        let mut request =
            ChatRequest::new(vec![Message::system(instruction), Message::user(message)]);
        request.response_format = Some(ResponseFormat::JsonSchema {
            name: "route".into(),
            schema,
        });
        request.temperature = Some(0.0);
        let routed = match llm.get(self).await {
            Ok(llm) => llm
                .complete_in(brand.workspace, Some(brand.id), "classify", &request)
                .await
                .ok(),
            Err(_) => None,
        };
        let routed = routed
            .and_then(|(response, _)| {
                serde_json::from_str::<serde_json::Value>(&response.text).ok()
            })
            .and_then(|value| value["category"].as_str().and_then(Specialist::parse));
        let specialist = routed.unwrap_or(rules.specialist);
        trace.record(
            "route",
            started,
            json!({ "by": if routed.is_some() { "model" } else { "rules (the model gave no category)" }, "rules": rules, "decision": specialist }),
        );
        specialist
    }

    /// The conversation's open ticket, or a new one.
    async fn open_ticket(
        &self,
        brand: &Brand,
        conversation: &ConversationRecord,
        answer: &MessageRecord,
        question: &str,
        reason: &str,
    ) -> Result<TicketId> {
        if let Some(open) = self
            .store
            .open_ticket_for_conversation(brand.id, conversation.id)
            .await?
        {
            return Ok(open.id);
        }
        let ticket = self
            .store
            .create_ticket(&NewTicket {
                brand: brand.id,
                conversation: conversation.id,
                message: Some(answer.id),
                question: question.to_owned(),
                reason: reason.to_owned(),
            })
            .await?;
        self.metrics.tickets_opened.inc();
        self.announce_ticket(brand.workspace, crate::webhooks::TICKET_OPENED, &ticket)
            .await;
        Ok(ticket.id)
    }

    /// Folds messages that left the memory window into the conversation's summary, and
    /// queues the model's rewrite of it when a capable model summarises (`summary.rs`).
    async fn remember(&self, brand: &Brand, conversation: &ConversationRecord) -> Result<()> {
        let recent = self
            .store
            .messages(
                brand.id,
                conversation.id,
                Some(conversation.summarized_through),
                500,
            )
            .await?;
        let counts: Vec<usize> = recent
            .iter()
            .map(|m| m.token_count.max(0) as usize)
            .collect();
        let start = window_start(&counts, self.settings.assistant.memory_tokens);
        if start == 0 {
            return Ok(());
        }
        let dropped: Vec<Remembered<'_>> = recent[..start]
            .iter()
            .map(|m| Remembered {
                role: &m.role,
                content: &m.content,
            })
            .collect();
        let summary = fold_summary(
            &conversation.summary,
            &dropped,
            self.settings.assistant.summary_chars,
        );
        let through = recent[start - 1].id;
        let folded = self
            .store
            .set_conversation_summary(brand.id, conversation.id, &summary, through)
            .await?;
        if folded && self.summarizes_with_model() {
            self.queue_summary(
                brand,
                conversation.id,
                &conversation.summary,
                conversation.summarized_through,
                through,
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_users_are_kept_apart_by_kind() {
        assert_ne!(
            EndUser::Visitor("7".into()).key(),
            EndUser::Customer("7".into()).key()
        );
        assert_eq!(EndUser::Customer("c-1".into()).customer_id(), Some("c-1"));
        assert_eq!(EndUser::Visitor("v".into()).customer_id(), None);
    }
}
