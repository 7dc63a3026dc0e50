//! The language of a customer's message, and the assistant's own sentences in it (a greeting,
//! "I don't know", the offer of a human), so an answer comes back in the language it was
//! asked in even when the model is too small to translate.
//!
//! Detection counts each language's commonest function words and a few letters only it uses;
//! it names one of the languages below or falls back to English. It is a heuristic for short
//! messages, not a general language identifier.

use crate::text::words;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Fr,
    Es,
    De,
    It,
    Pt,
    Nl,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::De => "de",
            Language::It => "it",
            Language::Pt => "pt",
            Language::Nl => "nl",
        }
    }

    /// The language's English name, for a prompt ("Answer in French").
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Fr => "French",
            Language::Es => "Spanish",
            Language::De => "German",
            Language::It => "Italian",
            Language::Pt => "Portuguese",
            Language::Nl => "Dutch",
        }
    }
}

const MARKERS: &[(Language, &[&str])] = &[
    (
        Language::En,
        &[
            "the", "and", "is", "are", "what", "how", "can", "i", "my", "you", "to", "do", "does",
            "of", "a", "for", "with", "it", "when", "where", "why", "have", "get",
            // Short posts and replies often have none of the above. These are common in
            // English and not function words of the other languages here ("come" is also
            // Italian's "how": a tie goes to English, and Italian's other words break it).
            "our", "we", "your", "on", "at", "be", "will", "this", "that", "not", "if", "or",
            "from", "by", "has", "just", "please", "hello", "hi", "thanks", "thank", "us", "about",
            "would", "could", "which", "they", "their", "come", "new", "today",
        ],
    ),
    (
        Language::Fr,
        &[
            "le",
            "la",
            "les",
            "est",
            "et",
            "je",
            "vous",
            "comment",
            "pourquoi",
            "mon",
            "ma",
            "mes",
            "une",
            "des",
            "du",
            "pour",
            "avec",
            "quand",
            "où",
            "puis",
            "cours",
            "est-ce",
            "qu'est",
            "remboursement",
            "bonjour",
            "merci",
            "ai",
            "suis",
            "pas",
        ],
    ),
    (
        Language::Es,
        &[
            "el",
            "los",
            "las",
            "es",
            "y",
            "yo",
            "usted",
            "cómo",
            "como",
            "por",
            "qué",
            "que",
            "mi",
            "una",
            "para",
            "con",
            "cuándo",
            "dónde",
            "puedo",
            "hola",
            "gracias",
            "reembolso",
            "curso",
            "tengo",
            "está",
            "no",
        ],
    ),
    (
        Language::De,
        &[
            "der",
            "die",
            "das",
            "und",
            "ist",
            "ich",
            "sie",
            "wie",
            "warum",
            "mein",
            "meine",
            "ein",
            "eine",
            "für",
            "mit",
            "wann",
            "wo",
            "kann",
            "nicht",
            "hallo",
            "danke",
            "rückerstattung",
            "kurs",
            "habe",
            "bitte",
        ],
    ),
    (
        Language::It,
        &[
            "il", "lo", "gli", "è", "e", "io", "come", "perché", "mio", "mia", "una", "per", "con",
            "quando", "dove", "posso", "ciao", "grazie", "rimborso", "corso", "non", "sono", "ho",
        ],
    ),
    (
        Language::Pt,
        &[
            "o",
            "os",
            "as",
            "é",
            "e",
            "eu",
            "você",
            "como",
            "porque",
            "meu",
            "minha",
            "uma",
            "para",
            "com",
            "quando",
            "onde",
            "posso",
            "olá",
            "obrigado",
            "obrigada",
            "reembolso",
            "curso",
            "não",
            "tenho",
            "está",
        ],
    ),
    (
        Language::Nl,
        &[
            "de",
            "het",
            "een",
            "en",
            "is",
            "ik",
            "je",
            "u",
            "hoe",
            "waarom",
            "mijn",
            "voor",
            "met",
            "wanneer",
            "waar",
            "kan",
            "niet",
            "hallo",
            "bedankt",
            "terugbetaling",
            "cursus",
            "heb",
        ],
    ),
];

/// The language `text` is most likely written in; English when nothing stands out.
pub fn detect(text: &str) -> Language {
    let tokens = words(text);
    if tokens.is_empty() {
        return Language::En;
    }
    let mut best = (Language::En, 0.0f32);
    for (language, markers) in MARKERS {
        let mut score = tokens
            .iter()
            .filter(|w| markers.contains(&w.as_str()))
            .count() as f32;
        score += letter_bonus(*language, text);
        // English wins ties: it is the commonest and the safest fallback.
        if score > best.1 {
            best = (*language, score);
        }
    }
    best.0
}

