//! The OpenAPI document served at `/api/openapi.json`, generated from the code: each handler's
//! `#[utoipa::path]` annotation and the view and body structs' schemas. Routes are registered
//! through `utoipa_axum`'s router, so a served API route cannot go undocumented.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

/// API.md's error shape.
#[derive(ToSchema)]
#[schema(as = ErrorBody)]
#[allow(dead_code)] // a schema only: errors are rendered by `ApiError`
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// A stable `snake_case` code: `invalid_input`, `not_found`, `already_claimed`, ...
    code: String,
    /// Human text; for `invalid_input` it names the field.
    message: String,
}

/// Refused, in the error shape `{"error": {"code", "message"}}`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Error(#[to_schema] ErrorBody);

/// The rendered document, handed to the handler that serves it.
#[derive(Clone)]
pub struct Document(pub std::sync::Arc<str>);

/// The document's fixed parts; `app.rs` adds every route's operation to it.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Baton",
        description = "Self-hosted live-chat handoff: a bot answers first, humans take over. Agents authenticate with the session cookie (writes then need `X-CSRF-Token`) or a personal API token; visitors with their visitor token. Errors are `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "AGPL-3.0-only")
    ),
    components(responses(Error), schemas(ErrorDetail)),
    modifiers(&Security),
    tags(
        (name = "accounts", description = "Setup, login, tokens, the signed-in user"),
        (name = "teams", description = "Teams, members, settings"),
        (name = "bots", description = "Bots and their knowledge"),
        (name = "live chats", description = "The agents' inbox and the lifecycle"),
        (name = "shortcuts", description = "Canned replies"),
        (name = "notifications", description = "Preferences, push subscriptions"),
        (name = "widget", description = "The visitor's API"),
        (name = "real time", description = "WebSocket upgrades (protocol: docs/REALTIME.md)"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// What the annotations leave open: every response gets the description OpenAPI requires
/// (its status text), and operation ids are made unique by prefixing the tag.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            if let (Some(tag), Some(id)) = (op.tags.as_ref().and_then(|t| t.first()), op.operation_id.as_mut()) {
                *id = format!("{}_{id}", tag.replace(' ', "_"));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = response {
                    if r.description.is_empty() {
                        let text =
                            status.parse::<u16>().ok().and_then(|c| axum::http::StatusCode::from_u16(c).ok()).and_then(|c| c.canonical_reason());
                        r.description = text.unwrap_or("Success").to_string();
                    }
                }
            }
        }
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("token", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("baton_session"))));
    }
}
