//! Fifty prospects (fifty workflows) confirm the same slot of one rep at the
//! same moment: the database lets exactly one booking stand, the calendar gets
//! exactly one event, and the other 49 pages offer the next free times.

use chrono::Utc;
use diesel::prelude::*;
use futures_util::future::join_all;
use sales_agent::compose::booking_link;
use sales_agent::store::schema::{step_runs, workflows};
use sales_agent::store::{bookings, events, now, settings};

use super::{LAURA, answered_with_links, client, rep_events};
use crate::helpers::{TestDb, new_intake, spawn_stack};
use crate::on_both_backends;

on_both_backends!(fifty_prospects_confirming_one_slot_make_one_event);

const PROSPECTS: usize = 50;

async fn fifty_prospects_confirming_one_slot_make_one_event(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let (source, state, _) = answered_with_links(&stack, LAURA).await;
    let slot = state.slots.as_ref().unwrap().slots[0];
    let store = stack.app.app.state.store.clone();

    // 49 more finished workflows routed to the same rep, each a different
    // prospect: the first workflow's committed steps with another address.
    let others: Vec<String> = store
        .run(move |c| {
            let runs = sales_agent::store::step_runs::list_for_workflow(c, &source)?;
            let mut ids = vec![source.clone()];
            for i in 1..PROSPECTS {
                c.transaction::<_, sales_agent::store::StoreError, _>(|c| {
                    let intake = new_intake(&format!("race:{i}"), "{}");
                    let id = events::accept(c, &intake)?.workflow_id;
                    diesel::update(workflows::table.find(&id))
                        .set((
                            workflows::status.eq("completed"),
                            workflows::finished_at.eq(Some(now())),
                        ))
                        .execute(c)?;
                    for run in &runs {
                        let output = run
                            .output
                            .as_ref()
                            .map(|o| o.replace(LAURA, &format!("prospect{i}@race.example")));
                        diesel::insert_into(step_runs::table)
                            .values((
                                step_runs::workflow_id.eq(&id),
                                step_runs::step.eq(&run.step),
                                step_runs::outcome.eq(&run.outcome),
                                step_runs::attempts.eq(run.attempts),
                                step_runs::output.eq(output),
                                step_runs::error.eq(&run.error),
                                step_runs::started_at.eq(run.started_at),
                                step_runs::finished_at.eq(run.finished_at),
                                step_runs::duration_ms.eq(run.duration_ms),
                            ))
                            .execute(c)?;
                    }
                    ids.push(id);
                    Ok(())
                })?;
            }
            Ok(ids)
        })
        .await
        .unwrap();
    let secret = store.run(settings::booking_secret).await.unwrap();
    let urls: Vec<String> = others
        .iter()
        .map(|id| {
            let token = booking_link::slot_token(&secret, id, &slot, Utc::now());
            format!("{}/book/{token}", stack.app.address)
        })
        .collect();

    let client = client();
    let answers = join_all(urls.iter().map(|url| {
        let client = client.clone();
        async move {
            let response = client.post(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    }))
    .await;

    let booked: Vec<&(u16, String)> = answers
        .iter()
        .filter(|(s, b)| *s == 200 && b.contains("Your meeting is booked"))
        .collect();
    let offered: Vec<&(u16, String)> = answers
        .iter()
        .filter(|(s, b)| *s == 409 && b.contains("That time was just taken"))
        .collect();
    assert_eq!(
        booked.len(),
        1,
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(offered.len(), PROSPECTS - 1);
    for (_, body) in &offered {
        assert!(
            body.contains("<form method=\"post\" action=\"/book/"),
            "{body}"
        );
    }
    let start = slot.start.timestamp();
    let at_slot: Vec<_> = rep_events(&stack, &state)
        .into_iter()
        .filter(|e| e.start.timestamp() == start)
        .collect();
    assert_eq!(at_slot.len(), 1, "{at_slot:#?}");
    let rows = store
        .run(|c| {
            Ok(sales_agent::store::schema::bookings::table
                .select(sales_agent::store::schema::bookings::status)
                .load::<String>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(
        rows,
        [bookings::BOOKED],
        "only the winner's booking was accepted"
    );
    stack.stop().await;
}
