//! The repairs that need no model: put the brand's replacement in place of a banned word
//! (same case, same inflection), drop banned, surplus or malformed list hashtags and add the
//! required ones, remove emoji beyond the policy, put the brand's own call to action in place
//! of a missing or vague one, append a missing disclaimer, and cut a
//! field to the platform's limit at a sentence boundary (keeping a closing call to action,
//! falling back to a word boundary), while leaving room for the disclaimer and the
//! hashtag block. Even a tiny offline model's draft can reach a passing state this way; the
//! model is asked only for what needs rewriting.
//!
//! A repair returns the repaired fields, what it did (for the generation's provenance and
//! the person reviewing it), the report of the repaired variant, and the failures that remain
//! — which need a model, and which [`describe_for_prompt`] lists for a repair prompt. It
//! never invents copy: everything it adds comes from the brand's rules.

use crate::channels::{self, Channel, Field, FieldRole, FieldText, HashtagPlacement};
use crate::language::Language;
use crate::rules::{BrandRules, EmojiPolicy};
use crate::text::{CaseShape, emoji_spans, tidy_whitespace};
use crate::validate::banned::inflect;
use crate::validate::cta::{CtaFinding, find_with};
use crate::validate::disclaimer::{disclaimer_fits, word_run};
use crate::validate::{CompiledRules, FieldRef, Report, RuleId, Violation};
use serde::{Deserialize, Serialize};

mod cut;
mod hashtags;

pub use cut::{Boundary, Cut, cut_to_limit};

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RepairKind {
    /// An entry the channel has no room for, or an empty one, was removed.
    DroppedEntry {
        text: String,
    },
    ReplacedWord {
        from: String,
        to: String,
    },
    RemovedEmoji {
        emoji: String,
    },
    DroppedHashtag {
        tag: String,
    },
    AddedHashtag {
        tag: String,
    },
    /// A list entry written without its `#` got one.
    FixedHashtag {
        from: String,
        to: String,
    },
    AppendedDisclaimer {
        text: String,
    },
    /// The brand's own call to action (the first of its CTA library) took the place of a
    /// vague one (`replaced`), or was added where there was none.
    AddedCta {
        text: String,
        replaced: Option<String>,
    },
    CutToLength {
        from_chars: usize,
        to_chars: usize,
        boundary: Boundary,
    },
    /// A reel's duration estimate set to what its voice-over takes.
    SetDuration {
        from_seconds: f64,
        to_seconds: f64,
    },
}

/// One thing a repair did, and to which entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairAction {
    pub rule: RuleId,
    pub field: Option<FieldRef>,
    pub kind: RepairKind,
}

/// A repaired variant and what is left to fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOutcome {
    pub fields: Vec<FieldText>,
    pub actions: Vec<RepairAction>,
    /// The verdict on the repaired fields.
    pub report: Report,
    /// The failures that remain; only a model (or a person) can fix these.
    pub needs_model: Vec<Violation>,
}

impl RepairOutcome {
    pub fn passed(&self) -> bool {
        self.report.passed
    }
}

/// `replacement` written like `matched`: all capitals, capitalised or as given.
pub fn match_case(matched: &str, replacement: &str) -> String {
    let letters: Vec<char> = matched.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| !c.is_lowercase()) {
        return replacement.to_uppercase();
    }
    let first_word = matched
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    match CaseShape::of(first_word) {
        CaseShape::Capitalised | CaseShape::Upper => CaseShape::Capitalised.apply(replacement),
        CaseShape::Lower | CaseShape::Mixed => replacement.to_owned(),
    }
}

/// The numbered list of violations a repair prompt quotes: where, and what to fix.
pub fn describe_for_prompt(violations: &[Violation]) -> String {
    let mut lines = String::new();
    for (number, violation) in violations.iter().enumerate() {
        let place = match violation.field {
            Some(at) => format!("{} {}: ", at.field.code().replace('_', " "), at.index + 1),
            None => String::new(),
        };
        lines.push_str(&format!(
            "{}. [{}] {place}{}\n",
            number + 1,
            violation.rule.code(),
            violation.message
        ));
    }
    lines
}