/// Letters and spellings one language uses and the others mostly do not.
fn letter_bonus(language: Language, text: &str) -> f32 {
    let count = |set: &[char]| text.chars().filter(|c| set.contains(c)).count() as f32;
    match language {
        Language::Fr => count(&['ç', 'ê', 'è', 'à', 'û', 'œ', 'î']) * 0.7,
        Language::Es => count(&['ñ', '¿', '¡', 'á', 'í', 'ó', 'ú']) * 0.7,
        Language::De => count(&['ß', 'ä', 'ö', 'ü']) * 0.7,
        Language::Pt => count(&['ã', 'õ', 'ç']) * 0.5,
        Language::It | Language::Nl | Language::En => 0.0,
    }
}

/// The assistant's own sentences, in one language.
#[derive(Debug, Clone, Copy)]
pub struct Phrases {
    pub greeting: &'static str,
    pub dont_know: &'static str,
    pub offer_human: &'static str,
    pub handed_over: &'static str,
    pub refuse_injection: &'static str,
    pub small_talk: &'static str,
    pub out_of_scope: &'static str,
    pub from_sources: &'static str,
}

pub fn phrases(language: Language) -> Phrases {
    match language {
        Language::En => Phrases {
            greeting: "Hello! How can I help you today?",
            dont_know: "I don't know the answer to that from our material.",
            offer_human: "Would you like me to pass this to a person on our team?",
            handed_over: "I've passed your question to a person on our team; they will reply here.",
            refuse_injection: "I can only answer questions about our products and content; I can't change how I work.",
            small_talk: "Happy to help! What would you like to know?",
            out_of_scope: "That is outside what I can help with here; I answer questions about our products and content.",
            from_sources: "Here is what our material says:",
        },
        Language::Fr => Phrases {
            greeting: "Bonjour ! Comment puis-je vous aider ?",
            dont_know: "Je ne trouve pas la réponse à cette question dans nos documents.",
            offer_human: "Souhaitez-vous que je transmette votre question à une personne de notre équipe ?",
            handed_over: "J'ai transmis votre question à une personne de notre équipe ; elle vous répondra ici.",
            refuse_injection: "Je réponds uniquement aux questions sur nos produits et nos contenus ; je ne peux pas changer ma façon de travailler.",
            small_talk: "Avec plaisir ! Que souhaitez-vous savoir ?",
            out_of_scope: "Cela dépasse ce que je peux faire ici ; je réponds aux questions sur nos produits et nos contenus.",
            from_sources: "Voici ce que disent nos documents :",
        },
        Language::Es => Phrases {
            greeting: "¡Hola! ¿En qué puedo ayudarte?",
            dont_know: "No encuentro la respuesta a eso en nuestro material.",
            offer_human: "¿Quieres que pase tu pregunta a una persona de nuestro equipo?",
            handed_over: "He pasado tu pregunta a una persona de nuestro equipo; te responderá aquí.",
            refuse_injection: "Solo respondo preguntas sobre nuestros productos y contenidos; no puedo cambiar cómo funciono.",
            small_talk: "¡Con gusto! ¿Qué te gustaría saber?",
            out_of_scope: "Eso está fuera de lo que puedo hacer aquí; respondo preguntas sobre nuestros productos y contenidos.",
            from_sources: "Esto es lo que dice nuestro material:",
        },
        Language::De => Phrases {
            greeting: "Hallo! Wie kann ich Ihnen helfen?",
            dont_know: "Dazu finde ich keine Antwort in unseren Unterlagen.",
            offer_human: "Soll ich Ihre Frage an eine Person aus unserem Team weitergeben?",
            handed_over: "Ich habe Ihre Frage an eine Person aus unserem Team weitergegeben; sie antwortet Ihnen hier.",
            refuse_injection: "Ich beantworte nur Fragen zu unseren Produkten und Inhalten; meine Arbeitsweise kann ich nicht ändern.",
            small_talk: "Gern! Was möchten Sie wissen?",
            out_of_scope: "Das liegt außerhalb dessen, wobei ich hier helfen kann; ich beantworte Fragen zu unseren Produkten und Inhalten.",
            from_sources: "Das steht in unseren Unterlagen:",
        },
        Language::It => Phrases {
            greeting: "Ciao! Come posso aiutarti?",
            dont_know: "Non trovo la risposta a questa domanda nel nostro materiale.",
            offer_human: "Vuoi che passi la tua domanda a una persona del nostro team?",
            handed_over: "Ho passato la tua domanda a una persona del nostro team; ti risponderà qui.",
            refuse_injection: "Rispondo solo a domande sui nostri prodotti e contenuti; non posso cambiare il mio funzionamento.",
            small_talk: "Volentieri! Cosa vorresti sapere?",
            out_of_scope: "Questo va oltre ciò in cui posso aiutarti qui; rispondo a domande sui nostri prodotti e contenuti.",
            from_sources: "Ecco cosa dice il nostro materiale:",
        },
        Language::Pt => Phrases {
            greeting: "Olá! Como posso ajudar?",
            dont_know: "Não encontro a resposta para isso no nosso material.",
            offer_human: "Quer que eu passe a sua pergunta para uma pessoa da nossa equipe?",
            handed_over: "Passei a sua pergunta para uma pessoa da nossa equipe; ela responderá aqui.",
            refuse_injection: "Só respondo a perguntas sobre os nossos produtos e conteúdos; não posso mudar a forma como funciono.",
            small_talk: "Com prazer! O que gostaria de saber?",
            out_of_scope: "Isso está fora do que posso ajudar aqui; respondo a perguntas sobre os nossos produtos e conteúdos.",
            from_sources: "Eis o que diz o nosso material:",
        },
        Language::Nl => Phrases {
            greeting: "Hallo! Waarmee kan ik je helpen?",
            dont_know: "Ik vind het antwoord daarop niet in ons materiaal.",
            offer_human: "Wil je dat ik je vraag doorgeef aan iemand van ons team?",
            handed_over: "Ik heb je vraag doorgegeven aan iemand van ons team; die antwoordt je hier.",
            refuse_injection: "Ik beantwoord alleen vragen over onze producten en inhoud; ik kan mijn werkwijze niet veranderen.",
            small_talk: "Graag! Wat wil je weten?",
            out_of_scope: "Dat valt buiten waar ik hier mee kan helpen; ik beantwoord vragen over onze producten en inhoud.",
            from_sources: "Dit staat in ons materiaal:",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_questions_are_recognised_in_each_language() {
        for (text, language) in [
            ("How do I get a refund for my course?", Language::En),
            (
                "Comment est-ce que je peux obtenir un remboursement pour le cours ?",
                Language::Fr,
            ),
            ("¿Cómo puedo pedir un reembolso del curso?", Language::Es),
            (
                "Wie bekomme ich eine Rückerstattung für meinen Kurs?",
                Language::De,
            ),
            ("Come posso avere un rimborso per il corso?", Language::It),
            (
                "Como posso pedir o reembolso do meu curso? Não consigo.",
                Language::Pt,
            ),
            (
                "Hoe kan ik een terugbetaling voor mijn cursus krijgen?",
                Language::Nl,
            ),
        ] {
            assert_eq!(detect(text), language, "{text}");
        }
    }

    #[test]
    fn short_english_posts_and_replies_are_english() {
        for text in [
            "Our roastery opens early on Saturdays. Come say hello.",
            "New colours just landed. Link in bio!",
            "Thanks, that helps.",
            "Come see us at the market.",
            "We ship from Lisbon.",
            "Sold out again, sorry! Back on Friday.",
        ] {
            assert_eq!(detect(text), Language::En, "{text:?}");
        }
        // The other languages' short questions keep their language.
        for (text, language) in [
            ("Come posso avere un rimborso?", Language::It),
            ("Ciao, dove è il mio corso?", Language::It),
            ("Hoe kan ik mijn cursus pauzeren?", Language::Nl),
            ("Wo ist mein Kurs?", Language::De),
            ("Où est mon cours ?", Language::Fr),
            ("Olá, onde está o meu curso?", Language::Pt),
        ] {
            assert_eq!(detect(text), language, "{text:?}");
        }
    }

    #[test]
    fn nothing_to_go_on_means_english() {
        assert_eq!(detect(""), Language::En);
        assert_eq!(detect("42 !!!"), Language::En);
        assert_eq!(detect("SKU-1234"), Language::En);
    }

    #[test]
    fn every_language_has_every_phrase() {
        for language in [
            Language::En,
            Language::Fr,
            Language::Es,
            Language::De,
            Language::It,
            Language::Pt,
            Language::Nl,
        ] {
            let p = phrases(language);
            for phrase in [
                p.greeting,
                p.dont_know,
                p.offer_human,
                p.handed_over,
                p.refuse_injection,
                p.small_talk,
                p.out_of_scope,
                p.from_sources,
            ] {
                assert!(!phrase.is_empty());
            }
            if language != Language::En {
                assert_ne!(p.dont_know, phrases(Language::En).dont_know);
            }
        }
    }
}
