//! What the booking pages show: the workflow's rep and the prospect's zone
//! ([`Visit`]), the templates (escaped: every value is text), and `GET
//! /book/{token}`, which only ever reads.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use chrono::Utc;
use chrono_tz::Tz;
use minijinja::{Environment, Value, context};

use super::{AppState, Checked, PageQuery, check, unavailable};
use crate::compose::booking_link::{self, Target};
use crate::compose::slots::{self, Interval};
use crate::domain::Rep;
use crate::steps::WorkflowState;
use crate::steps::booking::times;
use crate::store::bookings::{self, Booking};
use crate::store::{reps, settings, step_runs};

/// No script but our own file, no inline code, forms only to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Zones offered in the switch beside the prospect's own (any IANA zone works in `?tz=`).
const ZONES: &[&str] = &[
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Helsinki",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("frame.html", include_str!("templates/frame.html")),
        ("zone.html", include_str!("templates/zone.html")),
        ("slot.html", include_str!("templates/slot.html")),
        ("booked.html", include_str!("templates/booked.html")),
        ("times.html", include_str!("templates/times.html")),
        ("cancel.html", include_str!("templates/cancel.html")),
        ("message.html", include_str!("templates/message.html")),
    ] {
        env.add_template(name, source)
            .expect("booking templates are valid");
    }
    env
});

/// A page with the booking headers (strict CSP, never cached, not framed).
pub fn page(mut builder: HttpResponseBuilder, template: &str, cx: Value) -> HttpResponse {
    let body = ENV
        .get_template(template)
        .and_then(|t| t.render(cx))
        .unwrap_or_else(|error| {
            tracing::error!(%error, template, "booking template failed");
            "<!doctype html><title>Error</title><p>The page could not be drawn.</p>".into()
        });
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(body)
}

/// A page that only says something (and may point at the free times).
pub fn message(
    builder: HttpResponseBuilder,
    heading: &str,
    text: &str,
    times_token: Option<String>,
) -> HttpResponse {
    page(
        builder,
        "message.html",
        context! { heading, text, times_token },
    )
}

/// One visit's facts: the workflow's rep, the prospect's zone, the booking.
pub struct Visit {
    pub workflow_id: String,
    pub rep: Rep,
    pub state: WorkflowState,
    /// The zone the page shows times in: `?tz=`, else the workflow's guess.
    pub zone: Tz,
    pub booking: Option<Booking>,
    pub secret: String,
}

impl Visit {
    /// `None` when the workflow (or its rep) is gone: nothing can be booked.
    pub async fn load(
        state: &AppState,
        workflow_id: &str,
        query: &PageQuery,
    ) -> Result<Option<Visit>, crate::store::StoreError> {
        let id = workflow_id.to_string();
        let (runs, booking, secret) = state
            .store
            .run(move |c| {
                Ok((
                    step_runs::list_for_workflow(c, &id)?,
                    bookings::list_for_workflow(c, &id)?.into_iter().next(),
                    settings::booking_secret(c)?,
                ))
            })
            .await?;
        let wf_state = WorkflowState::from_runs(&runs);
        let Some(rep_id) = wf_state.route.as_ref().map(|r| r.rep_id.clone()) else {
            return Ok(None);
        };
        let Some(rep) = state
            .store
            .run(move |c| reps::find_by_id(c, &rep_id))
            .await?
        else {
            return Ok(None);
        };
        let guessed = wf_state
            .slots
            .as_ref()
            .map(|s| s.prospect_zone.tz())
            .unwrap_or_else(|| rep.tz());
        let zone = query
            .tz
            .as_deref()
            .and_then(|z| z.parse::<Tz>().ok())
            .unwrap_or(guessed);
        Ok(Some(Visit {
            workflow_id: workflow_id.to_string(),
            rep,
            state: wf_state,
            zone,
            booking,
            secret,
        }))
    }

    pub fn active(&self) -> Option<&Booking> {
        self.booking.as_ref().filter(|b| b.is_active())
    }

    pub fn times_token(&self) -> String {
        booking_link::times_token(&self.secret, &self.workflow_id, Utc::now())
    }

