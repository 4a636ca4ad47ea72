//! Notification preferences, push subscriptions, the push and email outboxes, instance keys,
//! and visitor resume tokens.

/// Columns of a push subscription from `push_subscriptions s`.
macro_rules! subscription_cols {
    () => {
        "s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.user_agent, s.created_at, s.last_success_at, s.last_error, s.last_error_at"
    };
}

macro_rules! notify_store {
    ($Store:ty, $Db:ty, skip_locked = $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::NotifyStore for $Store {
            async fn prefs(&self, user: &UserId) -> $crate::store::Result<Prefs> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    let row: Option<PrefsRow> = query_as("SELECT while_online, while_offline, new_escalation, visitor_message, transfer FROM notification_prefs WHERE user_id = $1")
                        .bind(user)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(Into::into).unwrap_or_default())
                })
            }

            async fn set_prefs(&self, user: &UserId, p: &Prefs) -> $crate::store::Result<()> {
                let user = user.clone();
                let p = p.clone();
                run!(self.write, |c| {
                    let user = &user;
                    let p = &p;
                    query(
                        "INSERT INTO notification_prefs (user_id, while_online, while_offline, new_escalation, visitor_message, transfer) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (user_id) DO UPDATE SET while_online = excluded.while_online, while_offline = excluded.while_offline,
                            new_escalation = excluded.new_escalation, visitor_message = excluded.visitor_message, transfer = excluded.transfer",
                    )
                    .bind(user)
                    .bind(p.while_online)
                    .bind(p.while_offline)
                    .bind(p.new_escalation)
                    .bind(p.visitor_message)
                    .bind(p.transfer)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }

            async fn add_push_subscription(&self, s: &PushSubscription) -> $crate::store::Result<()> {
                let s = s.clone();
                run!(self.write, |c| {
                    let s = &s;
                    query(
                        "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
                            user_agent = excluded.user_agent, last_error = NULL, last_error_at = NULL",
                    )
                    .bind(&s.id)
                    .bind(&s.user_id)
                    .bind(&s.endpoint)
                    .bind(&s.p256dh)
                    .bind(&s.auth)
                    .bind(&s.user_agent)
                    .bind(s.created_at)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }

            async fn remove_push_subscription(&self, user: &UserId, endpoint: &str) -> $crate::store::Result<bool> {
                let user = user.clone();
                let endpoint = endpoint.to_owned();
                run!(self.write, |c| {
                    let user = &user;
                    let endpoint = endpoint.as_str();
                    let r = query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2").bind(user).bind(endpoint).execute(&mut *c).await?;
                    Ok(r.rows_affected() > 0)
                })
            }

            async fn push_subscriptions(&self, user: &UserId) -> $crate::store::Result<Vec<PushSubscription>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    let rows: Vec<SubscriptionRow> = query_as(concat!("SELECT ", subscription_cols!(), " FROM push_subscriptions s WHERE s.user_id = $1 ORDER BY s.created_at, s.id"))
                        .bind(user)
                        .fetch_all(&mut *c)
                        .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn enqueue_push(&self, user: &UserId, payload: &str, now: i64) -> $crate::store::Result<usize> {
                let user = user.clone();
                let payload = payload.to_owned();
                run!(self.write, |c| {
                    let user = &user;
                    let payload = payload.as_str();
                    let r = query(
                        "INSERT INTO push_outbox (id, subscription_id, payload, attempts, next_attempt_at, created_at)
                         SELECT s.id || ':' || $3, s.id, $2, 0, $3, $3 FROM push_subscriptions s WHERE s.user_id = $1",
                    )
                    .bind(user)
                    .bind(payload)
                    .bind(now)
                    .execute(&mut *c)
                    .await;
                    match r {
                        Ok(r) => Ok(r.rows_affected() as usize),
                        // the same notification twice in one millisecond: once is enough
                        Err(e) if is_unique_violation(&e) => Ok(0),
                        Err(e) => Err(e.into()),
                    }
                })
            }

            async fn claim_pushes(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<PushJob>> {
                run!(self.write, |c| {
                    row! {
                    struct Row {
                        job_id: String,
                        payload: String,
                        attempts: i64,
                        #[flatten]
                        sub: SubscriptionRow,
                    }
                    }
                    let ids: Vec<String> = query_scalar(concat!("SELECT id FROM push_outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2", $skip))
                        .bind(now)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                    let mut jobs = Vec::with_capacity(ids.len());
                    for id in &ids {
                        // Leased for a minute: a crash mid-delivery retries it then.
                        query("UPDATE push_outbox SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1").bind(id).bind(now + 60_000).execute(&mut *c).await?;
                        let row: Row = query_as(concat!(
                            "SELECT o.id AS job_id, o.payload, o.attempts, ", subscription_cols!(),
                            " FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id WHERE o.id = $1"
                        ))
                        .bind(id)
                        .fetch_one(&mut *c)
                        .await?;
                        jobs.push(PushJob { id: row.job_id, payload: row.payload, attempts: row.attempts, subscription: row.sub.into() });
                    }
                    Ok(jobs)
                })
            }

            async fn push_delivered(&self, job: &str, subscription: &str, now: i64) -> $crate::store::Result<()> {
                let job = job.to_owned();
                let subscription = subscription.to_owned();
                run!(self.write, |c| {
                    let job = job.as_str();
                    let subscription = subscription.as_str();
                    query("DELETE FROM push_outbox WHERE id = $1").bind(job).execute(&mut *c).await?;
                    query("UPDATE push_subscriptions SET last_success_at = $2 WHERE id = $1").bind(subscription).bind(now).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn push_failed(&self, job: &str, subscription: &str, error: &str, now: i64, retry_at: Option<i64>) -> $crate::store::Result<()> {
                let job = job.to_owned();
                let subscription = subscription.to_owned();
                let error = error.to_owned();
                run!(self.write, |c| {
                    let job = job.as_str();
                    let subscription = subscription.as_str();
                    let error = error.as_str();
                    match retry_at {
                        Some(at) => query("UPDATE push_outbox SET next_attempt_at = $2 WHERE id = $1").bind(job).bind(at).execute(&mut *c).await?,
                        None => query("DELETE FROM push_outbox WHERE id = $1").bind(job).execute(&mut *c).await?,
                    };
                    query("UPDATE push_subscriptions SET last_error = $2, last_error_at = $3 WHERE id = $1").bind(subscription).bind(error).bind(now).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn push_gone(&self, subscription: &str) -> $crate::store::Result<()> {
                let subscription = subscription.to_owned();
                run!(self.write, |c| {
                    let subscription = subscription.as_str();
                    query("DELETE FROM push_subscriptions WHERE id = $1").bind(subscription).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn instance_key(&self, name: &str, candidate: &str) -> $crate::store::Result<String> {
                let name = name.to_owned();
                let candidate = candidate.to_owned();
                run!(self.write, |c| {
                    let name = name.as_str();
                    let candidate = candidate.as_str();
                    query("INSERT INTO instance_keys (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(name).bind(candidate).execute(&mut *c).await?;
                    Ok(query_scalar("SELECT value FROM instance_keys WHERE name = $1").bind(name).fetch_one(&mut *c).await?)
                })
            }

            async fn recipients(&self, bot: &BotId) -> $crate::store::Result<Vec<Recipient>> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    let bot = &bot;
                    let rows: Vec<RecipientRow> = query_as(concat!(
                        "SELECT u.id AS user_id, u.status, p.while_online, p.while_offline, p.new_escalation, p.visitor_message, p.transfer
                         FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id,
                              (SELECT b.id AS bot_id, b.team_id FROM bots b WHERE b.id = $1) c
                         WHERE ", chat_scope!("u.id"), " ORDER BY u.id"
                    ))
                    .bind(bot)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn recipient(&self, user: &UserId) -> $crate::store::Result<Option<Recipient>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    let row: Option<RecipientRow> = query_as(
                        "SELECT u.id AS user_id, u.status, p.while_online, p.while_offline, p.new_escalation, p.visitor_message, p.transfer
                         FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id WHERE u.id = $1",
                    )
                    .bind(user)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn due_pending_alerts(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<ConversationId>> {
                run!(self.read, |c| {
                    Ok(query_scalar(
                        "SELECT c.id FROM conversations c JOIN teams t ON t.id = c.team_id
                         WHERE c.state = 'pending' AND t.pending_alert_seconds > 0
                           AND COALESCE(c.alerted_at, c.escalated_at) + t.pending_alert_seconds * 1000 <= $1
                         ORDER BY c.escalated_at LIMIT $2",
                    )
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?)
                })
            }

            async fn take_pending_alert(&self, conversation: &ConversationId, now: i64) -> $crate::store::Result<bool> {
                let conversation = conversation.clone();
                run!(self.write, |c| {
                    let conversation = &conversation;
                    let r = query(
                        "UPDATE conversations SET alerted_at = $2
                         WHERE id = $1 AND state = 'pending'
                           AND COALESCE(alerted_at, escalated_at) + (SELECT t.pending_alert_seconds FROM teams t WHERE t.id = conversations.team_id) * 1000 <= $2",
                    )
                    .bind(conversation)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(r.rows_affected() == 1)
                })
            }

            async fn queue_transcript(&self, conversation: &ConversationId, to: &str, max: i64, now: i64) -> $crate::store::Result<bool> {
                let conversation = conversation.clone();
                let to = to.to_owned();
                run!(self.write, |c| {
                    let conversation = &conversation;
                    let asked: i64 = query_scalar("SELECT COUNT(*) FROM email_outbox WHERE conversation_id = $1 AND kind = 'transcript' AND state <> 'cancelled'")
                        .bind(conversation)
                        .fetch_one(&mut *c)
                        .await?;
                    if asked >= max {
                        return Err(StoreError::Conflict("transcript_limit", format!("a transcript of this chat can be sent at most {max} times")));
                    }
                    let r = query(
                        "INSERT INTO email_outbox (id, conversation_id, state, due_at, from_seq, attempts, created_at, kind, to_address)
                         VALUES ($1, $2, 'pending', $3, 0, 0, $3, 'transcript', $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(conversation)
                    .bind(now)
                    .bind(&to)
                    .execute(&mut *c)
                    .await?;
                    Ok(r.rows_affected() > 0)
                })
            }

            async fn schedule_email(&self, conversation: &ConversationId, from_seq: i64, due_at: i64, now: i64) -> $crate::store::Result<bool> {
                let conversation = conversation.clone();
                run!(self.write, |c| {
                    let conversation = &conversation;
                    let r = query(
                        "INSERT INTO email_outbox (id, conversation_id, state, due_at, from_seq, attempts, created_at) VALUES ($1, $2, 'pending', $3, $4, 0, $5)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(conversation)
                    .bind(due_at)
                    .bind(from_seq)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(r.rows_affected() > 0)
                })
            }

            async fn claim_emails(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<EmailJob>> {
                run!(self.write, |c| {
                    row! {
                    struct Row {
                        id: String,
                        conversation_id: ConversationId,
                        from_seq: i64,
                        attempts: i64,
                        kind: String,
                        to_address: Option<String>,
                    }
                    }
                    let due: Vec<Row> = query_as(concat!(
                        "SELECT id, conversation_id, from_seq, attempts, kind, to_address FROM email_outbox WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2", $skip
                    ))
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    for job in &due {
                        query("UPDATE email_outbox SET attempts = attempts + 1, due_at = $2 WHERE id = $1").bind(&job.id).bind(now + 60_000).execute(&mut *c).await?;
                    }
                    Ok(due
                        .into_iter()
                        .map(|r| EmailJob {
                            id: r.id,
                            kind: if r.kind == "transcript" { EmailKind::Transcript } else { EmailKind::Reply },
                            to: r.to_address,
                            conversation_id: r.conversation_id,
                            from_seq: r.from_seq,
                            attempts: r.attempts + 1,
                        })
                        .collect())
                })
            }

            async fn email_done(&self, id: &str, state: &'static str, error: Option<&str>, now: i64) -> $crate::store::Result<()> {
                let id = id.to_owned();
                let error = error.map(str::to_owned);
                run!(self.write, |c| {
                    let id = id.as_str();
                    let error = error.as_deref();
                    query("UPDATE email_outbox SET state = $2, last_error = $3, done_at = $4 WHERE id = $1").bind(id).bind(state).bind(error).bind(now).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn email_later(&self, id: &str, due_at: i64, error: Option<&str>) -> $crate::store::Result<()> {
                let id = id.to_owned();
                let error = error.map(str::to_owned);
                run!(self.write, |c| {
                    let id = id.as_str();
                    let error = error.as_deref();
                    query("UPDATE email_outbox SET due_at = $2, last_error = $3 WHERE id = $1").bind(id).bind(due_at).bind(error).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn read_marker(&self, conversation: &ConversationId, reader: &str) -> $crate::store::Result<i64> {
                let conversation = conversation.clone();
                let reader = reader.to_owned();
                run!(self.read, |c| {
                    let conversation = &conversation;
                    let reader = reader.as_str();
                    let seq: Option<i64> = query_scalar("SELECT last_read_seq FROM read_markers WHERE conversation_id = $1 AND reader_id = $2")
                        .bind(conversation)
                        .bind(reader)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(seq.unwrap_or(0))
                })
            }

            async fn add_resume_token(&self, visitor: &VisitorId, token_hash: &str, expires_at: i64) -> $crate::store::Result<()> {
                let visitor = visitor.clone();
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let visitor = &visitor;
                    let token_hash = token_hash.as_str();
                    query("INSERT INTO visitor_resume (token_hash, visitor_id, expires_at) VALUES ($1, $2, $3)").bind(token_hash).bind(visitor).bind(expires_at).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn resume_visitor(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<Visitor>> {
                let token_hash = token_hash.to_owned();
                run!(self.read, |c| {
                    let token_hash = token_hash.as_str();
                    let row: Option<VisitorRow> = query_as(concat!(
                        "SELECT ", visitor_cols!(), " FROM visitor_resume r JOIN visitors v ON v.id = r.visitor_id WHERE r.token_hash = $1 AND r.expires_at > $2"
                    ))
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn add_visitor_token(&self, visitor: &VisitorId, token_hash: &str, now: i64) -> $crate::store::Result<()> {
                let visitor = visitor.clone();
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let visitor = &visitor;
                    let token_hash = token_hash.as_str();
                    query("INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES ($1, $2, $3)").bind(token_hash).bind(visitor).bind(now).execute(&mut *c).await?;
                    Ok(())
                })
            }
        }
    };
}
