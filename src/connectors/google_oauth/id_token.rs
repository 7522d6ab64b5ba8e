//! ID-token verification, as OpenID Connect Core §3.1.3.7 orders it: the
//! signature (RS256 only, with a key from the provider's JWKS), `iss`, `aud` (and
//! `azp` when there are several audiences), `exp` and `iat` with a small leeway,
//! then what this trip expects: the `nonce` we sent, the Workspace domain `hd` in
//! the allowed list, and a verified email. `jsonwebtoken` does the JOSE work.

use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::GoogleOAuth;
use super::jwks::Lookup;
use crate::connectors::ConnectorError;

/// Clock skew tolerated on `exp` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// What this trip expects of the token beyond the provider's own claims.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The nonce sent in the authorization URL.
    pub nonce: &'a str,
    /// Workspace domains (lowercase) whose accounts are accepted; empty: any account.
    pub allowed_domains: &'a [String],
}

/// A person the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdClaims {
    /// The account's stable id at the provider (an email can change hands).
    pub subject: String,
    /// Lowercased; verified by the provider.
    pub email: String,
    /// The Workspace domain, absent for consumer accounts.
    pub hosted_domain: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("the ID token is not a well-formed JWT")]
    Malformed,
    /// Anything but RS256 (`none`, HS256 signed with the public key, …) is refused.
    #[error("the ID token's algorithm is not RS256")]
    WrongAlgorithm,
    #[error("the ID token is signed with a key the provider does not publish")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    BadSignature,
    #[error("the ID token is from another issuer")]
    WrongIssuer,
    #[error("the ID token is for another client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token claims to be issued in the future")]
    IssuedInFuture,
    #[error("the ID token lacks a required claim")]
    MissingClaim,
    #[error("the ID token belongs to another sign-in attempt")]
    WrongNonce,
    #[error("the Google account is not in an allowed Workspace domain")]
    WrongDomain,
    #[error("the Google account's email address is not verified")]
    EmailNotVerified,
    #[error("the provider's signing keys could not be fetched: {0}")]
    KeysUnavailable(ConnectorError),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    Many(Vec<String>),
    /// One audience: `jsonwebtoken` has checked it is us. (Tried last: it
    /// would take a list too.)
    One(serde::de::IgnoredAny),
}

/// Google has sent `email_verified` as a string in some token versions.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    aud: Audience,
    azp: Option<String>,
    iat: Option<u64>,
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<Flag>,
    hd: Option<String>,
    name: Option<String>,
}

impl GoogleOAuth {
    /// The person in `token`, once every check passes.
    pub async fn verify_id_token(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<IdClaims, IdTokenError> {
        ensure_crypto_provider();
        let header = decode_header(token).map_err(|_| IdTokenError::Malformed)?;
        // Decided before any key is looked at: the algorithm comes from the
        // attacker's header, the key type from our JWKS (RFC 8725 §3.1).
        if header.alg != Algorithm::RS256 {
            return Err(IdTokenError::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(IdTokenError::UnknownKey)?;
        let key = match self
            .keys
            .key(&kid)
            .await
            .map_err(IdTokenError::KeysUnavailable)?
        {
            Lookup::Found(key) => key,
            Lookup::Unknown => return Err(IdTokenError::UnknownKey),
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[&self.client_id]);
        validation.set_issuer(&self.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| from_jwt_error(e.kind()))?
            .claims;
        check_claims(&claims, &self.client_id, expect)
    }
}

fn check_claims(
    claims: &Claims,
    client_id: &str,
    expect: &Expectations<'_>,
) -> Result<IdClaims, IdTokenError> {
    // Several audiences: the token must have been issued to us (Core §3.1.3.7 ¶4–5).
    if let Audience::Many(all) = &claims.aud
        && all.len() > 1
        && claims.azp.as_deref() != Some(client_id)
    {
        return Err(IdTokenError::WrongAudience);
    }
    let now = jsonwebtoken::get_current_timestamp();
    let iat = claims.iat.ok_or(IdTokenError::MissingClaim)?;
    if iat > now + LEEWAY_SECS {
        return Err(IdTokenError::IssuedInFuture);
    }
    let nonce_ok = claims
        .nonce
        .as_deref()
        .is_some_and(|n| bool::from(n.as_bytes().ct_eq(expect.nonce.as_bytes())));
    if !nonce_ok {
        return Err(IdTokenError::WrongNonce);
    }
    // `hd` is the claim to trust; an address's domain says nothing about who
    // administers the account.
    let hosted_domain = claims.hd.as_deref().map(str::to_ascii_lowercase);
    if !expect.allowed_domains.is_empty()
        && !hosted_domain
            .as_ref()
            .is_some_and(|hd| expect.allowed_domains.contains(hd))
    {
        return Err(IdTokenError::WrongDomain);
    }
    let email = claims
        .email
        .as_deref()
        .ok_or(IdTokenError::MissingClaim)?
        .to_ascii_lowercase();
    let verified = match &claims.email_verified {
        Some(Flag::Bool(b)) => *b,
        Some(Flag::Text(t)) => t == "true",
        None => false,
    };
    if !verified {
        return Err(IdTokenError::EmailNotVerified);
    }
    Ok(IdClaims {
        subject: claims.sub.clone(),
        email,
        hosted_domain,
        name: claims.name.clone(),
    })
}

fn from_jwt_error(kind: &jsonwebtoken::errors::ErrorKind) -> IdTokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::InvalidSignature => IdTokenError::BadSignature,
        K::InvalidAlgorithm | K::InvalidAlgorithmName => IdTokenError::WrongAlgorithm,
        K::ExpiredSignature => IdTokenError::Expired,
        K::InvalidIssuer => IdTokenError::WrongIssuer,
        K::InvalidAudience => IdTokenError::WrongAudience,
        K::MissingRequiredClaim(_) => IdTokenError::MissingClaim,
        _ => IdTokenError::Malformed,
    }
}

/// `jsonwebtoken` picks its crypto backend from its features; should another part
/// of the build enable a second backend, none is chosen and verification would
/// panic, so the one this crate asks for is installed here instead.
fn ensure_crypto_provider() {
    if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
        // A concurrent caller may win the race; either way one is installed.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    }
}
