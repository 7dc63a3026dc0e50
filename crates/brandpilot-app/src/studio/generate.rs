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

use super::prompts::{self, PromptFact};
use crate::error::blocking;
use crate::llm::LlmService;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::{ChunkId, ChunkLocator, GenerationId, SearchMode, SourceId, VariantId};
use brandpilot_llm::{ChatRequest, ChatResponse, Message, ResponseFormat, StructuredResponse};
use brandpilot_store::{Brand, GenerationRecord, NewGeneration, NewVariant, VariantRecord};
use brandpilot_studio::channels::{self, fields_from_json, variant_schema};
use brandpilot_studio::language::Language;
use brandpilot_studio::repair::RepairAction;
use brandpilot_studio::{Channel, CompiledRules, FieldText, Report, Violation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Characters a brief's free-text entries may have.
const MAX_BRIEF_TEXT: usize = 2_000;
/// Key facts a brief may list.
const MAX_KEY_FACTS: usize = 20;

/// What a person asks Studio to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub channel: Channel,
    /// What the copy must achieve ("fill the spring watercolour course").
    pub goal: String,
    /// Who it is for; the brand's audience when empty.
    #[serde(default)]
    pub audience: String,
    /// How it should sound, beyond the brand's voice ("playful").
    #[serde(default)]
    pub tone: String,
    /// What is offered ("20% off until 31 March").
    #[serde(default)]
    pub offer: String,
    /// Facts the copy may state, in the person's words.
    #[serde(default)]
    pub key_facts: Vec<String>,
    #[serde(with = "brandpilot_studio::language::code")]
    pub language: Language,
    /// How many variants, 1–3, taken in angle order (short-form, long-form, CTA-focused).
    #[serde(default = "default_variant_count")]
    pub variants: usize,
}

fn default_variant_count() -> usize {
    Angle::ALL.len()
}

impl Brief {
    /// Refuses a brief that cannot be written, naming the field.
    pub fn check(&self) -> Result<()> {
        if self.goal.trim().is_empty() {
            return Err(invalid("goal", "say what the copy must achieve"));
        }
        if self.channel == Channel::ReelScript {
            return Err(invalid(
                "channel",
                "reel scripts have their own request (sector, hook type, duration)",
            ));
        }
        for (name, text) in [
            ("goal", &self.goal),
            ("audience", &self.audience),
            ("tone", &self.tone),
            ("offer", &self.offer),
        ] {
            if text.chars().count() > MAX_BRIEF_TEXT {
                return Err(invalid(
                    name,
                    &format!("at most {MAX_BRIEF_TEXT} characters"),
                ));
            }
        }
        if self.key_facts.len() > MAX_KEY_FACTS {
            return Err(invalid(
                "key_facts",
                &format!("at most {MAX_KEY_FACTS} facts"),
            ));
        }
        if self
            .key_facts
            .iter()
            .any(|fact| fact.chars().count() > MAX_BRIEF_TEXT)
        {
            return Err(invalid(
                "key_facts",
                &format!("a fact has at most {MAX_BRIEF_TEXT} characters"),
            ));
        }
        if !(1..=Angle::ALL.len()).contains(&self.variants) {
            return Err(invalid("variants", "ask for 1 to 3 variants"));
        }
        Ok(())
    }

    /// The words a search for grounding facts starts from.
    fn search_text(&self) -> String {
        let mut text = self.goal.clone();
        for part in std::iter::once(&self.offer).chain(&self.key_facts) {
            if !part.trim().is_empty() {
                text.push_str(". ");
                text.push_str(part.trim());
            }
        }
        text
    }

    /// The brief as the model reads it.
    fn prompt_text(&self) -> String {
        let mut out = format!("Goal: {}\n", self.goal.trim());
        for (label, text) in [
            ("Audience", &self.audience),
            ("Tone", &self.tone),
            ("Offer", &self.offer),
        ] {
            if !text.trim().is_empty() {
                out.push_str(&format!("{label}: {}\n", text.trim()));
            }
        }
        if !self.key_facts.is_empty() {
            out.push_str("Key facts:\n");
            for fact in &self.key_facts {
                out.push_str(&format!("- {}\n", fact.trim()));
            }
        }
        out
    }
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::InvalidInput(format!("brief.{field}: {message}"))
}

