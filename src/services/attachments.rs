//! Files in chats: uploads checked against the team's limits and stored (bytes in the blob
//! store, then the row), sent as part of a message (see [`crate::store::write`]), served only to
//! those who may see their conversation, and removed with it or when never sent.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::AppState;
use crate::domain::attachment::{self, Kind};
use crate::domain::ids::{AttachmentId, BotId, VisitorId};
use crate::domain::values::{InvalidField, MessageBody};
use crate::store::{AgentScope, Attachment, Conversation, StoreError, StoredAttachment};

/// Uploads not sent in a message within this time are removed.
pub const UNSENT_TTL_MS: i64 = 24 * 3600 * 1000;
/// Bytes no row names are removed once this old (a crash between storing the bytes and the row,
/// or rows deleted with their conversation).
const ORPHAN_AGE: Duration = Duration::from_secs(3600);
/// How often the blob store is walked for such bytes.
const ORPHAN_SCAN_EVERY: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Invalid(#[from] InvalidField),
    #[error("files may be at most {} here", human_size(*max))]
    TooLarge { max: i64 },
    #[error("this team does not accept files")]
    Off,
    /// Visitors send files to people: once the chat is with the team.
    #[error("files can be sent once a person handles the chat")]
    NotOpen,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the file could not be stored: {0}")]
    Blob(String),
}

pub fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 { format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0)) } else { format!("{} KB", (bytes + 1023) / 1024) }
}

/// Who uploads or opens a file.
#[derive(Debug, Clone)]
pub enum Viewer<'a> {
    /// An agent, within their chat scope (team and bot access).
    Agent(&'a AgentScope),
    Visitor(&'a VisitorId),
}

impl Viewer<'_> {
    fn id(&self) -> String {
        match self {
            Self::Agent(s) => s.user.to_string(),
            Self::Visitor(v) => v.to_string(),
        }
    }
}

/// Stores an upload to the conversation, not yet sent: checked against the team's size and kinds,
/// its content against its name; an image must decode.
pub async fn upload(
    state: &AppState,
    conv: &Conversation,
    uploader: &Viewer<'_>,
    raw_name: &str,
    bytes: bytes::Bytes,
) -> Result<Attachment, UploadError> {
    if matches!(uploader, Viewer::Visitor(_)) && !conv.state.is_live() {
        return Err(UploadError::NotOpen);
    }
    let team = state.store.team(&conv.team_id).await?.ok_or(StoreError::NotFound)?;
    let limits = team.settings;
    if limits.attachment_max_bytes == 0 || limits.attachment_kinds.list().is_empty() {
        return Err(UploadError::Off);
    }
    if bytes.len() as i64 > limits.attachment_max_bytes {
        return Err(UploadError::TooLarge { max: limits.attachment_max_bytes });
    }
    let name = attachment::file_name(raw_name)?;
    let ty = attachment::identify(&name, &bytes, limits.attachment_kinds)?;
    let (width, height) = if ty.kind == Kind::Image {
        // Decoding takes memory in proportion to the pixels: one at a time per core at most.
        static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
        let _turn = DECODES.acquire().await.map_err(|e| UploadError::Blob(e.to_string()))?;
        let b = bytes.clone();
        let (w, h) = tokio::task::spawn_blocking(move || image_size(&b)).await.map_err(|e| UploadError::Blob(e.to_string()))??;
        (Some(w), Some(h))
    } else {
        (None, None)
    };
    let a = Attachment {
        id: AttachmentId::new(),
        name,
        kind: ty.kind,
        content_type: ty.content_type.to_string(),
        size: bytes.len() as i64,
        width,
        height,
    };
    // The bytes first, durably; then the row that makes them reachable.
    state.blobs.put(a.id.as_str(), bytes).await.map_err(|e| UploadError::Blob(e.to_string()))?;
    if let Err(e) = state.store.add_upload(&conv.id, &uploader.id(), &a, state.now()).await {
        forget(state, std::slice::from_ref(&a.id)).await;
        return Err(e.into());
    }
    Ok(a)
}

/// An image's size, after decoding all of it within limits (one that does not decode is
/// refused, whatever its header says).
fn image_size(bytes: &[u8]) -> Result<(i64, i64), InvalidField> {
    use image::{ImageReader, Limits};
    let bad = |e: String| InvalidField::new("body", format!("the image cannot be read: {e}"));
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| bad(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(8_192);
    limits.max_image_height = Some(8_192);
    limits.max_alloc = Some(128 * 1024 * 1024);
    reader.limits(limits.clone());
    // The header first: a picture too large to decode is refused before anything is allocated.
    let (w, h) = reader.into_dimensions().map_err(|e| bad(e.to_string()))?;
    if u64::from(w) * u64::from(h) > 24_000_000 {
        return Err(InvalidField::new("body", "the image has too many pixels (at most 24 megapixels)"));
    }
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| bad(e.to_string()))?;
    reader.limits(limits);
    let img = reader.decode().map_err(|e| bad(e.to_string()))?;
    Ok((img.width() as i64, img.height() as i64))
}

