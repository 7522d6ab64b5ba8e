//! A/B experiments in the admin API: create, list, read with per-variant results
//! and significance, stop, and run the outcome check now.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Reason, checked_reason, store_error};
use crate::experiments::{self, Element, Variant, results};
use crate::store::experiments as store;
use crate::store::{StoreError, audit};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExperiment {
    name: String,
    variants: Vec<Variant>,
    reason: String,
}

fn bad(code: &'static str, message: impl Into<String>, field: &'static str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message).with_field(field)
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such experiment")
}

fn elements(variants: &[Variant]) -> Vec<Element> {
    let mut all: Vec<Element> = variants.iter().flat_map(Variant::elements).collect();
    all.sort_by_key(|e| *e as u8);
    all.dedup();
    all
}

/// Starts an experiment; refused while a running one varies the same element.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = CREATED, body = store::Experiment),
        (status = CONFLICT, description = "A running experiment already varies one of these elements", body = ErrorBody),
    ),
)]
#[post("/experiments")]
pub async fn create(
    caller: Caller,
    body: web::Json<NewExperiment>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let NewExperiment {
        name,
        variants,
        reason,
    } = body.into_inner();
    let experiment = create_experiment(&state, caller, &name, variants, &reason).await?;
    Ok(HttpResponse::Created().json(experiment))
}

/// Creates an experiment (validated; refused when a running one varies the same
/// element) with its audit entry: the one rule for the admin API and the console.
pub(crate) async fn create_experiment(
    state: &AppState,
    caller: Caller,
    name: &str,
    variants: Vec<Variant>,
    reason: &str,
) -> Result<store::Experiment, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad(
            "invalid_name",
            "a name of 1–100 characters is required",
            "name",
        ));
    }
    experiments::validate(&variants).map_err(|m| bad("invalid_variants", m, "variants"))?;
    let touched = elements(&variants);
    let created = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                // Two running experiments on one element would confound each other.
                let clash = store::list_running(c)?
                    .into_iter()
                    .any(|e| elements(&e.variants).iter().any(|x| touched.contains(x)));
                if clash {
                    return Ok(None);
                }
                let experiment = store::insert(c, &name, &variants, &caller.actor)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &caller.actor,
                        action: "experiment.created",
                        workflow_id: None,
                        reason: Some(&reason),
                        detail: json!({ "experiment_id": experiment.id, "variants": experiment.variants.len() }),
                    },
                )?;
                Ok::<_, StoreError>(Some(experiment))
            })
        })
        .await
        .map_err(store_error)?;
    created.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "element_in_use",
            "a running experiment already varies one of these elements",
        )
    })
}

#[derive(Serialize, ToSchema)]
pub struct Experiments {
    experiments: Vec<store::Experiment>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Experiments)))]
#[get("/experiments")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.store.run(store::list).await.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Experiments { experiments: all }))
}

/// An experiment and its per-variant results with their significance.
#[derive(Serialize, ToSchema)]
pub struct ExperimentResults {
    experiment: store::Experiment,
    results: results::Results,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = ExperimentResults)))]
#[get("/experiments/{id}")]
pub async fn detail(
    _caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let found = state
        .store
        .run(move |c| {
            let Some(experiment) = store::find(c, &id)? else {
                return Ok(None);
            };
            let assignments = store::assignments(c, &id)?;
            Ok(Some((experiment, assignments)))
        })
        .await
        .map_err(store_error)?;
    let (experiment, assignments) = found.ok_or_else(not_found)?;
    let results = results::tally(&experiment.variants, &assignments);
    Ok(HttpResponse::Ok().json(ExperimentResults {
        experiment,
        results,
    }))
}

/// An experiment after a stop, and whether this call stopped it.
#[derive(Serialize, ToSchema)]
pub struct Stopped {
    id: String,
    stopped: bool,
}

#[utoipa::path(security(("bearer" = ["admin"])), responses((status = OK, body = Stopped)))]
#[post("/experiments/{id}/stop")]
pub async fn stop(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Reason>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let changed = stop_experiment(&state, caller, id.clone(), &body.reason).await?;
    Ok(HttpResponse::Ok().json(Stopped {
        id,
        stopped: changed,
    }))
}

/// Stops an experiment with its audit entry; returns whether it was running.
/// The one rule for the admin API and the console.
pub(crate) async fn stop_experiment(
    state: &AppState,
    caller: Caller,
    id: String,
    reason: &str,
) -> Result<bool, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let stopped = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                if store::find(c, &id)?.is_none() {
                    return Ok(None);
                }
                let changed = store::stop(c, &id)?;
                if changed {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &caller.actor,
                            action: "experiment.stopped",
                            workflow_id: None,
                            reason: Some(&reason),
                            detail: json!({ "experiment_id": id }),
                        },
                    )?;
                }
                Ok::<_, StoreError>(Some(changed))
            })
        })
        .await
        .map_err(store_error)?;
    stopped.ok_or_else(not_found)
}

/// Runs the outcome check now (it also runs on the supervisor's timer).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses((status = OK, body = crate::experiments::outcomes::CheckReport)),
)]
#[post("/experiments/check-outcomes")]
pub async fn check_outcomes(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let report = experiments::outcomes::check(&state.engine)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(report))
}