/// What a variant is asked to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Angle {
    ShortForm,
    LongForm,
    CtaFocused,
}

impl Angle {
    pub const ALL: [Angle; 3] = [Angle::ShortForm, Angle::LongForm, Angle::CtaFocused];

    pub fn code(self) -> &'static str {
        match self {
            Angle::ShortForm => "short_form",
            Angle::LongForm => "long_form",
            Angle::CtaFocused => "cta_focused",
        }
    }

    fn instruction(self) -> &'static str {
        match self {
            Angle::ShortForm => {
                "Angle: short-form. As short as the channel allows while still making the point: \
                 one idea, plain words, no filler."
            }
            Angle::LongForm => {
                "Angle: long-form. Use the room the channel gives: the problem, what the offer \
                 changes, a concrete detail from the facts, then the call to action."
            }
            Angle::CtaFocused => {
                "Angle: CTA-focused. Lead with the action and the reason to act now; every \
                 sentence pushes toward the call to action."
            }
        }
    }
}

/// A passage of the brand's material a generation was grounded in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactSource {
    /// The number the model cites it by, from 1.
    pub number: usize,
    pub chunk_id: ChunkId,
    pub source_id: SourceId,
    pub source_title: String,
    pub locator: ChunkLocator,
    pub text: String,
}

/// Where a generation came from: enough to reproduce it and to account for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub sources: Vec<FactSource>,
    /// Past examples shown to the model (none until the brand has an examples library).
    pub examples: Vec<Value>,
    /// The provider and model that served the calls (the last one, after any fallback).
    pub provider: Option<String>,
    pub model: Option<String>,
    pub prompt_template: String,
    pub prompt_version: u32,
    pub model_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// `None` when a model used has no price.
    pub cost_usd: Option<f64>,
    pub latency_ms: u64,
    /// Rewrites asked of the model across all variants, after the first drafts.
    pub repair_passes: u32,
}

/// One variant as Studio returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedVariant {
    pub id: VariantId,
    /// The angle it was asked for (`short_form`, `long_form`, `cta_focused`; `script` for reels).
    pub label: String,
    pub content: VariantContent,
    /// The final rule-by-rule report.
    pub report: Report,
    /// Every rule passed and every figure is backed.
    pub passed: bool,
    pub review_state: String,
}

/// What a variant holds besides its report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VariantContent {
    pub fields: Vec<FieldText>,
    /// The reel script, for a reel generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<brandpilot_studio::reel::ReelScript>,
    /// The facts (by number) the variant cites and whose words it uses.
    pub citations: Vec<usize>,
    /// Figures (numbers, prices, percentages) that neither the brief nor the facts contain.
    pub unbacked_figures: Vec<String>,
    /// Rewrites the model was asked for.
    pub repair_passes: u32,
    /// Repairs made without a model, in order.
    pub repairs: Vec<RepairAction>,
    /// Why the model could not improve the variant further, when a rewrite failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A generation as Studio returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub id: GenerationId,
    /// `copy` or `reel`.
    pub kind: String,
    pub channel: String,
    pub request: Value,
    pub provenance: Provenance,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub variants: Vec<GeneratedVariant>,
}

