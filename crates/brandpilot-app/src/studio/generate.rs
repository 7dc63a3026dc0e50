//! Briefs → variants: the generation loop of Studio.
//!
//! For each angle a brief asks for (short-form, long-form, CTA-focused), the model writes
//! one variant as grammar-constrained JSON on the `generate` route, grounded in the brand's
//! own passages (numbered facts it cites by number). Then the loop is the same for every
//! draft: mend what needs no model (`brandpilot-studio`'s repairs), judge it, and while a
//! rule still fails or a figure is backed by neither the brief nor the facts, show the model
//! the draft and the numbered problems and ask for a rewrite, up to
//! `studio.max_repair_passes` times. Last, the variants are judged together for
//! near-duplicates, and a duplicate with passes left is rewritten once more. A variant that
//! still fails is returned and stored marked as failing, never hidden.
//!
//! The model only writes; every decision (does it pass, what to fix) is a pure function of
//! the draft, the rules and the facts, so the same loop serves a tiny local model and a
//! hosted one. Provenance (facts, model, template and version, tokens, cost, latency, passes)
//! is stored with each generation.
//!
//! Around this loop: `records.rs` (the brief and what a generation returns and stores),
//! `writer.rs` (one generation's model calls, spend and drafts), `grounding.rs` (which
//! figures and citations the brand's material backs) and `reel.rs` (the same loop over a
//! reel script).

use super::grounding::{
    drop_unbacked_sentences, published_text, supported_citations, unbacked_figures,
};
use super::prompts;
use super::records::{Angle, Brief, FactSource, Generation, to_json, variant_to_store};
use super::writer::{Draft, Writer, WriterPlan, fields_to_json};
use crate::error::blocking;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::SearchMode;
use brandpilot_store::{Brand, NewGeneration};
use brandpilot_studio::channels::{self, fields_from_json, variant_schema};
use brandpilot_studio::language::Language;
use brandpilot_studio::repair::RepairAction;
use brandpilot_studio::{Channel, FieldText, Report, Violation};
use serde_json::json;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

impl Brandpilot {
    /// Writes the variants a brief asks for, grounded in the brand's material, judged and
    /// repaired against its rules, and stores them with their provenance.
    pub async fn generate_copy(
        &self,
        llm: &crate::llm::LazyLlm,
        brand: &Brand,
        brief: Brief,
        created_by: Option<String>,
    ) -> Result<Generation> {
        let generation = self.write_copy(llm, brand, brief, created_by).await?;
        let record = self.store.create_generation(&generation).await?;
        Generation::from_record(record)
    }

    /// The generation a brief asks for, written and judged but not stored: the caller
    /// stores it (alone, or with a batch item it completes).
    pub(crate) async fn write_copy(
        &self,
        llm: &crate::llm::LazyLlm,
        brand: &Brand,
        brief: Brief,
        created_by: Option<String>,
    ) -> Result<NewGeneration> {
        brief.check()?;
        self.check_credits(brand.workspace).await?;
        let started = Instant::now();
        let rules = self.studio_rules(brand).await?;
        let search_text = brief.search_text();
        let facts = self.grounding_facts(brand, &search_text).await?;
        let writer = self
            .writer(
                llm,
                brand,
                &rules,
                WriterPlan {
                    language: brief.language,
                    channel: brief.channel,
                    task_lines: prompts::field_lines(channels::spec(brief.channel)),
                    schema: variant_schema(brief.channel),
                    facts,
                    request_text: &brief.prompt_text(),
                    example_query: &search_text,
                    sector: None,
                    max_tokens: self.settings.studio.max_tokens,
                },
            )
            .await?;
        let angles = &Angle::ALL[..brief.variants];
        let drafts = futures_util::future::try_join_all(
            angles
                .iter()
                .map(|angle| self.write_variant(&writer, &brief, *angle)),
        )
        .await?;
        let drafts = self.settle_duplicates(&writer, &brief, drafts).await?;

        let repair_passes = drafts.iter().map(|d| d.passes).sum();
        let provenance = writer
            .spend
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .provenance(
                writer.facts.clone(),
                writer.examples.clone(),
                prompts::COPY_TEMPLATE,
                started,
                repair_passes,
            );
        let variants = angles
            .iter()
            .zip(drafts)
            .map(|(angle, draft)| variant_to_store(angle.code(), draft, None))
            .collect::<Result<Vec<_>>>()?;
        Ok(NewGeneration {
            brand: brand.id,
            kind: "copy".into(),
            channel: brief.channel.code().into(),
            request_json: to_json(&brief)?,
            provenance_json: to_json(&provenance)?,
            created_by,
            variants,
        })
    }

