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
        (name = "attachments", description = "Files in chats: upload, download, discard"),
        (name = "shortcuts", description = "Canned replies"),
        (name = "reports", description = "Response times, chats per day, bot and agent, CSAT, missed chats; CSV (owners and admins)"),
        (name = "webhooks", description = "Outgoing webhooks and their delivery log (owners and admins)"),
        (name = "data rights", description = "A visitor's data found, exported or erased (owners and admins)"),
        (name = "notifications", description = "Preferences, push subscriptions"),
        (name = "widget", description = "The visitor's API"),
        (name = "real time", description = "WebSocket upgrades (protocol: docs/REALTIME.md)"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// What the annotations leave open: every response gets the description OpenAPI requires
/// (its status text), operation ids are made unique by prefixing the tag, and the refusals
/// every route of a kind can give are declared on each of them: a body can be malformed (400),
/// too large (413), not JSON (415) or too slow (408); a widget call can come from a site the bot
/// does not allow (403); a query string can be malformed (400).
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;
    let error = || RefOr::Ref(utoipa::openapi::Ref::from_response_name("Error"));
    for (path, item) in doc.paths.paths.iter_mut() {
        let widget = path.starts_with("/api/widget/") && !path.ends_with("/config");
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let mut always: Vec<&str> = vec![];
            if op.request_body.is_some() {
                always.extend(["400", "408", "413", "415"]);
            }
            if op.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query)) {
                always.push("400");
            }
            if widget {
                always.push("403");
            }
            for status in always {
                op.responses.responses.entry(status.to_string()).or_insert_with(error);
            }
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
