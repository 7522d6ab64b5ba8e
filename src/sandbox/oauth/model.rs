//! Google's side of OAuth as the sandbox keeps it: the client, its redirect
//! URIs, the accounts on the chooser, service accounts, consent requests in
//! flight, authorization codes, grants (refresh tokens) and access tokens.

use std::collections::{BTreeMap, BTreeSet};

use sha2::Digest;

use crate::sandbox::fixture::{GoogleFixture, ServiceAccountFixture};

/// A refresh token and the consent behind it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub email: String,
    pub scope: String,
    pub revoked: bool,
}

/// An access token the token endpoint issued; `grant` is the refresh token it
/// came from (none for the JWT-bearer grant or a consent without offline access).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub email: String,
    pub scope: String,
    pub expires_at_ms: u64,
    pub grant: Option<String>,
}

/// A JWT-bearer assertion the token endpoint received: its header's `kid`,
/// its claims, and `ok` or the error it was answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtGrant {
    pub iss: String,
    pub sub: Option<String>,
    pub scope: String,
    pub aud: String,
    pub kid: Option<String>,
    pub iat: u64,
    pub exp: u64,
    pub outcome: String,
}

/// A Google account on the chooser.
#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub name: String,
    /// The Workspace domain; `None` for a consumer (gmail.com) account.
    pub hd: Option<String>,
}

impl User {
    /// Google's `sub`: a stable, opaque, all-digit id (never the email).
    pub fn sub(&self) -> String {
        let digest = sha2::Sha256::digest(self.email.as_bytes());
        let mut n = [0u8; 8];
        n.copy_from_slice(&digest[..8]);
        format!("1{:020}", u64::from_be_bytes(n))
    }

    pub fn given_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or("")
    }

    pub fn family_name(&self) -> &str {
        self.name
            .split_once(' ')
            .map(|(_, rest)| rest.trim())
            .unwrap_or("")
    }
}

/// `S256` or `plain` (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

/// A validated authorization request waiting for the person's decision.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Normalised: `email`/`profile` spelled as Google's userinfo URLs.
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub challenge: Option<(String, ChallengeMethod)>,
    pub offline: bool,
    /// `prompt` includes `consent`: a refresh token is issued even if the user
    /// already granted offline access to this client.
    pub force_consent: bool,
    pub login_hint: Option<String>,
    pub hd: Option<String>,
}

/// An authorization code: single use, valid ten minutes on the sandbox clock.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub request: AuthRequest,
    pub email: String,
    pub issued_at_ms: u64,
    pub used: bool,
    /// Refresh and access tokens issued from it, revoked if the code is replayed
    /// (RFC 6749 §4.1.2).
    pub issued: Vec<String>,
}

/// How long an authorization code may be exchanged.
pub const CODE_LIFETIME_MS: u64 = 10 * 60 * 1000;

#[derive(Debug, Default)]
pub struct Google {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: BTreeSet<String>,
    /// Email → account, in the chooser's order by email.
    pub users: BTreeMap<String, User>,
    /// Client email → service account.
    pub service_accounts: BTreeMap<String, ServiceAccountFixture>,
    /// Every JWT-bearer assertion received, in order.
    pub jwt_grants: Vec<JwtGrant>,
    pub grants: BTreeMap<String, Grant>,
    pub access_tokens: BTreeMap<String, AccessToken>,
    /// Consent pages shown and not yet answered, by their opaque id.
    pub requests: BTreeMap<String, AuthRequest>,
    pub codes: BTreeMap<String, AuthCode>,
    /// Which signing key is current; rotation adds one.
    pub key_generation: usize,
}