    /// The brand passages a generation is grounded in; none when the brand has no material
    /// yet (the prompt then forbids figures the brief does not give).
    pub(crate) async fn grounding_facts(
        &self,
        brand: &Brand,
        query: &str,
    ) -> Result<Vec<FactSource>> {
        let k = self.settings.studio.facts;
        if k == 0 {
            return Ok(Vec::new());
        }
        let results = self
            .search(brand, query, k, SearchMode::Hybrid, &[])
            .await?;
        Ok(results
            .passages
            .into_iter()
            .enumerate()
            .map(|(i, p)| FactSource {
                number: i + 1,
                chunk_id: p.chunk_id,
                source_id: p.source_id,
                source_title: p.source_title,
                locator: p.locator,
                text: p.text,
            })
            .collect())
    }

    /// First draft, then model-free repairs and rewrites until it passes or passes run out.
    async fn write_variant(&self, writer: &Writer, brief: &Brief, angle: Angle) -> Result<Draft> {
        let system = format!("{}{}\n", writer.system, angle.instruction());
        let value = match writer.ask(&system, brief.prompt_text()).await {
            Ok(value) => value,
            // A model that cannot produce the JSON (a small one rambling past the token
            // limit) fails this variant, shown as failing with why; an unreachable provider
            // fails the whole generation.
            Err(AppError::Llm(
                error @ brandpilot_llm::LlmError::InvalidStructuredOutput { .. },
            )) => {
                let mut draft = self
                    .mend(
                        writer,
                        brief.channel,
                        brief.language,
                        Vec::new(),
                        Vec::new(),
                        Vec::new(),
                    )
                    .await?;
                draft.note = Some(format!("the model could not write a draft: {error}"));
                return Ok(draft);
            }
            Err(other) => return Err(other),
        };
        let mut draft = self
            .mend(
                writer,
                brief.channel,
                brief.language,
                fields_from_json(brief.channel, &value),
                writer.citations(&value),
                Vec::new(),
            )
            .await?;
        while !draft.passed() && draft.passes < writer.max_repair_passes {
            let violations: Vec<Violation> = draft.report.errors().cloned().collect();
            if !self
                .rewrite(writer, brief, &system, &mut draft, &violations)
                .await?
            {
                break;
            }
        }
        self.drop_unbacked(writer, brief, &mut draft).await?;
        Ok(draft)
    }

    /// The last, model-free resort for figures nothing backs: once the model's passes are
    /// spent, the sentences stating them are taken out (unless a field would be left with
    /// none) and the rest is mended and judged again, so a small model's invented "50%"
    /// costs a sentence rather than the variant.
    async fn drop_unbacked(&self, writer: &Writer, brief: &Brief, draft: &mut Draft) -> Result<()> {
        if draft.unbacked.is_empty() {
            return Ok(());
        }
        let (fields, dropped) =
            drop_unbacked_sentences(brief.channel, &draft.fields, &writer.backing);
        if dropped.is_empty() {
            return Ok(());
        }
        let repairs = std::mem::take(&mut draft.repairs);
        let mut mended = self
            .mend(
                writer,
                brief.channel,
                brief.language,
                fields,
                draft.cited.clone(),
                repairs,
            )
            .await?;
        mended.passes = draft.passes;
        mended.note = draft.note.take();
        mended.dropped = dropped;
        *draft = mended;
        Ok(())
    }

