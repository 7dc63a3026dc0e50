//! Calls to action: a variant must tell the reader what to do next, and say it specifically.
//! A CTA is specific when it is one of the brand's own (its CTA library) or when a clause
//! opens with an imperative verb and names an object ("Book your free trial class", "Save
//! 20% this week"). "Click here", "Learn more", "Shop now" and "Link in bio" on their own
//! are vague: a verb with nothing but filler after it.
//!
//! Imperatives are recognised from short verb lists per language (English always, plus the
//! request's language), at the start of a sentence or of a clause after a comma, colon,
//! dash or an emoji, after softeners such as "so", "now" or "please". This is a heuristic:
//! it knows the verbs marketing copy uses, not English grammar.

use super::banned::PhraseMatcher;
use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::language::Language;
use crate::text::{is_emoji_char, sentences, words};
use brandpilot_assistant::text::is_stop_word;
use serde::{Deserialize, Serialize};

/// What the CTA check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CtaFinding {
    /// A phrase from the brand's CTA library.
    Library {
        phrase: String,
    },
    /// An imperative with an object.
    Specific {
        text: String,
    },
    /// Only imperatives without an object ("Learn more").
    Vague {
        text: String,
    },
    Missing,
}

/// How one clause reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseKind {
    NotCta,
    Vague,
    Specific,
}

const VERBS_EN: &[&str] = &[
    "apply",
    "ask",
    "attend",
    "book",
    "browse",
    "build",
    "buy",
    "call",
    "check",
    "claim",
    "click",
    "come",
    "comment",
    "compare",
    "contact",
    "create",
    "discover",
    "dm",
    "donate",
    "download",
    "email",
    "enroll",
    "enrol",
    "enter",
    "explore",
    "find",
    "follow",
    "get",
    "grab",
    "head",
    "join",
    "learn",
    "listen",
    "meet",
    "message",
    "order",
    "preorder",
    "read",
    "redeem",
    "register",
    "request",
    "reserve",
    "reply",
    "save",
    "schedule",
    "secure",
    "see",
    "share",
    "shop",
    "sign",
    "start",
    "subscribe",
    "swipe",
    "tag",
    "take",
    "tap",
    "text",
    "try",
    "unlock",
    "upgrade",
    "use",
    "visit",
    "vote",
    "watch",
    "write",
];
const VERBS_FR: &[&str] = &[
    "abonnez",
    "achetez",
    "achète",
    "apprenez",
    "appelez",
    "cliquez",
    "commandez",
    "commentez",
    "contactez",
    "découvrez",
    "découvre",
    "demandez",
    "écrivez",
    "enregistrez",
    "essayez",
    "inscrivez",
    "lisez",
    "obtenez",
    "partagez",
    "profitez",
    "profite",
    "regardez",
    "rejoignez",
    "réservez",
    "réserve",
    "suivez",
    "téléchargez",
    "testez",
    "venez",
    "visitez",
];
const VERBS_ES: &[&str] = &[
    "aprende",
    "aprovecha",
    "busca",
    "comenta",
    "comienza",
    "compra",
    "comparte",
    "contacta",
    "contáctanos",
    "descarga",
    "descubre",
    "empieza",
    "escríbenos",
    "guarda",
    "haz",
    "inscríbete",
    "lee",
    "llama",
    "mira",
    "obtén",
    "pide",
    "prueba",
    "regístrate",
    "reserva",
    "sigue",
    "solicita",
    "suscríbete",
    "únete",
    "visita",
];
const VERBS_DE: &[&str] = &[
    "abonniere",
    "abonnieren",
    "bestelle",
    "bestellen",
    "besuche",
    "besuchen",
    "buche",
    "buchen",
    "entdecke",
    "entdecken",
    "erfahre",
    "folge",
    "hol",
    "hole",
    "holen",
    "kaufe",
    "kaufen",
    "klicke",
    "klicken",
    "kontaktiere",
    "lade",
    "lerne",
    "lies",
    "melde",
    "probiere",
    "registriere",
    "schau",
    "sichere",
    "sichern",
    "spare",
    "starte",
    "starten",
    "teile",
    "teste",
    "testen",
    "vereinbare",
    "vereinbaren",
];
const VERBS_IT: &[&str] = &[
    "abbonati",
    "acquista",
    "approfitta",
    "chiama",
    "clicca",
    "commenta",
    "compra",
    "condividi",
    "contattaci",
    "guarda",
    "impara",
    "inizia",
    "iscriviti",
    "leggi",
    "ordina",
    "ottieni",
    "prenota",
    "prova",
    "registrati",
    "richiedi",
    "salva",
    "scarica",
    "scopri",
    "scrivici",
    "segui",
    "unisciti",
    "visita",
];
const VERBS_PT: &[&str] = &[
    "aprenda",
    "aproveite",
    "assine",
    "assista",
    "baixe",
    "cadastre",
    "clique",
    "comece",
    "compartilhe",
    "comente",
    "compre",
    "descubra",
    "experimente",
    "fale",
    "inscreva",
    "junte",
    "leia",
    "ligue",
    "obtenha",
    "peça",
    "reserve",
    "saiba",
    "salve",
    "siga",
    "solicite",
    "visite",
];
const VERBS_NL: &[&str] = &[
    "bekijk",
    "bel",
    "begin",
    "bestel",
    "bewaar",
    "bezoek",
    "boek",
    "claim",
    "deel",
    "download",
    "klik",
    "koop",
    "lees",
    "leer",
    "meld",
    "neem",
    "ontdek",
    "probeer",
    "profiteer",
    "registreer",
    "reserveer",
    "schrijf",
    "start",
    "volg",
    "vraag",
];

