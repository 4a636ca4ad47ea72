//! Bots, their knowledge and their visitors.

macro_rules! bot_store {
    ($Store:ty, $Db:ty, lock = $lock:literal) => {
        impl $Store {
            async fn write_knowledge(conn: &mut $Db, bot: &BotId, entries: &[Entry]) -> $crate::store::Result<()> {
                query("DELETE FROM knowledge WHERE bot_id = $1").bind(bot).execute(&mut *conn).await?;
                for (i, e) in entries.iter().enumerate() {
                    query("INSERT INTO knowledge (bot_id, position, question, answer) VALUES ($1, $2, $3, $4)")
                        .bind(bot)
                        .bind(i as i64)
                        .bind(&e.question)
                        .bind(&e.answer)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            async fn bot_in(conn: &mut $Db, id: &BotId) -> $crate::store::Result<Option<Bot>> {
                let row: Option<BotRow> = query_as("SELECT * FROM bots WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
                let Some(row) = row else { return Ok(None) };
                let entries: Vec<KnowledgeRow> = query_as("SELECT bot_id, question, answer FROM knowledge WHERE bot_id = $1 ORDER BY position").bind(id).fetch_all(&mut *conn).await?;
                Ok(Some(row.into_bot(entries.into_iter().map(|e| Entry { question: e.question, answer: e.answer }).collect())))
            }

            /// Loads bots with their knowledge in two queries, whatever their number.
            async fn bots_where(conn: &mut $Db, rows: Vec<BotRow>) -> $crate::store::Result<Vec<Bot>> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let team = rows[0].team_id.clone();
                let entries: Vec<KnowledgeRow> = query_as(
                    "SELECT k.bot_id, k.question, k.answer FROM knowledge k JOIN bots b ON b.id = k.bot_id WHERE b.team_id = $1 ORDER BY k.bot_id, k.position",
                )
                .bind(&team)
                .fetch_all(&mut *conn)
                .await?;
                let mut by_bot: std::collections::HashMap<BotId, Vec<Entry>> = std::collections::HashMap::new();
                for e in entries {
                    by_bot.entry(e.bot_id).or_default().push(Entry { question: e.question, answer: e.answer });
                }
                Ok(rows.into_iter().map(|r| { let k = by_bot.remove(&r.id).unwrap_or_default(); r.into_bot(k) }).collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::BotStore for $Store {
            async fn create_bot(&self, team: &TeamId, bot: BotInput, now: i64) -> $crate::store::Result<Bot> {
                let team = team.clone();
                run!(self.write, |c| {
                    let team = &team;
                    let id = BotId::new();
                    let (url, secret) = responder_columns(&bot.responder);
                    query(
                        "INSERT INTO bots (id, team_id, name, greeting, human_escalation, human_only, show_agent_availability, auto_escalate_unanswered, allowed_origins, webhook_url, webhook_secret, widget, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&id)
                    .bind(team)
                    .bind(&bot.name)
                    .bind(&bot.greeting)
                    .bind(bot.settings.human_escalation)
                    .bind(bot.settings.human_only)
                    .bind(bot.settings.show_agent_availability)
                    .bind(bot.settings.auto_escalate_unanswered)
                    .bind(serde_json::to_string(&bot.settings.allowed_origins).unwrap_or_else(|_| "[]".into()))
                    .bind(url)
                    .bind(secret)
                    .bind(serde_json::to_string(&bot.settings.widget).unwrap_or_else(|_| "{}".into()))
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Self::write_knowledge(&mut *c, &id, &bot.knowledge).await?;
                    Ok(Bot { id, team_id: team.clone(), name: bot.name, greeting: bot.greeting, settings: bot.settings, responder: bot.responder, knowledge: bot.knowledge, logo_version: None, created_at: now })
                })
            }

            async fn bot(&self, id: &BotId) -> $crate::store::Result<Option<Bot>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    Self::bot_in(&mut *c, id).await
                })
            }

            async fn bots(&self, team: &TeamId, access: &BotAccess) -> $crate::store::Result<Vec<Bot>> {
                let team = team.clone();
                let access = access.clone();
                run!(self.read, |c| {
                    let team = &team;
                    let access = &access;
                    let rows: Vec<BotRow> = query_as("SELECT * FROM bots WHERE team_id = $1 ORDER BY created_at, id").bind(team).fetch_all(&mut *c).await?;
                    let rows = rows.into_iter().filter(|r| access.reaches(&r.id)).collect();
                    Self::bots_where(&mut *c, rows).await
                })
            }

            async fn update_bot(&self, id: &BotId, bot: BotInput) -> $crate::store::Result<Bot> {
                let id = id.clone();
                run!(self.write, |c| {
                    let id = &id;
                    let (url, secret) = responder_columns(&bot.responder);
                    let res = query(
                        "UPDATE bots SET name = $2, greeting = $3, human_escalation = $4, human_only = $5, show_agent_availability = $6, auto_escalate_unanswered = $7,
                            allowed_origins = $8, webhook_url = $9, webhook_secret = $10, widget = $11 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(&bot.name)
                    .bind(&bot.greeting)
                    .bind(bot.settings.human_escalation)
                    .bind(bot.settings.human_only)
                    .bind(bot.settings.show_agent_availability)
                    .bind(bot.settings.auto_escalate_unanswered)
                    .bind(serde_json::to_string(&bot.settings.allowed_origins).unwrap_or_else(|_| "[]".into()))
                    .bind(url)
                    .bind(secret)
                    .bind(serde_json::to_string(&bot.settings.widget).unwrap_or_else(|_| "{}".into()))
                    .execute(&mut *c)
                    .await?;
                    if res.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::write_knowledge(&mut *c, id, &bot.knowledge).await?;
                    Self::bot_in(&mut *c, id).await?.ok_or(StoreError::NotFound)
                })
            }

            async fn delete_bot(&self, id: &BotId) -> $crate::store::Result<()> {
                let id = id.clone();
                run!(self.write, |c| {
                    let id = &id;
                    // Its chats are locked before the cascade deletes them one by one, each also
                    // locking its report tallies (see `remove_member`).
                    query(concat!("SELECT id FROM conversations WHERE bot_id = $1 ORDER BY id", $lock)).bind(id).execute(&mut *c).await?;
                    let res = query("DELETE FROM bots WHERE id = $1").bind(id).execute(&mut *c).await?;
                    if res.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                })
            }

            async fn availability(&self, bot: &BotId) -> $crate::store::Result<(bool, Option<i64>)> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    let bot = &bot;
                    row! {
                    struct Row {
                        online: i64,
                        last_active_at: Option<i64>,
                    }
                    }
                    // `c` stands in for a conversation of this bot so the shared access rule applies.
                    let row: Row = query_as(concat!(
                        "SELECT COUNT(CASE WHEN u.status = 'available' THEN 1 END) AS online, MAX(u.last_active_at) AS last_active_at
                         FROM users u, (SELECT b.id AS bot_id, b.team_id FROM bots b WHERE b.id = $1) c
                         WHERE ", chat_scope!("u.id")
                    ))
                    .bind(bot)
                    .fetch_one(&mut *c)
                    .await?;
                    Ok((row.online > 0, row.last_active_at))
                })
            }

            async fn create_visitor(&self, bot: &BotId, name: Option<&str>, email: Option<&str>, page_url: Option<&str>, token_hash: &str, now: i64) -> $crate::store::Result<Visitor> {
                let bot = bot.clone();
                let name = name.map(str::to_owned);
                let email = email.map(str::to_owned);
                let page_url = page_url.map(str::to_owned);
                let token_hash = token_hash.to_owned();
                run!(self.write, |c| {
                    let bot = &bot;
                    let name = name.as_deref();
                    let email = email.as_deref();
                    let page_url = page_url.as_deref();
                    let token_hash = token_hash.as_str();
                    let id = VisitorId::new();
                    query("INSERT INTO visitors (id, bot_id, token_hash, name, email, page_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(&id)
                        .bind(bot)
                        .bind(token_hash)
                        .bind(name)
                        .bind(email)
                        .bind(page_url)
                        .bind(now)
                        .execute(&mut *c)
                        .await?;
                    Ok(Visitor { id, bot_id: bot.clone(), name: name.map(Into::into), email: email.map(Into::into), page_url: page_url.map(Into::into), fields: Default::default(), created_at: now })
                })
            }

            async fn visitor_by_token(&self, token_hash: &str) -> $crate::store::Result<Option<Visitor>> {
                let token_hash = token_hash.to_owned();
                run!(self.read, |c| {
                    let token_hash = token_hash.as_str();
                    // The visitor's first token, or one added when they came back through an email link.
                    let row: Option<VisitorRow> = query_as(concat!(
                        "SELECT ", visitor_cols!(), " FROM visitors v WHERE v.token_hash = $1
                         UNION ALL SELECT ", visitor_cols!(), " FROM visitor_tokens t JOIN visitors v ON v.id = t.visitor_id WHERE t.token_hash = $1 LIMIT 1"
                    ))
                    .bind(token_hash)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn visitor_session(&self, token_hash: &str) -> $crate::store::Result<Option<(Visitor, Bot)>> {
                let token_hash = token_hash.to_owned();
                run!(self.read, |c| {
                    let token_hash = token_hash.as_str();
                    row! {
                    struct Row {
                        #[flatten]
                        bot: BotRow,
                        v_id: VisitorId,
                        v_name: Option<String>,
                        v_email: Option<String>,
                        v_page_url: Option<String>,
                        v_fields: columns::Json<std::collections::BTreeMap<String, String>>,
                        v_created_at: i64,
                    }
                    }
                    let row: Option<Row> = query_as(
                        "SELECT b.*, v.id AS v_id, v.name AS v_name, v.email AS v_email, v.page_url AS v_page_url, v.fields AS v_fields, v.created_at AS v_created_at
                         FROM visitors v JOIN bots b ON b.id = v.bot_id WHERE v.token_hash = $1
                         UNION ALL
                         SELECT b.*, v.id AS v_id, v.name AS v_name, v.email AS v_email, v.page_url AS v_page_url, v.fields AS v_fields, v.created_at AS v_created_at
                         FROM visitor_tokens t JOIN visitors v ON v.id = t.visitor_id JOIN bots b ON b.id = v.bot_id WHERE t.token_hash = $1
                         LIMIT 1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&mut *c)
                    .await?;
                    Ok(row.map(|r| {
                        let visitor = Visitor { id: r.v_id, bot_id: r.bot.id.clone(), name: r.v_name, email: r.v_email, page_url: r.v_page_url, fields: r.v_fields.0, created_at: r.v_created_at };
                        (visitor, r.bot.into_bot(Vec::new()))
                    }))
                })
            }

            async fn visitor(&self, id: &VisitorId) -> $crate::store::Result<Option<Visitor>> {
                let id = id.clone();
                run!(self.read, |c| {
                    let id = &id;
                    let row: Option<VisitorRow> = query_as(concat!("SELECT ", visitor_cols!(), " FROM visitors v WHERE v.id = $1")).bind(id).fetch_optional(&mut *c).await?;
                    Ok(row.map(Into::into))
                })
            }

            async fn set_visitor_fields(&self, id: &VisitorId, fields: &std::collections::BTreeMap<String, String>) -> $crate::store::Result<Visitor> {
                let id = id.clone();
                let fields = serde_json::to_string(fields).unwrap_or_else(|_| "{}".into());
                run!(self.write, |c| {
                    let id = &id;
                    let row: Option<VisitorRow> = query_as("UPDATE visitors SET fields = $2 WHERE id = $1 RETURNING id, bot_id, name, email, page_url, fields, created_at")
                        .bind(id)
                        .bind(&fields)
                        .fetch_optional(&mut *c)
                        .await?;
                    row.map(Into::into).ok_or(StoreError::NotFound)
                })
            }

            async fn set_bot_logo(&self, bot: &BotId, png: Vec<u8>, version: i64) -> $crate::store::Result<()> {
                let bot = bot.clone();
                run!(self.write, |c| {
                    let bot = &bot;
                    let res = query("UPDATE bots SET logo_version = $2 WHERE id = $1").bind(bot).bind(version).execute(&mut *c).await?;
                    if res.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    query("INSERT INTO bot_logos (bot_id, png) VALUES ($1, $2) ON CONFLICT (bot_id) DO UPDATE SET png = excluded.png")
                        .bind(bot)
                        .bind(png)
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            }

            async fn bot_logo(&self, bot: &BotId) -> $crate::store::Result<Option<Vec<u8>>> {
                let bot = bot.clone();
                run!(self.read, |c| {
                    let bot = &bot;
                    Ok(query_scalar("SELECT png FROM bot_logos WHERE bot_id = $1").bind(bot).fetch_optional(&mut *c).await?)
                })
            }

            async fn delete_bot_logo(&self, bot: &BotId) -> $crate::store::Result<bool> {
                let bot = bot.clone();
                run!(self.write, |c| {
                    let bot = &bot;
                    query("UPDATE bots SET logo_version = NULL WHERE id = $1").bind(bot).execute(&mut *c).await?;
                    Ok(query("DELETE FROM bot_logos WHERE bot_id = $1").bind(bot).execute(&mut *c).await?.rows_affected() > 0)
                })
            }

            async fn update_visitor(&self, id: &VisitorId, name: Option<Option<&str>>, email: Option<Option<&str>>) -> $crate::store::Result<Visitor> {
                let id = id.clone();
                let name = name.map(|o| o.map(str::to_owned));
                let email = email.map(|o| o.map(str::to_owned));
                run!(self.write, |c| {
                    let id = &id;
                    let name = name.as_ref().map(|o| o.as_deref());
                    let email = email.as_ref().map(|o| o.as_deref());
                    // ($2, $3): set the name or not; ($4, $5) the same for the email.
                    let row: Option<VisitorRow> = query_as(
                        "UPDATE visitors SET name = CASE WHEN $2 THEN $3 ELSE name END, email = CASE WHEN $4 THEN $5 ELSE email END
                         WHERE id = $1 RETURNING id, bot_id, name, email, page_url, fields, created_at",
                    )
                    .bind(id)
                    .bind(name.is_some())
                    .bind(name.flatten())
                    .bind(email.is_some())
                    .bind(email.flatten())
                    .fetch_optional(&mut *c)
                    .await?;
                    row.map(Into::into).ok_or(StoreError::NotFound)
                })
            }
        }
    };
}
