//! Conversations, messages and the live-chat lifecycle.

/// A chat summary; `$1` is the team, `$2` the asking agent.
macro_rules! summary_select {
    () => {
        concat!(
            "SELECT ",
            conversation_cols!(),
            ", b.name AS bot_name,
                v.id AS v_id, v.name AS v_name, v.email AS v_email, v.page_url AS v_page_url, v.fields AS v_fields, v.created_at AS v_created_at,
                rt.score AS r_score, rt.scale AS r_scale, rt.comment AS r_comment, rt.created_at AS r_at,
                a.id AS a_id, a.email AS a_email, a.first_name AS a_first, a.last_name AS a_last, a.avatar_version AS a_avatar,
                c.last_preview, c.last_author_kind, c.last_message_at,
                (SELECT COUNT(*) FROM messages um WHERE um.conversation_id = c.id
                    AND um.seq > COALESCE((SELECT r.last_read_seq FROM read_markers r WHERE r.conversation_id = c.id AND r.reader_id = $2), 0)
                    AND um.author_kind IN ('visitor', 'agent') AND um.author_id <> $2) AS unread_count
             FROM conversations c
             JOIN bots b ON b.id = c.bot_id
             JOIN visitors v ON v.id = c.visitor_id
             LEFT JOIN users a ON a.id = c.assignee_id
             LEFT JOIN ratings rt ON rt.conversation_id = c.id
             WHERE c.team_id = $1 AND c.escalated_at IS NOT NULL AND ",
            chat_scope!("$2")
        )
    };
}

/// One page of a list view: `$3` bot filter, `$4`/`$5` the cursor, `$6` the page size.
macro_rules! list_page {
    ($view:literal) => {
        concat!(
            summary_select!(),
            $view,
            " AND ($3 IS NULL OR c.bot_id = $3)
              AND ($4 IS NULL OR c.last_activity_at < $4 OR (c.last_activity_at = $4 AND c.id < $5))
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $6"
        )
    };
}

/// Queues a webhook document for every enabled webhook of `team` that chose `event`.
macro_rules! enqueue_webhooks {
    ($c:expr, $team:expr, $conversation:expr, $event:expr, $event_id:expr, $doc:expr, $now:expr) => {{
        let pattern = format!("%\"{}\"%", $event.as_str());
        query(
            "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, conversation_id, payload, state, attempts, next_attempt_at, created_at)
             SELECT w.id || ':' || $1, w.id, $1, $2, $3, $4, 'pending', 0, $5, $5 FROM webhooks w
             WHERE w.team_id = $6 AND w.enabled AND w.events LIKE $7",
        )
        .bind($event_id)
        .bind($event.as_str())
        .bind($conversation)
        .bind($doc)
        .bind($now)
        .bind($team)
        .bind(pattern)
        .execute($c)
        .await?;
    }};
}