    pub fn slot_token(&self, slot: &Interval) -> String {
        booking_link::slot_token(&self.secret, &self.workflow_id, slot, Utc::now())
    }

    /// The zones the prospect may be in, the shown one first.
    pub fn zones(&self) -> Vec<Tz> {
        let mut zones = vec![self.zone];
        if let Some(s) = &self.state.slots {
            zones.extend(s.prospect_zone.candidate_tzs());
        }
        zones.dedup();
        zones
    }

    /// What every page's frame needs: the rep, the zone and its switch.
    pub fn base(&self) -> Value {
        let zone = self.zone.name();
        let mut zones: Vec<&str> = ZONES.to_vec();
        if !zones.contains(&zone) {
            zones.insert(0, zone);
        }
        context! {
            rep => self.rep.name.clone(),
            zone,
            zone_q => url::form_urlencoded::byte_serialize(zone.as_bytes()).collect::<String>(),
            zones,
            times_token => self.times_token(),
        }
    }

    pub fn when(&self, slot: &Interval) -> String {
        slots::render(slot, self.zone)
    }
}

fn interval(b: &Booking) -> Interval {
    Interval {
        start: b.slot_start.and_utc(),
        end: b.slot_end.and_utc(),
    }
}

/// The confirmation (or its state) of the workflow's booking.
pub fn booked_page(builder: HttpResponseBuilder, visit: &Visit, booking: &Booking) -> HttpResponse {
    let slot = interval(booking);
    let own = context! {
        token => visit.slot_token(&slot),
        when => visit.when(&slot),
        start_iso => slot.start.to_rfc3339(),
        booked => booking.status == bookings::BOOKED,
        awaiting => booking.status == bookings::AWAITING_REP,
        cancelled => booking.status == bookings::CANCELLED,
    };
    page(builder, "booked.html", context! { ..own, ..visit.base() })
}

/// The rep's next free times, each one button; `taken` when the prospect's
/// choice was just taken by someone else.
pub async fn times_page(
    state: &AppState,
    builder: HttpResponseBuilder,
    visit: &Visit,
    taken: bool,
    reschedule: bool,
) -> HttpResponse {
    let free = match times::next_free(
        &state.engine,
        &visit.rep,
        &visit.workflow_id,
        &visit.zones(),
    )
    .await
    {
        Ok(free) => free,
        Err(error) => return unavailable(error),
    };
    let slots: Vec<Value> = free
        .iter()
        .map(|s| {
            context! {
                token => visit.slot_token(s),
                when => visit.when(s),
                start_iso => s.start.to_rfc3339(),
            }
        })
        .collect();
    let own = context! { slots, taken, reschedule };
    page(builder, "times.html", context! { ..own, ..visit.base() })
}

/// `GET /book/{token}`: shows, never books.
pub async fn show(
    token: web::Path<String>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let target = match check(&state, &token).await {
        Ok(Checked::Genuine(target)) => target,
        Ok(Checked::Refused(response)) => return response,
        Err(error) => return unavailable(error),
    };
    let visit = match Visit::load(&state, target.workflow_id(), &query).await {
        Ok(Some(visit)) => visit,
        Ok(None) => return gone_workflow(),
        Err(error) => return unavailable(error),
    };
    match (&target, visit.active()) {
        (Target::Times { .. }, Some(_)) if query.rescheduling() => {
            times_page(&state, HttpResponse::Ok(), &visit, false, true).await
        }
        (_, Some(active)) => booked_page(HttpResponse::Ok(), &visit, active),
        (Target::Times { .. }, None) => {
            times_page(&state, HttpResponse::Ok(), &visit, false, false).await
        }
        (Target::Slot { slot, .. }, None) => {
            let own = context! {
                token => token.as_str(),
                when => visit.when(slot),
                start_iso => slot.start.to_rfc3339(),
            };
            page(
                HttpResponse::Ok(),
                "slot.html",
                context! { ..own, ..visit.base() },
            )
        }
    }
}

/// The link's workflow (or its rep) no longer exists.
pub fn gone_workflow() -> HttpResponse {
    message(
        HttpResponse::Gone(),
        "This link no longer works",
        "Please reply to the email to find a time.",
        None,
    )
}