/// The position in `fields` and the [`FieldRef`] of every entry.
fn refs(fields: &[FieldText]) -> Vec<FieldRef> {
    let mut seen: Vec<(Field, usize)> = Vec::new();
    fields
        .iter()
        .map(|entry| {
            let index = match seen.iter_mut().find(|(field, _)| *field == entry.field) {
                Some((_, count)) => {
                    *count += 1;
                    *count - 1
                }
                None => {
                    seen.push((entry.field, 1));
                    0
                }
            };
            FieldRef {
                field: entry.field,
                index,
            }
        })
        .collect()
}

/// `text` with byte `spans` (sorted, not overlapping) removed and the gaps tidied.
fn remove_spans(text: &str, spans: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        at = span.end;
    }
    out.push_str(&text[at..]);
    tidy_whitespace(&out)
}

/// Splits a field's text into its copy and a closing block of hashtags (the last lines, made
/// of hashtags only), so a cut or a disclaimer goes before the tags.
fn split_tag_block(text: &str) -> (&str, &str) {
    let trimmed = text.trim_end();
    let mut lines = Vec::new();
    let mut at = 0;
    for line in trimmed.split('\n') {
        lines.push((at, line));
        at += line.len() + 1;
    }
    let mut block_start = None;
    for &(start, line) in lines.iter().rev() {
        let is_tag_line = !line.trim().is_empty()
            && line
                .split_whitespace()
                .all(|token| token.starts_with('#') && token.len() > 1);
        if is_tag_line {
            block_start = Some(start);
        } else if !(line.trim().is_empty() && block_start.is_some()) {
            break;
        }
    }
    match block_start {
        Some(start) => (trimmed[..start].trim_end(), trimmed[start..].trim()),
        None => (trimmed, ""),
    }
}

struct Repairer<'a> {
    compiled: &'a CompiledRules,
    spec: &'static channels::ChannelSpec,
    language: Language,
    fields: Vec<FieldText>,
    actions: Vec<RepairAction>,
}

