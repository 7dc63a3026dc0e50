//! The content languages Studio checks, borrowed from the assistant's detector so a brief in
//! French is judged by the same heuristic that answers French customers. Adds what the
//! assistant does not need: parsing a language code from a request, and a serde adapter so
//! request and report types can carry a `Language` over HTTP as its ISO 639-1 code.

pub use brandpilot_assistant::language::{Language, detect};

/// Every language the detector can name, in a stable order.
pub const ALL: [Language; 7] = [
    Language::En,
    Language::Fr,
    Language::Es,
    Language::De,
    Language::It,
    Language::Pt,
    Language::Nl,
];

/// The language a request names: an ISO 639-1 code, optionally with a region (`pt-BR`,
/// `en_GB`), or the English name, in any case. `None` for a language Studio cannot check.
pub fn from_code(code: &str) -> Option<Language> {
    let code = code.trim();
    let primary = code
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    ALL.into_iter()
        .find(|language| language.code() == primary || language.name().eq_ignore_ascii_case(code))
}

/// `#[serde(with = "crate::language::code")]` for a `Language` field: written as `"fr"`,
/// read from any form [`from_code`] accepts.
pub mod code {
    use super::{Language, from_code};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(language: &Language, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(language.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Language, D::Error> {
        let code = String::deserialize(deserializer)?;
        from_code(&code).ok_or_else(|| {
            D::Error::custom(format!(
                "unsupported language {code:?}; expected one of en, fr, es, de, it, pt, nl"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_regions_and_names_all_resolve() {
        assert_eq!(from_code("fr"), Some(Language::Fr));
        assert_eq!(from_code("pt-BR"), Some(Language::Pt));
        assert_eq!(from_code("en_GB"), Some(Language::En));
        assert_eq!(from_code("German"), Some(Language::De));
        assert_eq!(from_code(" NL "), Some(Language::Nl));
    }

    #[test]
    fn languages_the_detector_cannot_check_are_refused() {
        assert_eq!(from_code("ja"), None);
        assert_eq!(from_code(""), None);
    }

    #[test]
    fn a_language_travels_as_its_code() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Request {
            #[serde(with = "code")]
            language: Language,
        }
        let json = serde_json::to_string(&Request {
            language: Language::Es,
        })
        .unwrap();
        assert_eq!(json, r#"{"language":"es"}"#);
        let back: Request = serde_json::from_str(r#"{"language":"es-MX"}"#).unwrap();
        assert_eq!(back.language, Language::Es);
        assert!(serde_json::from_str::<Request>(r#"{"language":"klingon"}"#).is_err());
    }
}
