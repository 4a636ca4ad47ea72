//! The audit log: added to, read by team with filters, never changed.

macro_rules! audit_store {
    ($Store:ty, $Db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AuditStore for $Store {
            async fn append_audit(&self, entries: Vec<AuditEntry>) -> $crate::store::Result<()> {
                if entries.is_empty() {
                    return Ok(());
                }
                run!(self.write, |c| {
                    for e in &entries {
                        query(
                            "INSERT INTO audit_log (id, team_id, at, actor_id, actor_label, action, target_kind, target_id, target_label, detail, address)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                        )
                        .bind(&e.id)
                        .bind(&e.team_id)
                        .bind(e.at)
                        .bind(&e.actor_id)
                        .bind(&e.actor_label)
                        .bind(e.action)
                        .bind(e.target_kind)
                        .bind(&e.target_id)
                        .bind(&e.target_label)
                        .bind(e.detail.to_string())
                        .bind(&e.address)
                        .execute(&mut *c)
                        .await?;
                    }
                    Ok(())
                })
            }

            async fn audit_log(&self, team: &TeamId, filter: &AuditFilter, limit: i64) -> $crate::store::Result<Vec<AuditEntry>> {
                let team = team.clone();
                let f = filter.clone();
                run!(self.read, |c| {
                    let (before_at, before_id) = match &f.before {
                        Some((at, id)) => (Some(*at), Some(id.clone())),
                        None => (None, None),
                    };
                    let rows: Vec<AuditRow> = query_as(
                        "SELECT id, team_id, at, actor_id, actor_label, action, target_kind, target_id, target_label, detail, address
                         FROM audit_log
                         WHERE team_id = $1
                           AND ($2 IS NULL OR action = $2)
                           AND ($3 IS NULL OR actor_id = $3)
                           AND ($4 IS NULL OR target_id = $4)
                           AND ($5 IS NULL OR at >= $5)
                           AND ($6 IS NULL OR at < $6)
                           AND ($7 IS NULL OR at < $7 OR (at = $7 AND id < $8))
                         ORDER BY at DESC, id DESC LIMIT $9",
                    )
                    .bind(&team)
                    .bind(f.action)
                    .bind(&f.actor)
                    .bind(&f.target)
                    .bind(f.since)
                    .bind(f.until)
                    .bind(before_at)
                    .bind(&before_id)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }
        }
    };
}