/// A message's body and files: an empty body is allowed when files come with it (their names
/// stand in for the text). `rich`: an agent's HTML; else a visitor's plain text.
pub async fn message_body(state: &AppState, raw: &str, rich: bool, files: &[String]) -> Result<(MessageBody, Vec<AttachmentId>), UploadError> {
    if files.len() > attachment::MAX_PER_MESSAGE {
        return Err(InvalidField::new("attachments", format!("at most {} files per message", attachment::MAX_PER_MESSAGE)).into());
    }
    let mut ids = Vec::with_capacity(files.len());
    for f in files {
        let id = AttachmentId::parse(f).ok_or_else(|| InvalidField::new("attachments", format!("{f:?} is not a file id")))?;
        if ids.contains(&id) {
            return Err(InvalidField::new("attachments", "a file is listed twice").into());
        }
        ids.push(id);
    }
    // Plain text is blank when it has no characters but spaces; only HTML is read as HTML.
    let blank = if rich { crate::domain::html::to_text(raw).trim().is_empty() } else { raw.trim().is_empty() };
    if blank && !ids.is_empty() {
        let mut names = Vec::with_capacity(ids.len());
        for id in &ids {
            let a = state.store.attachment(id).await?;
            // Ownership is checked when the message is written; here only the names are wanted.
            names.push(a.map(|a| a.attachment.name).unwrap_or_else(|| "file".into()));
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        return Ok((MessageBody::files_only(&names), ids));
    }
    let body = if rich { MessageBody::parse_html(raw)? } else { MessageBody::parse_text(raw)? };
    Ok((body, ids))
}

/// A file with its bytes, if the viewer may see it: an agent who may see its conversation (an
/// unsent upload only by whoever uploaded it), a visitor for their own conversations' public
/// messages and their own uploads. `None` otherwise (the caller answers 404).
pub async fn open(state: &AppState, viewer: &Viewer<'_>, id: &AttachmentId) -> Result<Option<(StoredAttachment, bytes::Bytes)>, StoreError> {
    let Some(a) = state.store.attachment(id).await? else { return Ok(None) };
    let mine = a.uploader == viewer.id();
    let visible = match viewer {
        _ if a.message_id.is_none() => mine,
        Viewer::Agent(scope) => state.store.live_chat(scope, &a.conversation_id).await?.is_some(),
        Viewer::Visitor(v) => a.visitor_id == **v && !a.internal,
    };
    if !visible {
        return Ok(None);
    }
    match state.blobs.get(id.as_str()).await {
        Ok(Some(bytes)) => Ok(Some((a, bytes))),
        Ok(None) => {
            tracing::warn!(attachment = %id, "a file's bytes are missing from the blob store");
            Ok(None)
        }
        Err(e) => Err(StoreError::Db(e)),
    }
}

/// Removes an unsent upload of the viewer; whether there was one.
pub async fn discard(state: &AppState, viewer: &Viewer<'_>, id: &AttachmentId) -> Result<bool, StoreError> {
    let gone = state.store.discard_upload(id, &viewer.id()).await?;
    if gone {
        forget(state, std::slice::from_ref(id)).await;
    }
    Ok(gone)
}

/// Deletes a bot and its conversations, then their files' bytes.
pub async fn delete_bot(state: &AppState, bot: &BotId) -> Result<(), StoreError> {
    let files = state.store.bot_attachments(bot).await?;
    state.store.delete_bot(bot).await?;
    forget(state, &files).await;
    Ok(())
}

/// Removes the bytes of files whose rows are gone (best effort: the orphan sweep catches misses).
pub async fn forget(state: &AppState, ids: &[AttachmentId]) {
    for id in ids {
        if let Err(e) = state.blobs.delete(id.as_str()).await {
            tracing::warn!(attachment = %id, error = %e, "could not remove a file's bytes");
        }
    }
}

/// The timers' part: uploads never sent expire; bytes no row names are removed.
pub async fn sweep(state: &AppState) {
    loop {
        match state.store.expire_uploads(state.now() - UNSENT_TTL_MS, 200).await {
            Ok(ids) if ids.is_empty() => break,
            Ok(ids) => forget(state, &ids).await,
            Err(e) => {
                tracing::warn!(error = %e, "could not expire unsent uploads");
                break;
            }
        }
    }
    static LAST_SCAN: Mutex<Option<Instant>> = Mutex::new(None);
    {
        let mut last = LAST_SCAN.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < ORPHAN_SCAN_EVERY) {
            return;
        }
        *last = Some(Instant::now());
    }
    if let Err(e) = remove_orphans(state, ORPHAN_AGE).await {
        tracing::warn!(error = %e, "could not sweep the blob store");
    }
}

/// Removes stored bytes older than `age` that no attachment row names; how many.
pub async fn remove_orphans(state: &AppState, age: Duration) -> Result<usize, super::BoxError> {
    let old: Vec<AttachmentId> =
        state.blobs.keys().await?.into_iter().filter(|(_, a)| *a >= age).filter_map(|(k, _)| AttachmentId::parse(&k)).collect();
    let mut removed = 0;
    for chunk in old.chunks(500) {
        let known = state.store.known_attachments(chunk).await?;
        for id in chunk.iter().filter(|id| !known.contains(id)) {
            state.blobs.delete(id.as_str()).await?;
            removed += 1;
        }
    }
    Ok(removed)
}
