//! Files sent in chats: what each is and who may see it (the bytes are in the blob store).

macro_rules! attachment_store {
    ($Store:ty, $Db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AttachmentStore for $Store {
            async fn add_upload(&self, conversation: &ConversationId, uploader: &str, a: &Attachment, now: i64) -> $crate::store::Result<()> {
                let (conversation, uploader, a) = (conversation.clone(), uploader.to_string(), a.clone());
                run!(self.write, |c| {
                    let (conversation, uploader, a) = (&conversation, &uploader, &a);
                    let unsent: i64 = query_scalar("SELECT COUNT(*) FROM attachments WHERE uploader = $1 AND message_id IS NULL")
                        .bind(uploader)
                        .fetch_one(&mut *c)
                        .await?;
                    if unsent >= $crate::store::MAX_UNSENT_UPLOADS {
                        return Err(StoreError::Conflict("too_many_uploads", "send or discard the files already uploaded first".into()));
                    }
                    let exists: Option<i64> = query_scalar("SELECT 1 FROM conversations WHERE id = $1").bind(conversation).fetch_optional(&mut *c).await?;
                    if exists.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    query(
                        "INSERT INTO attachments (id, conversation_id, uploader, name, kind, content_type, size, width, height, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&a.id)
                    .bind(conversation)
                    .bind(uploader)
                    .bind(&a.name)
                    .bind(a.kind.as_str())
                    .bind(&a.content_type)
                    .bind(a.size)
                    .bind(a.width)
                    .bind(a.height)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }

            async fn attachment(&self, id: &AttachmentId) -> $crate::store::Result<Option<StoredAttachment>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    let row: Option<StoredAttachmentRow> = query_as(
                        "SELECT a.id, a.name, a.kind, a.content_type, a.size, a.width, a.height, a.conversation_id, a.uploader, a.message_id,
                                COALESCE(m.internal, FALSE) AS internal, cv.visitor_id, a.created_at
                         FROM attachments a JOIN conversations cv ON cv.id = a.conversation_id LEFT JOIN messages m ON m.id = a.message_id
                         WHERE a.id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?;
                    row.map(TryInto::try_into).transpose()
                })
            }

            async fn discard_upload(&self, id: &AttachmentId, uploader: &str) -> $crate::store::Result<bool> {
                let (id, uploader) = (id.clone(), uploader.to_string());
                run!(self.write, |c| {
                    let res = query("DELETE FROM attachments WHERE id = $1 AND uploader = $2 AND message_id IS NULL").bind(&id).bind(&uploader).execute(&mut *c).await?;
                    Ok(res.rows_affected() > 0)
                })
            }

            async fn expire_uploads(&self, before: i64, limit: i64) -> $crate::store::Result<Vec<AttachmentId>> {
                run!(self.write, |c| {
                    query_scalar(
                        "DELETE FROM attachments WHERE message_id IS NULL AND id IN (SELECT id FROM attachments WHERE message_id IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2) RETURNING id",
                    )
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await
                })
            }

            async fn known_attachments(&self, ids: &[AttachmentId]) -> $crate::store::Result<Vec<AttachmentId>> {
                let ids = ids.to_vec();
                run!(self.read, |c| {
                    let mut known = Vec::new();
                    for chunk in ids.chunks(100) {
                        let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                        let mut q = query_scalar::<AttachmentId>(format!("SELECT id FROM attachments WHERE id IN ({marks})"));
                        for id in chunk {
                            q = q.bind(id);
                        }
                        known.extend(q.fetch_all(&mut *c).await?);
                    }
                    Ok(known)
                })
            }

            async fn bot_attachments(&self, bot: &BotId) -> $crate::store::Result<Vec<AttachmentId>> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    query_scalar("SELECT a.id FROM attachments a JOIN conversations cv ON cv.id = a.conversation_id WHERE cv.bot_id = $1")
                        .bind(&bot)
                        .fetch_all(&mut *c)
                        .await
                })
            }
        }
    };
}
