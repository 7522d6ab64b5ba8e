//! A rep's voice profile beyond editing: training from sent mail with a preview
//! of what would change before anything is stored (`POST /reps/{id}/train`, then
//! `POST /reps/{id}/train/apply`), export as a download
//! (`GET /reps/{id}/voice.json`, the admin API's portable format) and import of
//! such a file, uploaded or pasted (`POST /reps/{id}/voice/import`). Every
//! change goes through the admin API's own functions.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::TryStreamExt;
use minijinja::context;
use serde::Deserialize;
use serde_json::Value;

use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::settings::confirmed;
use super::view;
use crate::domain::VoiceProfile;
use crate::store::{reps, settings, voice_profiles};
use crate::web::AppState;
use crate::web::admin::voice_profiles::{self as profiles, Export, FORMAT, PortableProfile};
use crate::web::admin::voice_training;

/// The largest import the console reads (a profile is a few kilobytes).
const MAX_IMPORT_BYTES: usize = 256 * 1024;

fn bad(message: impl Into<String>) -> ConsoleError {
    ConsoleError::new(StatusCode::BAD_REQUEST, message)
}

/// One line per field of the profile: (field, now, after, changed).
fn changes(before: &VoiceProfile, after: &VoiceProfile) -> Vec<(String, String, String, bool)> {
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let shown = |v: Option<&Value>| match v {
        Some(Value::Array(items)) => items.iter().map(view::text).collect::<Vec<_>>().join(" · "),
        Some(v) => view::text(v),
        None => String::new(),
    };
    after
        .iter()
        .map(|(key, value)| {
            let old = before.get(key);
            (
                key.clone(),
                shown(old),
                shown(Some(value)),
                old != Some(value),
            )
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct TrainForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    max_threads: Option<u32>,
}

/// Reads the rep's sent mail and shows what training would change; stores nothing.
pub async fn train_preview(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<TrainForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    let id = id.into_inner();
    let caller = session.caller();
    let trained =
        voice_training::trained(&state, &caller, &id, form.max_threads.unwrap_or(50), false)
            .await?;
    let (mode, rep) = state
        .store
        .run({
            let id = id.clone();
            move |c| Ok((settings::mode(c)?, reps::find_by_id(c, &id)?))
        })
        .await?;
    let rep = rep.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such rep"))?;
    let changes = changes(&trained.current, &trained.profile);
    let changed = changes.iter().filter(|c| c.3).count();
    page::render(
        "voice_train.html",
        &session,
        mode,
        "reps",
        context! {
            rep => context! { id => rep.id, name => rep.name },
            changes, changed,
            messages => trained.stats.messages,
            profile => serde_json::to_string(&trained.profile).unwrap_or_default(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    csrf: String,
    profile: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

/// Stores the previewed profile as trained (validated and audited as any change).
pub async fn train_apply(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<ApplyForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    confirmed(&form.confirm)?;
    let profile: VoiceProfile = serde_json::from_str(&form.profile)
        .map_err(|e| bad(format!("the trained profile is not valid: {e}")))?;
    let id = id.into_inner();
    profiles::replace_from(
        &state,
        session.caller(),
        id.clone(),
        profile,
        &form.reason,
        "trained",
    )
    .await?;
    Ok(see_other(&format!("/reps/{id}")))
}

/// The rep's profile in use (stored, else the seed file's) as a download in the
/// admin API's export format, so it imports anywhere.
pub async fn export(
    _session: Session,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let (rep, stored) = state
        .store
        .run({
            let id = id.clone();
            move |c| {
                Ok((
                    reps::find_by_id(c, &id)?,
                    voice_profiles::find_by_rep(c, &id)?,
                ))
            }
        })
        .await?;
    let rep = rep.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such rep"))?;
    let export = Export {
        format: FORMAT,
        profiles: vec![PortableProfile {
            rep_id: rep.id.clone(),
            profile: stored.map_or(rep.voice, |p| p.profile),
        }],
    };
    let body = serde_json::to_string_pretty(&export)
        .map_err(|_| ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, "the export failed"))?;
    // Only safe characters reach the file name.
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("voice-{name}.json"))],
        })
        .body(body))
}

/// The import form's fields, read from its multipart body.
#[derive(Debug, Default)]
struct ImportForm {
    csrf: String,
    reason: String,
    file: Vec<u8>,
    pasted: String,
}

async fn read_import(mut body: Multipart) -> Result<ImportForm, ConsoleError> {
    let unreadable =
        |e: actix_multipart::MultipartError| bad(format!("the form could not be read: {e}"));
    let mut form = ImportForm::default();
    let mut total = 0;
    while let Some(mut field) = body.try_next().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
            total += chunk.len();
            if total > MAX_IMPORT_BYTES {
                return Err(bad("the import is larger than 256 KiB"));
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf" => form.csrf = text(),
            "reason" => form.reason = text(),
            "profile" => form.pasted = text(),
            "file" => form.file = bytes,
            _ => {}
        }
    }
    Ok(form)
}

/// Why an import file is not an export, said so a person can fix it.
fn parse_export(raw: &str) -> Result<Export, ConsoleError> {
    if raw.trim().is_empty() {
        return Err(bad("choose a file or paste an exported profile"));
    }
    serde_json::from_str(raw).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() {
            "is not JSON"
        } else {
            "is not a voice profile export"
        };
        bad(format!(
            "the import {what} (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })
}

/// Imports an exported profile for this rep, from a file or pasted text.
/// The file must name this rep: importing Maya's file on Jonas's page would
/// otherwise change Maya's profile by surprise.
pub async fn import(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    body: Multipart,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    // The CSRF token arrives inside the body, so the origin is checked first.
    super::session::check_origin(&req)?;
    let form = read_import(body).await?;
    session.check_admin_form(&req, &form.csrf)?;
    let raw = if form.file.is_empty() {
        form.pasted
    } else {
        String::from_utf8(form.file).map_err(|_| bad("the file is not UTF-8 text"))?
    };
    let export = parse_export(&raw)?;
    let id = id.into_inner();
    if let Some(other) = export.profiles.iter().find(|p| p.rep_id != id) {
        return Err(bad(format!(
            "the import is for rep {}, not {id}; nothing was imported",
            other.rep_id
        )));
    }
    if export.profiles.is_empty() {
        return Err(bad("the import holds no profile"));
    }
    profiles::import_profiles(&state, session.caller(), export, &form.reason).await?;
    Ok(see_other(&format!("/reps/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_that_is_not_an_export_says_where_and_why() {
        let error = parse_export("{\"format\": 1,").unwrap_err().to_string();
        assert!(
            error.contains("is not JSON") && error.contains("line 1"),
            "{error}"
        );
        let error = parse_export("{\"format\": 1, \"profiles\": [{\"rep_id\": \"x\"}]}")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("not a voice profile export") && error.contains("profile"),
            "{error}"
        );
    }

    #[test]
    fn the_preview_marks_only_what_changes() {
        let before = VoiceProfile::default();
        let mut after = before.clone();
        after.sign_off = "Cheers,".into();
        let rows = changes(&before, &after);
        let changed: Vec<_> = rows.iter().filter(|r| r.3).map(|r| r.0.as_str()).collect();
        assert_eq!(changed, ["sign_off"]);
        assert!(rows.len() > 3);
    }
}
