//! Canned replies.

macro_rules! shortcut_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::ShortcutStore for $Store {
            async fn shortcuts(&self, team: &TeamId, user: &UserId, q: Option<&str>) -> $crate::store::Result<Vec<Shortcut>> {
                let team = team.clone();
                let user = user.clone();
                let q = q.map(str::to_owned);
                run!(self.read, |c| {
                    let team = &team;
                    let user = &user;
                    let q = q.as_deref();
                    // `q` matches name or body, case-insensitively; LIKE wildcards in it are literal.
                    let pattern = q.map(|q| format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
                    let rows: Vec<ShortcutRow> = query_as(
                        "SELECT id, team_id, owner_id, name, body, created_at FROM shortcuts
                         WHERE team_id = $1 AND (owner_id IS NULL OR owner_id = $2)
                           AND ($3 IS NULL OR LOWER(name) LIKE $3 ESCAPE '\\' OR LOWER(body) LIKE $3 ESCAPE '\\')
                         ORDER BY LOWER(name), id LIMIT 200",
                    )
                    .bind(team)
                    .bind(user)
                    .bind(pattern)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn shortcut(&self, id: &ShortcutId) -> $crate::store::Result<Option<Shortcut>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    let row: Option<ShortcutRow> = query_as("SELECT id, team_id, owner_id, name, body, created_at FROM shortcuts WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn create_shortcut(&self, s: &Shortcut) -> $crate::store::Result<()> {
                let s = s.clone();
                run!(self.write, |c| {
                    let s = &s;
                    let res = query("INSERT INTO shortcuts (id, team_id, owner_id, name, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&s.id)
                        .bind(&s.team_id)
                        .bind(&s.owner_id)
                        .bind(&s.name)
                        .bind(&s.body)
                        .bind(s.created_at)
                        .execute(&mut *c)
                        .await;
                    shortcut_result!(res)
                })
            }

            async fn update_shortcut(&self, s: &Shortcut) -> $crate::store::Result<()> {
                let s = s.clone();
                run!(self.write, |c| {
                    let s = &s;
                    let res = query("UPDATE shortcuts SET name = $2, body = $3 WHERE id = $1")
                        .bind(&s.id)
                        .bind(&s.name)
                        .bind(&s.body)
                        .execute(&mut *c)
                        .await;
                    shortcut_result!(res)
                })
            }

            async fn delete_shortcut(&self, id: &ShortcutId) -> $crate::store::Result<()> {
                let id = id.clone();
                run!(self.write, |c| {
                    let id = &id;
                    let res = query("DELETE FROM shortcuts WHERE id = $1").bind(id).execute(&mut *c).await?;
                    if res.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                })
            }
        }
    };
}

macro_rules! shortcut_result {
    ($res:expr) => {
        match $res {
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("shortcut_exists", "a shortcut with this name already exists".into())),
            Err(e) => Err(e.into()),
            Ok(r) if r.rows_affected() == 0 => Err(StoreError::NotFound),
            Ok(_) => Ok(()),
        }
    };
}
