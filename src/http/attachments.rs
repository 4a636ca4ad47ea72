//! Files in chats: upload (agents to a chat they see, visitors to their current chat), download
//! for those who may see the conversation, and discarding an upload not yet sent. A file becomes
//! part of a message when the message lists its id in `attachments`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::extract::{Agent, AppPath, AppQuery, VisitorCaller, VisitorWrite, body_rejection};
use super::openapi::Error;
use crate::domain::attachment::Kind;
use crate::domain::ids::{AttachmentId, ConversationId};
use crate::services::attachments::{self, Viewer};
use crate::services::{AppState, chats};
use crate::views;

/// The largest upload any team may allow, plus room for nothing else: the body is the file.
const UPLOAD_BODY_LIMIT: usize = crate::domain::attachment::MAX_BYTES_LIMIT as usize;

pub fn router() -> OpenApiRouter<AppState> {
    let (s1, p1, agent_upload) = routes!(upload_to_chat);
    let (s2, p2, visitor_upload) = routes!(widget_upload);
    let limit = || axum::extract::DefaultBodyLimit::max(UPLOAD_BODY_LIMIT);
    OpenApiRouter::new()
        .routes((s1, p1, agent_upload.layer(limit())))
        .routes((s2, p2, visitor_upload.layer(limit())))
        .routes(routes!(download, discard))
        .routes(routes!(widget_download, widget_discard))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    /// The file's name, with its extension (it decides the type, checked against the content).
    name: String,
}

const UPLOAD_BODY: &str = "The file's bytes. Images (PNG, JPEG, GIF, WebP), PDF, text (txt, csv, log), office documents \
    (docx, xlsx, pptx, odt, ods, odp, doc, xls, ppt) and ZIP, as the team allows, up to its size limit (at most 25 MiB).";

/// Uploads a file to a chat the agent may see. It is sent when a message or note lists its id
/// in `attachments`; unsent uploads are removed after a day.
///
/// 400: the name's type is not accepted or the content does not match it; 409
/// `attachments_off` (the team accepts no files), `too_many_uploads`; 413 past the team's limit.
#[utoipa::path(post, path = "/api/live-chats/{id}/attachments", tag = "attachments", params(("id" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = UPLOAD_BODY),
    responses((status = 201, body = views::AttachmentView), (status = 400, response = Error), (status = 401, response = Error), (status = 404, response = Error),
        (status = 409, response = Error), (status = 413, response = Error)))]
async fn upload_to_chat(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<UploadQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<views::AttachmentView>)> {
    let body = body.map_err(body_rejection)?;
    let (scope, _) = agent.chat_scope(&state).await?;
    let id = ConversationId::parse(&id).ok_or(ApiError::NotFound)?;
    let chat = state.store.live_chat(&scope, &id).await?.ok_or(ApiError::NotFound)?;
    let a = attachments::upload(&state, &chat.conversation, &Viewer::Agent(&scope), &q.name, body).await?;
    Ok((StatusCode::CREATED, Json(views::attachment(&a))))
}

/// The visitor uploads a file to their current chat (one is opened if needed); it is sent when
/// a message lists its id in `attachments`. Costs one widget write.
///
/// 400, 409 and 413 as for agents' uploads.
#[utoipa::path(post, path = "/api/widget/attachments", tag = "widget", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = UPLOAD_BODY),
    responses((status = 201, body = views::AttachmentView), (status = 400, response = Error), (status = 401, response = Error),
        (status = 409, response = Error), (status = 413, response = Error), (status = 429, response = Error)))]
async fn widget_upload(
    State(state): State<AppState>,
    VisitorWrite(caller): VisitorWrite,
    AppQuery(q): AppQuery<UploadQuery>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<views::AttachmentView>)> {
    let body = body.map_err(body_rejection)?;
    let conv = chats::current(&state, &caller.visitor.id, &caller.bot.id).await?;
    let a = attachments::upload(&state, &conv, &Viewer::Visitor(&caller.visitor.id), &q.name, body).await?;
    Ok((StatusCode::CREATED, Json(views::attachment(&a))))
}

#[derive(Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DownloadQuery {
    /// `true`: offer the file as a download even when it is an image.
    #[serde(default)]
    download: bool,
}

/// A file of a chat the agent may see (an unsent upload only to its uploader). Images are
/// served inline, everything else as a download; the type is Baton's, never the uploader's.
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "attachments", params(("id" = String, Path), DownloadQuery),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"), (status = 401, response = Error), (status = 404, response = Error)))]
async fn download(
    State(state): State<AppState>,
    agent: Agent,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<DownloadQuery>,
) -> ApiResult<Response> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let id = AttachmentId::parse(&id).ok_or(ApiError::NotFound)?;
    let (a, bytes) = attachments::open(&state, &Viewer::Agent(&scope), &id).await?.ok_or(ApiError::NotFound)?;
    Ok(serve(&a.attachment, bytes, q.download, false))
}

/// The same for the visitor (their widget token as a bearer): files of their own chats' public
/// messages, and their own unsent uploads.
#[utoipa::path(get, path = "/api/widget/attachments/{id}", tag = "widget", params(("id" = String, Path), DownloadQuery),
    responses((status = 200, description = "The file's bytes", content_type = "application/octet-stream"), (status = 401, response = Error), (status = 404, response = Error)))]
async fn widget_download(
    State(state): State<AppState>,
    caller: VisitorCaller,
    AppPath(id): AppPath<String>,
    AppQuery(q): AppQuery<DownloadQuery>,
) -> ApiResult<Response> {
    let id = AttachmentId::parse(&id).ok_or(ApiError::NotFound)?;
    let (a, bytes) = attachments::open(&state, &Viewer::Visitor(&caller.visitor.id), &id).await?.ok_or(ApiError::NotFound)?;
    Ok(serve(&a.attachment, bytes, q.download, true))
}

/// Discards an upload of mine not yet sent.
#[utoipa::path(delete, path = "/api/attachments/{id}", tag = "attachments", params(("id" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 404, response = Error)))]
async fn discard(State(state): State<AppState>, agent: Agent, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let (scope, _) = agent.chat_scope(&state).await?;
    let id = AttachmentId::parse(&id).ok_or(ApiError::NotFound)?;
    if !attachments::discard(&state, &Viewer::Agent(&scope), &id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The visitor discards an upload not yet sent.
#[utoipa::path(delete, path = "/api/widget/attachments/{id}", tag = "widget", params(("id" = String, Path)),
    responses((status = 204), (status = 401, response = Error), (status = 404, response = Error), (status = 429, response = Error)))]
async fn widget_discard(State(state): State<AppState>, VisitorWrite(caller): VisitorWrite, AppPath(id): AppPath<String>) -> ApiResult<StatusCode> {
    let id = AttachmentId::parse(&id).ok_or(ApiError::NotFound)?;
    if !attachments::discard(&state, &Viewer::Visitor(&caller.visitor.id), &id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

fn serve(a: &crate::store::Attachment, bytes: bytes::Bytes, download: bool, cross_origin: bool) -> Response {
    let mut h = HeaderMap::new();
    let ct = HeaderValue::from_str(&a.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, ct);
    let inline = a.kind == Kind::Image && !download;
    // RFC 6266 / 5987: an ASCII fallback and the UTF-8 name.
    let ascii: String = a.name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = a
        .name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b".-_".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    let disposition = format!("{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}", if inline { "inline" } else { "attachment" });
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Nothing in a file runs as a page of Baton's.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // Files never change under their id; only the people allowed may keep a copy.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    if cross_origin {
        h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    }
    (h, bytes).into_response()
}