impl Generation {
    pub(crate) fn from_record(record: GenerationRecord) -> Result<Generation> {
        let corrupt = |what: &str, e: serde_json::Error| {
            AppError::Task(format!("stored generation {}: {what}: {e}", record.id))
        };
        let variants = record
            .variants
            .iter()
            .map(GeneratedVariant::from_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(Generation {
            id: record.id,
            kind: record.kind.clone(),
            channel: record.channel.clone(),
            request: serde_json::from_str(&record.request_json)
                .map_err(|e| corrupt("request", e))?,
            provenance: serde_json::from_str(&record.provenance_json)
                .map_err(|e| corrupt("provenance", e))?,
            created_by: record.created_by.clone(),
            created_at_ms: record.created_at_ms,
            variants,
        })
    }
}

impl GeneratedVariant {
    pub(crate) fn from_record(record: &VariantRecord) -> Result<GeneratedVariant> {
        let corrupt = |what: &str, e: serde_json::Error| {
            AppError::Task(format!("stored variant {}: {what}: {e}", record.id))
        };
        Ok(GeneratedVariant {
            id: record.id,
            label: record.label.clone(),
            content: serde_json::from_str(&record.content_json)
                .map_err(|e| corrupt("content", e))?,
            report: serde_json::from_str(&record.report_json).map_err(|e| corrupt("report", e))?,
            passed: record.passed,
            review_state: record.review_state.clone(),
        })
    }
}

/// Tokens, cost and calls spent by one generation, shared by its concurrent variants.
#[derive(Default)]
pub(crate) struct Spend {
    calls: u32,
    prompt_tokens: u64,
    completion_tokens: u64,
    cost_usd: Option<f64>,
    unpriced: bool,
    provider: Option<String>,
    model: Option<String>,
}

impl Spend {
    fn add(&mut self, response: &ChatResponse) {
        self.calls += 1;
        let Some(served) = &response.served_by else {
            return;
        };
        self.prompt_tokens += u64::from(served.usage.prompt_tokens);
        self.completion_tokens += u64::from(served.usage.completion_tokens);
        match served.cost_usd {
            Some(cost) => *self.cost_usd.get_or_insert(0.0) += cost,
            None => self.unpriced = true,
        }
        self.provider = Some(served.provider.clone());
        self.model = Some(served.model.clone());
    }

    fn add_structured(&mut self, structured: &StructuredResponse) {
        if let Some(first) = &structured.discarded {
            self.add(first);
        }
        self.add(&structured.response);
    }

    pub(crate) fn provenance(
        &self,
        sources: Vec<FactSource>,
        template: &str,
        started: Instant,
        repair_passes: u32,
    ) -> Provenance {
        Provenance {
            sources,
            examples: Vec::new(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            prompt_template: template.to_owned(),
            prompt_version: prompts::TEMPLATE_VERSION,
            model_calls: self.calls,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            cost_usd: if self.unpriced { None } else { self.cost_usd },
            latency_ms: started.elapsed().as_millis() as u64,
            repair_passes,
        }
    }
}

/// What every variant of one generation shares.
pub(crate) struct Writer {
    pub llm: Arc<LlmService>,
    pub brand: Brand,
    pub compiled: Arc<CompiledRules>,
    pub system: String,
    pub schema: Value,
    pub facts: Vec<FactSource>,
    /// Lowercased text of the brief and the facts: where a figure must come from.
    pub backing: String,
    pub max_tokens: u32,
    pub temperature: f32,
    pub max_repair_passes: u32,
    pub spend: Mutex<Spend>,
}

impl Writer {
    /// One model call for JSON satisfying the writer's schema.
    pub async fn ask(&self, system: &str, user: String) -> Result<Value> {
        let mut request = ChatRequest::new(vec![Message::system(system), Message::user(user)]);
        request.max_tokens = Some(self.max_tokens);
        request.temperature = Some(self.temperature);
        request.response_format = Some(ResponseFormat::JsonSchema {
            name: "variant".into(),
            schema: self.schema.clone(),
        });
        let answer = self
            .llm
            .complete_json_in(
                self.brand.workspace,
                Some(self.brand.id),
                "generate",
                &request,
            )
            .await;
        match answer {
            Ok(structured) => {
                self.spend
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .add_structured(&structured);
                Ok(structured.value)
            }
            Err(error) => {
                // An answer that failed its schema twice was two paid calls.
                let calls = match &error {
                    AppError::Llm(brandpilot_llm::LlmError::InvalidStructuredOutput { .. }) => 2,
                    _ => 1,
                };
                self.spend
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .calls += calls;
                Err(error)
            }
        }
    }

    /// The cited fact numbers in a model answer that exist.
    pub fn citations(&self, value: &Value) -> Vec<usize> {
        let mut cited: Vec<usize> = value
            .get("sources")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(Value::as_u64)
                    .map(|n| n as usize)
                    .filter(|n| (1..=self.facts.len()).contains(n))
                    .collect()
            })
            .unwrap_or_default();
        cited.sort_unstable();
        cited.dedup();
        cited
    }
}

/// One variant's state through the loop.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub fields: Vec<FieldText>,
    pub cited: Vec<usize>,
    pub report: Report,
    pub unbacked: Vec<String>,
    pub repairs: Vec<RepairAction>,
    pub passes: u32,
    pub note: Option<String>,
}

