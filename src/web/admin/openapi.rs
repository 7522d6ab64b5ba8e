//! The admin API's reference: an OpenAPI 3.1 document generated from the
//! handlers' own annotations (`#[utoipa::path]`) and types (`ToSchema`,
//! `IntoParams`), served at `GET /api/openapi.json` and drawn by the console's
//! `/reference` page.
//!
//! Routes are registered through `utoipa_actix_web`, so a route cannot be
//! served without its entry. What every route shares is added here once, not
//! on each handler: the bearer security scheme, and the error responses (401
//! on every secured route, 403 where the admin role is needed, 400 where a body
//! or query is read, 404 where the path names something, 500 and 503).
//!
//! To add a route: annotate the handler with `#[utoipa::path(...)]` (its
//! `security` names the role, `viewer` or `admin`; its `responses` list the
//! success bodies and any error peculiar to it) above actix's `#[get("/…")]`,
//! derive `ToSchema` on its body types, and add it to the scope in `routes`.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// The generated document, shared by `/api/openapi.json` and the console.
pub struct ApiDoc(pub OpenApi);

/// The bearer scheme's name in the document; operations list the role needed.
pub const BEARER: &str = "bearer";

/// Error responses every route may give, by status: the name of the shared
/// response and what it means.
const SHARED_ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "The body, query or a field is invalid; `field` names it.",
    ),
    (
        "401",
        "Unauthorized",
        "No bearer token, or not a valid one.",
    ),
    (
        "403",
        "Forbidden",
        "The viewer token may only read; this needs the admin token.",
    ),
    ("404", "NotFound", "Nothing by that id."),
    ("500", "Internal", "The request could not be completed."),
    (
        "503",
        "Unavailable",
        "The database is unreachable; try again later.",
    ),
];

/// Completes the paths collected from the handlers into the served document.
pub fn document(
    paths: utoipa::openapi::path::Paths,
    schemas: Vec<(String, RefOr<utoipa::openapi::schema::Schema>)>,
) -> OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Sales Agent admin API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Workflows, draft-only mode, suppressions, audit, voice profiles, assets, \
                     experiments, reps and connected accounts. Every change takes a `reason`, \
                     recorded in the audit log with the caller. Send `Authorization: Bearer \
                     <token>`: the viewer token reads, the admin token also changes; `X-Actor` \
                     names the person in the audit log.",
                ))
                .build(),
        )
        .paths(paths)
        .build();
    let components = doc.components.get_or_insert_with(Components::new);
    components.schemas.extend(schemas);
    components.schemas.extend([(
        "Error".to_string(),
        <crate::web::error::ErrorBody as utoipa::PartialSchema>::schema(),
    )]);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    for (_, name, description) in SHARED_ERRORS {
        let response: Response = ResponseBuilder::new()
            .description(*description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .build(),
            )
            .build();
        components
            .responses
            .insert(name.to_string(), RefOr::T(response));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let tag = path
            .trim_start_matches("/api/")
            .split(['/', '.'])
            .next()
            .unwrap_or("api")
            .to_string();
        for operation in operations(item) {
            complete(operation, &tag);
        }
    }
    doc
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Adds the tag, an operation id unique in the document (handlers' names are
/// unique only in their module), a description for each success response, and
/// the shared error responses that apply to `operation`.
fn complete(operation: &mut Operation, tag: &str) {
    operation
        .tags
        .get_or_insert_with(Vec::new)
        .push(tag.to_string());
    if let Some(id) = operation.operation_id.as_mut() {
        *id = format!("{}.{id}", tag.replace('-', "_"));
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = status
                .parse()
                .ok()
                .and_then(|s: u16| actix_web::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Done")
                .to_string();
        }
    }
    let roles: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| value.get(BEARER).cloned())
        .filter_map(|roles| serde_json::from_value::<Vec<String>>(roles).ok())
        .flatten()
        .collect();
    let secured = !roles.is_empty();
    let (mut query, mut path) = (false, false);
    for p in operation.parameters.iter().flatten() {
        let RefOr::T(p) = p else { continue };
        match p.parameter_in {
            utoipa::openapi::path::ParameterIn::Query => query = true,
            utoipa::openapi::path::ParameterIn::Path => path = true,
            _ => {}
        }
    }
    let applies = |status: &str| match status {
        "400" => query || operation.request_body.is_some(),
        "401" | "500" | "503" => secured,
        "403" => roles.iter().any(|r| r == "admin"),
        "404" => path,
        _ => false,
    };
    let wanted: Vec<(&str, &str)> = SHARED_ERRORS
        .iter()
        .filter(|(status, ..)| applies(status))
        .map(|(status, name, _)| (*status, *name))
        .collect();
    for (status, name) in wanted {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
}

/// `GET /api/openapi.json`: this document. No token needed: it holds no data,
/// only what the README already tells.
#[utoipa::path(
    responses((status = OK, description = "The OpenAPI 3.1 document of this API", content_type = "application/json", body = Object)),
)]
#[get("/openapi.json")]
pub async fn serve(doc: web::Data<ApiDoc>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}
