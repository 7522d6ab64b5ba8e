//! Booking from the reply, on both backends: the slot links in the draft, the
//! public page (a GET never books), the chain that makes exactly one calendar
//! event with Meet and the prospect invited, cancel and reschedule, bad and
//! expired links, 50 prospects racing for one slot, and a SIGKILL between the
//! event and its record.

mod confirm_mode;
mod crash;
mod flow;
mod race;

use sales_agent::steps::WorkflowState;

use crate::helpers::{PUBLIC_URL, Stack};

pub const LAURA: &str = "laura.martinez@brightpath-health.com";

/// The booking links in a reply, in order (the slots', then "more times").
pub fn booking_links(body: &str) -> Vec<String> {
    let re = regex::Regex::new(r"https?://[^\s/]+/book/[A-Za-z0-9_\-.]+").unwrap();
    re.find_iter(body).map(|m| m.as_str().to_string()).collect()
}

/// The booking links in `body` whose tokens are genuine for `workflow_id`.
pub async fn genuine_links(stack: &Stack, body: &str, workflow_id: &str) -> Vec<String> {
    let secret = stack
        .app
        .app
        .state
        .store
        .run(sales_agent::store::settings::booking_secret)
        .await
        .unwrap();
    booking_links(body)
        .into_iter()
        .filter(|link| {
            let token = link.rsplit('/').next().unwrap();
            sales_agent::compose::booking_link::verify(&secret, token, chrono::Utc::now())
                .is_ok_and(|t| t.workflow_id() == workflow_id)
        })
        .collect()
}

/// A link as the test reaches the service (the public URL points elsewhere).
pub fn local(stack: &Stack, link: &str) -> String {
    link.replace(PUBLIC_URL, &stack.app.address)
}

/// A completed workflow for `email`, its state and its reply's booking links.
pub async fn answered_with_links(
    stack: &Stack,
    email: &str,
) -> (String, WorkflowState, Vec<String>) {
    let id = stack.answered(email).await;
    let state = stack.state_of(&id).await;
    let body = state.draft.as_ref().expect("a composed reply").body.clone();
    let links = booking_links(&body);
    (id, state, links)
}

/// The events of the workflow's rep's calendar, as the sandbox holds them.
pub fn rep_events(stack: &Stack, state: &WorkflowState) -> Vec<sales_agent::sandbox::state::Event> {
    let rep_id = state.route.as_ref().unwrap().rep_id.clone();
    let rep = sales_agent::demo::reps_from_fixture(&stack.fixture)
        .into_iter()
        .find(|r| r.id == rep_id)
        .expect("the rep is in the fixture");
    stack.sandbox.events(&rep.calendar_id)
}

/// A client that does not follow redirects (every answer is seen as sent).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
