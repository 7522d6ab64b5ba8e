//! The `authorization_code` grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.6):
//! the code must be live (ten minutes), unused, issued to this client for this
//! exact redirect URI, and the verifier must match the challenge. A replayed
//! code is refused and the tokens it already bought are revoked (§4.1.2).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::json;
use sha2::Digest;

use super::model::{CODE_LIFETIME_MS, ChallengeMethod, Grant, has_openid};
use super::{Form, LIFETIME_S, field, id_token, mint_access, missing, token_response};
use crate::sandbox::Sandbox;
use crate::sandbox::respond::oauth;
use crate::sandbox::state::World;

fn invalid_grant(description: &str) -> HttpResponse {
    oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

/// Whether `verifier` answers `challenge` (RFC 7636 §4.6).
pub fn verifier_matches(verifier: &str, challenge: &str, method: ChallengeMethod) -> bool {
    let computed = match method {
        ChallengeMethod::Plain => verifier.to_string(),
        ChallengeMethod::S256 => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes())),
    };
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

/// RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`.
fn verifier_well_formed(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

pub fn grant(sb: &Sandbox, req: &HttpRequest, world: &mut World, form: &Form) -> HttpResponse {
    let Some(code) = field(form, "code") else {
        return missing("code");
    };
    let Some(redirect_uri) = field(form, "redirect_uri") else {
        return missing("redirect_uri");
    };
    let now = sb.clock.now_ms();
    let Some(entry) = world.google.codes.get(code).cloned() else {
        return invalid_grant("Malformed auth code.");
    };
    if entry.used {
        for token in &entry.issued {
            world.google.revoke(token);
        }
        return invalid_grant("Bad Request");
    }
    if now.saturating_sub(entry.issued_at_ms) > CODE_LIFETIME_MS {
        return invalid_grant("Bad Request");
    }
    let request = &entry.request;
    if field(form, "client_id").is_some_and(|id| id != request.client_id) {
        return oauth(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Unauthorized",
        );
    }
    if redirect_uri != request.redirect_uri {
        return oauth(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            "Bad Request",
        );
    }
    if let Some((challenge, method)) = &request.challenge {
        let Some(verifier) = field(form, "code_verifier") else {
            return invalid_grant("Missing code verifier.");
        };
        if !verifier_well_formed(verifier) || !verifier_matches(verifier, challenge, *method) {
            return invalid_grant("Invalid code verifier.");
        }
    }

    let email = entry.email.clone();
    let scope = request.scope.clone();
    let mut issued = Vec::new();
    let refresh = (request.offline
        && (request.force_consent || !world.google.has_live_grant(&email)))
    .then(|| {
        let token = format!(
            "1//0sandbox.{}.{}",
            world.serial(),
            uuid::Uuid::new_v4().simple()
        );
        world.google.grants.insert(
            token.clone(),
            Grant {
                email: email.clone(),
                scope: scope.clone(),
                revoked: false,
            },
        );
        issued.push(token.clone());
        token
    });
    let access = mint_access(sb, world, &email, &scope, refresh.clone());
    issued.push(access.clone());
    let mut body = json!({"access_token": access, "expires_in": LIFETIME_S,
        "scope": scope, "token_type": "Bearer"});
    if let Some(r) = refresh {
        body["refresh_token"] = json!(r);
    }
    if has_openid(&scope) {
        match id_token::mint(sb, req, world, &email, request.nonce.as_deref()) {
            Ok(jwt) => body["id_token"] = json!(jwt),
            Err(e) => return e,
        }
    }
    if let Some(stored) = world.google.codes.get_mut(code) {
        stored.used = true;
        stored.issued = issued;
    }
    token_response(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_appendix_b_example_verifies_under_s256() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge, ChallengeMethod::S256));
        assert!(!verifier_matches(verifier, verifier, ChallengeMethod::S256));
        assert!(verifier_matches(verifier, verifier, ChallengeMethod::Plain));
        assert!(verifier_well_formed(verifier));
        assert!(!verifier_well_formed("short"));
    }
}
