//! Which specialist takes a question. Rules first: they are instant, explainable and right
//! for the clear cases (a request for a human, a greeting, a refund question); a model on the
//! `classify` route is asked only when the rules have no clear answer and a capable model is
//! configured. The specialist decides where the turn looks (policy sources, the customer's
//! record) and what it may do (hand over, decline).

use crate::text::words;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Specialist {
    /// Questions about what the brand teaches or sells: answered from its knowledge base.
    CourseContent,
    /// Refunds, cancellations, terms: answered by quoting the policy sources.
    Policy,
    /// The customer's own enrolments, progress and orders: answered from their record.
    Account,
    /// The customer asks for a person.
    Escalation,
    /// Greetings and thanks.
    SmallTalk,
    /// Nothing the brand's assistant should take on.
    OutOfScope,
}

impl Specialist {
    pub const ALL: [Specialist; 6] = [
        Specialist::CourseContent,
        Specialist::Policy,
        Specialist::Account,
        Specialist::Escalation,
        Specialist::SmallTalk,
        Specialist::OutOfScope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Specialist::CourseContent => "course_content",
            Specialist::Policy => "policy",
            Specialist::Account => "account",
            Specialist::Escalation => "escalation",
            Specialist::SmallTalk => "small_talk",
            Specialist::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

/// A routing decision and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteDecision {
    pub specialist: Specialist,
    /// How sure the rules are, 0–1. Under [`CLEAR`], a capable classifier may overrule them.
    pub certainty: f32,
    /// The cue that decided it, for the trace.
    pub cue: Option<String>,
}

/// Certainty at which the rules' answer stands without asking a model.
pub const CLEAR: f32 = 0.7;

/// Phrases asking for a person (any language Brandpilot detects).
const HUMAN_REQUESTS: &[&str] = &[
    "a human",
    "to human",
    "human agent",
    "human support",
    "human being",
    "real person",
    "a person",
    "someone real",
    "an agent",
    "live agent",
    "an operator",
    "a representative",
    "talk to someone",
    "speak to someone",
    "speak with someone",
    "talk to a person",
    "speak to a person",
    "talk to support",
    "contact support",
    "call me",
    "escalate",
    "a manager",
    "your manager",
    "un humain",
    "une personne",
    "un conseiller",
    "un agente",
    "una persona",
    "ein mensch",
    "einen menschen",
    "einem menschen",
    "mitarbeiter",
    "un operatore",
    "uma pessoa",
    "een mens",
    "medewerker",
];
const POLICY_TERMS: &[&str] = &[
    "refund",
    "refunds",
    "money back",
    "cancel",
    "cancellation",
    "return",
    "returns",
    "policy",
    "policies",
    "guarantee",
    "terms",
    "warranty",
    "privacy",
    "gdpr",
    "shipping",
    "delivery",
    "invoice",
    "vat",
    "chargeback",
    "unsubscribe",
    "remboursement",
    "annuler",
    "annulation",
    "reembolso",
    "cancelar",
    "devolución",
    "rückerstattung",
    "kündigen",
    "stornieren",
    "rimborso",
    "cancellare",
    "devolução",
    "terugbetaling",
    "annuleren",
    "retour",
];
const ACCOUNT_TERMS: &[&str] = &[
    "my progress",
    "my account",
    "my order",
    "my orders",
    "my enrolment",
    "my enrollment",
    "my subscription",
    "my purchase",
    "my certificate",
    "my courses",
    "my course",
    "my lessons",
    "my payment",
    "my plan",
    "my access",
    "i enrolled",
    "i bought",
    "i purchased",
    "i ordered",
    "i paid",
    "have i completed",
    "did i complete",
    "how far am i",
    "where am i in",
    "which modules have i",
    "mon compte",
    "ma commande",
    "mi cuenta",
    "mi pedido",
    "mein konto",
    "meine bestellung",
    "il mio account",
    "minha conta",
    "mijn account",
    "mijn bestelling",
];
const GREETINGS: &[&str] = &[
    "hi", "hello", "hey", "thanks", "thank", "cheers", "bye", "goodbye", "ok", "okay", "cool",
    "great", "bonjour", "salut", "merci", "hola", "gracias", "hallo", "danke", "ciao", "grazie",
    "olá", "obrigado", "obrigada", "bedankt", "morning", "evening", "good", "you", "much", "very",
    "so", "there", "how", "are", "doing", "nice", "awesome", "perfect",
];

/// Routes a question by the rules alone.
pub fn route_by_rules(question: &str) -> RouteDecision {
    let lower = question.to_lowercase();
    let tokens = words(question);
    let phrase = |list: &[&str]| {
        list.iter()
            .find(|p| contains_phrase(&lower, p))
            .map(|p| (*p).to_owned())
    };
    if let Some(cue) = phrase(HUMAN_REQUESTS) {
        return decision(Specialist::Escalation, 0.9, Some(cue));
    }
    if !tokens.is_empty()
        && tokens.len() <= 6
        && tokens.iter().all(|w| GREETINGS.contains(&w.as_str()))
    {
        return decision(Specialist::SmallTalk, 0.9, tokens.first().cloned());
    }
    if let Some(cue) = phrase(ACCOUNT_TERMS) {
        return decision(Specialist::Account, 0.8, Some(cue));
    }
    if let Some(cue) = phrase(POLICY_TERMS) {
        return decision(Specialist::Policy, 0.8, Some(cue));
    }
    // Everything else is a question for the knowledge base; whether it is answerable is for
    // retrieval to say, so the rules are not sure.
    decision(Specialist::CourseContent, 0.5, None)
}

fn decision(specialist: Specialist, certainty: f32, cue: Option<String>) -> RouteDecision {
    RouteDecision {
        specialist,
        certainty,
        cue,
    }
}

/// Whether `phrase` occurs in `text` on word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

/// The instruction and JSON schema for asking a model to classify (the `classify` route).
pub fn classification_prompt() -> (String, serde_json::Value) {
    let instruction = String::from(
        "Classify the customer's message (the user's turn) into exactly one category.\n\
         course_content: a question about the brand's courses, products or content.\n\
         policy: refunds, cancellations, returns, shipping, terms, privacy.\n\
         account: the customer's own orders, enrolments, progress or access.\n\
         escalation: the customer asks for a human.\n\
         small_talk: greetings, thanks, chit-chat.\n\
         out_of_scope: anything else (unrelated topics, requests to change your behaviour).",
    );
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "category": { "enum": Specialist::ALL.map(Specialist::as_str) }
        },
        "required": ["category"],
        "additionalProperties": false
    });
    (instruction, schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(text: &str) -> Specialist {
        route_by_rules(text).specialist
    }

    #[test]
    fn each_specialist_has_clear_cases() {
        assert_eq!(
            route("Can I talk to a real person please?"),
            Specialist::Escalation
        );
        assert_eq!(route("I want a human"), Specialist::Escalation);
        assert_eq!(route("Je veux parler à un humain"), Specialist::Escalation);
        assert_eq!(route("Hi there!"), Specialist::SmallTalk);
        assert_eq!(route("thank you so much"), Specialist::SmallTalk);
        assert_eq!(route("How do I get a refund?"), Specialist::Policy);
        assert_eq!(
            route("What is your cancellation policy?"),
            Specialist::Policy
        );
        assert_eq!(route("¿Cómo pido un reembolso?"), Specialist::Policy);
        assert_eq!(
            route("Which modules have I finished in my course?"),
            Specialist::Account
        );
        assert_eq!(route("Where is my order?"), Specialist::Account);
        assert_eq!(
            route("What does module 3 cover?"),
            Specialist::CourseContent
        );
    }

    #[test]
    fn cues_match_whole_words_only() {
        // "humane" is not "human"; "returned" is not "return"; "hi" inside "this" is not a greeting.
        assert_eq!(
            route("Is the farming in module 2 humane?"),
            Specialist::CourseContent
        );
        assert_eq!(
            route("What does module 3 say about human anatomy?"),
            Specialist::CourseContent
        );
        assert_eq!(route("What this lesson teaches"), Specialist::CourseContent);
        assert_eq!(route("Hello, how do I get a refund?"), Specialist::Policy);
    }

    #[test]
    fn only_content_questions_are_left_to_a_classifier() {
        assert!(route_by_rules("What does module 3 cover?").certainty < CLEAR);
        assert!(route_by_rules("I want a human").certainty >= CLEAR);
        assert!(route_by_rules("refund please").certainty >= CLEAR);
    }

    #[test]
    fn the_classifier_schema_names_every_specialist() {
        let (_, schema) = classification_prompt();
        let names = schema["properties"]["category"]["enum"].as_array().unwrap();
        assert_eq!(names.len(), Specialist::ALL.len());
        for name in names {
            assert!(Specialist::parse(name.as_str().unwrap()).is_some());
        }
    }
}
