//! One generation's conversation with the model: the [`Writer`] every variant of a
//! generation shares (system prompt, schema, facts, rules, the spend so far), the [`Draft`]
//! a variant is while the loop works on it, and the schema preparation that keeps
//! generation grammars small.

use super::examples::ExampleUse;
use super::grounding::backing_text_of;
use super::prompts::{self, PromptFact};
use super::records::{FactSource, Provenance};
use crate::llm::{LazyLlm, LlmService};
use crate::{AppError, Brandpilot, Result};
use brandpilot_llm::{ChatRequest, ChatResponse, Message, ResponseFormat, StructuredResponse};
use brandpilot_store::Brand;
use brandpilot_studio::channels;
use brandpilot_studio::language::Language;
use brandpilot_studio::reel::Sector;
use brandpilot_studio::repair::RepairAction;
use brandpilot_studio::{
    BrandRules, Channel, CompiledRules, CompiledVoice, FieldText, Report, VoiceScore,
};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

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
        examples: Vec<ExampleUse>,
        template: &str,
        started: Instant,
        repair_passes: u32,
    ) -> Provenance {
        Provenance {
            sources,
            examples,
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
    /// The brand's past posts shown as few-shot examples.
    pub examples: Vec<ExampleUse>,
    /// The brand's voice, when it has one: every draft is scored against it.
    pub voice: Option<Arc<CompiledVoice>>,
    /// Lowercased text of the brief and the facts: where a figure must come from.
    pub backing: Arc<str>,
    /// Each fact's text, lowercased once for every draft's citation check.
    pub fact_texts: Arc<[String]>,
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
    /// How consistent the draft is with the brand's voice, when it has one.
    pub voice: Option<VoiceScore>,
    /// Sentences taken out because they state figures nothing backs.
    pub dropped: Vec<String>,
}

impl Draft {
    pub fn passed(&self) -> bool {
        self.report.passed && self.unbacked.is_empty()
    }
}

/// Fields as the JSON object [`channels::variant_schema`] describes (the inverse of
/// [`channels::fields_from_json`]), for showing a draft to the model.
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

/// Makes a generation schema of `schema`: long `maxLength`s dropped (see
/// [`GRAMMAR_MAX_LENGTH`]) and, when there are facts, a required `sources` list of the fact
/// numbers the answer uses.
pub(crate) fn prepare_schema(schema: &mut Value, facts: usize) {
    relax_long_strings(schema);
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
}

/// Drops every `maxLength` above [`GRAMMAR_MAX_LENGTH`] from `schema`.
fn relax_long_strings(schema: &mut Value) {
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

/// What a [`Writer`] is built from besides the brand and its rules.
pub(crate) struct WriterPlan<'a> {
    pub language: Language,
    pub channel: Channel,
    /// The task's own instructions: a channel's fields, or a reel's budget and scenes.
    pub task_lines: String,
    /// The answer's schema, before [`prepare_schema`].
    pub schema: Value,
    pub facts: Vec<FactSource>,
    /// The request as the model reads it; a figure in the copy must come from it or a fact.
    pub request_text: &'a str,
    /// What the few-shot examples are chosen by: the request's gist and its sector.
    pub example_query: &'a str,
    pub sector: Option<Sector>,
    pub max_tokens: u32,
}

impl Brandpilot {
    /// The writer of one generation: the system prompt (the brand's voice, its rules, the
    /// task, the numbered facts), the prepared schema and the model service.
    pub(crate) async fn writer(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        rules: &BrandRules,
        plan: WriterPlan<'_>,
    ) -> Result<Writer> {
        let profile = self.brand_profile(brand).await?;
        let settings = &self.settings.studio;
        let examples = self
            .choose_examples(
                brand,
                plan.channel,
                plan.sector,
                plan.example_query,
                settings.examples,
            )
            .await?;
        let voice = self.compiled_voice(brand).await?;
        let prompt_facts: Vec<PromptFact<'_>> = plan
            .facts
            .iter()
            .map(|f| PromptFact {
                title: &f.source_title,
                text: &f.text,
            })
            .collect();
        let system = format!(
            "{}{}{}{}{}{}Answer with one JSON object and nothing else.\n",
            prompts::writer_lines(&brand.name, &profile, plan.language),
            voice
                .as_deref()
                .map_or_else(String::new, |v| prompts::voice_lines(v.profile())),
            prompts::rule_lines(rules, channels::spec(plan.channel)),
            plan.task_lines,
            prompts::example_lines(&examples),
            prompts::fact_lines(&prompt_facts),
        );
        let mut schema = plan.schema;
        prepare_schema(&mut schema, plan.facts.len());
        Ok(Writer {
            llm: llm.get(self).await.map_err(model_unavailable)?,
            brand: brand.clone(),
            compiled: Arc::new(CompiledRules::new(rules)),
            system,
            schema,
            backing: backing_text_of(plan.request_text, &plan.facts).into(),
            fact_texts: plan.facts.iter().map(|f| f.text.to_lowercase()).collect(),
            facts: plan.facts,
            examples,
            voice,
            max_tokens: plan.max_tokens,
            temperature: settings.temperature,
            max_repair_passes: settings.max_repair_passes,
            spend: Mutex::new(Spend::default()),
        })
    }
}

/// A model service that cannot be built (no provider, no local model file) is the
/// operator's to fix: 503 for the caller, the detail in the log.
pub(crate) fn model_unavailable(error: AppError) -> AppError {
    match error {
        AppError::Settings(detail) => AppError::ModelUnavailable(detail),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            channels::fields_from_json(Channel::GoogleSearchAd, &json),
            fields
        );
    }
}
