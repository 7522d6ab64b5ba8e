//! `GET /unsubscribe/{token}` shows a confirmation page and changes nothing;
//! `POST /unsubscribe/{token}` (RFC 8058 one-click: body `List-Unsubscribe=One-Click`,
//! no cookies) suppresses the address. Both answer 200 without redirects; a forged
//! or mangled token gets 404 and changes nothing.

use actix_web::{HttpResponse, web};
use diesel::Connection;

use super::AppState;
use crate::store::{StoreError, audit, settings, suppressions};

const CONFIRM_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body><h1>Unsubscribe</h1>
<p>Stop all further emails from our sales team to this address?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form></body></html>"#;

const DONE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Unsubscribed</title></head>
<body><h1>You are unsubscribed</h1><p>You will not receive further emails from our sales team.</p></body></html>"#;

const INVALID_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link not valid</title></head>
<body><h1>This link is not valid</h1><p>Please use the unsubscribe link from the email itself.</p></body></html>"#;

const UNAVAILABLE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Try again</title></head>
<body><h1>Please try again shortly</h1><p>We could not process your request just now.</p></body></html>"#;

pub async fn confirm(token: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    match address(&state, &token).await {
        Ok(Some(_)) => html(HttpResponse::Ok(), CONFIRM_PAGE),
        Ok(None) => html(HttpResponse::NotFound(), INVALID_PAGE),
        Err(error) => unavailable(error),
    }
}

pub async fn unsubscribe(token: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let email = match address(&state, &token).await {
        Ok(Some(email)) => email,
        Ok(None) => return html(HttpResponse::NotFound(), INVALID_PAGE),
        Err(error) => return unavailable(error),
    };
    let stored = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                if suppressions::insert(c, &email, "unsubscribe", "one_click", "recipient")? {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: "recipient",
                            action: "suppression.added",
                            workflow_id: None,
                            reason: Some("one-click unsubscribe"),
                            detail: serde_json::json!({ "source": "one_click" }),
                        },
                    )?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await;
    match stored {
        Ok(()) => html(HttpResponse::Ok(), DONE_PAGE),
        Err(error) => unavailable(error),
    }
}

async fn address(state: &AppState, token: &str) -> Result<Option<String>, StoreError> {
    let secret = state.store.run(settings::unsubscribe_secret).await?;
    Ok(crate::unsubscribe::verify(&secret, token))
}

fn html(mut builder: actix_web::HttpResponseBuilder, page: &'static str) -> HttpResponse {
    builder.content_type("text/html; charset=utf-8").body(page)
}

fn unavailable(error: StoreError) -> HttpResponse {
    tracing::error!(%error, "unsubscribe could not be processed");
    html(HttpResponse::ServiceUnavailable(), UNAVAILABLE_PAGE)
}
