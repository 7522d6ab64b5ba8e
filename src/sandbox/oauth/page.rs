//! The pages a person sees at the sandbox's Google: the account chooser with
//! the consent screen (one real HTML form, no script, labelled controls), and
//! the error page Google shows instead of redirecting when the client or the
//! redirect URI cannot be trusted. HubSpot's install page reuses the frame.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::model::User;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f1f3f4;color:#202124;margin:0}\
main{max-width:34rem;margin:2rem auto;background:#fff;border:1px solid #dadce0;border-radius:8px;padding:1.5rem 2rem}\
h1{font-size:1.5rem;font-weight:500}h2{font-size:1.1rem;font-weight:500}\
fieldset{border:1px solid #dadce0;border-radius:6px;padding:.5rem 1rem}\
.choice{display:flex;gap:.6rem;align-items:center;padding:.4rem 0}\
.actions{display:flex;justify-content:flex-end;gap:1rem;margin-top:1.5rem}\
button{font-size:1rem;padding:.55rem 1.4rem;border-radius:4px;border:1px solid #1a73e8;cursor:pointer}\
button.primary{background:#1a57c5;color:#fff}button.secondary{background:#fff;color:#1a57c5}\
button:focus,input:focus{outline:3px solid #174ea6;outline-offset:2px}\
.error{color:#a50e0e}small{color:#444}";

/// Wraps `body` in a complete, accessible page.
pub fn frame(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        text(title)
    )
}

pub fn html(status: StatusCode, page: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(page)
}

/// Google's "Access blocked" / "Error 400" page: shown, never redirected.
pub fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<h1>Access blocked: this app’s request is invalid</h1>\
<p class=\"error\"><strong>Error {}: {}</strong></p><p>{}</p>\
<p><small>If you are a developer of this app, see the error details.</small></p>",
        status.as_u16(),
        text(code),
        text(message)
    );
    html(
        status,
        frame(&format!("Error {}: {code}", status.as_u16()), &body),
    )
}

/// What Google's consent screen says each scope allows.
pub fn describe(scope: &str) -> String {
    let short = scope
        .strip_prefix("https://www.googleapis.com/auth/")
        .unwrap_or(scope);
    match short {
        "openid" => "Associate you with your personal info on Google",
        "userinfo.email" => "See your primary Google Account email address",
        "userinfo.profile" => "See your personal info, including any personal info you've made publicly available",
        "gmail.compose" => "Manage drafts and send emails",
        "gmail.readonly" => "View your email messages and settings",
        "gmail.send" => "Send email on your behalf",
        "gmail.modify" => "Read, compose, and send emails from your Gmail account",
        "https://mail.google.com/" => "Read, compose, send, and permanently delete all your email from Gmail",
        "calendar.events" => "View and edit events on all your calendars",
        "calendar.freebusy" | "calendar.events.freebusy" => "View your availability in your calendars",
        "calendar.readonly" => "See and download any calendar you can access using your Google Calendar",
        "calendar" => "See, edit, share, and permanently delete all the calendars you can access using Google Calendar",
        "drive" => "See, edit, create, and delete all of your Google Drive files",
        "drive.readonly" => "See and download all your Google Drive files",
        "drive.file" => "See, edit, create, and delete only the specific Google Drive files you use with this app",
        other => return format!("Use {other}"),
    }
    .to_string()
}

/// The chooser and consent screen in one form: pick an account (radio), read
/// what the app asks for, Allow or Deny. Deny needs no account
/// (`formnovalidate`), as Cancel on Google's screen.
pub fn consent(
    request_id: &str,
    app: &str,
    users: &[&User],
    hint: Option<&str>,
    scope: &str,
) -> HttpResponse {
    let mut accounts = String::new();
    for (i, u) in users.iter().enumerate() {
        let checked = if hint == Some(u.email.as_str()) {
            " checked"
        } else {
            ""
        };
        let domain =
            u.hd.as_deref()
                .map(|d| format!(" · {}", text(d)))
                .unwrap_or_default();
        accounts.push_str(&format!(
            "<div class=\"choice\"><input type=\"radio\" id=\"account-{i}\" name=\"account\" value=\"{}\" required{checked}>\
<label for=\"account-{i}\">{} <small>{}{domain}</small></label></div>",
            attr(&u.email),
            text(&u.name),
            text(&u.email)
        ));
    }
    let mut scopes = String::new();
    for s in scope.split_whitespace() {
        scopes.push_str(&format!("<li>{}</li>", text(&describe(s))));
    }
    let body = format!(
        "<h1>Choose an account</h1><p>to continue to <strong>{app}</strong></p>\
<form method=\"post\" action=\"/signin/oauth/consent\">\
<input type=\"hidden\" name=\"request\" value=\"{}\">\
<fieldset><legend>Google Account</legend>{accounts}</fieldset>\
<h2>{app} wants access to your Google Account</h2><p>This will allow {app} to:</p><ul>{scopes}</ul>\
<p><small>Make sure you trust {app}. You can remove its access at any time in your Google Account.</small></p>\
<div class=\"actions\">\
<button type=\"submit\" class=\"secondary\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
<button type=\"submit\" class=\"primary\" name=\"decision\" value=\"allow\">Allow</button></div></form>",
        attr(request_id),
        app = text(app),
    );
    html(StatusCode::OK, frame("Sign in – Google Accounts", &body))
}