impl Repairer<'_> {
    fn rules(&self) -> &BrandRules {
        self.compiled.rules()
    }

    fn role(&self, field: Field) -> Option<FieldRole> {
        self.spec.field(field).map(|spec| spec.role)
    }

    /// What a reader sees: the published fields, one per line.
    fn published_text(&self) -> String {
        self.fields
            .iter()
            .filter(|e| self.role(e.field).is_some_and(FieldRole::is_published))
            .map(|e| e.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn act(&mut self, rule: RuleId, field: Option<FieldRef>, kind: RepairKind) {
        self.actions.push(RepairAction { rule, field, kind });
    }

    /// Drops entries the channel has no field for, empty entries the channel can do
    /// without, and entries beyond a field's maximum.
    fn drop_entries(&mut self) {
        let mut keep = vec![true; self.fields.len()];
        let refs = refs(&self.fields);
        for (position, entry) in self.fields.iter().enumerate() {
            if self.spec.field(entry.field).is_none() {
                keep[position] = false;
            }
        }
        for field_spec in self.spec.fields {
            let positions: Vec<usize> = (0..self.fields.len())
                .filter(|&p| self.fields[p].field == field_spec.field)
                .collect();
            let filled = positions
                .iter()
                .filter(|&&p| !self.fields[p].text.trim().is_empty())
                .count();
            if filled >= field_spec.min_entries {
                for &p in &positions {
                    if self.fields[p].text.trim().is_empty() {
                        keep[p] = false;
                    }
                }
            }
            let kept_filled: Vec<usize> = positions.iter().copied().filter(|&p| keep[p]).collect();
            for &p in kept_filled.iter().skip(field_spec.max_entries) {
                keep[p] = false;
            }
        }
        let mut position = 0;
        let mut dropped = Vec::new();
        self.fields.retain(|entry| {
            let kept = keep[position];
            if !kept {
                dropped.push((refs[position], entry.text.clone()));
            }
            position += 1;
            kept
        });
        for (at, text) in dropped {
            self.act(
                RuleId::FieldCount,
                Some(at),
                RepairKind::DroppedEntry { text },
            );
        }
    }

    fn substitute(&mut self) {
        let matcher = &self.compiled.banned;
        if matcher.is_empty() {
            return;
        }
        let refs = refs(&self.fields);
        let mut actions = Vec::new();
        for (position, entry) in self.fields.iter_mut().enumerate() {
            if !self
                .spec
                .field(entry.field)
                .is_some_and(|s| s.role.is_published())
            {
                continue;
            }
            let found = matcher.find(&entry.text);
            let mut text = entry.text.clone();
            for hit in found.iter().rev() {
                let phrase = matcher.entry(hit.entry);
                let Some(replacement) = &phrase.replacement else {
                    continue;
                };
                let matched = &entry.text[hit.span.clone()];
                let mut written = match_case(matched, &inflect(replacement, hit.inflection));
                let in_hashtag =
                    hit.span.start > 0 && entry.text.as_bytes()[hit.span.start - 1] == b'#';
                if in_hashtag {
                    written.retain(|c| c.is_alphanumeric() || c == '_');
                }
                actions.push((
                    RuleId::from_kind(phrase.kind),
                    refs[position],
                    RepairKind::ReplacedWord {
                        from: matched.to_owned(),
                        to: written.clone(),
                    },
                ));
                text.replace_range(hit.span.clone(), &written);
            }
            entry.text = text;
        }
        for (rule, at, kind) in actions.into_iter().rev() {
            self.act(rule, Some(at), kind);
        }
    }

    fn remove_emoji(&mut self) {
        let keep = if !self.spec.emoji_allowed {
            0
        } else {
            match self.rules().emoji {
                EmojiPolicy::Free => return,
                EmojiPolicy::None => 0,
                EmojiPolicy::Few { max } => max,
            }
        };
        let refs = refs(&self.fields);
        let mut seen = 0;
        let mut actions = Vec::new();
        for (position, entry) in self.fields.iter_mut().enumerate() {
            if !self
                .spec
                .field(entry.field)
                .is_some_and(|s| s.role.is_published())
                || entry.text.is_ascii()
            {
                continue;
            }
            let spans = emoji_spans(&entry.text);
            let mut remove = Vec::new();
            for span in spans {
                seen += 1;
                if seen > keep {
                    actions.push((refs[position], entry.text[span.clone()].to_owned()));
                    remove.push(span);
                }
            }
            if !remove.is_empty() {
                entry.text = remove_spans(&entry.text, &remove);
            }
        }
        for (at, emoji) in actions {
            self.act(RuleId::Emoji, Some(at), RepairKind::RemovedEmoji { emoji });
        }
    }

    /// Appends missing disclaimers and cuts fields to their hard limits, together: the cut
    /// leaves room for the disclaimer and for the closing hashtag block.
    /// Gives a variant that has no call to action, or only a vague one, the brand's first
    /// library CTA: a vague clause ("Learn more") is replaced by it; otherwise an empty CTA
    /// field is filled, or the CTA closes the last copy field (before its inline hashtags).
    /// Without a library the CTA is left to the model: which action fits is not a rule.
    fn add_cta(&mut self) {
        if !self.spec.requires_cta {
            return;
        }
        let Some(cta) = self
            .rules()
            .cta_library
            .first()
            .map(|cta| cta.trim().to_owned())
        else {
            return;
        };
        let published = self.published_text();
        let refs = refs(&self.fields);
        let finding = find_with(&published, self.language, &self.compiled.cta_library);
        match finding {
            CtaFinding::Library { .. } | CtaFinding::Specific { .. } => {}
            CtaFinding::Vague { text } => {
                let Some(position) = self.fields.iter().position(|e| {
                    self.role(e.field).is_some_and(FieldRole::is_published)
                        && e.text.contains(&text)
                }) else {
                    return;
                };
                self.fields[position].text = self.fields[position].text.replacen(&text, &cta, 1);
                self.act(
                    RuleId::Cta,
                    Some(refs[position]),
                    RepairKind::AddedCta {
                        text: cta,
                        replaced: Some(text),
                    },
                );
            }
            CtaFinding::Missing => {
                let empty_cta_field = self
                    .fields
                    .iter()
                    .position(|e| e.field == Field::Cta && e.text.trim().is_empty());
                let last_copy = self
                    .fields
                    .iter()
                    .rposition(|e| self.role(e.field) == Some(FieldRole::Copy));
                let Some(position) = empty_cta_field.or(last_copy) else {
                    return;
                };
                let original = self.fields[position].text.clone();
                let inline_tags = matches!(
                    self.spec.hashtags,
                    HashtagPlacement::Inline { field, .. } if field == self.fields[position].field
                );
                let (copy, block) = if inline_tags {
                    split_tag_block(&original)
                } else {
                    (original.trim(), "")
                };
                let mut text = copy.trim_end().to_owned();
                if !text.is_empty() {
                    if !text.ends_with(['.', '!', '?', '…', ':']) {
                        text.push('.');
                    }
                    text.push(' ');
                }
                text.push_str(&cta);
                if !cta.ends_with(['.', '!', '?']) {
                    text.push('.');
                }
                if !block.is_empty() {
                    text.push_str("\n\n");
                    text.push_str(block);
                }
                self.fields[position].text = text;
                self.act(
                    RuleId::Cta,
                    Some(refs[position]),
                    RepairKind::AddedCta {
                        text: cta,
                        replaced: None,
                    },
                );
            }
        }
    }

    fn fit_lengths_and_disclaimers(&mut self) {
        let channel = self.spec.channel;
        let published = self.published_text();
        let copy_run = word_run(&published);
        let missing: Vec<String> = self
            .rules()
            .required_disclaimers
            .iter()
            .filter(|d| d.applies_to(channel) && !copy_run.contains(&word_run(&d.text)))
            // A disclaimer longer than the field leaves no room for copy: a person must
            // decide (shorten it, or not use the channel).
            .filter(|d| {
                self.spec
                    .disclaimer_field
                    .is_some_and(|field| disclaimer_fits(self.spec, field, &d.text))
            })
            .map(|d| d.text.trim().to_owned())
            .collect();
        let disclaimer_target = self
            .spec
            .disclaimer_field
            .and_then(|field| self.fields.iter().rposition(|e| e.field == field));
        let inline_tag_field = match self.spec.hashtags {
            HashtagPlacement::Inline { field, .. } => Some(field),
            _ => None,
        };
        let refs = refs(&self.fields);
        for (position, &at) in refs.iter().enumerate() {
            let Some(field_spec) = self.spec.field(self.fields[position].field) else {
                continue;
            };
            if field_spec.role == FieldRole::Tags {
                continue;
            }
            let appended: Vec<String> = if Some(position) == disclaimer_target {
                missing.clone()
            } else {
                Vec::new()
            };
            let max = field_spec.max_chars;
            let length = |s: &str| channels::count_chars(s, field_spec.count);
            let original = self.fields[position].text.clone();
            let needs_cut = max.is_some_and(|max| length(original.trim()) > max);
            if appended.is_empty() && !needs_cut {
                continue;
            }
            let (copy, mut block) = if inline_tag_field == Some(field_spec.field) {
                split_tag_block(&original)
            } else {
                (original.trim(), "")
            };
            let separator = if field_spec.role == FieldRole::Label {
                " "
            } else {
                "\n\n"
            };
            let disclaimer_text = appended.join(" ");
            let assemble = |copy: &str, block: &str| {
                let mut text = copy.to_owned();
                for part in [disclaimer_text.as_str(), block] {
                    if part.is_empty() {
                        continue;
                    }
                    if !text.is_empty() {
                        text.push_str(separator);
                    }
                    text.push_str(part);
                }
                text
            };
            let mut copy = copy.to_owned();
            // What the disclaimer and the tag block take, with the separator before them.
            let overhead = |block: &str| {
                let tail = assemble("", block);
                if tail.is_empty() {
                    0
                } else {
                    length(&tail) + length(separator)
                }
            };
            if let Some(max) = max
                && length(&assemble(&copy, block)) > max
            {
                // With less than a third of the field left for copy, the tags give way.
                if !block.is_empty() && overhead(block) * 3 > max * 2 {
                    for tag in block.split_whitespace() {
                        self.actions.push(RepairAction {
                            rule: RuleId::Length,
                            field: Some(at),
                            kind: RepairKind::DroppedHashtag {
                                tag: tag.to_owned(),
                            },
                        });
                    }
                    block = "";
                }
                let budget = max.saturating_sub(overhead(block));
                let closing_cta = (field_spec.role == FieldRole::Copy).then_some(self.language);
                let ellipsis = field_spec.role == FieldRole::Copy;
                if let Some(cut) =
                    cut_to_limit(&copy, budget, field_spec.count, closing_cta, ellipsis)
                {
                    self.actions.push(RepairAction {
                        rule: RuleId::Length,
                        field: Some(at),
                        kind: RepairKind::CutToLength {
                            from_chars: length(&copy),
                            to_chars: length(&cut.text),
                            boundary: cut.boundary,
                        },
                    });
                    copy = cut.text;
                }
            }
            for text in &appended {
                self.actions.push(RepairAction {
                    rule: RuleId::Disclaimer,
                    field: Some(at),
                    kind: RepairKind::AppendedDisclaimer { text: text.clone() },
                });
            }
            self.fields[position].text = assemble(&copy, block);
        }
    }
}

impl RuleId {
    fn from_kind(kind: crate::validate::banned::PhraseKind) -> RuleId {
        match kind {
            crate::validate::banned::PhraseKind::Claim => RuleId::BannedClaim,
            crate::validate::banned::PhraseKind::Word
            | crate::validate::banned::PhraseKind::Cta => RuleId::BannedWord,
        }
    }
}

impl CompiledRules {
    /// Repairs what needs no model in one variant of `channel`, then judges the result.
    pub fn repair_variant(
        &self,
        channel: Channel,
        fields: &[FieldText],
        request_language: Language,
    ) -> RepairOutcome {
        let mut repairer = Repairer {
            compiled: self,
            spec: channels::spec(channel),
            language: request_language,
            fields: fields.to_vec(),
            actions: Vec::new(),
        };
        repairer.drop_entries();
        // Emoji go first: removing "1️⃣" from "Cheap1️⃣" leaves a banned word to replace.
        repairer.remove_emoji();
        // Before the length pass, which then makes room for it (a cut keeps a closing CTA).
        repairer.add_cta();
        // A cut can remove a required hashtag or a disclaimer that sat in the middle of the
        // copy, and a replacement can make a field too long; another pass puts the tag or
        // the disclaimer back at the end and cuts again to make room.
        for _ in 0..3 {
            let before = repairer.fields.clone();
            repairer.substitute();
            repairer.fix_hashtags();
            repairer.fit_lengths_and_disclaimers();
            if repairer.fields == before {
                break;
            }
        }
        let report = self.validate_variant(channel, &repairer.fields, request_language);
        let needs_model = report.errors().cloned().collect();
        RepairOutcome {
            fields: repairer.fields,
            actions: repairer.actions,
            report,
            needs_model,
        }
    }
}

/// Repairs what needs no model in one variant (see [`CompiledRules::repair_variant`]).
pub fn repair_variant(
    rules: &BrandRules,
    channel: Channel,
    fields: &[FieldText],
    request_language: Language,
) -> RepairOutcome {
    CompiledRules::new(rules).repair_variant(channel, fields, request_language)
}

#[cfg(test)]
mod tests;