impl Draft {
    pub fn passed(&self) -> bool {
        self.report.passed && self.unbacked.is_empty()
    }
}

/// The figures in `text` (numbers with their unit or sign: `20%`, `$49`, `3,000`, `2026`)
/// that `backing` (lowercased) does not contain.
pub(crate) fn unbacked_figures(text: &str, backing: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut end = i;
        while end + 1 < chars.len() {
            let next = chars[end + 1].1;
            let continues_number = next.is_ascii_digit()
                || ((next == ',' || next == '.')
                    && chars.get(end + 2).is_some_and(|(_, d)| d.is_ascii_digit()));
            if !continues_number {
                break;
            }
            end += 1;
        }
        let stop = chars.get(end + 1).map_or(text.len(), |(at, _)| *at);
        let digits: String = text[start..stop]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        // A figure is backed when its digits appear in the backing (20% is backed by
        // "20 percent"; 3,000 by "3000"), or it is part of a word such as a hashtag.
        let in_word = start > 0
            && text[..start]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_alphanumeric() || p == '#' || p == '_');
        if !in_word && !backing_has_digits(backing, &digits) {
            found.push(text[start..stop].to_owned());
        }
        i = end + 1;
    }
    found.sort();
    found.dedup();
    found
}

/// Whether `backing` holds `digits` as a whole number, ignoring thousands separators.
fn backing_has_digits(backing: &str, digits: &str) -> bool {
    let mut current = String::new();
    let mut numbers = Vec::new();
    let mut chars = backing.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            current.push(c);
        } else if (c == ',' || c == '.')
            && !current.is_empty()
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            continue;
        } else if !current.is_empty() {
            numbers.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        numbers.push(current);
    }
    numbers.iter().any(|n| n == digits)
}

/// The published text of a variant of `channel` (what a reader sees).
pub(crate) fn published_text(channel: Channel, fields: &[FieldText]) -> String {
    let spec = channels::spec(channel);
    fields
        .iter()
        .filter(|entry| {
            spec.field(entry.field)
                .is_some_and(|s| s.role.is_published())
        })
        .map(|entry| entry.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Fields as the JSON object [`variant_schema`] describes (the inverse of
/// [`fields_from_json`]), for showing a draft to the model.
pub(crate) fn fields_to_json(channel: Channel, fields: &[FieldText]) -> Value {
    let mut object = serde_json::Map::new();
    for spec in channels::spec(channel).fields {
        let texts: Vec<&str> = fields
            .iter()
            .filter(|e| e.field == spec.field)
            .map(|e| e.text.as_str())
            .collect();
        if spec.max_entries == 1 {
            if let Some(text) = texts.first() {
                object.insert(spec.field.code().to_owned(), json!(text));
            }
        } else {
            object.insert(spec.field.code().to_owned(), json!(texts));
        }
    }
    Value::Object(object)
}

/// The longest `maxLength` a generation grammar keeps. llama.cpp expands `x{0,n}` into n
/// nested rules, and at a few thousand (LinkedIn's 3,000, Instagram's 2,200) sampling slows
/// to a crawl: 100 s for one short post with the 135M model, against 1–2 s at 280. Longer
/// limits are left to `max_tokens` and the validators, which cut at a sentence boundary.
const GRAMMAR_MAX_LENGTH: u64 = 300;

/// Drops every `maxLength` above [`GRAMMAR_MAX_LENGTH`] from `schema`.
pub(crate) fn relax_long_strings(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|max| max > GRAMMAR_MAX_LENGTH)
            {
                map.remove("maxLength");
            }
            map.values_mut().for_each(relax_long_strings);
        }
        Value::Array(items) => items.iter_mut().for_each(relax_long_strings),
        _ => {}
    }
}

