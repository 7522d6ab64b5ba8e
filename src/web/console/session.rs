//! Console sessions: the cookie, the signed-in person, and the checks every form
//! passes — the session's CSRF token and a same-origin `Origin` header.
//!
//! The cookie is `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL is
//! https, and holds only a random token; the session itself is a database row
//! (`store::sessions`) that expires after [`SESSION_HOURS`] or at sign-out.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{ORIGIN, REFERER};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use crate::store::sessions;
use crate::web::AppState;
use crate::web::auth::{Caller, Role};

pub const COOKIE: &str = "sa_console";
pub const SESSION_HOURS: i64 = 12;

/// A signed-in person, read from the cookie and the database on every request.
#[derive(Debug, Clone)]
pub struct Session {
    pub role: Role,
    pub actor: String,
    pub csrf: String,
    pub token: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn role_name(&self) -> &'static str {
        role_name(self.role)
    }

    /// The caller the shared admin rules see: same role checks, same audit name.
    pub fn caller(&self) -> Caller {
        Caller {
            role: self.role,
            actor: self.actor.clone(),
        }
    }

    /// [`Session::check_form`], and refuses a viewer before anything is read
    /// further, whatever the shared rule would say later.
    pub fn check_admin_form(&self, req: &HttpRequest, csrf: &str) -> Result<(), ConsoleError> {
        self.check_form(req, csrf)?;
        if self.is_admin() {
            Ok(())
        } else {
            Err(ConsoleError::forbidden("viewers cannot change anything"))
        }
    }

    /// Refuses a form without this session's CSRF token or from another origin.
    pub fn check_form(&self, req: &HttpRequest, csrf: &str) -> Result<(), ConsoleError> {
        check_origin(req)?;
        if bool::from(self.csrf.as_bytes().ct_eq(csrf.as_bytes())) {
            Ok(())
        } else {
            Err(ConsoleError::forbidden(
                "this form is out of date or was not sent from the console; reload the page and try again",
            ))
        }
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Viewer => "viewer",
    }
}

impl FromRequest for Session {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = req.cookie(COOKIE).map(|c| c.value().to_string());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(state)) = (token, state) else {
                return Err(ConsoleError::SignIn);
            };
            if token.len() != 64 {
                return Err(ConsoleError::SignIn);
            }
            let lookup = token.clone();
            let row = state
                .store
                .run(move |c| sessions::find_live(c, &lookup))
                .await?
                .ok_or(ConsoleError::SignIn)?;
            let role = match row.role.as_str() {
                "admin" => Role::Admin,
                "viewer" => Role::Viewer,
                _ => return Err(ConsoleError::SignIn),
            };
            Ok(Session {
                role,
                actor: row.actor,
                csrf: row.csrf_token,
                token,
            })
        })
    }
}

/// A fresh random token: 244 bits from the OS generator, as 64 hex digits.
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The session cookie for `token`; `Secure` when the public URL is https.
pub fn cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.public_url.scheme() == "https")
        .max_age(time::Duration::hours(SESSION_HOURS))
        .finish()
}

/// A cookie that tells the browser to forget the session.
pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut gone = cookie(state, String::new());
    gone.make_removal();
    gone
}

/// A browser names the page a form came from in `Origin` (or at least
/// `Referer`); it must be this service, as reached (`Host`). Clients that send
/// neither are not browsers and still need the CSRF token.
pub fn check_origin(req: &HttpRequest) -> Result<(), ConsoleError> {
    let refused = || ConsoleError::new(StatusCode::FORBIDDEN, "cross-origin form refused");
    let claimed = req
        .headers()
        .get(ORIGIN)
        .or_else(|| req.headers().get(REFERER))
        .map(|v| v.to_str().unwrap_or("null").to_string());
    let Some(claimed) = claimed else {
        return Ok(());
    };
    let url = url::Url::parse(&claimed).map_err(|_| refused())?;
    let origin_host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => return Err(refused()),
    };
    let reached = crate::web::client::origin_of(req);
    let own_scheme_ok = url.scheme() == "http" || url.scheme() == "https";
    // Behind a proxy that rewrites Host, the public URL is the console's origin.
    let public = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.public_url.origin() == url.origin());
    if public || (own_scheme_ok && origin_host.eq_ignore_ascii_case(&reached.host)) {
        Ok(())
    } else {
        Err(refused())
    }
}
