//! Reel and short-video scripts (seed 003): the same loop as copy (`generate.rs`) over one
//! grammar-constrained script whose word budget follows the requested duration: draft,
//! mend what needs no model (including the duration estimate), judge the channel's rules
//! and the reel's own (parts, scene count, spoken length), and ask for rewrites while any
//! fails, up to `studio.max_repair_passes`.

use super::grounding::{published_text, supported_citations, unbacked_figures};
use super::prompts;
use super::records::{Generation, to_json, variant_to_store};
use super::writer::{Draft, Writer, WriterPlan};
use crate::error::blocking;
use crate::llm::LazyLlm;
use crate::{AppError, Brandpilot, Result};
use brandpilot_store::{Brand, NewGeneration};
use brandpilot_studio::reel::{
    self, ReelConfig, ReelRequest, ReelScript, hook_type_info, repair_script, scene_range,
    script_schema, sector_info, word_budget,
};
use brandpilot_studio::{Channel, StudioError, Violation};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// Characters a reel's topic may have.
const MAX_TOPIC_CHARS: usize = 2_000;

fn studio_error(error: StudioError) -> AppError {
    AppError::InvalidInput(error.to_string())
}

impl Brandpilot {
    /// Writes a reel script for `request`, grounded in the brand's material, judged and
    /// repaired against the brand's rules and the duration's word budget, and stores it.
    pub async fn generate_reel(
        &self,
        llm: &LazyLlm,
        brand: &Brand,
        request: ReelRequest,
        created_by: Option<String>,
    ) -> Result<Generation> {
        request.check().map_err(studio_error)?;
        if request.topic.chars().count() > MAX_TOPIC_CHARS {
            return Err(AppError::InvalidInput(format!(
                "topic: at most {MAX_TOPIC_CHARS} characters"
            )));
        }
        self.check_credits(brand.workspace).await?;
        let started = Instant::now();
        let settings = &self.settings.studio;
        let config = ReelConfig {
            words_per_minute: settings.words_per_minute,
            tolerance: settings.duration_tolerance,
        };
        let budget = word_budget(request.duration_seconds, &config).map_err(studio_error)?;
        let rules = self.studio_rules(brand).await?;
        let facts = self.grounding_facts(brand, &request.topic).await?;
        let user = format!("Topic: {}\n", request.topic.trim());
        let writer = self
            .writer(
                llm,
                brand,
                &rules,
                WriterPlan {
                    language: request.language,
                    channel: Channel::ReelScript,
                    task_lines: prompts::reel_lines(
                        sector_info(request.sector),
                        hook_type_info(request.hook_type),
                        &budget,
                        scene_range(request.duration_seconds),
                    ),
                    schema: script_schema(request.duration_seconds, &rules)
                        .map_err(studio_error)?,
                    facts,
                    request_text: &user,
                    example_query: &request.topic,
                    sector: Some(request.sector),
                    max_tokens: settings.max_tokens.max(900),
                },
            )
            .await?;
        let value = writer.ask(&writer.system, user).await?;
        let (mut script, mut draft) = self
            .mend_script(&writer, &request, &config, &value, Vec::new())
            .await?;
        while !draft.passed() && draft.passes < writer.max_repair_passes {
            let violations: Vec<Violation> = draft.report.errors().cloned().collect();
            let mut shown =
                serde_json::to_value(&script).map_err(|e| AppError::Task(e.to_string()))?;
            if !writer.facts.is_empty() {
                shown["sources"] = json!(draft.cited);
            }
            let ask = prompts::repair_request(&shown.to_string(), &violations, &draft.unbacked);
            let passes = draft.passes + 1;
            match writer.ask(&writer.system, ask).await {
                Ok(value) => {
                    let repairs = std::mem::take(&mut draft.repairs);
                    (script, draft) = self
                        .mend_script(&writer, &request, &config, &value, repairs)
                        .await?;
                    draft.passes = passes;
                }
                Err(AppError::Llm(error)) => {
                    draft.passes = passes;
                    draft.note = Some(format!("the model could not rewrite the script: {error}"));
                    break;
                }
                Err(other) => return Err(other),
            }
        }
        let provenance = writer
            .spend
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .provenance(
                writer.facts.clone(),
                writer.examples.clone(),
                prompts::REEL_TEMPLATE,
                started,
                draft.passes,
            );
        let variant = variant_to_store("script", draft, Some(script))?;
        let record = self
            .store
            .create_generation(&NewGeneration {
                brand: brand.id,
                kind: "reel".into(),
                channel: Channel::ReelScript.code().into(),
                request_json: to_json(&request)?,
                provenance_json: to_json(&provenance)?,
                created_by,
                variants: vec![variant],
            })
            .await?;
        Generation::from_record(record)
    }

    /// The model-free repairs, the judgement and the grounding check of one script.
    async fn mend_script(
        &self,
        writer: &Writer,
        request: &ReelRequest,
        config: &ReelConfig,
        value: &Value,
        mut repairs: Vec<brandpilot_studio::repair::RepairAction>,
    ) -> Result<(ReelScript, Draft)> {
        let script = script_from_json(value);
        let cited = writer.citations(value);
        let compiled = Arc::clone(&writer.compiled);
        let backing = Arc::clone(&writer.backing);
        let facts = Arc::clone(&writer.fact_texts);
        let voice = writer.voice.clone();
        let (request, config) = (request.clone(), *config);
        blocking(move || {
            let repaired =
                repair_script(&compiled, &request, &script, &config).map_err(studio_error)?;
            repairs.extend(repaired.actions);
            let fields = repaired.script.to_fields();
            let text = published_text(Channel::ReelScript, &fields);
            let draft = Draft {
                unbacked: unbacked_figures(&text, &backing),
                cited: supported_citations(&text, &cited, &facts),
                fields,
                report: repaired.report,
                repairs,
                passes: 0,
                note: None,
                voice: voice.map(|voice| voice.score(&text)),
                dropped: Vec::new(),
            };
            Ok((repaired.script, draft))
        })
        .await
    }
}

/// A script from the model's JSON; the grammar guarantees the shape, but a missing part
/// becomes empty (and fails the parts rule) rather than an error.
fn script_from_json(value: &Value) -> ReelScript {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    ReelScript {
        hook: text("hook"),
        scenes: value["scenes"]
            .as_array()
            .map(|scenes| {
                scenes
                    .iter()
                    .map(|scene| reel::Scene {
                        on_screen_text: scene["on_screen_text"].as_str().unwrap_or_default().into(),
                        voice_over: scene["voice_over"].as_str().unwrap_or_default().into(),
                        visual: scene["visual"].as_str().unwrap_or_default().into(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        thumbnail_text: text("thumbnail_text"),
        cta: text("cta"),
        caption: text("caption"),
        hashtags: value["hashtags"]
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        estimated_duration_seconds: value["estimated_duration_seconds"].as_f64().unwrap_or(0.0),
    }
}
