//! Agent presence: status changes under the user's row lock, and the sweeper's queries.

macro_rules! presence_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        /// The statements of the presence write path ([`crate::store::write::presence`]).
        #[async_trait::async_trait]
        impl $crate::store::write::PresenceTx for $Db {
            async fn lock_presence(&mut self, user: &UserId) -> $crate::store::Result<Option<$crate::store::write::StoredPresence>> {
                row! {
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
                }
                let row: Option<Row> = query_as(concat!(
                    "SELECT status, status_source, status_reason, resume_status, resume_source, last_heartbeat_at, last_activity_at, last_active_at, active_team_id
                     FROM users WHERE id = $1", $lock
                ))
                .bind(user)
                .fetch_optional(&mut *self)
                .await?;
                Ok(row.map(|row| $crate::store::write::StoredPresence {
                    state: $crate::domain::presence::State {
                        status: row.status,
                        source: row.status_source,
                        reason: row.status_reason,
                        resume: row.resume_status.zip(row.resume_source),
                        last_heartbeat_at: row.last_heartbeat_at,
                        last_activity_at: row.last_activity_at,
                    },
                    active_team: row.active_team_id,
                    last_active_at: row.last_active_at,
                }))
            }

            async fn team_timers(&mut self, team: &TeamId) -> $crate::store::Result<Option<(i64, i64)>> {
                Ok(query_as("SELECT heartbeat_timeout_seconds, auto_away_minutes FROM teams WHERE id = $1").bind(team).fetch_optional(&mut *self).await?)
            }

            async fn load(&mut self, team: &TeamId, user: &UserId) -> $crate::store::Result<(Option<i64>, i64)> {
                let capacity: Option<Option<i64>> =
                    query_scalar("SELECT capacity FROM members WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).fetch_optional(&mut *self).await?;
                let active: i64 = query_scalar("SELECT COUNT(*) FROM conversations WHERE team_id = $1 AND assignee_id = $2 AND state IN ('active', 'transferred')")
                    .bind(team)
                    .bind(user)
                    .fetch_one(&mut *self)
                    .await?;
                Ok((capacity.flatten(), active))
            }

            async fn save_presence(&mut self, user: &UserId, p: &$crate::store::write::StoredPresence, changed_at: Option<i64>) -> $crate::store::Result<()> {
                let s = &p.state;
                query(
                    "UPDATE users SET status = $2, status_source = $3, status_reason = $4, resume_status = $5, resume_source = $6,
                        last_heartbeat_at = $7, last_activity_at = $8, last_active_at = $9, status_changed_at = COALESCE($10, status_changed_at)
                     WHERE id = $1",
                )
                .bind(user)
                .bind(s.status)
                .bind(s.source)
                .bind(s.reason)
                .bind(s.resume.map(|r| r.0))
                .bind(s.resume.map(|r| r.1))
                .bind(s.last_heartbeat_at)
                .bind(s.last_activity_at)
                .bind(p.last_active_at)
                .bind(changed_at)
                .execute(&mut *self)
                .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::PresenceStore for $Store {
            async fn presence_signal(&self, user: &UserId, input: PresenceInput, now: i64) -> $crate::store::Result<PresenceChange> {
                let user = user.clone();
                run!(self.write, |c| {
                    let user = &user;
                    let change = $crate::store::write::presence(&mut *c, user, input, now).await?;
                    Ok(change)
                })
            }

            async fn presence_due(&self, now: i64) -> $crate::store::Result<Vec<UserId>> {
                run!(self.read, |c| {
                    Ok(query_scalar(
                        "SELECT u.id FROM users u LEFT JOIN teams t ON t.id = u.active_team_id
                         WHERE u.status <> 'offline' AND (
                            u.last_heartbeat_at IS NULL OR u.last_heartbeat_at <= $1 - COALESCE(t.heartbeat_timeout_seconds, 60) * 1000
                            OR (u.status = 'available' AND (u.last_activity_at IS NULL OR u.last_activity_at <= $1 - COALESCE(t.auto_away_minutes, 10) * 60000)))
                         ORDER BY u.id",
                    )
                    .bind(now)
                    .fetch_all(&mut *c)
                    .await?)
                })
            }

            async fn orphaned_chats(&self, now: i64) -> $crate::store::Result<Vec<ConversationId>> {
                run!(self.read, |c| {
                    Ok(query_scalar(
                        "SELECT c.id FROM conversations c JOIN users u ON u.id = c.assignee_id JOIN teams t ON t.id = c.team_id
                         WHERE c.state IN ('active', 'transferred') AND NOT c.snoozed AND u.status = 'offline' AND u.status_reason = 'heartbeat_expired'
                           AND u.status_changed_at <= $1 - t.orphan_grace_seconds * 1000
                         ORDER BY c.id",
                    )
                    .bind(now)
                    .fetch_all(&mut *c)
                    .await?)
                })
            }
        }
    };
}
