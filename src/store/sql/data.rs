//! Data rights: everything of one visitor (to export or erase it), and the retention timer's
//! deletion of resolved conversations. Deleting a conversation or visitor row takes what hangs
//! off it with it (messages and their search entries, files' rows, read marks, ratings, email
//! outbox rows, tokens, context: `ON DELETE CASCADE`); push notifications waiting for delivery
//! name the conversation in their payload and are removed here.

macro_rules! data_store {
    ($Store:ty, $Db:ty, lock = $lock:literal, skip_locked = $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::DataStore for $Store {
            async fn visitor_conversations(&self, visitor: &VisitorId) -> $crate::store::Result<Vec<Conversation>> {
                let visitor = visitor.clone();
                run!(self.read, |c| {
                    let rows: Vec<ConversationRow> =
                        query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.visitor_id = $1 ORDER BY c.created_at, c.id"))
                            .bind(&visitor)
                            .fetch_all(&mut *c)
                            .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn visitors_by_email(&self, team: &TeamId, email: &str, limit: i64) -> $crate::store::Result<Vec<Visitor>> {
                let team = team.clone();
                let email = email.to_lowercase();
                run!(self.read, |c| {
                    let rows: Vec<VisitorRow> = query_as(concat!(
                        "SELECT ",
                        visitor_cols!(),
                        " FROM visitors v JOIN bots b ON b.id = v.bot_id
                          WHERE b.team_id = $1 AND lower(v.email) = $2 AND v.email IS NOT NULL
                          ORDER BY v.created_at DESC, v.id DESC LIMIT $3"
                    ))
                    .bind(&team)
                    .bind(&email)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn erase_visitor(&self, visitor: &VisitorId) -> $crate::store::Result<Erased> {
                let visitor = visitor.clone();
                run!(self.write, |c| {
                    let visitor = &visitor;
                    // Locked before the cascade deletes them one by one, each also locking its
                    // report tallies (see `remove_member`).
                    let conversations: Vec<ConversationId> = query_scalar(concat!("SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY id", $lock))
                        .bind(visitor)
                        .fetch_all(&mut *c)
                        .await?;
                    let messages: i64 = query_scalar("SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.visitor_id = $1")
                        .bind(visitor)
                        .fetch_one(&mut *c)
                        .await?;
                    let files: Vec<AttachmentId> =
                        query_scalar("SELECT a.id FROM attachments a JOIN conversations c ON c.id = a.conversation_id WHERE c.visitor_id = $1")
                            .bind(visitor)
                            .fetch_all(&mut *c)
                            .await?;
                    for id in &conversations {
                        query("DELETE FROM push_outbox WHERE payload LIKE $1").bind(format!("%{id}%")).execute(&mut *c).await?;
                    }
                    let gone = query("DELETE FROM visitors WHERE id = $1").bind(visitor).execute(&mut *c).await?;
                    if gone.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Ok(Erased { conversations: conversations.len() as i64, messages, files })
                })
            }

            async fn retention_due(&self, now: i64) -> $crate::store::Result<bool> {
                run!(self.read, |c| {
                    let due: Option<i64> = query_scalar(
                        "SELECT 1 FROM teams t WHERE t.retention_days > 0 AND EXISTS (
                            SELECT 1 FROM conversations c WHERE c.team_id = t.id AND c.state = 'resolved' AND c.resolved_at < $1 - t.retention_days * 86400000)
                         LIMIT 1",
                    )
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(due.is_some())
                })
            }

            async fn expire_resolved(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<Expired>> {
                run!(self.write, |c| {
                    let teams: Vec<(TeamId, i64)> = query_as("SELECT id, retention_days FROM teams WHERE retention_days > 0 ORDER BY id").fetch_all(&mut *c).await?;
                    let mut out = Vec::new();
                    for (team, days) in teams {
                        let cutoff = now - days * 86_400_000;
                        // Locked until commit (on PostgreSQL; other nodes pass over them): a reopen
                        // waits, so what is deleted is still resolved, and two nodes never delete
                        // (and log) the same chats.
                        let due: Vec<(ConversationId, VisitorId, BotId)> = query_as(concat!(
                            "SELECT id, visitor_id, bot_id FROM conversations WHERE team_id = $1 AND state = 'resolved' AND resolved_at < $2
                             ORDER BY resolved_at LIMIT $3",
                            $skip
                        ))
                        .bind(&team)
                        .bind(cutoff)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                        if due.is_empty() {
                            continue;
                        }
                        let mut files = Vec::new();
                        let mut visitors = Vec::new();
                        let mut deleted = Vec::new();
                        for (id, visitor, bot) in &due {
                            let f: Vec<AttachmentId> = query_scalar("SELECT id FROM attachments WHERE conversation_id = $1").bind(id).fetch_all(&mut *c).await?;
                            let gone = query("DELETE FROM conversations WHERE id = $1 AND state = 'resolved' AND resolved_at < $2").bind(id).bind(cutoff).execute(&mut *c).await?;
                            if gone.rows_affected() == 0 {
                                continue;
                            }
                            query("DELETE FROM push_outbox WHERE payload LIKE $1").bind(format!("%{id}%")).execute(&mut *c).await?;
                            files.extend(f);
                            visitors.push(visitor.clone());
                            deleted.push((id.clone(), bot.clone()));
                        }
                        // A visitor left with no conversation at all goes too: their name and
                        // email were kept only for those chats. Their row is locked first, so a
                        // chat they start meanwhile is seen by the check (and keeps them).
                        visitors.sort();
                        visitors.dedup();
                        let mut visitors_deleted = 0;
                        for v in &visitors {
                            let held: Option<VisitorId> = query_scalar(concat!("SELECT id FROM visitors WHERE id = $1", $lock)).bind(v).fetch_optional(&mut *c).await?;
                            if held.is_none() {
                                continue;
                            }
                            let r = query("DELETE FROM visitors WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM conversations WHERE visitor_id = $1)")
                                .bind(v)
                                .execute(&mut *c)
                                .await?;
                            visitors_deleted += r.rows_affected() as i64;
                        }
                        if !deleted.is_empty() {
                            out.push(Expired { team_id: team, days, conversations: deleted, visitors: visitors_deleted, files });
                        }
                    }
                    Ok(out)
                })
            }
        }
    };
}