    /// Asks the model to fix `violations` in `draft`, then mends and judges the answer.
    /// False when the model could not answer (the draft is kept and a note says why).
    async fn rewrite(
        &self,
        writer: &Writer,
        brief: &Brief,
        system: &str,
        draft: &mut Draft,
        violations: &[Violation],
    ) -> Result<bool> {
        let mut shown = fields_to_json(brief.channel, &draft.fields);
        if !writer.facts.is_empty() {
            shown["sources"] = json!(draft.cited);
        }
        let request = prompts::repair_request(&shown.to_string(), violations, &draft.unbacked);
        draft.passes += 1;
        match writer.ask(system, request).await {
            Ok(value) => {
                let repairs = std::mem::take(&mut draft.repairs);
                let passes = draft.passes;
                *draft = self
                    .mend(
                        writer,
                        brief.channel,
                        brief.language,
                        fields_from_json(brief.channel, &value),
                        writer.citations(&value),
                        repairs,
                    )
                    .await?;
                draft.passes = passes;
                Ok(true)
            }
            Err(AppError::Llm(error)) => {
                tracing::warn!(%error, "a studio rewrite failed; keeping the previous draft");
                draft.note = Some(format!("the model could not rewrite the draft: {error}"));
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// The model-free repairs, the judgement and the grounding check of one set of fields.
    async fn mend(
        &self,
        writer: &Writer,
        channel: Channel,
        language: Language,
        fields: Vec<FieldText>,
        cited: Vec<usize>,
        mut repairs: Vec<RepairAction>,
    ) -> Result<Draft> {
        let compiled = Arc::clone(&writer.compiled);
        let backing = Arc::clone(&writer.backing);
        let facts = Arc::clone(&writer.fact_texts);
        let voice = writer.voice.clone();
        blocking(move || {
            let outcome = compiled.repair_variant(channel, &fields, language);
            repairs.extend(outcome.actions);
            let text = published_text(channel, &outcome.fields);
            let unbacked = unbacked_figures(&text, &backing);
            let cited = supported_citations(&text, &cited, &facts);
            Ok(Draft {
                fields: outcome.fields,
                cited,
                report: outcome.report,
                unbacked,
                repairs,
                passes: 0,
                note: None,
                voice: voice.map(|voice| voice.score(&text)),
                dropped: Vec::new(),
            })
        })
        .await
    }

    /// Judges the variants together; a near-duplicate with passes left is rewritten once
    /// with the earlier variants it must not repeat, and all are judged again.
    async fn settle_duplicates(
        &self,
        writer: &Writer,
        brief: &Brief,
        mut drafts: Vec<Draft>,
    ) -> Result<Vec<Draft>> {
        let threshold = self.settings.studio.duplicate_threshold;
        let reports = judge_together(writer, brief, &drafts, threshold).await?;
        for (index, report) in reports.iter().enumerate() {
            let duplicate: Vec<Violation> = report
                .errors()
                .filter(|v| v.rule == brandpilot_studio::RuleId::NearDuplicate)
                .cloned()
                .collect();
            if duplicate.is_empty() || drafts[index].passes >= writer.max_repair_passes {
                continue;
            }
            let system = format!(
                "{}{}\n",
                writer.system,
                Angle::ALL[index.min(Angle::ALL.len() - 1)].instruction()
            );
            let mut violations: Vec<Violation> = drafts[index].report.errors().cloned().collect();
            violations.extend(duplicate);
            let mut draft = drafts[index].clone();
            self.rewrite(writer, brief, &system, &mut draft, &violations)
                .await?;
            self.drop_unbacked(writer, brief, &mut draft).await?;
            drafts[index] = draft;
        }
        let reports = judge_together(writer, brief, &drafts, threshold).await?;
        for (draft, report) in drafts.iter_mut().zip(reports) {
            draft.report = report;
        }
        Ok(drafts)
    }
}

/// The reports of a generation's drafts judged together (near-duplicates included).
async fn judge_together(
    writer: &Writer,
    brief: &Brief,
    drafts: &[Draft],
    threshold: f64,
) -> Result<Vec<Report>> {
    let compiled = Arc::clone(&writer.compiled);
    let variants: Vec<Vec<FieldText>> = drafts.iter().map(|d| d.fields.clone()).collect();
    let (channel, language) = (brief.channel, brief.language);
    blocking(move || Ok(compiled.validate_variants(channel, &variants, language, threshold))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::studio::writer::prepare_schema;
    use serde_json::Value;

    /// The schema a variant of `channel` is generated under: the channel's fields, plus the
    /// numbers of the facts it uses when there are facts.
    fn generation_schema(channel: Channel, facts: usize) -> Value {
        let mut schema = variant_schema(channel);
        prepare_schema(&mut schema, facts);
        schema
    }

    #[test]
    fn every_generation_schema_is_one_the_grammar_layer_accepts() {
        for channel in Channel::ALL {
            for facts in [0, 3] {
                let schema = generation_schema(channel, facts);
                brandpilot_llm::schema::check(&schema)
                    .unwrap_or_else(|e| panic!("{channel:?} with {facts} facts: {e}"));
                brandpilot_llm::schema::to_gbnf(&schema)
                    .unwrap_or_else(|e| panic!("{channel:?} grammar: {e}"));
            }
        }
    }

    #[test]
    fn long_limits_leave_the_grammar_and_short_ones_stay() {
        let linkedin = generation_schema(Channel::LinkedinPost, 0);
        assert!(linkedin["properties"]["post"].get("maxLength").is_none());
        let x = generation_schema(Channel::XPost, 0);
        assert_eq!(x["properties"]["post"]["maxLength"], 280);
        let google = generation_schema(Channel::GoogleSearchAd, 0);
        assert_eq!(google["properties"]["headline"]["items"]["maxLength"], 30);
    }
}
