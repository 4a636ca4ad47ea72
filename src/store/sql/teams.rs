//! Teams, membership and settings.

macro_rules! team_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        impl $Store {
            async fn member_in(conn: &mut $Db, team: &TeamId, user: &UserId) -> $crate::store::Result<Option<Member>> {
                let row: Option<MemberRow> = query_as(concat!(
                    "SELECT ", user_cols!(), ", ", membership_cols!(), ", ", presence_cols!(),
                    " FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 AND m.user_id = $2"
                ))
                .bind(team)
                .bind(user)
                .fetch_optional(&mut *conn)
                .await?;
                Ok(row.map(Into::into))
            }

            /// The member's role, their row locked until commit.
            async fn locked_role(conn: &mut $Db, team: &TeamId, user: &UserId) -> $crate::store::Result<String> {
                let role: Option<String> = query_scalar(concat!("SELECT role FROM members WHERE team_id = $1 AND user_id = $2", $lock))
                    .bind(team)
                    .bind(user)
                    .fetch_optional(&mut *conn)
                    .await?;
                role.ok_or(StoreError::NotFound)
            }

            async fn owners_in(conn: &mut $Db, team: &TeamId) -> $crate::store::Result<i64> {
                Ok(query_scalar("SELECT COUNT(*) FROM members WHERE team_id = $1 AND role = 'owner'").bind(team).fetch_one(&mut *conn).await?)
            }
            async fn invitations_where(
                conn: &mut $Db,
                filter: &str,
                key: &str,
                now: i64,
            ) -> $crate::store::Result<Vec<Invitation>> {
                row! {
                    struct Row {
                        id: InvitationId,
                        team_id: TeamId,
                        team_name: String,
                        email: String,
                        user_id: Option<UserId>,
                        role: Role,
                        first_name: String,
                        last_name: String,
                        by_name: Option<String>,
                        by_email: Option<String>,
                        created_account: bool,
                        created_at: i64,
                        expires_at: i64,
                    }
                }
                // `filter` is one of Baton's column names, never input.
                let sql = format!(
                    "SELECT i.id, i.team_id, t.name AS team_name, i.email, i.user_id, i.role, i.first_name, i.last_name, \
                     CASE WHEN u.id IS NULL THEN NULL ELSE TRIM(u.first_name || ' ' || u.last_name) END AS by_name, u.email AS by_email, \
                     i.created_account, i.created_at, i.expires_at \
                     FROM invitations i JOIN teams t ON t.id = i.team_id LEFT JOIN users u ON u.id = i.invited_by \
                     WHERE {filter} = $1 AND i.expires_at > $2 ORDER BY i.created_at, i.id"
                );
                let rows: Vec<Row> = query_as(sql).bind(key).bind(now).fetch_all(&mut *conn).await?;
                Ok(rows
                    .into_iter()
                    .map(|r| Invitation {
                        id: r.id,
                        team_id: r.team_id,
                        team_name: r.team_name,
                        email: r.email,
                        user_id: r.user_id,
                        role: r.role,
                        first_name: r.first_name,
                        last_name: r.last_name,
                        invited_by: r.by_name.filter(|n| !n.is_empty()).or(r.by_email),
                        created_account: r.created_account,
                        created_at: r.created_at,
                        expires_at: r.expires_at,
                    })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::TeamStore for $Store {
            async fn create_team(&self, owner: &UserId, name: &str, now: i64) -> $crate::store::Result<Team> {
                let owner = owner.clone();
                let name = name.to_owned();
                run!(self.write, |c| {
                    let owner = &owner;
                    let name = name.as_str();
                    let team = create_team_in!(&mut *c, owner, name, now);
                    Ok(team)
                })
            }

            async fn membership(&self, team: &TeamId, user: &UserId) -> $crate::store::Result<Option<Membership>> {
                let team = team.clone();
                let user = user.clone();
                run!(self.read, |c| {
                    let team = &team;
                    let user = &user;
                    let row: Option<MembershipRow> = query_as(concat!("SELECT ", membership_cols!(), " FROM members m WHERE m.team_id = $1 AND m.user_id = $2"))
                        .bind(team)
                        .bind(user)
                        .fetch_optional(&mut *c)
                        .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn members(&self, team: &TeamId) -> $crate::store::Result<Vec<Member>> {
                let team = team.clone();
                run!(self.read, |c| {
                    let team = &team;
                    let rows: Vec<MemberRow> = query_as(concat!(
                        "SELECT ", user_cols!(), ", ", membership_cols!(), ", ", presence_cols!(),
                        " FROM members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY m.created_at, u.id"
                    ))
                    .bind(team)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }

            async fn member(&self, team: &TeamId, user: &UserId) -> $crate::store::Result<Option<Member>> {
                let team = team.clone();
                let user = user.clone();
                run!(self.read, |c| {
                    let team = &team;
                    let user = &user;
                    Self::member_in(&mut *c, team, user).await
                })
            }

            async fn add_member(&self, team: &TeamId, new: NewMember, now: i64) -> $crate::store::Result<Member> {
                let team = team.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let existing: Option<UserId> = query_scalar("SELECT id FROM users WHERE email = $1").bind(&new.email).fetch_optional(&mut *c).await?;
                    let user_id = match existing {
                        Some(id) => id,
                        None => {
                            let Some(hash) = new.password_hash.clone() else {
                                return Err(StoreError::Invalid("password: required to create a new user".into()));
                            };
                            let id = UserId::new();
                            let user = NewUser { email: new.email.clone(), password_hash: hash, first_name: new.first_name.clone(), last_name: new.last_name.clone() };
                            insert_user!(&mut *c, &id, &user, now);
                            id
                        }
                    };
                    let res = query("INSERT INTO members (team_id, user_id, role, all_bots, created_at) VALUES ($1, $2, $3, TRUE, $4)")
                        .bind(team)
                        .bind(&user_id)
                        .bind(new.role.as_str())
                        .bind(now)
                        .execute(&mut *c)
                        .await;
                    match res {
                        Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("already_member", "this user is already a member of the team".into())),
                        Err(e) => return Err(e.into()),
                        Ok(_) => {}
                    }
                    query("UPDATE users SET active_team_id = $2 WHERE id = $1 AND active_team_id IS NULL").bind(&user_id).bind(team).execute(&mut *c).await?;
                    let member = Self::member_in(&mut *c, team, &user_id).await?.ok_or(StoreError::NotFound)?;
                    Ok(member)
                })
            }

            async fn invite(&self, team: &TeamId, new: NewMember, invited_by: &UserId, now: i64, expires_at: i64) -> $crate::store::Result<Invitation> {
                let team = team.clone();
                let invited_by = invited_by.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let invited_by = &invited_by;
                    let existing: Option<UserId> = query_scalar("SELECT id FROM users WHERE email = $1").bind(&new.email).fetch_optional(&mut *c).await?;
                    let mut created_account = false;
                    let mut invitee = existing.clone();
                    match &existing {
                        Some(user) => {
                            let member: i64 = query_scalar("SELECT COUNT(*) FROM members WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).fetch_one(&mut *c).await?;
                            if member > 0 {
                                return Err(StoreError::Conflict("already_member", "this user is already a member of the team".into()));
                            }
                        }
                        None => {
                            if let Some(hash) = new.password_hash.clone() {
                                let user = NewUser { email: new.email.clone(), password_hash: hash, first_name: new.first_name.clone(), last_name: new.last_name.clone() };
                                let id = UserId::new();
                                insert_user!(&mut *c, &id, &user, now);
                                invitee = Some(id);
                                created_account = true;
                            }
                        }
                    }
                    // A new invitation replaces a pending one (a re-send); it keeps "made the account".
                    let previous: Option<(Option<UserId>, bool)> =
                        query_as("SELECT user_id, created_account FROM invitations WHERE team_id = $1 AND email = $2")
                            .bind(team)
                            .bind(&new.email)
                            .fetch_optional(&mut *c)
                            .await?;
                    // Only for the same account: one made for an earlier invitee is not this one's.
                    let made_earlier = matches!(&previous, Some((Some(u), true)) if Some(u) == invitee.as_ref());
                    query("DELETE FROM invitations WHERE team_id = $1 AND email = $2").bind(team).bind(&new.email).execute(&mut *c).await?;
                    let id = InvitationId::new();
                    let inserted = query(
                        "INSERT INTO invitations (id, team_id, email, user_id, role, first_name, last_name, invited_by, created_account, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(&id)
                    .bind(team)
                    .bind(&new.email)
                    .bind(&invitee)
                    .bind(new.role.as_str())
                    .bind(&new.first_name)
                    .bind(&new.last_name)
                    .bind(invited_by)
                    .bind(created_account || made_earlier)
                    .bind(now)
                    .bind(expires_at)
                    .execute(&mut *c)
                    .await;
                    match inserted {
                        Err(e) if is_unique_violation(&e) => {
                            return Err(StoreError::Conflict("already_invited", "an invitation to this email was just sent; reload to see it".into()));
                        }
                        other => {
                            other?;
                        }
                    }
                    let made = Self::invitations_where(&mut *c, "i.id", id.as_str(), now).await?.into_iter().next().ok_or(StoreError::NotFound)?;
                    Ok(made)
                })
            }

            async fn team_invitations(&self, team: &TeamId, now: i64) -> $crate::store::Result<Vec<Invitation>> {
                let team = team.clone();
                run!(self.read, |c| {
                    let team = &team;
                    Self::invitations_where(&mut *c, "i.team_id", team.as_str(), now).await
                })
            }

            async fn invitations_for(&self, user: &UserId, now: i64) -> $crate::store::Result<Vec<Invitation>> {
                let user = user.clone();
                run!(self.read, |c| {
                    let user = &user;
                    Self::invitations_where(&mut *c, "i.user_id", user.as_str(), now).await
                })
            }

            async fn set_invitation_token(&self, id: &InvitationId, token_hash: &str) -> $crate::store::Result<()> {
                let (id, token_hash) = (id.clone(), token_hash.to_string());
                run!(self.write, |c| {
                    query("UPDATE invitations SET token_hash = $2 WHERE id = $1 AND user_id IS NULL").bind(&id).bind(&token_hash).execute(&mut *c).await?;
                    Ok(())
                })
            }

            async fn invitation_by_token(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<Invitation>> {
                let token_hash = token_hash.to_string();
                run!(self.read, |c| {
                    let found = Self::invitations_where(&mut *c, "i.token_hash", &token_hash, now).await?;
                    Ok(found.into_iter().find(|i| i.user_id.is_none()))
                })
            }

            async fn join_by_invitation(&self, token_hash: &str, user: NewUser, now: i64) -> $crate::store::Result<(User, InvitationId)> {
                let token_hash = token_hash.to_string();
                run!(self.write, |c| {
                    // Used up in the same statement that finds it: two tabs cannot both join.
                    let found: Option<(InvitationId, String, String, String)> = query_as(
                        "UPDATE invitations SET token_hash = NULL WHERE token_hash = $1 AND user_id IS NULL AND expires_at > $2 RETURNING id, email, first_name, last_name",
                    )
                    .bind(&token_hash)
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                    let Some((invitation, email, first, last)) = found else { return Err(StoreError::NotFound) };
                    // Names left blank are the ones the inviter typed.
                    let first_name = if user.first_name.is_empty() { first } else { user.first_name };
                    let last_name = if user.last_name.is_empty() { last } else { user.last_name };
                    let user = NewUser { email, first_name, last_name, ..user };
                    let id = UserId::new();
                    insert_user!(&mut *c, &id, &user, now);
                    query("UPDATE invitations SET user_id = $2, created_account = TRUE WHERE id = $1").bind(&invitation).bind(&id).execute(&mut *c).await?;
                    let u = User { id, email: user.email, first_name: user.first_name, last_name: user.last_name, avatar_version: None };
                    Ok((u, invitation))
                })
            }

            async fn withdraw_invitation(&self, team: &TeamId, id: &InvitationId) -> $crate::store::Result<Option<Option<UserId>>> {
                let team = team.clone();
                let id = id.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let id = &id;
                    let gone: Option<(Option<UserId>,)> =
                        query_as("DELETE FROM invitations WHERE team_id = $1 AND id = $2 RETURNING user_id").bind(team).bind(id).fetch_optional(&mut *c).await?;
                    Ok(gone.map(|(user,)| user))
                })
            }

            async fn decline_invitation(&self, id: &InvitationId, user: &UserId) -> $crate::store::Result<bool> {
                let id = id.clone();
                let user = user.clone();
                run!(self.write, |c| {
                    let id = &id;
                    let user = &user;
                    Ok(query("DELETE FROM invitations WHERE id = $1 AND user_id = $2").bind(id).bind(user).execute(&mut *c).await?.rows_affected() > 0)
                })
            }

            async fn accept_invitation(&self, id: &InvitationId, user: &UserId, now: i64) -> $crate::store::Result<Member> {
                let id = id.clone();
                let user = user.clone();
                run!(self.write, |c| {
                    let id = &id;
                    let user = &user;
                    // Claimed in one statement: a withdraw or decline racing it wins or loses whole.
                    let found: Option<(TeamId, Role)> =
                        query_as("DELETE FROM invitations WHERE id = $1 AND user_id = $2 AND expires_at > $3 RETURNING team_id, role")
                            .bind(id)
                            .bind(user)
                            .bind(now)
                            .fetch_optional(&mut *c)
                            .await?;
                    let Some((team, role)) = found else { return Err(StoreError::NotFound) };
                    query("INSERT INTO members (team_id, user_id, role, all_bots, created_at) VALUES ($1, $2, $3, TRUE, $4) ON CONFLICT DO NOTHING")
                        .bind(&team)
                        .bind(user)
                        .bind(role.as_str())
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                    query("UPDATE users SET active_team_id = $2 WHERE id = $1 AND active_team_id IS NULL").bind(user).bind(&team).execute(&mut *c).await?;
                    let member = Self::member_in(&mut *c, &team, user).await?.ok_or(StoreError::NotFound)?;
                    Ok(member)
                })
            }

            async fn update_member(&self, team: &TeamId, user: &UserId, patch: MemberPatch) -> $crate::store::Result<Member> {
                let team = team.clone();
                let user = user.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let user = &user;
                    let current = Self::locked_role(&mut *c, team, user).await?;
                    if let Some(role) = patch.role {
                        if current == "owner" && role != Role::Owner && Self::owners_in(&mut *c, team).await? <= 1 {
                            return Err(StoreError::Conflict("last_owner", "a team needs at least one owner".into()));
                        }
                        query("UPDATE members SET role = $3 WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).bind(role.as_str()).execute(&mut *c).await?;
                    }
                    if let Some(access) = &patch.bot_access {
                        query("DELETE FROM member_bots WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).execute(&mut *c).await?;
                        let all = matches!(access, BotAccess::All);
                        query("UPDATE members SET all_bots = $3 WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).bind(all).execute(&mut *c).await?;
                        if let BotAccess::Only(bots) = access {
                            for bot in bots {
                                let known: i64 = query_scalar("SELECT COUNT(*) FROM bots WHERE id = $1 AND team_id = $2").bind(bot).bind(team).fetch_one(&mut *c).await?;
                                if known == 0 {
                                    return Err(StoreError::Invalid(format!("bot_access: {bot} is not a bot of this team")));
                                }
                                query("INSERT INTO member_bots (team_id, user_id, bot_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                                    .bind(team)
                                    .bind(user)
                                    .bind(bot)
                                    .execute(&mut *c)
                                    .await?;
                            }
                        }
                    }
                    if let Some(capacity) = patch.capacity {
                        query("UPDATE members SET capacity = $3 WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).bind(capacity).execute(&mut *c).await?;
                    }
                    let member = Self::member_in(&mut *c, team, user).await?.ok_or(StoreError::NotFound)?;
                    Ok(member)
                })
            }

            async fn remove_member(&self, team: &TeamId, user: &UserId, now: i64) -> $crate::store::Result<Vec<Applied>> {
                let team = team.clone();
                let user = user.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let user = &user;
                    let current = Self::locked_role(&mut *c, team, user).await?;
                    if current == "owner" && Self::owners_in(&mut *c, team).await? <= 1 {
                        return Err(StoreError::Conflict("last_owner", "a team needs at least one owner".into()));
                    }
                    // Every chat is locked before any is changed: each change also locks its report
                    // tallies, and a chat locked midway could be held by someone waiting for those.
                    let held: Vec<ConversationId> = query_scalar(concat!(
                        "SELECT id FROM conversations WHERE team_id = $1 AND assignee_id = $2 AND state IN ('active', 'transferred') ORDER BY id",
                        $lock
                    ))
                        .bind(team)
                        .bind(user)
                        .fetch_all(&mut *c)
                        .await?;
                    let mut requeued = Vec::with_capacity(held.len());
                    for id in held {
                        requeued.push(Self::apply_in(&mut *c, &id, Act::Requeue(RequeueReason::LeftTeam), now).await?);
                    }
                    query("DELETE FROM members WHERE team_id = $1 AND user_id = $2").bind(team).bind(user).execute(&mut *c).await?;
                    query("DELETE FROM shortcuts WHERE team_id = $1 AND owner_id = $2").bind(team).bind(user).execute(&mut *c).await?;
                    query("UPDATE users SET active_team_id = NULL WHERE id = $1 AND active_team_id = $2").bind(user).bind(team).execute(&mut *c).await?;
                    Ok(requeued)
                })
            }

            async fn team(&self, team: &TeamId) -> $crate::store::Result<Option<Team>> {
                let team = team.clone();
                run!(self.read, |c| {
                    let team = &team;
                    let row: Option<TeamRow> = query_as(concat!("SELECT ", team_cols!(), " FROM teams t WHERE t.id = $1")).bind(team).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn update_team_settings(&self, team: &TeamId, p: SettingsPatch) -> $crate::store::Result<Team> {
                let team = team.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let row: Option<TeamRow> = query_as(
                        "UPDATE teams SET auto_away_minutes = COALESCE($2, auto_away_minutes), heartbeat_timeout_seconds = COALESCE($3, heartbeat_timeout_seconds),
                            visitor_email_delay_seconds = COALESCE($4, visitor_email_delay_seconds), orphan_grace_seconds = COALESCE($5, orphan_grace_seconds),
                            csat = COALESCE($6, csat), pending_alert_seconds = COALESCE($7, pending_alert_seconds),
                            attachment_max_bytes = COALESCE($8, attachment_max_bytes), attachment_kinds = COALESCE($9, attachment_kinds),
                            retention_days = COALESCE($10, retention_days)
                         WHERE id = $1 RETURNING id, name, auto_away_minutes, heartbeat_timeout_seconds, visitor_email_delay_seconds, orphan_grace_seconds, csat, pending_alert_seconds, attachment_max_bytes, attachment_kinds, retention_days",
                    )
                    .bind(team)
                    .bind(p.auto_away_minutes)
                    .bind(p.heartbeat_timeout_seconds)
                    .bind(p.visitor_email_delay_seconds)
                    .bind(p.orphan_grace_seconds)
                    .bind(p.csat.map(|c| c.as_str()))
                    .bind(p.pending_alert_seconds)
                    .bind(p.attachment_max_bytes)
                    .bind(p.attachment_kinds.map(columns::kinds_json))
                    .bind(p.retention_days)
                    .fetch_optional(&mut *c)
                    .await?;
                    row.map(Into::into).ok_or(StoreError::NotFound)
                })
            }
        }
    };
}

/// Creates a team with `owner` as its owner (and active team if they had none), in a transaction.
macro_rules! create_team_in {
    ($tx:expr, $owner:expr, $name:expr, $now:expr) => {{
        let row: TeamRow = query_as("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3) RETURNING id, name, auto_away_minutes, heartbeat_timeout_seconds, visitor_email_delay_seconds, orphan_grace_seconds, csat, pending_alert_seconds, attachment_max_bytes, attachment_kinds, retention_days")
            .bind(TeamId::new())
            .bind($name)
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?;
        query("INSERT INTO members (team_id, user_id, role, all_bots, created_at) VALUES ($1, $2, 'owner', TRUE, $3)")
            .bind(&row.id)
            .bind($owner)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        query("UPDATE users SET active_team_id = $2 WHERE id = $1 AND active_team_id IS NULL").bind($owner).bind(&row.id).execute(&mut *$tx).await?;
        Team::from(row)
    }};
}
