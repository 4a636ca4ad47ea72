//! Outgoing webhooks: their settings, the outbox of deliveries (written with the changes they
//! announce, see [`crate::store::write`]) and its attempts, and the mail outbox.

/// Columns of [`WebhookRow`] (unqualified).
macro_rules! webhook_cols {
    () => {
        "id, team_id, name, url, secret, events, enabled, disabled_at, disabled_reason, failing_since, consecutive_failures, created_at"
    };
}

/// Columns of [`DeliveryRow`] (unqualified).
macro_rules! delivery_cols {
    () => {
        "id, webhook_id, event_id, event, payload, state, attempts, next_attempt_at, last_status, last_error, last_attempt_at, created_at, done_at"
    };
}

macro_rules! webhook_store {
    ($Store:ty, $Db:ty, skip_locked = $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::WebhookStore for $Store {
            async fn create_webhook(&self, w: &Webhook, created_by: &UserId) -> $crate::store::Result<()> {
                let w = w.clone();
                let created_by = created_by.clone();
                run!(self.write, |c| {
                    query(concat!("INSERT INTO webhooks (", webhook_cols!(), ", created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
                        .bind(&w.id)
                        .bind(&w.team_id)
                        .bind(&w.name)
                        .bind(&w.url)
                        .bind(&w.secret)
                        .bind(serde_json::to_string(&w.events).expect("events serialise"))
                        .bind(w.enabled)
                        .bind(w.disabled_at)
                        .bind(&w.disabled_reason)
                        .bind(w.failing_since)
                        .bind(w.consecutive_failures)
                        .bind(w.created_at)
                        .bind(&created_by)
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            }

            async fn webhooks(&self, team: &TeamId) -> $crate::store::Result<Vec<Webhook>> {
                let team = team.clone();
                run!(self.read, |c| {
                    let rows: Vec<WebhookRow> = query_as(concat!("SELECT ", webhook_cols!(), " FROM webhooks WHERE team_id = $1 ORDER BY created_at, id"))
                        .bind(&team)
                        .fetch_all(&mut *c)
                        .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn webhook(&self, id: &WebhookId) -> $crate::store::Result<Option<Webhook>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let row: Option<WebhookRow> =
                        query_as(concat!("SELECT ", webhook_cols!(), " FROM webhooks WHERE id = $1")).bind(&id).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn update_webhook(&self, id: &WebhookId, p: WebhookPatch, now: i64) -> $crate::store::Result<Webhook> {
                let id = id.clone();
                run!(self.write, |c| {
                    let events = p.events.as_ref().map(|e| serde_json::to_string(e).expect("events serialise"));
                    let row: Option<WebhookRow> = query_as(concat!(
                        "UPDATE webhooks SET name = COALESCE($2, name), url = COALESCE($3, url), events = COALESCE($4, events),
                            secret = COALESCE($5, secret),
                            -- Turned back on: a fresh start, its failure run forgotten.
                            failing_since = CASE WHEN $6 AND NOT enabled THEN NULL ELSE failing_since END,
                            consecutive_failures = CASE WHEN $6 AND NOT enabled THEN 0 ELSE consecutive_failures END,
                            disabled_at = CASE WHEN $6 THEN NULL WHEN $7 AND enabled THEN $8 ELSE disabled_at END,
                            disabled_reason = CASE WHEN $6 THEN NULL WHEN $7 AND enabled THEN 'turned off by an admin' ELSE disabled_reason END,
                            enabled = CASE WHEN $6 THEN TRUE WHEN $7 THEN FALSE ELSE enabled END
                         WHERE id = $1 RETURNING ",
                        webhook_cols!()
                    ))
                    .bind(&id)
                    .bind(&p.name)
                    .bind(&p.url)
                    .bind(&events)
                    .bind(&p.secret)
                    .bind(p.enabled == Some(true))
                    .bind(p.enabled == Some(false))
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                    row.map(Into::into).ok_or(StoreError::NotFound)
                })
            }

            async fn delete_webhook(&self, id: &WebhookId) -> $crate::store::Result<bool> {
                let id = id.clone();
                run!(self.write, |c| {
                    let r = query("DELETE FROM webhooks WHERE id = $1").bind(&id).execute(&mut *c).await?;
                    Ok(r.rows_affected() > 0)
                })
            }

            async fn deliveries(&self, webhook: &WebhookId, before: Option<(i64, String)>, limit: i64) -> $crate::store::Result<Vec<Delivery>> {
                let webhook = webhook.clone();
                run!(self.read, |c| {
                    let (at, id) = match &before {
                        Some((at, id)) => (Some(*at), Some(id.clone())),
                        None => (None, None),
                    };
                    let rows: Vec<DeliveryRow> = query_as(concat!(
                        "SELECT ",
                        delivery_cols!(),
                        " FROM webhook_deliveries WHERE webhook_id = $1 AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3))
                          ORDER BY created_at DESC, id DESC LIMIT $4"
                    ))
                    .bind(&webhook)
                    .bind(at)
                    .bind(&id)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn redeliver(&self, webhook: &WebhookId, delivery: &str, now: i64) -> $crate::store::Result<bool> {
                let webhook = webhook.clone();
                let delivery = delivery.to_string();
                run!(self.write, |c| {
                    let r = query(
                        "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $3, done_at = NULL
                         WHERE id = $1 AND webhook_id = $2",
                    )
                    .bind(&delivery)
                    .bind(&webhook)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(r.rows_affected() > 0)
                })
            }

            async fn claim_deliveries(&self, now: i64, lease: i64, limit: i64) -> $crate::store::Result<Vec<(Delivery, Webhook)>> {
                // Most passes find nothing: a read answers that without taking the writer.
                let any = run!(self.read, |c| {
                    let due: Option<i64> =
                        query_scalar("SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1").bind(now).fetch_optional(&mut *c).await?;
                    Ok::<_, StoreError>(due.is_some())
                })?;
                if !any {
                    return Ok(Vec::new());
                }
                run!(self.write, |c| {
                    let ids: Vec<String> = query_scalar(concat!(
                        // Only the deliveries are locked (the webhook rows stay free for the chat
                        // writes that queue more).
                        "SELECT d.id FROM webhook_deliveries d
                         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.webhook_id IN (SELECT w.id FROM webhooks w WHERE w.enabled)
                         ORDER BY d.next_attempt_at, d.id LIMIT $2",
                        $skip
                    ))
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    let mut out = Vec::with_capacity(ids.len());
                    for id in ids {
                        let d: DeliveryRow = query_as(concat!(
                            "UPDATE webhook_deliveries SET next_attempt_at = $2, attempts = attempts + 1, last_attempt_at = $3 WHERE id = $1 RETURNING ",
                            delivery_cols!()
                        ))
                        .bind(&id)
                        .bind(now + lease)
                        .bind(now)
                        .fetch_one(&mut *c)
                        .await?;
                        let d: Delivery = d.into();
                        let w: WebhookRow =
                            query_as(concat!("SELECT ", webhook_cols!(), " FROM webhooks WHERE id = $1")).bind(&d.webhook_id).fetch_one(&mut *c).await?;
                        out.push((d, w.into()));
                    }
                    Ok(out)
                })
            }

            async fn record_attempt(&self, delivery: &str, attempt: Attempt, now: i64) -> $crate::store::Result<Option<Webhook>> {
                let delivery = delivery.to_string();
                run!(self.write, |c| {
                    let webhook: Option<WebhookId> =
                        query_scalar("SELECT webhook_id FROM webhook_deliveries WHERE id = $1").bind(&delivery).fetch_optional(&mut *c).await?;
                    let Some(webhook) = webhook else { return Ok(None) };
                    // The webhook's row is held until commit (an update of no key column, so the
                    // chat writes queueing deliveries for it never wait): attempts of its
                    // deliveries finishing at once are recorded one after the other.
                    let enabled: bool = query_scalar("UPDATE webhooks SET consecutive_failures = consecutive_failures WHERE id = $1 RETURNING enabled")
                        .bind(&webhook)
                        .fetch_one(&mut *c)
                        .await?;
                    // Turned off while this attempt was on its way (by another delivery's
                    // failure, or an admin): no retry is left waiting.
                    let attempt = match attempt {
                        Attempt::Retry { status, error, .. } if !enabled => Attempt::Failed { status, error },
                        other => other,
                    };
                    let (state, next, status, error) = match &attempt {
                        Attempt::Delivered { status } => ("delivered", None, Some(*status), None),
                        Attempt::Retry { at, status, error } => ("pending", Some(*at), *status, Some(error.clone())),
                        Attempt::Failed { status, error } => ("failed", None, *status, Some(error.clone())),
                    };
                    query(
                        "UPDATE webhook_deliveries SET state = $2, next_attempt_at = COALESCE($3, next_attempt_at), last_status = $4, last_error = $5,
                            done_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $6 END
                         WHERE id = $1",
                    )
                    .bind(&delivery)
                    .bind(state)
                    .bind(next)
                    .bind(status)
                    .bind(&error)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    if matches!(attempt, Attempt::Delivered { .. }) {
                        query("UPDATE webhooks SET failing_since = NULL, consecutive_failures = 0 WHERE id = $1").bind(&webhook).execute(&mut *c).await?;
                        return Ok(None);
                    }
                    let w: WebhookRow = query_as(concat!(
                        "UPDATE webhooks SET failing_since = COALESCE(failing_since, $2), consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING ",
                        webhook_cols!()
                    ))
                    .bind(&webhook)
                    .bind(now)
                    .fetch_one(&mut *c)
                    .await?;
                    let w: Webhook = w.into();
                    let since = w.failing_since.unwrap_or(now);
                    if !w.enabled || !$crate::domain::webhook::should_disable(since, w.consecutive_failures, now) {
                        return Ok(None);
                    }
                    let reason = format!("every delivery failed for a day (last: {})", error.as_deref().unwrap_or("no answer"));
                    let off: WebhookRow = query_as(concat!(
                        "UPDATE webhooks SET enabled = FALSE, disabled_at = $2, disabled_reason = $3 WHERE id = $1 RETURNING ",
                        webhook_cols!()
                    ))
                    .bind(&webhook)
                    .bind(now)
                    .bind(&reason)
                    .fetch_one(&mut *c)
                    .await?;
                    query(
                        "UPDATE webhook_deliveries SET state = 'failed', done_at = $2, last_error = COALESCE(last_error, 'the webhook was turned off')
                         WHERE webhook_id = $1 AND state = 'pending'",
                    )
                    .bind(&webhook)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(Some(off.into()))
                })
            }

            async fn prune_deliveries(&self, before: i64) -> $crate::store::Result<u64> {
                let old = run!(self.read, |c| {
                    let any: Option<i64> = query_scalar("SELECT 1 FROM webhook_deliveries WHERE created_at < $1 AND state <> 'pending' LIMIT 1")
                        .bind(before)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok::<_, StoreError>(any.is_some())
                })?;
                if !old {
                    return Ok(0);
                }
                run!(self.write, |c| {
                    let r = query("DELETE FROM webhook_deliveries WHERE created_at < $1 AND state <> 'pending'").bind(before).execute(&mut *c).await?;
                    Ok(r.rows_affected())
                })
            }

            async fn queue_mail(&self, to: &str, subject: &str, body: &str, now: i64) -> $crate::store::Result<()> {
                let (to, subject, body) = (to.to_string(), subject.to_string(), body.to_string());
                run!(self.write, |c| {
                    query(
                        "INSERT INTO mail_outbox (id, to_address, subject, body, state, attempts, due_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
                    )
                    .bind(uuid::Uuid::now_v7().to_string())
                    .bind(&to)
                    .bind(&subject)
                    .bind(&body)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }

            async fn claim_mail(&self, now: i64, limit: i64) -> $crate::store::Result<Vec<Mail>> {
                let any = run!(self.read, |c| {
                    let due: Option<i64> =
                        query_scalar("SELECT 1 FROM mail_outbox WHERE state = 'pending' AND due_at <= $1 LIMIT 1").bind(now).fetch_optional(&mut *c).await?;
                    Ok::<_, StoreError>(due.is_some())
                })?;
                if !any {
                    return Ok(Vec::new());
                }
                run!(self.write, |c| {
                    let rows: Vec<(String, String, String, String, i64)> = query_as(concat!(
                        "SELECT id, to_address, subject, body, attempts FROM mail_outbox WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id LIMIT $2",
                        $skip
                    ))
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    for r in &rows {
                        query("UPDATE mail_outbox SET attempts = attempts + 1, due_at = $2 WHERE id = $1").bind(&r.0).bind(now + 60_000).execute(&mut *c).await?;
                    }
                    Ok(rows.into_iter().map(|(id, to, subject, body, attempts)| Mail { id, to, subject, body, attempts: attempts + 1 }).collect())
                })
            }

            async fn mail_done(&self, id: &str, state: &'static str, error: Option<&str>, retry_at: Option<i64>, now: i64) -> $crate::store::Result<()> {
                let (id, error) = (id.to_string(), error.map(str::to_string));
                run!(self.write, |c| {
                    match retry_at {
                        Some(at) => query("UPDATE mail_outbox SET due_at = $2, last_error = $3 WHERE id = $1").bind(&id).bind(at).bind(&error).execute(&mut *c).await?,
                        None => {
                            query("UPDATE mail_outbox SET state = $2, last_error = $3, done_at = $4, body = '' WHERE id = $1")
                                .bind(&id)
                                .bind(state)
                                .bind(&error)
                                .bind(now)
                                .execute(&mut *c)
                                .await?
                        }
                    };
                    Ok(())
                })
            }
        }
    };
}
