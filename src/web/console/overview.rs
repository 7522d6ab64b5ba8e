//! `GET /`: the overview — leads today and over 7 days by outcome, drafts waiting
//! for approval, dead letters grouped by normalised reason (each group with a
//! retry for admins), speed to lead p50/p95 per day
//! (an SVG chart drawn here), connector health.

use actix_web::{HttpResponse, web};
use chrono::{NaiveTime, TimeDelta};
use minijinja::context;
use serde::Serialize;

use super::charts;
use super::error::ConsoleError;
use super::page;
use super::session::Session;
use crate::store::{console_queries, dead_letters, settings, speed};
use crate::web::AppState;

#[derive(Serialize)]
struct Count {
    status: String,
    count: i64,
}

pub async fn show(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let now = crate::store::now();
    let midnight = now.date().and_time(NaiveTime::MIN);
    let week = midnight - TimeDelta::days(6);
    let first_day = week.date();
    let (mode, today, seven, dead, waiting, samples) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                console_queries::status_counts(c, midnight)?,
                console_queries::status_counts(c, week)?,
                dead_letters::groups(c)?,
                console_queries::drafts_waiting(c, 100)?.len(),
                speed::speed_days(c, first_day)?,
            ))
        })
        .await?;
    let reconnect = super::reps::reconnect_needed(&state).await?;
    let counts = |rows: Vec<(String, i64)>| -> (i64, Vec<Count>) {
        let total = rows.iter().map(|(_, n)| n).sum();
        let rows = rows
            .into_iter()
            .map(|(status, count)| Count { status, count })
            .collect();
        (total, rows)
    };
    let (today_total, today) = counts(today);
    let (week_total, week) = counts(seven);
    // The ten largest groups, named as the admin API names them.
    let dead: Vec<_> = dead
        .into_iter()
        .take(10)
        .map(|g| {
            context! { reason => g.reason_group, count => g.count, first => super::view::time(g.first_seen),
            last => super::view::time(g.last_seen), sample => g.sample_workflow_id }
        })
        .collect();
    page::render(
        "overview.html",
        &session,
        mode,
        "overview",
        context! { today_total, today, week_total, week, dead, waiting, reconnect,
        speed => charts::speed_chart(first_day, &samples),
        health => charts::connector_health(&state.metrics) },
    )
}