impl Google {
    /// The OAuth parts of the fixture; mailboxes become accounts too (Workspace
    /// users of their own domain) unless listed under `users`.
    pub fn from_fixture(g: &GoogleFixture) -> Self {
        let mut google = Google {
            client_id: g.client_id.clone(),
            client_secret: g.client_secret.clone(),
            redirect_uris: g.redirect_uris.iter().cloned().collect(),
            ..Google::default()
        };
        for u in &g.users {
            let email = u.email.to_ascii_lowercase();
            google.users.insert(
                email.clone(),
                User {
                    email,
                    name: u.name.clone(),
                    hd: u.hd.clone(),
                },
            );
        }
        for m in &g.mailboxes {
            let email = m.email.to_ascii_lowercase();
            let hd = email.split_once('@').map(|(_, d)| d.to_string());
            google.users.entry(email.clone()).or_insert(User {
                email,
                name: m.name.clone(),
                hd,
            });
        }
        for sa in &g.service_accounts {
            google
                .service_accounts
                .insert(sa.client_email.to_ascii_lowercase(), sa.clone());
        }
        for t in &g.refresh_tokens {
            let grant = Grant {
                email: t.email.to_ascii_lowercase(),
                scope: t.scope.clone(),
                revoked: t.revoked,
            };
            google.grants.insert(t.token.clone(), grant);
        }
        google
    }

    /// Whether `email` holds a live grant with offline access (Google then
    /// issues no new refresh token unless `prompt=consent`).
    pub fn has_live_grant(&self, email: &str) -> bool {
        self.grants.values().any(|g| g.email == email && !g.revoked)
    }

    /// Revokes a refresh token, or an access token and the grant behind it
    /// (Google revokes both either way); drops the grant's access tokens.
    pub fn revoke(&mut self, token: &str) -> bool {
        let grant_token = match self.access_tokens.remove(token) {
            Some(access) => match access.grant {
                Some(g) => g,
                None => return true,
            },
            None => token.to_string(),
        };
        let Some(grant) = self.grants.get_mut(&grant_token) else {
            return false;
        };
        grant.revoked = true;
        self.access_tokens
            .retain(|_, t| t.grant.as_deref() != Some(grant_token.as_str()));
        true
    }

    /// Revokes every grant `email` gave, as removing the app from the Google
    /// account page does; returns how many were live.
    pub fn revoke_user(&mut self, email: &str) -> usize {
        let email = email.to_ascii_lowercase();
        let live: Vec<String> = self
            .grants
            .iter()
            .filter(|(_, g)| g.email == email && !g.revoked)
            .map(|(t, _)| t.clone())
            .collect();
        for t in &live {
            self.revoke(t);
        }
        self.access_tokens.retain(|_, t| t.email != email);
        live.len()
    }

    /// Takes `scope` out of every grant of `email` and their access tokens, as
    /// an admin restricting the app (or a user unticking one box) does.
    pub fn remove_scope(&mut self, email: &str, scope: &str) -> usize {
        let email = email.to_ascii_lowercase();
        let strip = |s: &mut String| {
            let kept: Vec<&str> = s.split_whitespace().filter(|x| *x != scope).collect();
            let changed = kept.len() != s.split_whitespace().count();
            *s = kept.join(" ");
            changed
        };
        let mut changed = 0;
        for g in self.grants.values_mut().filter(|g| g.email == email) {
            changed += usize::from(strip(&mut g.scope));
        }
        for t in self.access_tokens.values_mut().filter(|t| t.email == email) {
            strip(&mut t.scope);
        }
        changed
    }
}

/// `email` and `profile` as Google reports them in a token's `scope`.
pub fn normalise_scope(scope: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in scope.split_whitespace() {
        let s = match s {
            "email" => "https://www.googleapis.com/auth/userinfo.email",
            "profile" => "https://www.googleapis.com/auth/userinfo.profile",
            other => other,
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.join(" ")
}

/// Whether Google would know this scope (the sandbox accepts any
/// `googleapis.com/auth/` URL, and the OpenID Connect short names).
pub fn known_scope(s: &str) -> bool {
    matches!(
        s,
        "openid" | "email" | "profile" | "https://mail.google.com/"
    ) || s
        .strip_prefix("https://www.googleapis.com/auth/")
        .is_some_and(|rest| !rest.is_empty())
}

pub fn has_openid(scope: &str) -> bool {
    scope.split_whitespace().any(|s| s == "openid")
}