/// The schema a variant of `channel` is generated under: the channel's fields, plus the
/// numbers of the facts it uses when there are facts.
fn generation_schema(channel: Channel, facts: usize) -> Value {
    let mut schema = variant_schema(channel);
    relax_long_strings(&mut schema);
    if facts > 0 {
        let numbers: Vec<usize> = (1..=facts).collect();
        schema["properties"]["sources"] = json!({
            "type": "array",
            "items": {"enum": numbers},
            "maxItems": facts,
        });
        if let Some(required) = schema["required"].as_array_mut() {
            required.push(json!("sources"));
        }
    }
    schema
}

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
        brief.check()?;
        self.check_credits(brand.workspace).await?;
        let started = Instant::now();
        let rules = self.studio_rules(brand).await?;
        let profile = self.brand_profile(brand).await?;
        let facts = self.grounding_facts(brand, &brief.search_text()).await?;
        let spec = channels::spec(brief.channel);
        let prompt_facts: Vec<PromptFact<'_>> = facts
            .iter()
            .map(|f| PromptFact {
                title: &f.source_title,
                text: &f.text,
            })
            .collect();
        let system = format!(
            "{}{}{}{}Answer with one JSON object and nothing else.\n",
            prompts::writer_lines(&brand.name, &profile, brief.language),
            prompts::rule_lines(&rules, spec),
            prompts::field_lines(spec),
            prompts::fact_lines(&prompt_facts),
        );
        let backing = backing_text(&brief, &facts);
        let settings = &self.settings.studio;
        let writer = Writer {
            llm: llm.get(self).await.map_err(model_unavailable)?,
            brand: brand.clone(),
            compiled: Arc::new(CompiledRules::new(&rules)),
            system,
            schema: generation_schema(brief.channel, facts.len()),
            facts,
            backing,
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
            max_repair_passes: settings.max_repair_passes,
            spend: Mutex::new(Spend::default()),
        };
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
                prompts::COPY_TEMPLATE,
                started,
                repair_passes,
            );
        let variants = angles
            .iter()
            .zip(drafts)
            .map(|(angle, draft)| variant_to_store(angle.code(), draft, None))
            .collect::<Result<Vec<_>>>()?;
        let record = self
            .store
            .create_generation(&NewGeneration {
                brand: brand.id,
                kind: "copy".into(),
                channel: brief.channel.code().into(),
                request_json: to_json(&brief)?,
                provenance_json: to_json(&provenance)?,
                created_by,
                variants,
            })
            .await?;
        Generation::from_record(record)
    }

    /// The brand's generations, newest first: at most `limit`, older than `before`.
    pub async fn generations(
        &self,
        brand: &Brand,
        before: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<Generation>> {
        self.store
            .generations(brand.id, before, limit)
            .await?
            .into_iter()
            .map(Generation::from_record)
            .collect()
    }

    pub async fn generation(&self, brand: &Brand, id: GenerationId) -> Result<Generation> {
        let record = self
            .store
            .generation(brand.id, id)
            .await?
            .ok_or(AppError::GenerationNotFound(id.0))?;
        Generation::from_record(record)
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
        Ok(draft)
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
        let backing = writer.backing.clone();
        let facts: Vec<String> = writer.facts.iter().map(|f| f.text.to_lowercase()).collect();
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

/// The cited facts whose words the text really uses: at least two of the fact's content
/// words (four letters or more), or one of its figures. A citation the copy does not draw on
/// is dropped rather than shown as support.
pub(crate) fn supported_citations(text: &str, cited: &[usize], facts: &[String]) -> Vec<usize> {
    let text = text.to_lowercase();
    let words: std::collections::HashSet<&str> = content_words(&text).collect();
    cited
        .iter()
        .copied()
        .filter(|&number| {
            let Some(fact) = facts.get(number - 1) else {
                return false;
            };
            let shared = content_words(fact)
                .collect::<std::collections::HashSet<_>>()
                .intersection(&words)
                .count();
            let figure_shared = fact
                .split(|c: char| !c.is_ascii_digit())
                .filter(|d| d.len() >= 2)
                .any(|d| text.contains(d));
            shared >= 2 || figure_shared
        })
        .collect()
}

fn content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 && !w.chars().all(|c| c.is_ascii_digit()))
}

/// Where a figure must come from: the brief and the facts, lowercased.
pub(crate) fn backing_text(brief: &Brief, facts: &[FactSource]) -> String {
    backing_text_of(&brief.prompt_text(), facts)
}

/// [`backing_text`] for a request given as text.
pub(crate) fn backing_text_of(request: &str, facts: &[FactSource]) -> String {
    let mut text = request.to_owned();
    for fact in facts {
        text.push('\n');
        text.push_str(&fact.text);
    }
    text.to_lowercase()
}

