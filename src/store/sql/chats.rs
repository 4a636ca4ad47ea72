//! Conversations, messages and the live-chat lifecycle.

/// A chat summary; `$1` is the team, `$2` the asking agent.
macro_rules! summary_select {
    () => {
        concat!(
            "SELECT ",
            conversation_cols!(),
            ", b.name AS bot_name,
                v.id AS v_id, v.name AS v_name, v.email AS v_email, v.created_at AS v_created_at,
                a.id AS a_id, a.email AS a_email, a.first_name AS a_first, a.last_name AS a_last, a.avatar_version AS a_avatar,
                c.last_preview, c.last_author_kind, c.last_message_at,
                (SELECT COUNT(*) FROM messages um WHERE um.conversation_id = c.id
                    AND um.seq > COALESCE((SELECT r.last_read_seq FROM read_markers r WHERE r.conversation_id = c.id AND r.reader_id = $2), 0)
                    AND um.author_kind IN ('visitor', 'agent') AND um.author_id <> $2) AS unread_count
             FROM conversations c
             JOIN bots b ON b.id = c.bot_id
             JOIN visitors v ON v.id = c.visitor_id
             LEFT JOIN users a ON a.id = c.assignee_id
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

macro_rules! chat_store {
    ($Store:ty, $Db:ty, begin = $begin:literal, lock = $lock:literal) => {
        impl $Store {
            /// The agent as `decide` needs them, plus their profile for message authorship.
            async fn agent_facts(conn: &mut <$Db as sqlx::Database>::Connection, conv: &Conversation, user: &UserId) -> $crate::store::Result<(AgentFacts, User)> {
                #[derive(sqlx::FromRow)]
                struct Row {
                    #[sqlx(flatten)]
                    user: UserRow,
                    status: Status,
                }
                let row: Row = sqlx::query_as(concat!("SELECT ", user_cols!(), ", u.status FROM users u WHERE u.id = $1"))
                    .bind(user)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                let membership: Option<MembershipRow> = sqlx::query_as(concat!("SELECT ", membership_cols!(), " FROM members m WHERE m.team_id = $1 AND m.user_id = $2"))
                    .bind(&conv.team_id)
                    .bind(user)
                    .fetch_optional(&mut *conn)
                    .await?;
                let membership: Option<Membership> = membership.map(Into::into);
                let user: User = row.user.into();
                let facts = AgentFacts {
                    id: user.id.clone(),
                    display_name: user.display_name(),
                    has_access: membership.as_ref().is_some_and(|m| m.role.can_chat() && m.bot_access.reaches(&conv.bot_id)),
                    is_admin: membership.as_ref().is_some_and(|m| m.role.is_admin()),
                    status: row.status,
                };
                Ok((facts, user))
            }

            /// Loads, decides, writes. Runs inside the caller's transaction so that other writes
            /// (removing a member) can requeue chats atomically with their own change.
            pub(crate) async fn apply_in(tx: &mut sqlx::Transaction<'static, $Db>, id: &ConversationId, act: Act, now: i64) -> $crate::store::Result<Applied> {
                // The conversation (locked until commit) and its bot's escalation settings in one
                // statement: every statement is a round trip, and this path runs per message.
                #[derive(sqlx::FromRow)]
                struct Locked {
                    #[sqlx(flatten)]
                    conv: ConversationRow,
                    human_escalation: bool,
                    human_only: bool,
                    auto_escalate_unanswered: bool,
                }
                let row: Option<Locked> = sqlx::query_as(concat!(
                    "SELECT ", conversation_cols!(), ",
                        (SELECT b.human_escalation FROM bots b WHERE b.id = c.bot_id) AS human_escalation,
                        (SELECT b.human_only FROM bots b WHERE b.id = c.bot_id) AS human_only,
                        (SELECT b.auto_escalate_unanswered FROM bots b WHERE b.id = c.bot_id) AS auto_escalate_unanswered
                     FROM conversations c WHERE c.id = $1", $lock
                ))
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                let Locked { conv, human_escalation, human_only, auto_escalate_unanswered } = row.ok_or(StoreError::NotFound)?;
                let conv: Conversation = conv.into();

                // A visitor token reaches that visitor's conversations only.
                if let Act::VisitorMessage { visitor, .. } | Act::ResolveByVisitor { visitor } | Act::EscalateByVisitor { visitor } = &act {
                    if conv.visitor_id != *visitor {
                        return Err(StoreError::NotFound);
                    }
                }

                // A repeated client_id from the same author returns the first message.
                let idempotency = match &act {
                    Act::VisitorMessage { visitor, client_id: Some(c), .. } => Some((visitor.to_string(), c.as_str().to_string())),
                    Act::AgentMessage { agent, client_id: Some(c), .. } | Act::Note { agent, client_id: Some(c), .. } => Some((agent.to_string(), c.as_str().to_string())),
                    _ => None,
                };
                if let Some((author, client_id)) = &idempotency {
                    let first: Option<MessageRow> = sqlx::query_as(concat!(message_select!(), " WHERE m.conversation_id = $1 AND m.author_id = $2 AND m.client_id = $3"))
                        .bind(id)
                        .bind(author)
                        .bind(client_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                    if let Some(first) = first {
                        return Ok(Applied { conversation: conv, messages: vec![first.into()], state_changed: false, bot_replies: false, replayed: true, previous_assignee: None, event: None });
                    }
                }

                // The assignee's name appears only in the lines transfers and requeues write.
                let named = matches!(act, Act::Transfer { .. } | Act::Requeue(_));
                let assignee = match &conv.assignee_id {
                    Some(a) if !named => Some((a.clone(), String::new())),
                    Some(a) => {
                        let u: Option<UserRow> = sqlx::query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1")).bind(a).fetch_optional(&mut **tx).await?;
                        u.map(|u| { let u: User = u.into(); (u.id.clone(), u.display_name()) })
                    }
                    None => None,
                };
                let facts = ChatFacts { state: conv.state, assignee, human_escalation, human_only, auto_escalate_unanswered };

                // Translate the act into a command with facts; note who authors its message.
                let agent_author = |u: &User| Author { kind: AuthorKind::Agent, id: Some(u.id.to_string()), display_name: Some(u.display_name()), avatar_url: u.avatar_url() };
                let mut content: Option<(Author, MessageBody, Option<ClientId>)> = None;
                let cmd = match act {
                    Act::Escalate(trigger) => Command::Escalate(trigger),
                    Act::EscalateByVisitor { .. } => Command::Escalate(Trigger::VisitorRequest),
                    Act::ResolveByVisitor { .. } => Command::Resolve(Resolver::Visitor),
                    Act::Requeue(reason) => {
                        // The sweeper found the assignee gone; make sure they still are, under the lock.
                        if reason == RequeueReason::WentOffline {
                            let gone: Option<(String, Option<String>)> = sqlx::query_as("SELECT status, status_reason FROM users WHERE id = $1")
                                .bind(&conv.assignee_id)
                                .fetch_optional(&mut **tx)
                                .await?;
                            if !matches!(gone, Some((s, Some(r))) if s == "offline" && r == "heartbeat_expired") {
                                return Err(TransitionError::AssigneeReturned.into());
                            }
                        }
                        Command::Requeue(reason)
                    }
                    Act::VisitorMessage { visitor, name, body, client_id } => {
                        let author = Author { kind: AuthorKind::Visitor, id: Some(visitor.to_string()), display_name: name.filter(|n| !n.is_empty()), avatar_url: None };
                        content = Some((author, body, client_id));
                        Command::VisitorMessage
                    }
                    Act::BotReply { body, unanswered } => {
                        content = Some((Author { kind: AuthorKind::Bot, id: None, display_name: None, avatar_url: None }, body, None));
                        Command::BotReply { unanswered }
                    }
                    Act::Claim { agent } => Command::Claim(Self::agent_facts(&mut **tx, &conv, &agent).await?.0),
                    Act::ResolveByAgent { agent } => Command::Resolve(Resolver::Agent(Self::agent_facts(&mut **tx, &conv, &agent).await?.0)),
                    Act::AgentMessage { agent, body, client_id } => {
                        let (facts, user) = Self::agent_facts(&mut **tx, &conv, &agent).await?;
                        content = Some((agent_author(&user), body, client_id));
                        Command::AgentMessage(facts)
                    }
                    Act::Note { agent, body, client_id } => {
                        let (facts, user) = Self::agent_facts(&mut **tx, &conv, &agent).await?;
                        content = Some((agent_author(&user), body, client_id));
                        Command::Note(facts)
                    }
                    Act::Transfer { by, to } => {
                        let by = Self::agent_facts(&mut **tx, &conv, &by).await?.0;
                        // An unknown target is "not available", not a 404 of the chat itself.
                        let to = match Self::agent_facts(&mut **tx, &conv, &to).await {
                            Ok((facts, _)) => facts,
                            Err(StoreError::NotFound) => return Err(TransitionError::AgentNotAvailable.into()),
                            Err(e) => return Err(e),
                        };
                        Command::Transfer { by, to }
                    }
                };

                let decision = decide(&facts, &cmd)?;

                // The command's own message and the system line, in the order decide asked for.
                let own = match (decision.post, content) {
                    (Post::Nothing, _) => None,
                    (post, Some((author, body, client_id))) => Some((author, body, post == Post::Internal, client_id.map(|c| c.as_str().to_string()), None)),
                    (_, None) => return Err(StoreError::Invalid("body: required".into())),
                };
                let system = decision.event.as_ref().map(|e| {
                    let author = Author { kind: AuthorKind::System, id: None, display_name: None, avatar_url: None };
                    (author, MessageBody::system(&e.text()), false, None, Some(e.kind()))
                });
                let ordered = if decision.event_first { [system, own] } else { [own, system] };
                let mut written = Vec::with_capacity(2);
                let mut seq = conv.last_seq;
                for (author, body, internal, client_id, event) in ordered.into_iter().flatten() {
                    seq += 1;
                    let m = Message { id: MessageId::new(), conversation_id: conv.id.clone(), seq, author, body, internal, client_id, event, created_at: now };
                    Self::insert_message(tx, &m).await?;
                    written.push(m);
                }

                let state_changed = decision.changes_state(&facts);
                let escalated_at = if conv.escalated_at.is_none() && decision.state.is_live() { Some(now) } else { conv.escalated_at };
                let resolved_at = if decision.state == ChatState::Resolved { conv.resolved_at.or(Some(now)) } else { None };
                let last_activity_at = if written.is_empty() && !state_changed { conv.last_activity_at } else { now };
                // The list preview shows the last thing someone said, not system lines.
                let said = written.iter().rev().find(|m| m.author.kind != AuthorKind::System);
                sqlx::query(
                    "UPDATE conversations SET state = $2, assignee_id = $3, escalated_at = $4, resolved_at = $5, last_activity_at = $6, last_seq = $7,
                        last_preview = COALESCE($8, last_preview), last_author_kind = COALESCE($9, last_author_kind), last_message_at = COALESCE($10, last_message_at)
                     WHERE id = $1",
                )
                .bind(&conv.id)
                .bind(decision.state.as_str())
                .bind(&decision.assignee)
                .bind(escalated_at)
                .bind(resolved_at)
                .bind(last_activity_at)
                .bind(seq)
                .bind(said.map(|m| m.body.preview(140)))
                .bind(said.map(|m| m.author.kind.as_str()))
                .bind(said.map(|m| m.created_at))
                .execute(&mut **tx)
                .await?;

                let previous_assignee = conv.assignee_id.clone();
                let conversation = Conversation { state: decision.state, assignee_id: decision.assignee.clone(), escalated_at, resolved_at, last_activity_at, last_seq: seq, ..conv };
                Ok(Applied { conversation, messages: written, state_changed, bot_replies: decision.bot_replies, replayed: false, previous_assignee, event: decision.event })
            }

            /// One command in a transaction of its own.
            pub(crate) async fn apply_alone(&self, conversation: &ConversationId, act: Act, now: i64) -> $crate::store::Result<Applied> {
                let mut tx = self.write().begin_with($begin).await?;
                let applied = Self::apply_in(&mut tx, conversation, act, now).await?;
                if !applied.replayed {
                    tx.commit().await?;
                }
                Ok(applied)
            }

            async fn insert_message(tx: &mut sqlx::Transaction<'static, $Db>, m: &Message) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO messages (id, conversation_id, seq, author_kind, author_id, body, text, internal, client_id, event, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                .bind(m.created_at)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn current_in(conn: &mut <$Db as sqlx::Database>::Connection, visitor: &VisitorId) -> $crate::store::Result<Option<Conversation>> {
                let row: Option<ConversationRow> = sqlx::query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.visitor_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 1"))
                    .bind(visitor)
                    .fetch_optional(&mut *conn)
                    .await?;
                Ok(row.map(Into::into))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::ChatStore for $Store {
            async fn current_conversation(&self, visitor: &VisitorId) -> $crate::store::Result<Option<Conversation>> {
                let mut conn = self.read().acquire().await?;
                Self::current_in(&mut conn, visitor).await
            }

            async fn start_conversation(&self, visitor: &VisitorId, bot: &BotId, now: i64) -> $crate::store::Result<Conversation> {
                let mut tx = self.write().begin_with($begin).await?;
                if let Some(open) = Self::current_in(&mut tx, visitor).await? {
                    if open.state != ChatState::Resolved {
                        return Err(StoreError::Conflict("conversation_open", "the current conversation is still open".into()));
                    }
                }
                let (team_id, greeting): (TeamId, String) = sqlx::query_as("SELECT team_id, greeting FROM bots WHERE id = $1").bind(bot).fetch_one(&mut *tx).await?;
                let id = ConversationId::new();
                sqlx::query("INSERT INTO conversations (id, team_id, bot_id, visitor_id, state, created_at, last_activity_at, last_seq) VALUES ($1, $2, $3, $4, 'bot', $5, $5, 0)")
                    .bind(&id)
                    .bind(&team_id)
                    .bind(bot)
                    .bind(visitor)
                    .bind(now)
                    .execute(&mut *tx)
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
                        created_at: now,
                    };
                    Self::insert_message(&mut tx, &m).await?;
                    sqlx::query("UPDATE conversations SET last_seq = 1, last_preview = $2, last_author_kind = 'bot', last_message_at = $3 WHERE id = $1")
                        .bind(&id)
                        .bind(m.body.preview(140))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
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
                })
            }

            async fn conversation(&self, id: &ConversationId) -> $crate::store::Result<Option<Conversation>> {
                let row: Option<ConversationRow> = sqlx::query_as(concat!("SELECT ", conversation_cols!(), " FROM conversations c WHERE c.id = $1")).bind(id).fetch_optional(self.read()).await?;
                Ok(row.map(Into::into))
            }

            async fn messages(&self, conversation: &ConversationId, after_seq: i64, include_internal: bool) -> $crate::store::Result<Vec<Message>> {
                let rows: Vec<MessageRow> = sqlx::query_as(concat!(message_select!(), " WHERE m.conversation_id = $1 AND m.seq > $2 AND ($3 OR NOT m.internal) ORDER BY m.seq"))
                    .bind(conversation)
                    .bind(after_seq)
                    .bind(include_internal)
                    .fetch_all(self.read())
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn apply(&self, conversation: &ConversationId, act: Act, now: i64) -> $crate::store::Result<Applied> {
                // Each backend decides how writes meet a transaction (SQLite batches them).
                self.apply_write(conversation, act, now).await
            }

            async fn live_chats(&self, scope: &AgentScope, q: &ChatQuery) -> $crate::store::Result<(Vec<ChatSummary>, Option<ChatCursor>)> {
                let sql = match q.view {
                    ChatView::Inbox => list_page!(" AND c.state IN ('pending', 'active', 'transferred')"),
                    ChatView::Mine => list_page!(" AND c.assignee_id = $2 AND c.state IN ('active', 'transferred')"),
                    ChatView::Resolved => list_page!(" AND c.state = 'resolved'"),
                };
                let rows: Vec<SummaryRow> = sqlx::query_as(sql)
                    .bind(&scope.team)
                    .bind(&scope.user)
                    .bind(&q.bot)
                    .bind(q.after.as_ref().map(|c| c.at))
                    .bind(q.after.as_ref().map(|c| c.id.clone()))
                    .bind(q.limit + 1)
                    .fetch_all(self.read())
                    .await?;
                let mut items: Vec<ChatSummary> = rows.into_iter().map(Into::into).collect();
                let next = if items.len() as i64 > q.limit {
                    items.truncate(q.limit as usize);
                    items.last().map(|s| ChatCursor { at: s.conversation.last_activity_at, id: s.conversation.id.to_string() })
                } else {
                    None
                };
                Ok((items, next))
            }

            async fn live_chat(&self, scope: &AgentScope, id: &ConversationId) -> $crate::store::Result<Option<ChatSummary>> {
                let row: Option<SummaryRow> = sqlx::query_as(concat!(summary_select!(), " AND c.id = $3"))
                    .bind(&scope.team)
                    .bind(&scope.user)
                    .bind(id)
                    .fetch_optional(self.read())
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn mark_read(&self, conversation: &ConversationId, reader: &str, up_to_seq: i64) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO read_markers (conversation_id, reader_id, last_read_seq) VALUES ($1, $2, $3)
                     ON CONFLICT (conversation_id, reader_id) DO UPDATE SET last_read_seq =
                        CASE WHEN excluded.last_read_seq > read_markers.last_read_seq THEN excluded.last_read_seq ELSE read_markers.last_read_seq END",
                )
                .bind(conversation)
                .bind(reader)
                .bind(up_to_seq)
                .execute(self.write())
                .await?;
                Ok(())
            }
        }
    };
}
