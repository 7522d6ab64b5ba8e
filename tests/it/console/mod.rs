//! The web console in a real Chromium, on both backends: sign-in, the pages, the
//! actions and what they change, roles, CSRF, inert prospect text, accessibility.
//! Screenshots land in `<target>/tmp/console-screenshots/`.

mod booking_browser;
pub mod browser;
mod erase;
mod google;
mod google_flow;
mod google_signin;
mod journey;
mod mailbox_journey;
mod manage;
mod pages;
mod reference;
mod roles;
mod scale;
mod xss;

/// A dead-lettered lead, made by the real intake and a status change in the database.
pub async fn dead_letter(store: &sales_agent::store::Store) -> String {
    use diesel::prelude::*;
    use sales_agent::store::schema::workflows;
    let id = crate::helpers::seed_workflows(store, 1).await.remove(0);
    let target = id.clone();
    store
        .run(move |c| {
            diesel::update(workflows::table.find(&target))
                .set((
                    workflows::status.eq("dead_lettered"),
                    workflows::last_error.eq(Some("hubspot: 401 unauthorized")),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    id
}

/// A workflow's status, read from the database.
pub async fn status_of(store: &sales_agent::store::Store, id: &str) -> String {
    let id = id.to_string();
    store
        .run(move |c| sales_agent::store::workflows::find_by_id(c, &id))
        .await
        .unwrap()
        .expect("workflow")
        .status
}

/// Whether draft-only mode is on, read from the database.
pub async fn draft_only(store: &sales_agent::store::Store) -> bool {
    store
        .run(sales_agent::store::settings::draft_only)
        .await
        .unwrap()
}

/// A workflow's audit trail, read from the database.
pub async fn audit_of(
    store: &sales_agent::store::Store,
    id: &str,
) -> Vec<sales_agent::store::audit::AuditRow> {
    let id = id.to_string();
    store
        .run(move |c| sales_agent::store::audit::list_for_workflow(c, &id))
        .await
        .unwrap()
}
