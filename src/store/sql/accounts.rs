//! Users, credentials, sessions, profile and presence.

macro_rules! account_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::AccountStore for $Store {
            async fn ping(&self) -> $crate::store::Result<()> {
                run!(self.read, |c| {
                    let _: i64 = query_scalar("SELECT CAST(1 AS BIGINT)").fetch_one(&mut *c).await?;
                    Ok(())
                })
            }

            async fn user_count(&self) -> $crate::store::Result<i64> {
                run!(self.read, |c| {
                    Ok(query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await?)
                })
            }

            async fn setup(&self, user: NewUser, team_name: &str, now: i64) -> $crate::store::Result<(User, Team)> {
                let team_name = team_name.to_owned();
                run!(self.write, |c| {
                    let team_name = team_name.as_str();
                    let first = query("INSERT INTO instance (id, set_up_at) VALUES (1, $1) ON CONFLICT DO NOTHING").bind(now).execute(&mut *c).await?;
                    let users: i64 = query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *c).await?;
                    if first.rows_affected() == 0 || users > 0 {
                        return Err(StoreError::Conflict("already_set_up", "Baton is already set up; log in instead".into()));
                    }
                    let id = UserId::new();
                    insert_user!(&mut *c, &id, &user, now);
                    let team = create_team_in!(&mut *c, &id, team_name, now);
                    let u = User { id, email: user.email, first_name: user.first_name, last_name: user.last_name, avatar_version: None };
                    Ok((u, team))
                })
            }

            async fn user(&self, id: &UserId) -> $crate::store::Result<Option<User>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    let row: Option<UserRow> = query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1")).bind(id).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn credentials(&self, email: &str) -> $crate::store::Result<Option<(User, String)>> {
                let email = email.to_owned();
                run!(self.read, |c| {
                    let email = email.as_str();
                    row! {
                    struct Row {
                        #[flatten]
                        user: UserRow,
                        password_hash: String,
                    }
                    }
                    let row: Option<Row> = query_as(concat!("SELECT ", user_cols!(), ", u.password_hash FROM users u WHERE u.email = $1")).bind(email).fetch_optional(&mut *c).await?;
                    Ok(row.map(|r| (r.user.into(), r.password_hash)))
                })
            }

            async fn update_user(&self, id: &UserId, patch: UserPatch) -> $crate::store::Result<User> {
                let id = id.clone();
                run!(self.write, |c| {
                    let id = &id;
                    let res = query(
                        "UPDATE users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name), email = COALESCE($4, email) WHERE id = $1",
                    )
                    .bind(id)
                    .bind(patch.first_name)
                    .bind(patch.last_name)
                    .bind(patch.email)
                    .execute(&mut *c)
                    .await;
                    match res {
                        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("email_taken", "another account already uses this email".into())),
                        Err(e) => return Err(e.into()),
                        Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NotFound),
                        Ok(_) => {}
                    }
                    let row: Option<UserRow> = query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1")).bind(id).fetch_optional(&mut *c).await?;
                    row.map(Into::into).ok_or(StoreError::NotFound)
                })
            }

            async fn set_avatar(&self, id: &UserId, png: Vec<u8>, version: i64) -> $crate::store::Result<()> {
                let id = id.clone();
                run!(self.write, |c| {
                    let id = &id;
                    query("INSERT INTO avatars (user_id, png) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET png = excluded.png").bind(id).bind(png).execute(&mut *c).await?;
                    query("UPDATE users SET avatar_version = $2 WHERE id = $1").bind(id).bind(version).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn avatar(&self, id: &UserId) -> $crate::store::Result<Option<Vec<u8>>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    Ok(query_scalar("SELECT png FROM avatars WHERE user_id = $1").bind(id).fetch_optional(&mut *c).await?)
                })
            }

            async fn create_session(&self, s: &Session, now: i64) -> $crate::store::Result<()> {
                let s = s.clone();
                run!(self.write, |c| {
                    let s = &s;
                    query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&s.token_hash)
                        .bind(&s.user_id)
                        .bind(&s.csrf_token)
                        .bind(now)
                        .bind(s.expires_at)
                        .execute(&mut *c)
                        .await?;
                    // Expired sessions are dead weight; sweep them while we are writing anyway.
                    query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn session(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<Session>> {
                let token_hash = token_hash.to_owned();
                run!(self.read, |c| {
                    let token_hash = token_hash.as_str();
                    row! {
                    struct Row {
                        token_hash: String,
                        user_id: UserId,
                        csrf_token: String,
                        expires_at: i64,
                    }
                    }
                    let row: Option<Row> = query_as("SELECT token_hash, user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
                        .bind(token_hash)
                        .bind(now)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(|r| Session { token_hash: r.token_hash, user_id: r.user_id, csrf_token: r.csrf_token, expires_at: r.expires_at }))
                })
            }

            async fn delete_session(&self, token_hash: &str) -> $crate::store::Result<()> {
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let token_hash = token_hash.as_str();
                    query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn create_api_token(&self, id: &TokenId, user: &UserId, name: &str, token_hash: &str, now: i64, expires_at: Option<i64>) -> $crate::store::Result<()> {
                let id = id.clone();
                let user = user.clone();
                let name = name.to_owned();
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let id = &id;
                    let user = &user;
                    let name = name.as_str();
                    let token_hash = token_hash.as_str();
                    query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(id)
                        .bind(user)
                        .bind(name)
                        .bind(token_hash)
                        .bind(now)
                        .bind(expires_at)
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            }

            async fn api_token_user(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<UserId>> {
                let token_hash = token_hash.to_owned();
                let hash = token_hash.clone();
                let row = run!(self.read, |c| {
                    query_as::<(UserId, Option<i64>)>("SELECT user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)")
                        .bind(&hash)
                        .bind(now)
                        .fetch_optional(&mut *c)
                        .await
                })?;
                let Some((user, last_used)) = row else { return Ok(None) };
                // Noted at most once a minute: this runs on every token-authenticated request.
                if last_used.is_none_or(|t| now - t >= 60_000) {
                    let noted = run!(self.write, |c| {
                        query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1").bind(&token_hash).bind(now).execute(&mut *c).await
                    });
                    // A note for the owner: failing to write it does not fail the request.
                    if let Err(e) = noted {
                        tracing::warn!(error = %e, "noting a token's use failed");
                    }
                }
                Ok(Some(user))
            }

            async fn api_tokens(&self, user: &UserId) -> $crate::store::Result<Vec<ApiToken>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    let rows: Vec<(TokenId, String, i64, Option<i64>, Option<i64>)> =
                        query_as("SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
                            .bind(user)
                            .fetch_all(&mut *c)
                            .await?;
                    Ok(rows.into_iter().map(|(id, name, created_at, last_used_at, expires_at)| ApiToken { id, name, created_at, last_used_at, expires_at }).collect())
                })
            }

            async fn revoke_api_token_id(&self, user: &UserId, id: &TokenId) -> $crate::store::Result<bool> {
                let user = user.clone();
                let id = id.clone();
                run!(self.write, |c| {
                    let user = &user;
                    let id = &id;
                    Ok(query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2").bind(user).bind(id).execute(&mut *c).await?.rows_affected() > 0)
                })
            }

            async fn end_sessions(&self, user: &UserId, keep: Option<&str>) -> $crate::store::Result<()> {
                let user = user.clone();
                let keep = keep.map(str::to_owned);
                run!(self.write, |c| {
                    let user = &user;
                    let keep = keep.as_deref();
                    query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)").bind(user).bind(keep).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn remember_login_address(&self, user: &UserId, address: &str, now: i64, forget_before: i64) -> $crate::store::Result<()> {
                let user = user.clone();
                let address = address.to_owned();
                run!(self.write, |c| {
                    let user = &user;
                    let address = address.as_str();
                    query("INSERT INTO login_addresses (user_id, address, last_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at")
                        .bind(user)
                        .bind(address)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                    query("DELETE FROM login_addresses WHERE user_id = $1 AND last_at < $2").bind(user).bind(forget_before).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn known_login_address(&self, user: &UserId, address: &str, since: i64) -> $crate::store::Result<bool> {
                let user = user.clone();
                let address = address.to_owned();
                run!(self.read, |c| {
                    let user = &user;
                    let address = address.as_str();
                    let found: Option<i64> = query_scalar("SELECT last_at FROM login_addresses WHERE user_id = $1 AND address = $2 AND last_at >= $3")
                        .bind(user)
                        .bind(address)
                        .bind(since)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(found.is_some())
                })
            }

            async fn password_hash(&self, user: &UserId) -> $crate::store::Result<Option<String>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    Ok(query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(user).fetch_optional(&mut *c).await?.flatten())
                })
            }

            async fn create_password_reset(&self, user: &UserId, token_hash: &str, now: i64, expires_at: i64) -> $crate::store::Result<()> {
                let (user, token_hash) = (user.clone(), token_hash.to_string());
                run!(self.write, |c| {
                    query("DELETE FROM password_resets WHERE user_id = $1 OR expires_at <= $2").bind(&user).bind(now).execute(&mut *c).await?;
                    query("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                        .bind(&token_hash)
                        .bind(&user)
                        .bind(now)
                        .bind(expires_at)
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            }

            async fn use_password_reset(&self, token_hash: &str, password_hash: &str, now: i64) -> $crate::store::Result<Option<User>> {
                let (token_hash, password_hash) = (token_hash.to_string(), password_hash.to_string());
                run!(self.write, |c| {
                    let found: Option<UserId> =
                        query_scalar("DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id").bind(&token_hash).bind(now).fetch_optional(&mut *c).await?;
                    let Some(user) = found else { return Ok(None) };
                    query("DELETE FROM password_resets WHERE user_id = $1").bind(&user).execute(&mut *c).await?;
                    query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(&user).bind(&password_hash).execute(&mut *c).await?;
                    query("DELETE FROM sessions WHERE user_id = $1").bind(&user).execute(&mut *c).await?;
                    let row: Option<UserRow> = query_as(concat!("SELECT ", user_cols!(), " FROM users u WHERE u.id = $1")).bind(&user).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn save_oidc_login(&self, state_hash: &str, binding_hash: &str, verifier: &str, nonce: &str, now: i64) -> $crate::store::Result<()> {
                let (state_hash, binding_hash, verifier, nonce) = (state_hash.to_string(), binding_hash.to_string(), verifier.to_string(), nonce.to_string());
                run!(self.write, |c| {
                    // Sign-ins never finished are forgotten after ten minutes.
                    query("DELETE FROM oidc_logins WHERE created_at < $1").bind(now - 600_000).execute(&mut *c).await?;
                    query("INSERT INTO oidc_logins (state_hash, binding_hash, verifier, nonce, created_at) VALUES ($1, $5, $2, $3, $4)")
                        .bind(&state_hash)
                        .bind(&verifier)
                        .bind(&nonce)
                        .bind(now)
                        .bind(&binding_hash)
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            }

            async fn take_oidc_login(&self, state_hash: &str, binding_hash: &str, now: i64) -> $crate::store::Result<Option<(String, String)>> {
                let (state_hash, binding_hash) = (state_hash.to_string(), binding_hash.to_string());
                run!(self.write, |c| {
                    // A state shown with another browser's cookie is used up all the same.
                    let found: Option<(String, String, String)> =
                        query_as("DELETE FROM oidc_logins WHERE state_hash = $1 AND created_at >= $2 RETURNING verifier, nonce, binding_hash")
                        .bind(&state_hash)
                        .bind(now - 600_000)
                        .fetch_optional(&mut *c)
                        .await?;
                    // Hashes of secrets are compared: how long it takes tells nothing of a secret.
                    Ok(found.filter(|(_, _, b)| *b == binding_hash).map(|(v, n, _)| (v, n)))
                })
            }

            async fn set_password(&self, user: &UserId, hash: &str) -> $crate::store::Result<()> {
                let user = user.clone();
                let hash = hash.to_owned();
                run!(self.write, |c| {
                    let user = &user;
                    let hash = hash.as_str();
                    query("UPDATE users SET password_hash = $2 WHERE id = $1").bind(user).bind(hash).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn revoke_api_token(&self, token_hash: &str) -> $crate::store::Result<bool> {
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let token_hash = token_hash.as_str();
                    Ok(query("DELETE FROM api_tokens WHERE token_hash = $1").bind(token_hash).execute(&mut *c).await?.rows_affected() > 0)
                })
            }

            async fn me(&self, id: &UserId) -> $crate::store::Result<Me> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    row! {
                    struct Row {
                        #[flatten]
                        user: UserRow,
                        #[flatten]
                        presence: PresenceRow,
                        active_team_id: Option<TeamId>,
                    }
                    }
                    row! {
                    struct TeamRole {
                        #[flatten]
                        team: TeamRow,
                        role: Role,
                    }
                    }
                    let row: Row = query_as(concat!("SELECT ", user_cols!(), ", ", presence_cols!(), ", u.active_team_id FROM users u WHERE u.id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *c)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let teams: Vec<TeamRole> = query_as(concat!("SELECT ", team_cols!(), ", m.role FROM teams t JOIN members m ON m.team_id = t.id WHERE m.user_id = $1 ORDER BY t.name, t.id"))
                        .bind(id)
                        .fetch_all(&mut *c)
                        .await?;
                    let teams: Vec<(Team, Role)> = teams.into_iter().map(|t| (t.team.into(), t.role)).collect();
                    // The stored active team may have been left since; fall back to the first team.
                    let active_team_id = row.active_team_id.filter(|a| teams.iter().any(|(t, _)| t.id == *a)).or_else(|| teams.first().map(|(t, _)| t.id.clone()));
                    Ok(Me { user: row.user.into(), teams, active_team_id, presence: row.presence.into() })
                })
            }

            async fn active_membership(&self, user: &UserId) -> $crate::store::Result<Option<Membership>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    let row: Option<MembershipRow> = query_as(concat!(
                        "SELECT ", membership_cols!(), " FROM users u JOIN members m ON m.team_id = u.active_team_id AND m.user_id = u.id WHERE u.id = $1"
                    ))
                    .bind(user)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn set_active_team(&self, user: &UserId, team: &TeamId) -> $crate::store::Result<()> {
                let user = user.clone();
                let team = team.clone();
                run!(self.write, |c| {
                    let user = &user;
                    let team = &team;
                    let res = query("UPDATE users SET active_team_id = $2 WHERE id = $1 AND EXISTS (SELECT 1 FROM members WHERE team_id = $2 AND user_id = $1)")
                        .bind(user)
                        .bind(team)
                        .execute(&mut *c)
                        .await?;
                    if res.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                })
            }
        }
    };
}

/// Inserts a user row inside a transaction.
macro_rules! insert_user {
    ($tx:expr, $id:expr, $user:expr, $now:expr) => {{
        let res = query("INSERT INTO users (id, email, password_hash, first_name, last_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind($id)
            .bind(&$user.email)
            .bind(&$user.password_hash)
            .bind(&$user.first_name)
            .bind(&$user.last_name)
            .bind($now)
            .execute($tx)
            .await;
        match res {
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("email_taken", "another account already uses this email".into())),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
    }};
}