/// Words after a verb that are not an object: "Click *here*", "Learn *more*", "Shop *now*".
const FILLERS: &[&str] = &[
    // English
    "here",
    "more",
    "now",
    "today",
    "tonight",
    "it",
    "this",
    "that",
    "link",
    "links",
    "below",
    "above",
    "bio",
    "out",
    "up",
    "in",
    "on",
    "started",
    "us",
    "all",
    "soon",
    "again",
    "info",
    "information",
    "details",
    "site",
    "website",
    "page",
    "button",
    "go",
    "anytime",
    "away",
    // French
    "ici",
    "plus",
    "maintenant",
    "aujourd'hui",
    "lien",
    "dessous",
    "infos",
    "informations",
    "savoir",
    "site",
    "nous",
    // Spanish
    "aquí",
    "más",
    "ahora",
    "hoy",
    "enlace",
    "abajo",
    "información",
    "sitio",
    "web",
    "nos",
    // German
    "hier",
    "mehr",
    "jetzt",
    "heute",
    "unten",
    "infos",
    "informationen",
    "uns",
    // Italian
    "qui",
    "più",
    "ora",
    "oggi",
    "sotto",
    "informazioni",
    "sito",
    // Portuguese
    "aqui",
    "mais",
    "agora",
    "hoje",
    "abaixo",
    "informações",
    // Dutch
    "meer",
    "nu",
    "vandaag",
    "onder",
    "informatie",
    "website",
];

/// Softeners a CTA may open with before its verb: "So book…", "Now, grab…", "Please sign…".
const OPENERS: &[&str] = &[
    "so",
    "now",
    "just",
    "please",
    "then",
    "and",
    "simply",
    "go",
    "ahead",
    "today",
    "alors",
    "maintenant",
    "ahora",
    "ya",
    "jetzt",
    "einfach",
    "ora",
    "agora",
    "nu",
    "gewoon",
];

fn verbs(language: Language) -> &'static [&'static str] {
    match language {
        Language::En => &[],
        Language::Fr => VERBS_FR,
        Language::Es => VERBS_ES,
        Language::De => VERBS_DE,
        Language::It => VERBS_IT,
        Language::Pt => VERBS_PT,
        Language::Nl => VERBS_NL,
    }
}

fn is_verb(word: &str, language: Language) -> bool {
    VERBS_EN.contains(&word) || verbs(language).contains(&word)
}

fn is_object_word(word: &str, language: Language) -> bool {
    let meaningful = word.chars().count() >= 2 || word.chars().all(|c| c.is_ascii_digit());
    meaningful && !FILLERS.contains(&word) && !is_stop_word(word) && !is_verb(word, language)
}

