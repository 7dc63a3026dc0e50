//! A/B(/n) experiments over a brand's variants: started and stopped by the brand's team
//! (`brands:write`), read with their statistics (`brands:read`), and fed by the brand's
//! website (`experiments:write`, a scope a website backend's key can hold alone): which arm
//! a visitor sees, then an impression when it is shown and a conversion when the visitor
//! acts.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::Scope;
use brandpilot_app::experiments::{Arm, EventKind, Experiment, ExperimentMode, ExperimentRequest};
use brandpilot_core::{BrandId, ExperimentId};
use brandpilot_studio::experiment::{Analysis, Decision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `ab`: a fixed split by weights, the same arm for a visitor every time. `bandit`:
/// Thompson sampling, which moves traffic towards the arm that converts better.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModeName {
    Ab,
    Bandit,
}

impl From<ModeName> for ExperimentMode {
    fn from(mode: ModeName) -> Self {
        match mode {
            ModeName::Ab => ExperimentMode::Ab,
            ModeName::Bandit => ExperimentMode::Bandit,
        }
    }
}

impl From<ExperimentMode> for ModeName {
    fn from(mode: ExperimentMode) -> Self {
        match mode {
            ExperimentMode::Ab => ModeName::Ab,
            ExperimentMode::Bandit => ModeName::Bandit,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArmBody {
    /// Unique within the experiment, at most 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The variant the arm shows: its copy, or a reference to it.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub variant: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExperimentBody {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Two to ten arms; the first is the control the others are compared with.
    #[schema(min_items = 2, max_items = 10)]
    #[serde(deserialize_with = "crate::extract::objects::list")]
    pub arms: Vec<ArmBody>,
    /// The traffic weight of each arm in `ab` mode (an even split when left out).
    #[serde(default)]
    pub weights: Option<Vec<u32>>,
    /// `ab` when left out.
    #[serde(default)]
    pub mode: Option<ModeName>,
    /// The false-positive rate accepted when declaring a winner, above 0 and at most 0.5;
    /// 0.05 when left out.
    #[serde(default)]
    pub significance: Option<f64>,
    /// Impressions every arm needs before a winner may be declared; 1,000 when left out.
    #[serde(default)]
    pub min_sample: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArmOut {
    pub name: String,
    pub variant: String,
    pub weight: u32,
    pub impressions: u64,
    pub conversions: u64,
    /// Conversions per impression; absent before the first impression.
    pub conversion_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentOut {
    pub id: i64,
    pub name: String,
    pub mode: ModeName,
    /// `running` or `stopped`.
    pub status: String,
    pub arms: Vec<ArmOut>,
    pub significance: f64,
    pub min_sample: u64,
    /// The arm declared the winner when the experiment was stopped.
    pub winner: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<Experiment> for ExperimentOut {
    fn from(experiment: Experiment) -> Self {
        let arms = experiment
            .arms
            .iter()
            .zip(&experiment.stats)
            .zip(&experiment.weights)
            .map(|((arm, stats), &weight)| ArmOut {
                name: arm.name.clone(),
                variant: arm.variant.clone(),
                weight,
                impressions: stats.visitors,
                conversions: stats.conversions,
                conversion_rate: stats.rate(),
            })
            .collect();
        Self {
            id: experiment.id.0,
            name: experiment.name,
            mode: experiment.mode.into(),
            status: if experiment.running {
                "running"
            } else {
                "stopped"
            }
            .to_owned(),
            arms,
            significance: experiment.significance,
            min_sample: experiment.min_sample,
            winner: experiment.winner,
            created_at_ms: experiment.created_at_ms,
            updated_at_ms: experiment.updated_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentList {
    pub experiments: Vec<ExperimentOut>,
}

/// One arm's numbers against the control.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArmResultOut {
    pub name: String,
    pub impressions: u64,
    pub conversions: u64,
    pub conversion_rate: Option<f64>,
    /// The two-proportion z statistic against the control (absent for the control).
    pub z: Option<f64>,
    /// Its two-sided p-value.
    pub p_value: Option<f64>,
    /// This arm's rate minus the control's.
    pub absolute_lift: Option<f64>,
    /// The absolute lift over the control's rate.
    pub relative_lift: Option<f64>,
    /// The Bayesian probability (uniform priors) that this arm converts better than the
    /// control.
    pub probability_beats_control: Option<f64>,
}

/// The chi-square test of "every arm converts alike".
#[derive(Debug, Serialize, ToSchema)]
pub struct ChiSquareOut {
    pub statistic: f64,
    pub degrees_of_freedom: usize,
    pub p_value: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    /// `need_more_data` (an arm is below the minimum sample), `no_winner_yet` or `winner`.
    pub status: String,
    pub winner: Option<String>,
    /// The winner's p-value against the control (Bonferroni-corrected comparisons).
    pub p_value: Option<f64>,
    pub probability_to_beat: Option<f64>,
    /// The decision in words.
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultsOut {
    /// The arm the others are compared with (the first).
    pub control: String,
    pub arms: Vec<ArmResultOut>,
    /// Present once every arm has an impression.
    pub chi_square: Option<ChiSquareOut>,
    pub decision: DecisionOut,
}

impl From<Analysis> for ResultsOut {
    fn from(analysis: Analysis) -> Self {
        let finite = |value: f64| value.is_finite().then_some(value);
        let control = analysis
            .arms
            .get(analysis.control)
            .map(|arm| arm.name.clone())
            .unwrap_or_default();
        let decision = match analysis.decision {
            Decision::NeedMoreData {
                arms,
                min_sample_per_arm,
            } => DecisionOut {
                status: "need_more_data".into(),
                winner: None,
                p_value: None,
                probability_to_beat: None,
                message: format!(
                    "{} below the minimum of {min_sample_per_arm} impressions per arm",
                    arms.join(", ")
                ),
            },
            Decision::NoWinnerYet { reason } => DecisionOut {
                status: "no_winner_yet".into(),
                winner: None,
                p_value: None,
                probability_to_beat: None,
                message: reason,
            },
            Decision::Winner {
                name,
                p_value,
                probability_to_beat,
                ..
            } => DecisionOut {
                status: "winner".into(),
                message: format!("{name} wins (p = {p_value:.4})"),
                winner: Some(name),
                p_value: finite(p_value),
                probability_to_beat: finite(probability_to_beat),
            },
        };
        Self {
            control,
            arms: analysis
                .arms
                .into_iter()
                .map(|arm| ArmResultOut {
                    name: arm.name,
                    impressions: arm.visitors,
                    conversions: arm.conversions,
                    conversion_rate: arm.rate,
                    z: arm.vs_control.and_then(|t| finite(t.z)),
                    p_value: arm.vs_control.and_then(|t| finite(t.p_value)),
                    absolute_lift: arm.vs_control.and_then(|t| finite(t.absolute_lift)),
                    relative_lift: arm
                        .vs_control
                        .and_then(|t| t.relative_lift)
                        .and_then(finite),
                    probability_beats_control: arm.probability_beats_control.and_then(finite),
                })
                .collect(),
            chi_square: analysis.chi_square.and_then(|test| {
                Some(ChiSquareOut {
                    statistic: finite(test.statistic)?,
                    degrees_of_freedom: test.degrees_of_freedom,
                    p_value: finite(test.p_value)?,
                })
            }),
            decision,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExperimentDetail {
    pub experiment: ExperimentOut,
    pub results: ResultsOut,
}

fn detail(experiment: Experiment) -> Result<ExperimentDetail, ApiError> {
    let results = experiment.analysis()?.into();
    Ok(ExperimentDetail {
        experiment: experiment.into(),
        results,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// Whoever the website calls the visitor (a cookie id, a customer id), 1 to 200
    /// characters.
    #[schema(min_length = 1, max_length = 200)]
    pub visitor_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentOut {
    pub arm: String,
    /// The arm's position (0 is the control).
    pub arm_index: usize,
    pub variant: String,
}

/// `impression` when the arm's variant was shown, `conversion` when the visitor acted.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKindName {
    Impression,
    Conversion,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The visitor, when the website knows them (checked, not stored).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub visitor_id: Option<String>,
    /// The arm's name.
    #[schema(max_length = 100)]
    pub arm: String,
    pub kind: EventKindName,
}

async fn brand(
    state: &ServerState,
    caller: &Caller,
    brand_id: i64,
) -> Result<brandpilot_store::Brand, ApiError> {
    Ok(state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?)
}

/// Starts an experiment over two to ten variants.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/experiments", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = NewExperimentBody,
    responses(
        (status = 201, body = ExperimentOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_experiment(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewExperimentBody>,
) -> Result<(StatusCode, Json<ExperimentOut>), ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let request = ExperimentRequest {
        name: body.name,
        arms: body
            .arms
            .into_iter()
            .map(|arm| Arm {
                name: arm.name,
                variant: arm.variant,
            })
            .collect(),
        weights: body.weights,
        mode: body.mode.unwrap_or(ModeName::Ab).into(),
        significance: body.significance,
        min_sample: body.min_sample,
    };
    let experiment = state.app.create_experiment(&brand, &request).await?;
    Ok((StatusCode::CREATED, Json(experiment.into())))
}

/// The brand's experiments with their counts, oldest first.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/experiments", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = ExperimentList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_experiments(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<ExperimentList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let experiments = state.app.experiments(&brand).await?;
    Ok(Json(ExperimentList {
        experiments: experiments.into_iter().map(Into::into).collect(),
    }))
}

/// An experiment with its statistics: per-arm conversion rates, each arm's z-test and
/// probability to beat the control, the chi-square test over all arms, and whether a winner
/// can be declared at the configured significance and minimum sample.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/experiments/{experiment_id}", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("experiment_id" = i64, Path, description = "The experiment's id"),
    ),
    responses(
        (status = 200, body = ExperimentDetail),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_experiment(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, experiment_id)): ApiPath<(i64, i64)>,
) -> Result<Json<ExperimentDetail>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let experiment = state
        .app
        .experiment(&brand, ExperimentId(experiment_id))
        .await?;
    Ok(Json(detail(experiment)?))
}

/// The arm a visitor is to see. In `ab` mode the same visitor always gets the same arm; in
/// `bandit` mode the arm is drawn by Thompson sampling from the counts so far. A stopped
/// experiment gives everyone its winner (the control when none was declared). Report an
/// impression when the variant is shown.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/experiments/{experiment_id}/assign", tag = "studio",
    security(("api_key" = ["experiments:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("experiment_id" = i64, Path, description = "The experiment's id"),
    ),
    request_body = AssignBody,
    responses(
        (status = 200, body = AssignmentOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn assign_arm(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, experiment_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<AssignBody>,
) -> Result<Json<AssignmentOut>, ApiError> {
    caller.require(Scope::ExperimentsWrite)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let assignment = state
        .app
        .assign_experiment_arm(&brand, ExperimentId(experiment_id), &body.visitor_id)
        .await?;
    Ok(Json(AssignmentOut {
        arm: assignment.arm.name,
        arm_index: assignment.index,
        variant: assignment.arm.variant,
    }))
}

/// Counts an impression or a conversion for an arm of a running experiment. A conversion
/// needs an impression of the same arm to convert; a stopped experiment counts nothing
/// (409).
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/experiments/{experiment_id}/events", tag = "studio",
    security(("api_key" = ["experiments:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("experiment_id" = i64, Path, description = "The experiment's id"),
    ),
    request_body = EventBody,
    responses(
        (status = 200, description = "Counted; the experiment with its counts", body = ExperimentOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "The experiment is stopped", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn record_event(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, experiment_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Json<ExperimentOut>, ApiError> {
    caller.require(Scope::ExperimentsWrite)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let kind = match body.kind {
        EventKindName::Impression => EventKind::Impression,
        EventKindName::Conversion => EventKind::Conversion,
    };
    let experiment = state
        .app
        .record_experiment_event(
            &brand,
            ExperimentId(experiment_id),
            &body.arm,
            kind,
            body.visitor_id.as_deref(),
        )
        .await?;
    Ok(Json(experiment.into()))
}

/// Stops an experiment, declaring the winner its numbers support now (if any); from then on
/// every visitor is assigned the winner (or the control). Stopping it again changes nothing.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/experiments/{experiment_id}/stop", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("experiment_id" = i64, Path, description = "The experiment's id"),
    ),
    responses(
        (status = 200, body = ExperimentDetail),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn stop_experiment(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, experiment_id)): ApiPath<(i64, i64)>,
) -> Result<Json<ExperimentDetail>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = brand(&state, &caller, brand_id).await?;
    let experiment = state
        .app
        .stop_experiment(&brand, ExperimentId(experiment_id))
        .await?;
    Ok(Json(detail(experiment)?))
}
