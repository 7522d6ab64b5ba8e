//! `SALES_AGENT_BOOKING_CALENDAR=confirm`: a prospect's confirmation leaves the
//! calendar untouched and the page says the rep will confirm; the lead's
//! console page then offers "Confirm meeting", which runs the same chain.

use sales_agent::config::BookingCalendar;
use sales_agent::store::bookings;

use super::{LAURA, answered_with_links, client, local, rep_events};
use crate::helpers::{TestDb, console_session, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(with_the_calendar_left_to_the_rep_the_console_confirms_the_meeting);

async fn with_the_calendar_left_to_the_rep_the_console_confirms_the_meeting(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.booking_calendar = BookingCalendar::Confirm;
            config
        },
        Default::default(),
    )
    .await;
    let (id, state, links) = answered_with_links(&stack, LAURA).await;
    let answer = client()
        .post(local(&stack, &links[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(body.contains("will confirm the meeting"), "{body}");
    let mine = |events: Vec<sales_agent::sandbox::state::Event>| {
        events
            .into_iter()
            .filter(|e| e.resource.to_string().contains(LAURA))
            .count()
    };
    assert_eq!(
        mine(rep_events(&stack, &state)),
        0,
        "the calendar is untouched"
    );

    let store = stack.app.app.state.store.clone();
    let (cookie, csrf) = console_session(&store, "admin", "admin:sam").await;
    let lead = client()
        .get(format!("{}/leads/{id}", stack.app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(lead.contains("Confirm meeting"), "{lead}");
    let confirmed = client()
        .post(format!("{}/leads/{id}/confirm-meeting", stack.app.address))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "confirmed"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 303);
    assert_eq!(mine(rep_events(&stack, &state)), 1);
    let wf = id.clone();
    let rows = store
        .run(move |c| bookings::list_for_workflow(c, &wf))
        .await
        .unwrap();
    assert_eq!(rows[0].status, bookings::BOOKED);
    // Confirming again finds nothing waiting and changes nothing.
    let again = client()
        .post(format!("{}/leads/{id}/confirm-meeting", stack.app.address))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "confirmed"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(mine(rep_events(&stack, &state)), 1);
    stack.stop().await;
}