/// How a clause's words (lower-case, in order) read as a call to action.
pub fn classify_clause(clause: &[String], language: Language) -> ClauseKind {
    let mut rest = clause
        .iter()
        .map(String::as_str)
        .skip_while(|word| OPENERS.contains(word));
    let Some(first) = rest.next() else {
        return ClauseKind::NotCta;
    };
    if !is_verb(first, language) {
        return ClauseKind::NotCta;
    }
    if rest.any(|word| is_object_word(word, language)) {
        ClauseKind::Specific
    } else {
        ClauseKind::Vague
    }
}

/// Whether the gap between two words starts a new clause.
fn breaks_clause(gap: &str) -> bool {
    gap.chars().any(|c| {
        matches!(
            c,
            ',' | ':' | ';' | '—' | '–' | '|' | '→' | '(' | ')' | '•' | '·'
        ) || is_emoji_char(c)
    }) || gap.contains(" - ")
}

/// The clauses of `text` as lists of lower-case words, with the text each covers.
fn clauses(text: &str) -> Vec<(Vec<String>, &str)> {
    let mut out = Vec::new();
    for sentence in sentences(text) {
        let sentence_text = &text[sentence.clone()];
        // Hashtags and mentions are labels, not the object of a call to action: "Shop now
        // #sale" is as vague as "Shop now".
        let bytes = sentence_text.as_bytes();
        let spans: Vec<_> = words(sentence_text)
            .into_iter()
            .filter(|span| span.start == 0 || !matches!(bytes[span.start - 1], b'#' | b'@'))
            .collect();
        let mut start = 0;
        for k in 0..=spans.len() {
            let boundary = k == spans.len()
                || (k > 0 && breaks_clause(&sentence_text[spans[k - 1].end..spans[k].start]));
            if boundary && k > start {
                let words: Vec<String> = spans[start..k]
                    .iter()
                    .map(|span| super::match_form(&sentence_text[span.clone()]))
                    .collect();
                let covered = &sentence_text[spans[start].start..spans[k - 1].end];
                out.push((words, covered));
                start = k;
            }
        }
    }
    out
}

/// Whether `sentence` is a call to action (vague or specific): `repair` keeps such a
/// closing sentence when it cuts a text to length.
pub fn is_cta_sentence(sentence: &str, language: Language) -> bool {
    clauses(sentence)
        .iter()
        .any(|(words, _)| classify_clause(words, language) != ClauseKind::NotCta)
}

pub(crate) fn find_with(text: &str, language: Language, library: &PhraseMatcher) -> CtaFinding {
    if let Some(found) = library.find(text).first() {
        return CtaFinding::Library {
            phrase: text[found.span.clone()].to_owned(),
        };
    }
    let mut vague = None;
    for (words, covered) in clauses(text) {
        match classify_clause(&words, language) {
            ClauseKind::Specific => {
                return CtaFinding::Specific {
                    text: covered.to_owned(),
                };
            }
            ClauseKind::Vague if vague.is_none() => vague = Some(covered.to_owned()),
            ClauseKind::Vague | ClauseKind::NotCta => {}
        }
    }
    match vague {
        Some(text) => CtaFinding::Vague { text },
        None => CtaFinding::Missing,
    }
}

/// The call to action in `text` for a request in `language`, given the brand's CTA library.
pub fn find_cta(text: &str, language: Language, cta_library: &[String]) -> CtaFinding {
    let library = PhraseMatcher::new(
        cta_library
            .iter()
            .map(|cta| (cta.clone(), super::banned::PhraseKind::Cta, None))
            .collect(),
        false,
    );
    find_with(text, language, &library)
}

