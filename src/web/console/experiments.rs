//! `GET /experiments` (the list and a form to create one, with up to
//! [`ROWS`] variants) and `GET /experiments/{id}` (per-variant results with
//! rates, their 95% Wilson intervals as error bars and the p-values, and a
//! form to stop it). `POST /experiments`
//! and `POST /experiments/{id}/stop` go through the admin API's own functions.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::charts;
use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view;
use crate::experiments::{Variant, results};
use crate::store::{experiments, settings};
use crate::web::AppState;
use crate::web::admin::experiments as admin;

/// How many variant rows the create form offers (an experiment may have 2–10).
pub const ROWS: usize = 4;

pub async fn list(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (mode, all) = state
        .store
        .run(|c| Ok((settings::mode(c)?, experiments::list(c)?)))
        .await?;
    let all: Vec<_> = all
        .iter()
        .map(|e| {
            context! { id => e.id.clone(), name => e.name.clone(), status => e.status.clone(),
            variants => e.variants.iter().map(|v| v.name.clone()).collect::<Vec<_>>().join(", "),
            created => view::time(e.created_at), by => e.created_by.clone() }
        })
        .collect();
    page::render(
        "experiments.html",
        &session,
        mode,
        "experiments",
        context! { experiments => all, rows => (1..=ROWS).collect::<Vec<_>>() },
    )
}

pub async fn show(
    session: Session,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let (mode, found, assignments) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                experiments::find(c, &id)?,
                experiments::assignments(c, &id)?,
            ))
        })
        .await?;
    let experiment =
        found.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such experiment"))?;
    let results = results::tally(&experiment.variants, &assignments);
    let arms: Vec<(String, u64, u64, u64)> = results
        .variants
        .iter()
        .map(|v| (v.variant.clone(), v.assigned, v.replies, v.meetings))
        .collect();
    let chart = charts::rates_chart(&arms);
    let rows: Vec<_> = results
        .variants
        .iter()
        .zip(&chart.variants)
        .map(|(v, bars)| {
            let text = |b: &Option<charts::RateBar>| b.as_ref().map_or("–".to_string(), |b| b.text.clone());
            context! { name => v.variant.clone(), assigned => v.assigned, replies => v.replies, meetings => v.meetings,
                       reply_rate => text(&bars.replies), meeting_rate => text(&bars.meetings) }
        })
        .collect();
    let p = |s: &Option<crate::experiments::stats::Significance>| {
        s.as_ref().map_or("not defined yet".to_string(), |s| {
            format!("{:.4} ({})", s.p_value, s.test)
        })
    };
    page::render(
        "experiment.html",
        &session,
        mode,
        "experiments",
        context! { id => experiment.id.clone(), name => experiment.name.clone(), status => experiment.status.clone(), rows, chart,
        replies_p => p(&results.replies_significance), meetings_p => p(&results.meetings_significance) },
    )
}

/// The create form: every variant row sends its five fields, in order, so the
/// n-th of each belongs together; rows left empty are not variants.
fn variants(fields: &[(String, String)]) -> Result<Vec<Variant>, ConsoleError> {
    let column = |key: &str| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .collect()
    };
    let (names, weights) = (column("variant"), column("weight"));
    let (subjects, openings, ctas) = (column("subject"), column("opening"), column("cta"));
    let text = |col: &[&str], i: usize| col.get(i).filter(|v| !v.is_empty()).map(|v| v.to_string());
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (subject, opening, call_to_action) =
            (text(&subjects, i), text(&openings, i), text(&ctas, i));
        if name.is_empty() && subject.is_none() && opening.is_none() && call_to_action.is_none() {
            continue;
        }
        let weight = match weights.get(i).filter(|w| !w.is_empty()) {
            None => 1,
            Some(raw) => raw.parse().map_err(|_| {
                ConsoleError::new(
                    StatusCode::BAD_REQUEST,
                    format!("variant {}: the weight must be a whole number", i + 1),
                )
            })?,
        };
        out.push(Variant {
            name: name.to_string(),
            weight,
            subject,
            opening,
            call_to_action,
        });
    }
    Ok(out)
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

pub async fn create(
    req: HttpRequest,
    session: Session,
    form: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, field(&form, "csrf"))?;
    let variants = variants(&form)?;
    let created = admin::create_experiment(
        &state,
        session.caller(),
        field(&form, "name"),
        variants,
        field(&form, "reason"),
    )
    .await?;
    Ok(see_other(&format!("/experiments/{}", created.id)))
}

pub async fn stop(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<super::actions::ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    let id = id.into_inner();
    admin::stop_experiment(&state, session.caller(), id.clone(), &form.reason).await?;
    Ok(see_other(&format!("/experiments/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn rows_pair_up_by_position_and_empty_rows_are_dropped() {
        let row = |n: &'static str, w: &'static str, s: &'static str| {
            [
                ("variant", n),
                ("weight", w),
                ("subject", s),
                ("opening", ""),
                ("cta", ""),
            ]
        };
        let fields: Vec<_> = [
            row("plain", "", "Your demo"),
            row("", "", ""),
            row("short", "3", "Demo?"),
        ]
        .concat();
        let parsed = variants(&form(&fields)).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].name, "short");
        assert_eq!(parsed[1].weight, 3);
        assert_eq!(parsed[1].subject.as_deref(), Some("Demo?"));
        assert_eq!(parsed[0].weight, 1);
        assert!(parsed[0].opening.is_none());
        assert!(variants(&form(&row("x", "many", "S"))).is_err());
    }
}