macro_rules! chat_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        /// The statements of the conversation write path ([`crate::store::write`]) on this
        /// backend. SQL only: the logic is plain Rust over the trait.
        #[async_trait::async_trait]
        impl $crate::store::write::ChatTx for $Db {
            async fn lock_conversation(&mut self, id: &ConversationId) -> $crate::store::Result<Option<(Conversation, $crate::store::write::EscalationFlags)>> {
                // The conversation and its bot's flags in one statement: every statement is a
                // round trip, and this path runs per message.
                row! {
                struct Locked {
                    #[flatten]
                    conv: ConversationRow,
                    human_escalation: bool,
                    human_only: bool,
                    auto_escalate_unanswered: bool,
                    webhooks: bool,
                }
                }
                let row: Option<Locked> = query_as(concat!(
                    "SELECT ", conversation_cols!(), ",
                        (SELECT b.human_escalation FROM bots b WHERE b.id = c.bot_id) AS human_escalation,
                        (SELECT b.human_only FROM bots b WHERE b.id = c.bot_id) AS human_only,
                        (SELECT b.auto_escalate_unanswered FROM bots b WHERE b.id = c.bot_id) AS auto_escalate_unanswered,
                        EXISTS (SELECT 1 FROM webhooks w WHERE w.team_id = c.team_id AND w.enabled) AS webhooks
                     FROM conversations c WHERE c.id = $1", $lock
                ))
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
                Ok(row.map(|r| {
                    let flags = $crate::store::write::EscalationFlags {
                        human_escalation: r.human_escalation,
                        human_only: r.human_only,
                        auto_escalate_unanswered: r.auto_escalate_unanswered,
                        webhooks: r.webhooks,
                    };
                    (r.conv.into(), flags)
                }))
            }

            async fn message_by_client_id(&mut self, conversation: &ConversationId, author: &str, client_id: &str) -> $crate::store::Result<Option<Message>> {
                let first: Option<MessageRow> = query_as(concat!(message_select!(), " WHERE m.conversation_id = $1 AND m.author_id = $2 AND m.client_id = $3"))
                    .bind(conversation)
                    .bind(author)
                    .bind(client_id)
                    .fetch_optional(&mut *self)
                    .await?;
                Ok(first.map(Into::into))
            }

            async fn user_status(&mut self, id: &UserId) -> $crate::store::Result<Option<(User, Status, Option<Reason>)>> {
                row! {
                struct Row {
                    #[flatten]
                    user: UserRow,
                    status: Status,
                    status_reason: Option<Reason>,
                }
                }
                let row: Option<Row> = query_as(concat!("SELECT ", user_cols!(), ", u.status, u.status_reason FROM users u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *self)
                    .await?;
                Ok(row.map(|r| (r.user.into(), r.status, r.status_reason)))
            }

            async fn membership(&mut self, conversation: &Conversation, user: &UserId) -> $crate::store::Result<Option<Membership>> {
                let row: Option<MembershipRow> = query_as(concat!("SELECT ", membership_cols!(), " FROM members m WHERE m.team_id = $1 AND m.user_id = $2"))
                    .bind(&conversation.team_id)
                    .bind(user)
                    .fetch_optional(&mut *self)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn insert_message(&mut self, m: &Message) -> $crate::store::Result<()> {
                <$Store>::insert_message(self, m).await
            }

            async fn take_uploads(&mut self, conversation: &ConversationId, uploader: &str, ids: &[AttachmentId], message: &MessageId) -> $crate::store::Result<Vec<Attachment>> {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let row: Option<AttachmentRow> = query_as(concat!(
                        "UPDATE attachments SET message_id = $4, conversation_id = $2 WHERE id = $1 AND uploader = $3 AND message_id IS NULL
                           AND conversation_id IN (SELECT o.id FROM conversations o JOIN conversations c ON c.visitor_id = o.visitor_id WHERE c.id = $2)
                         RETURNING ", attachment_cols!()
                    ))
                    .bind(id)
                    .bind(conversation)
                    .bind(uploader)
                    .bind(message)
                    .fetch_optional(&mut *self)
                    .await?;
                    match row {
                        Some(r) => out.push(r.try_into()?),
                        None => return Err(StoreError::Invalid(format!("attachments: {id} is not a file you uploaded to this chat, or it was already sent"))),
                    }
                }
                if !out.is_empty() {
                    query("UPDATE messages SET attachments = $2 WHERE id = $1")
                        .bind(message)
                        .bind(serde_json::to_string(&out).expect("attachments serialise"))
                        .execute(&mut *self)
                        .await?;
                }
                Ok(out)
            }

            async fn newer_conversation(&mut self, c: &Conversation) -> $crate::store::Result<bool> {
                let n: i64 = query_scalar(
                    "SELECT COUNT(*) FROM conversations WHERE visitor_id = $1 AND id <> $2 AND (created_at > $3 OR (created_at = $3 AND id > $2))",
                )
                .bind(&c.visitor_id)
                .bind(&c.id)
                .bind(c.created_at)
                .fetch_one(&mut *self)
                .await?;
                Ok(n > 0)
            }

            async fn enqueue_webhooks(
                &mut self,
                c: &Conversation,
                event: $crate::domain::webhook::Event,
                event_id: &str,
                doc: &str,
                now: i64,
            ) -> $crate::store::Result<()> {
                enqueue_webhooks!(&mut *self, &c.team_id, Some(&c.id), event, event_id, doc, now);
                Ok(())
            }

            async fn save_conversation(&mut self, c: &Conversation, said: Option<&Message>) -> $crate::store::Result<()> {
                query(
                    "UPDATE conversations SET state = $2, assignee_id = $3, escalated_at = $4, resolved_at = $5, last_activity_at = $6, last_seq = $7,
                        last_preview = COALESCE($8, last_preview), last_author_kind = COALESCE($9, last_author_kind), last_message_at = COALESCE($10, last_message_at),
                        -- Waiting again (escalated or requeued): reminders count from now.
                        alerted_at = CASE WHEN $2 = 'pending' AND state <> 'pending' THEN $6 ELSE alerted_at END,
                        snoozed = $11, snoozed_until = $12, claimed_at = $13, first_response_at = $14
                     WHERE id = $1",
                )
                .bind(&c.id)
                .bind(c.state)
                .bind(&c.assignee_id)
                .bind(c.escalated_at)
                .bind(c.resolved_at)
                .bind(c.last_activity_at)
                .bind(c.last_seq)
                .bind(said.map(|m| m.body.preview(140)))
                .bind(said.map(|m| m.author.kind))
                .bind(said.map(|m| m.created_at))
                .bind(c.snooze.is_some())
                .bind(c.snooze.and_then(|z| z.until))
                .bind(c.claimed_at)
                .bind(c.first_response_at)
                .execute(&mut *self)
                .await?;
                Ok(())
            }
        }

        impl $Store {
            /// Runs one act inside the caller's transaction (see [`crate::store::write::apply`]).
            pub(crate) async fn apply_in(tx: &mut $Db, id: &ConversationId, act: Act, now: i64) -> $crate::store::Result<Applied> {
                $crate::store::write::apply(tx, id, act, now).await
            }

            async fn insert_message(tx: &mut $Db, m: &Message) -> $crate::store::Result<()> {
                query(
                    "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, text, internal, client_id, event, event_detail, created_at, attachments)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(&m.id)
                .bind(&m.conversation_id)
                .bind(m.seq)
                .bind(m.author.kind.as_str())
                .bind(&m.author.id)
                .bind(m.body.html())
                .bind(m.body.text())
                .bind(m.internal)
                .bind(&m.client_id)
                .bind(m.event.map(|k| k.as_str()))
                .bind(m.detail.as_ref().and_then(|d| serde_json::to_string(d).ok()))
                .bind(m.created_at)
                .bind((!m.attachments.is_empty()).then(|| serde_json::to_string(&m.attachments).expect("attachments serialise")))
                .execute(&mut *tx)
                .await?;
                Ok(())
            }

            async fn current_in(conn: &mut $Db, visitor: &VisitorId) -> $crate::store::Result<Option<Conversation>> {
                let row: Option<ConversationRow> = query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.visitor_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 1"))
                    .bind(visitor)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.map(Into::into))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::ChatStore for $Store {
            async fn current_conversation(&self, visitor: &VisitorId) -> $crate::store::Result<Option<Conversation>> {
                let visitor = visitor.clone();
                run!(self.read, |c| {
                    let visitor = &visitor;
                    Self::current_in(&mut *c, visitor).await
                })
            }

            async fn start_conversation(&self, visitor: &VisitorId, bot: &BotId, now: i64) -> $crate::store::Result<Conversation> {
                let visitor = visitor.clone();
                let bot = bot.clone();
                run!(self.write, |c| {
                    let visitor = &visitor;
                    let bot = &bot;
                    if let Some(open) = Self::current_in(&mut *c, visitor).await? {
                        if open.state != ChatState::Resolved {
                            return Err(StoreError::Conflict("conversation_open", "the current conversation is still open".into()));
                        }
                    }
                    let (team_id, greeting): (TeamId, String) = query_as("SELECT team_id, greeting FROM bots WHERE id = $1").bind(bot).fetch_one(&mut *c).await?;
                    let id = ConversationId::new();
                    query("INSERT INTO conversations (id, team_id, bot_id, visitor_id, state, created_at, last_activity_at, last_seq) VALUES ($1, $2, $3, $4, 'bot', $5, $5, 0)")
                        .bind(&id)
                        .bind(&team_id)
                        .bind(bot)
                        .bind(visitor)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                    let mut last_seq = 0;
                    // The greeting opens the history so agents see what the visitor saw.
                    if let Ok(body) = MessageBody::parse_text(&greeting) {
                        last_seq = 1;
                        let m = Message {
                            id: MessageId::new(),
                            conversation_id: id.clone(),
                            seq: 1,
                            author: Author { kind: AuthorKind::Bot, id: None, display_name: None, avatar_url: None },
                            body,
                            internal: false,
                            client_id: None,
                            event: None,
                            detail: None,
                            attachments: Vec::new(),
                            created_at: now,
                        };
                        Self::insert_message(&mut *c, &m).await?;
                        query("UPDATE conversations SET last_seq = 1, last_preview = $2, last_author_kind = 'bot', last_message_at = $3 WHERE id = $1")
                            .bind(&id)
                            .bind(m.body.preview(140))
                            .bind(now)
                            .execute(&mut *c)
                            .await?;
                    }
                    Ok(Conversation {
                        id,
                        team_id,
                        bot_id: bot.clone(),
                        visitor_id: visitor.clone(),
                        state: ChatState::Bot,
                        assignee_id: None,
                        escalated_at: None,
                        resolved_at: None,
                        created_at: now,
                        last_activity_at: now,
                        last_seq,
                        snooze: None,
                        claimed_at: None,
                        first_response_at: None,
                    })
                })
            }

            async fn conversation(&self, id: &ConversationId) -> $crate::store::Result<Option<Conversation>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    let row: Option<ConversationRow> = query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1")).bind(id).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn messages(&self, conversation: &ConversationId, after_seq: i64, include_internal: bool) -> $crate::store::Result<Vec<Message>> {
                self.messages_page(conversation, after_seq, include_internal, i64::MAX).await
            }

            async fn messages_page(&self, conversation: &ConversationId, after_seq: i64, include_internal: bool, limit: i64) -> $crate::store::Result<Vec<Message>> {
                let conversation = conversation.clone();
                run!(self.read, |c| {
                    let conversation = &conversation;
                    let rows: Vec<MessageRow> =
                        query_as(concat!(message_select!(), " WHERE m.conversation_id = $1 AND m.seq > $2 AND ($3 OR NOT m.internal) ORDER BY m.seq LIMIT $4"))
                            .bind(conversation)
                            .bind(after_seq)
                            .bind(include_internal)
                            .bind(limit)
                            .fetch_all(&mut *c)
                            .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn apply(&self, conversation: &ConversationId, act: Act, now: i64) -> $crate::store::Result<Applied> {
                let conversation = conversation.clone();
                // One job: SQLite's writer runs it in its next group-committed batch.
                run!(self.write, |c| {
                    let conversation = &conversation;
                    $crate::store::write::apply(&mut *c, conversation, act, now).await
                })
            }

            async fn live_chats(&self, scope: &AgentScope, q: &ChatQuery) -> $crate::store::Result<(Vec<ChatSummary>, Option<ChatCursor>)> {
                let scope = scope.clone();
                let q = q.clone();
                run!(self.read, |c| {
                    let scope = &scope;
                    let q = &q;
                    let sql = match q.view {
                        ChatView::Inbox => list_page!(" AND c.state IN ('pending', 'active', 'transferred') AND NOT c.snoozed"),
                        ChatView::Mine => list_page!(" AND c.assignee_id = $2 AND c.state IN ('active', 'transferred') AND NOT c.snoozed"),
                        ChatView::Resolved => list_page!(" AND c.state = 'resolved'"),
                        ChatView::Snoozed => list_page!(" AND c.assignee_id = $2 AND c.snoozed"),
                    };
                    let rows: Vec<SummaryRow> = query_as(sql)
                        .bind(&scope.team)
                        .bind(&scope.user)
                        .bind(&q.bot)
                        .bind(q.after.as_ref().map(|c| c.at))
                        .bind(q.after.as_ref().map(|c| c.id.clone()))
                        .bind(q.limit + 1)
                        .fetch_all(&mut *c)
                        .await?;
                    let mut items: Vec<ChatSummary> = rows.into_iter().map(Into::into).collect();
                    let next = if items.len() as i64 > q.limit {
                        items.truncate(q.limit as usize);
                        items.last().map(|s| ChatCursor { at: s.conversation.last_activity_at, id: s.conversation.id.to_string() })
                    } else {
                        None
                    };
                    Ok((items, next))
                })
            }

            async fn live_chat(&self, scope: &AgentScope, id: &ConversationId) -> $crate::store::Result<Option<ChatSummary>> {
                let scope = scope.clone();
                let id = id.clone();
                run!(self.read, |c| {
                    let scope = &scope;
                    let id = &id;
                    let row: Option<SummaryRow> = query_as(concat!(summary_select!(), " AND c.id = $3"))
                        .bind(&scope.team)
                        .bind(&scope.user)
                        .bind(id)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn queue(&self, bot: &BotId, limit: i64) -> $crate::store::Result<Vec<(ConversationId, VisitorId)>> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    let bot = &bot;
                    Ok(query_as("SELECT id, visitor_id FROM conversations WHERE bot_id = $1 AND state = 'pending' ORDER BY escalated_at, id LIMIT $2")
                        .bind(bot)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?)
                })
            }

            async fn queue_position(&self, conversation: &ConversationId) -> $crate::store::Result<Option<i64>> {
                let conversation = conversation.clone();
                run!(self.read, |c| {
                    let conversation = &conversation;
                    Ok(query_scalar(
                        "SELECT (SELECT COUNT(*) FROM conversations q WHERE q.bot_id = me.bot_id AND q.state = 'pending'
                                   AND (q.escalated_at < me.escalated_at OR (q.escalated_at = me.escalated_at AND q.id < me.id))) + 1
                         FROM conversations me WHERE me.id = $1 AND me.state = 'pending'",
                    )
                    .bind(conversation)
                    .fetch_optional(&mut *c)
                    .await?)
                })
            }

            async fn recent_waits(&self, bot: &BotId, since: i64, limit: i64) -> $crate::store::Result<Vec<i64>> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    let bot = &bot;
                    // The first claim's line is the end of the wait (a chat requeued later waited once).
                    Ok(query_scalar(
                        "SELECT (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.event = 'claimed') - c.escalated_at
                         FROM conversations c
                         WHERE c.bot_id = $1 AND c.escalated_at >= $2 AND c.state <> 'pending'
                           AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.event = 'claimed')
                         ORDER BY c.escalated_at DESC LIMIT $3",
                    )
                    .bind(bot)
                    .bind(since)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?)
                })
            }

            async fn rate(&self, conversation: &ConversationId, rating: &Rating) -> $crate::store::Result<()> {
                let conversation = conversation.clone();
                let rating = rating.clone();
                run!(self.write, |c| {
                    let conversation = &conversation;
                    let r = query(
                        "INSERT INTO ratings (conversation_id, score, scale, comment, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(conversation)
                    .bind(rating.score)
                    .bind(rating.scale.as_str())
                    .bind(&rating.comment)
                    .bind(rating.created_at)
                    .execute(&mut *c)
                    .await?;
                    if r.rows_affected() == 0 {
                        return Err(StoreError::Conflict("already_rated", "this chat has already been rated".into()));
                    }
                    // Kept on the conversation too, for reports.
                    query("UPDATE conversations SET rating_score = $2, rating_scale = $3 WHERE id = $1")
                        .bind(conversation)
                        .bind(rating.score)
                        .bind(rating.scale.as_str())
                        .execute(&mut *c)
                        .await?;
                    // Announced to the team's webhooks with the rating, in the same transaction.
                    let conv: Option<ConversationRow> =
                        query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1")).bind(conversation).fetch_optional(&mut *c).await?;
                    if let Some(conv) = conv {
                        let conv: Conversation = conv.into();
                        let event = $crate::domain::webhook::Event::CsatGiven;
                        let event_id = uuid::Uuid::now_v7().to_string();
                        let data = serde_json::json!({"rating": {"score": rating.score, "scale": rating.scale.as_str(), "comment": rating.comment}});
                        let doc = $crate::store::write::webhook_doc(event, &event_id, rating.created_at, &conv, data);
                        enqueue_webhooks!(&mut *c, &conv.team_id, Some(&conv.id), event, &event_id, &doc, rating.created_at);
                    }
                    Ok(())
                })
            }

            async fn assigned_chats(&self, user: &UserId) -> $crate::store::Result<Vec<Conversation>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let rows: Vec<ConversationRow> = query_as(concat!(
                        "SELECT ", conversation_cols!(), " FROM conversations c WHERE c.assignee_id = $1 AND c.state IN ('active', 'transferred') LIMIT 500"
                    ))
                    .bind(&user)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn due_snoozes(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<ConversationId>> {
                run!(self.read, |c| {
                    query_scalar("SELECT id FROM conversations WHERE snoozed AND snoozed_until IS NOT NULL AND snoozed_until <= $1 ORDER BY snoozed_until LIMIT $2")
                        .bind(now)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await
                })
            }

            async fn rating(&self, conversation: &ConversationId) -> $crate::store::Result<Option<Rating>> {
                let conversation = conversation.clone();
                run!(self.read, |c| {
                    let conversation = &conversation;
                    row! {
                    struct Row {
                        score: i64,
                        scale: Csat,
                        comment: Option<String>,
                        created_at: i64,
                    }
                    }
                    let row: Option<Row> = query_as("SELECT score, scale, comment, created_at FROM ratings WHERE conversation_id = $1")
                        .bind(conversation)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(|r| Rating { score: r.score, scale: r.scale, comment: r.comment, created_at: r.created_at }))
                })
            }

            async fn mark_read(&self, conversation: &ConversationId, reader: &str, up_to_seq: i64) -> $crate::store::Result<()> {
                let conversation = conversation.clone();
                let reader = reader.to_owned();
                run!(self.write, |c| {
                    let conversation = &conversation;
                    let reader = reader.as_str();
                    query(
                        "INSERT INTO read_markers (conversation_id, reader_id, last_read_seq) VALUES ($1, $2, $3)
                         ON CONFLICT (conversation_id, reader_id) DO UPDATE SET last_read_seq =
                            CASE WHEN excluded.last_read_seq > read_markers.last_read_seq THEN excluded.last_read_seq ELSE read_markers.last_read_seq END",
                    )
                    .bind(conversation)
                    .bind(reader)
                    .bind(up_to_seq)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }
        }
    };
}