pub(crate) fn check(context: &Context) -> RuleResult {
    if !context.spec.requires_cta {
        return rule_result(
            RuleId::Cta,
            Applicability::NotApplicable(format!("{} needs no call to action", context.spec.name)),
            Vec::new(),
        );
    }
    let text = context.published_text();
    // The repairs put the brand's first library CTA in place of a missing or vague one.
    let has_library = !context.rules.rules().cta_library.is_empty();
    let example = context.rules.rules().cta_library.first().map_or_else(
        || "\"Book your free trial class\"".to_owned(),
        |cta| format!("\"{cta}\""),
    );
    match find_with(&text, context.language, &context.rules.cta_library) {
        CtaFinding::Library { phrase } => rule_result(
            RuleId::Cta,
            Applicability::AppliesWithNote(format!("the brand's CTA \"{phrase}\"")),
            Vec::new(),
        ),
        CtaFinding::Specific { text } => rule_result(
            RuleId::Cta,
            Applicability::AppliesWithNote(format!("\"{text}\"")),
            Vec::new(),
        ),
        CtaFinding::Vague { text } => rule_result(
            RuleId::Cta,
            Applicability::Applies,
            vec![Violation::error(
                RuleId::Cta,
                None,
                format!(
                    "\"{text}\" is a vague call to action; say what the reader does and gets, e.g. {example}"
                ),
            )
            .repairable(has_library)],
        ),
        CtaFinding::Missing => rule_result(
            RuleId::Cta,
            Applicability::Applies,
            vec![Violation::error(
                RuleId::Cta,
                None,
                format!(
                    "no call to action; end with what the reader should do next, e.g. {example}"
                ),
            )
            .repairable(has_library)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cta(text: &str) -> CtaFinding {
        find_cta(text, Language::En, &[])
    }

    #[test]
    fn an_imperative_with_an_object_is_a_specific_cta() {
        assert_eq!(
            cta("Spring is here. Book your free trial class today."),
            CtaFinding::Specific {
                text: "Book your free trial class today".into()
            }
        );
        assert!(matches!(
            cta("Save 20% on every brush this week"),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            cta("Ready to paint? Grab a seat in the spring workshop."),
            CtaFinding::Specific { .. }
        ));
    }

    #[test]
    fn click_here_and_learn_more_alone_are_vague() {
        for text in [
            "Click here.",
            "Learn more",
            "Shop now! #sale #2026",
            "Tap the link in bio",
            "Get started today.",
            "Contact us",
        ] {
            assert!(
                matches!(cta(text), CtaFinding::Vague { .. }),
                "{text}: {:?}",
                cta(text)
            );
        }
    }

    #[test]
    fn a_vague_opener_followed_by_a_real_action_is_specific() {
        assert!(matches!(
            cta("Click here to book your discovery call."),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            cta("Learn more about the spring watercolour course."),
            CtaFinding::Specific { .. }
        ));
    }

    #[test]
    fn ctas_after_openers_dashes_and_emoji_are_found() {
        assert!(matches!(
            cta("So, join the waitlist for autumn."),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            cta("New course 👉 reserve your spot"),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            cta("Limited places — claim your early-bird discount"),
            CtaFinding::Specific { .. }
        ));
    }

    #[test]
    fn statements_questions_and_empty_text_have_no_cta() {
        assert_eq!(
            cta("We love watercolour. It is calming and fun."),
            CtaFinding::Missing
        );
        assert_eq!(cta("Who else loves painting?"), CtaFinding::Missing);
        assert_eq!(cta(""), CtaFinding::Missing);
        assert_eq!(cta("🎨🎨 #art"), CtaFinding::Missing);
    }

    #[test]
    fn the_brand_library_counts_even_without_an_imperative() {
        let library = vec!["Your first class is on us".to_owned()];
        assert_eq!(
            find_cta(
                "Spring session starts soon. YOUR FIRST CLASS IS ON US!",
                Language::En,
                &library
            ),
            CtaFinding::Library {
                phrase: "YOUR FIRST CLASS IS ON US".into()
            }
        );
    }

    #[test]
    fn ctas_in_the_request_language_are_recognised() {
        assert!(matches!(
            find_cta("Réservez votre place pour l'atelier.", Language::Fr, &[]),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            find_cta(
                "Jetzt Kurs buchen? Buchen Sie jetzt Ihren Platz!",
                Language::De,
                &[]
            ),
            CtaFinding::Specific { .. }
        ));
        assert!(matches!(
            find_cta("Cliquez ici !", Language::Fr, &[]),
            CtaFinding::Vague { .. }
        ));
        assert!(matches!(
            find_cta("Reserva tu plaza hoy.", Language::Es, &[]),
            CtaFinding::Specific { .. }
        ));
    }

    #[test]
    fn a_closing_cta_sentence_is_recognised_for_repair() {
        assert!(is_cta_sentence("Book your seat today.", Language::En));
        assert!(is_cta_sentence("Learn more.", Language::En));
        assert!(!is_cta_sentence("Our course is great.", Language::En));
    }
}