pub(crate) fn variant_to_store(
    label: &str,
    draft: Draft,
    script: Option<brandpilot_studio::reel::ReelScript>,
) -> Result<NewVariant> {
    let passed = draft.passed();
    let content = VariantContent {
        fields: draft.fields,
        script,
        citations: draft.cited,
        unbacked_figures: draft.unbacked,
        repair_passes: draft.passes,
        repairs: draft.repairs,
        note: draft.note,
    };
    Ok(NewVariant {
        label: label.to_owned(),
        content_json: to_json(&content)?,
        report_json: to_json(&draft.report)?,
        passed,
    })
}

/// A model service that cannot be built (no provider, no local model file) is the
/// operator's to fix: 503 for the caller, the detail in the log.
pub(crate) fn model_unavailable(error: AppError) -> AppError {
    match error {
        AppError::Settings(detail) => AppError::ModelUnavailable(detail),
        other => other,
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| AppError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn fields_survive_the_round_trip_through_the_draft_json() {
        let fields = vec![
            FieldText::new(brandpilot_studio::Field::Headline, "One"),
            FieldText::new(brandpilot_studio::Field::Headline, "Two"),
            FieldText::new(brandpilot_studio::Field::Headline, "Three"),
            FieldText::new(brandpilot_studio::Field::Description, "Learn to paint."),
            FieldText::new(brandpilot_studio::Field::Description, "Start today."),
        ];
        let json = fields_to_json(Channel::GoogleSearchAd, &fields);
        assert_eq!(json["headline"], json!(["One", "Two", "Three"]));
        assert_eq!(fields_from_json(Channel::GoogleSearchAd, &json), fields);
    }

    #[test]
    fn a_figure_is_backed_only_when_the_brief_or_a_fact_gives_it() {
        let backing = "offer: 20% off the spring course until 31 march. the course costs $1,200 and has 12 lessons.";
        assert!(unbacked_figures("Save 20% on 12 lessons!", backing).is_empty());
        assert!(unbacked_figures("Only $1200, or $1,200.", backing).is_empty());
        assert_eq!(
            unbacked_figures("Save 50% today, 12 lessons.", backing),
            ["50"]
        );
        assert_eq!(unbacked_figures("Join 3,000 painters.", backing), ["3,000"]);
        // Digits inside a word or a hashtag are not figures.
        assert!(unbacked_figures("#Spring2026 with COVID19 rules", backing).is_empty());
        // A number is compared whole: 2 is not backed by 20 or 12.
        assert_eq!(unbacked_figures("2 weeks left", backing), ["2"]);
    }

    #[test]
    fn a_citation_stays_only_when_the_copy_uses_the_fact() {
        let facts = vec![
            "the watercolour course runs for twelve weeks in spring".to_owned(),
            "refunds are paid within 14 days of a request".to_owned(),
        ];
        let text = "Our watercolour course: twelve weeks of spring painting.";
        assert_eq!(supported_citations(text, &[1, 2], &facts), [1]);
        assert_eq!(
            supported_citations("Refunds in 14 days, always.", &[2], &facts),
            [2]
        );
        assert!(supported_citations(text, &[3], &facts).is_empty());
    }

    #[test]
    fn briefs_that_cannot_be_written_are_refused_naming_the_field() {
        let brief = Brief {
            channel: Channel::LinkedinPost,
            goal: "Fill the spring course".into(),
            audience: String::new(),
            tone: String::new(),
            offer: String::new(),
            key_facts: Vec::new(),
            language: Language::En,
            variants: 3,
        };
        assert!(brief.check().is_ok());
        for (broken, field) in [
            (
                Brief {
                    goal: "  ".into(),
                    ..brief.clone()
                },
                "brief.goal",
            ),
            (
                Brief {
                    variants: 4,
                    ..brief.clone()
                },
                "brief.variants",
            ),
            (
                Brief {
                    channel: Channel::ReelScript,
                    ..brief.clone()
                },
                "brief.channel",
            ),
            (
                Brief {
                    key_facts: vec!["x".into(); 21],
                    ..brief.clone()
                },
                "brief.key_facts",
            ),
        ] {
            let error = broken.check().unwrap_err().to_string();
            assert!(error.contains(field), "{error}");
        }
    }
}
