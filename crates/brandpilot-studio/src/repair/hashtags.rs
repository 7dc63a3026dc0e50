//! The hashtag repairs: banned tags go, required tags are added to the closing block (or
//! the list), surplus tags go last first and never a required one; in a reel's list, a tag
//! written without `#` gets one and a malformed one is dropped.

use super::{RepairAction, RepairKind, Repairer, refs, remove_spans, split_tag_block};
use crate::channels::{Field, FieldText, HashtagPlacement};
use crate::rules::normalise_tag;
use crate::validate::hashtags::{HashtagProblem, find_hashtags, list_entry_problem};
use crate::validate::{FieldRef, RuleId};

impl Repairer<'_> {
    pub(super) fn fix_hashtags(&mut self) {
        match self.spec.hashtags {
            HashtagPlacement::None => {}
            HashtagPlacement::Inline {
                field,
                platform_max,
            } => self.fix_inline_hashtags(field, platform_max),
            HashtagPlacement::List {
                field,
                platform_max,
            } => self.fix_hashtag_list(field, platform_max),
        }
    }

    fn limit(&self, platform_max: Option<usize>) -> usize {
        let brand = self.rules().hashtags.max;
        platform_max.map_or(brand, |cap| cap.min(brand))
    }

    fn required_written(&self) -> Vec<(String, String)> {
        self.rules()
            .hashtags
            .required
            .iter()
            .map(|tag| {
                (
                    normalise_tag(tag),
                    format!("#{}", tag.trim().trim_start_matches('#')),
                )
            })
            .collect()
    }

    fn fix_inline_hashtags(&mut self, field: Field, platform_max: Option<usize>) {
        let positions: Vec<usize> = (0..self.fields.len())
            .filter(|&p| self.fields[p].field == field)
            .collect();
        let Some(&last) = positions.last() else {
            return;
        };
        let refs = refs(&self.fields);
        let banned = self.compiled.banned_tags.clone();
        // Banned tags go.
        for &p in &positions {
            let text = &self.fields[p].text;
            let remove: Vec<_> = find_hashtags(text)
                .into_iter()
                .filter(|tag| banned.contains(&normalise_tag(&tag.tag)))
                .collect();
            if remove.is_empty() {
                continue;
            }
            let spans: Vec<_> = remove.iter().map(|tag| tag.span.clone()).collect();
            for tag in &remove {
                let written = text[tag.span.clone()].to_owned();
                self.actions.push(RepairAction {
                    rule: RuleId::HashtagBanned,
                    field: Some(refs[p]),
                    kind: RepairKind::DroppedHashtag { tag: written },
                });
            }
            self.fields[p].text = remove_spans(&self.fields[p].text, &spans);
        }
        // Required tags are added to the closing block of the last entry.
        let present: Vec<String> = positions
            .iter()
            .flat_map(|&p| {
                find_hashtags(&self.fields[p].text)
                    .into_iter()
                    .map(|tag| normalise_tag(&tag.tag))
            })
            .collect();
        for (normalised, written) in self.required_written() {
            if present.contains(&normalised) {
                continue;
            }
            let text = &mut self.fields[last].text;
            let (_, block) = split_tag_block(text);
            if block.is_empty() {
                text.push_str("\n\n");
            } else {
                text.push(' ');
            }
            text.push_str(&written);
            self.actions.push(RepairAction {
                rule: RuleId::HashtagRequired,
                field: Some(refs[last]),
                kind: RepairKind::AddedHashtag { tag: written },
            });
        }
        // Surplus tags go, last first, never a required one.
        let limit = self.limit(platform_max);
        let required: Vec<String> = self
            .required_written()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let mut counted: Vec<(usize, std::ops::Range<usize>, String)> = positions
            .iter()
            .flat_map(|&p| {
                find_hashtags(&self.fields[p].text)
                    .into_iter()
                    .filter(|tag| !matches!(tag.problem, Some(HashtagProblem::DigitsOnly)))
                    .map(move |tag| (p, tag.span, normalise_tag(&tag.tag)))
            })
            .collect();
        let mut surplus = counted.len().saturating_sub(limit);
        let mut removals: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        while surplus > 0 {
            let Some(index) = counted
                .iter()
                .rposition(|(_, _, tag)| !required.contains(tag))
            else {
                break;
            };
            let (p, span, _) = counted.remove(index);
            removals.push((p, span));
            surplus -= 1;
        }
        for &p in &positions {
            let mut spans: Vec<_> = removals
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, span)| span.clone())
                .collect();
            if spans.is_empty() {
                continue;
            }
            spans.sort_by_key(|span| span.start);
            for span in &spans {
                let tag = self.fields[p].text[span.clone()].to_owned();
                self.actions.push(RepairAction {
                    rule: RuleId::HashtagCount,
                    field: Some(refs[p]),
                    kind: RepairKind::DroppedHashtag { tag },
                });
            }
            self.fields[p].text = remove_spans(&self.fields[p].text, &spans);
        }
    }

    fn fix_hashtag_list(&mut self, field: Field, platform_max: Option<usize>) {
        let refs = refs(&self.fields);
        let banned = self.compiled.banned_tags.clone();
        let mut dropped = Vec::new();
        let mut fixed = Vec::new();
        let mut position = 0;
        self.fields.retain_mut(|entry| {
            let at = refs[position];
            position += 1;
            if entry.field != field {
                return true;
            }
            let normalised = normalise_tag(&entry.text);
            if banned.contains(&normalised) {
                dropped.push((RuleId::HashtagBanned, at, entry.text.clone()));
                return false;
            }
            match list_entry_problem(&entry.text) {
                None => true,
                Some(HashtagProblem::MissingHash) => {
                    let to = format!("#{}", entry.text.trim());
                    fixed.push((at, entry.text.clone(), to.clone()));
                    entry.text = to;
                    true
                }
                Some(_) => {
                    dropped.push((RuleId::HashtagFormat, at, entry.text.clone()));
                    false
                }
            }
        });
        for (rule, at, tag) in dropped {
            self.act(rule, Some(at), RepairKind::DroppedHashtag { tag });
        }
        for (at, from, to) in fixed {
            self.act(
                RuleId::HashtagFormat,
                Some(at),
                RepairKind::FixedHashtag { from, to },
            );
        }
        let present: Vec<String> = self
            .fields
            .iter()
            .filter(|e| e.field == field)
            .map(|e| normalise_tag(&e.text))
            .collect();
        for (normalised, written) in self.required_written() {
            if present.contains(&normalised) {
                continue;
            }
            let insert_at = self
                .fields
                .iter()
                .rposition(|e| e.field == field)
                .map_or(self.fields.len(), |p| p + 1);
            self.fields
                .insert(insert_at, FieldText::new(field, written.clone()));
            let index = self.fields[..insert_at]
                .iter()
                .filter(|e| e.field == field)
                .count();
            self.act(
                RuleId::HashtagRequired,
                Some(FieldRef { field, index }),
                RepairKind::AddedHashtag { tag: written },
            );
        }
        let limit = self.limit(platform_max);
        let required: Vec<String> = self
            .required_written()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        loop {
            let tags: Vec<usize> = (0..self.fields.len())
                .filter(|&p| self.fields[p].field == field)
                .collect();
            if tags.len() <= limit {
                break;
            }
            let Some(&p) = tags
                .iter()
                .rev()
                .find(|&&p| !required.contains(&normalise_tag(&self.fields[p].text)))
            else {
                break;
            };
            let index = tags.iter().position(|&q| q == p).unwrap_or(0);
            let removed = self.fields.remove(p);
            self.act(
                RuleId::HashtagCount,
                Some(FieldRef { field, index }),
                RepairKind::DroppedHashtag { tag: removed.text },
            );
        }
    }
}
