//! *Disconnect Google* on a rep's page: an admin, with a reason, has the rep's
//! mailbox grant revoked at Google and deleted here, through the admin API's
//! own rule (`disconnect_google`), so the audit entry and the refusals are the
//! same. When Google does not confirm the revocation the page says that the
//! grant was kept and nothing changed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::see_other;
use super::session::Session;
use crate::store::reps;
use crate::web::AppState;
use crate::web::admin::accounts::disconnect_google;

#[derive(Debug, Deserialize)]
pub struct DisconnectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn disconnect(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<DisconnectForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let id = id.into_inner();
    let rep = state
        .store
        .run(move |c| reps::find_by_id(c, &id))
        .await?
        .ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such rep"))?;
    let done = disconnect_google(&state, session.caller(), &rep.email, &form.reason).await?;
    Ok(see_other(&format!(
        "/reps/{}?disconnected={}",
        rep.id,
        done.at_google.as_str()
    )))
}
