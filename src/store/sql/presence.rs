//! Agent presence: status changes under the user's row lock, and the sweeper's queries.

macro_rules! presence_store {
    ($Store:ty, $Db:ty, begin = $begin:literal, lock = $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::PresenceStore for $Store {
            async fn presence_signal(&self, user: &UserId, input: PresenceInput, now: i64) -> $crate::store::Result<PresenceChange> {
                #[derive(sqlx::FromRow)]
                struct Row {
                    status: Status,
                    status_source: Source,
                    status_reason: Option<Reason>,
                    resume_status: Option<Status>,
                    resume_source: Option<Source>,
                    last_heartbeat_at: Option<i64>,
                    last_activity_at: Option<i64>,
                    last_active_at: Option<i64>,
                    active_team_id: Option<TeamId>,
                }
                let mut tx = self.write().begin_with($begin).await?;
                let row: Row = sqlx::query_as(concat!(
                    "SELECT status, status_source, status_reason, resume_status, resume_source, last_heartbeat_at, last_activity_at, last_active_at, active_team_id
                     FROM users WHERE id = $1", $lock
                ))
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let before = $crate::domain::presence::State {
                    status: row.status,
                    source: row.status_source,
                    reason: row.status_reason,
                    resume: match (row.resume_status, row.resume_source) {
                        (Some(s), Some(src)) => Some((s, src)),
                        _ => None,
                    },
                    last_heartbeat_at: row.last_heartbeat_at,
                    last_activity_at: row.last_activity_at,
                };
                let signal = match input {
                    PresenceInput::SetManual(s) => $crate::domain::presence::Signal::SetManual(s),
                    PresenceInput::Heartbeat => $crate::domain::presence::Signal::Heartbeat,
                    PresenceInput::Activity => $crate::domain::presence::Signal::Activity,
                    PresenceInput::Tick => {
                        // The active team's timers; a user with no team keeps the defaults.
                        let timers: Option<(i64, i64)> = sqlx::query_as("SELECT heartbeat_timeout_seconds, auto_away_minutes FROM teams WHERE id = $1")
                            .bind(&row.active_team_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let (hb, away) = timers.unwrap_or((60, 10));
                        $crate::domain::presence::Signal::Tick($crate::domain::presence::Timing { heartbeat_timeout: hb * 1000, auto_away: away * 60_000 })
                    }
                    PresenceInput::Load => {
                        let capacity: Option<Option<i64>> = sqlx::query_scalar("SELECT capacity FROM members WHERE team_id = $1 AND user_id = $2")
                            .bind(&row.active_team_id)
                            .bind(user)
                            .fetch_optional(&mut *tx)
                            .await?;
                        let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE team_id = $1 AND assignee_id = $2 AND state IN ('active', 'transferred')")
                            .bind(&row.active_team_id)
                            .bind(user)
                            .fetch_one(&mut *tx)
                            .await?;
                        $crate::domain::presence::Signal::Load { active, capacity: capacity.flatten() }
                    }
                };
                let after = $crate::domain::presence::step(&before, signal, now);
                let changed = before.differs(&after);
                // Seen now: any sign of life, and every change of status.
                let seen = changed || matches!(input, PresenceInput::Heartbeat | PresenceInput::Activity | PresenceInput::SetManual(_));
                let last_active_at = if seen { Some(now) } else { row.last_active_at };
                if after != before || seen {
                    sqlx::query(
                        "UPDATE users SET status = $2, status_source = $3, status_reason = $4, resume_status = $5, resume_source = $6,
                            last_heartbeat_at = $7, last_activity_at = $8, last_active_at = $9,
                            status_changed_at = CASE WHEN $10 THEN $11 ELSE status_changed_at END
                         WHERE id = $1",
                    )
                    .bind(user)
                    .bind(after.status.as_str())
                    .bind(after.source.as_str())
                    .bind(after.reason.map(Reason::as_str))
                    .bind(after.resume.map(|r| r.0.as_str()))
                    .bind(after.resume.map(|r| r.1.as_str()))
                    .bind(after.last_heartbeat_at)
                    .bind(after.last_activity_at)
                    .bind(last_active_at)
                    .bind(changed)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(PresenceChange { before, after, last_active_at })
            }

            async fn presence_due(&self, now: i64) -> $crate::store::Result<Vec<UserId>> {
                Ok(sqlx::query_scalar(
                    "SELECT u.id FROM users u LEFT JOIN teams t ON t.id = u.active_team_id
                     WHERE u.status <> 'offline' AND (
                        u.last_heartbeat_at IS NULL OR u.last_heartbeat_at <= $1 - COALESCE(t.heartbeat_timeout_seconds, 60) * 1000
                        OR (u.status = 'available' AND (u.last_activity_at IS NULL OR u.last_activity_at <= $1 - COALESCE(t.auto_away_minutes, 10) * 60000)))
                     ORDER BY u.id",
                )
                .bind(now)
                .fetch_all(self.read())
                .await?)
            }

            async fn orphaned_chats(&self, now: i64) -> $crate::store::Result<Vec<ConversationId>> {
                Ok(sqlx::query_scalar(
                    "SELECT c.id FROM conversations c JOIN users u ON u.id = c.assignee_id JOIN teams t ON t.id = c.team_id
                     WHERE c.state IN ('active', 'transferred') AND u.status = 'offline' AND u.status_reason = 'heartbeat_expired'
                       AND u.status_changed_at <= $1 - t.orphan_grace_seconds * 1000
                     ORDER BY c.id",
                )
                .bind(now)
                .fetch_all(self.read())
                .await?)
            }
        }
    };
}
