//! Search in the chats an agent may see: messages (each engine's full-text index; the match
//! clause is the engine's, the rest is shared) and visitors by the words of their name and email.

/// Columns of a [`SearchRow`]: the conversation `c`, its bot `b`, its visitor `v`.
macro_rules! search_cols {
    () => {
        "c.id AS conversation_id, c.state, c.escalated_at, c.last_activity_at, c.bot_id, b.name AS bot_name, v.id AS visitor_id, v.name AS visitor_name, v.email AS visitor_email"
    };
}

/// Messages matching `$3` in chats of team `$1` that member `$2` may see, newest first, `$4`
/// at most. Each engine's text match, as (FROM and match clause, order). On SQLite the index
/// drives the join (`CROSS JOIN` keeps that order): read newest first by rowid, each match is
/// checked against the scope until the page is full, rather than the match being run once per
/// row of the team's conversations.
macro_rules! message_search_sql {
    (sqlite) => {
        concat!(
            "SELECT ",
            search_cols!(),
            ", m.id AS message_id, m.seq, m.author_kind, m.internal, m.text, m.created_at,
                    u.first_name AS u_first, u.last_name AS u_last, u.email AS u_email
             FROM message_search s CROSS JOIN messages m ON m.rowid = s.rowid
             CROSS JOIN conversations c ON c.id = m.conversation_id JOIN bots b ON b.id = c.bot_id JOIN visitors v ON v.id = c.visitor_id
             LEFT JOIN users u ON m.author_kind = 'agent' AND u.id = m.author_id
             WHERE message_search MATCH $3 AND m.author_kind <> 'system' AND c.team_id = $1 AND c.escalated_at IS NOT NULL AND ",
            chat_scope!("$2"),
            " ORDER BY s.rowid DESC LIMIT $4"
        )
    };
    (postgres) => {
        concat!(
            "SELECT ",
            search_cols!(),
            ", m.id AS message_id, m.seq, m.author_kind, m.internal, m.text, m.created_at,
                    u.first_name AS u_first, u.last_name AS u_last, u.email AS u_email
             FROM messages m
             JOIN conversations c ON c.id = m.conversation_id JOIN bots b ON b.id = c.bot_id JOIN visitors v ON v.id = c.visitor_id
             LEFT JOIN users u ON m.author_kind = 'agent' AND u.id = m.author_id
             WHERE to_tsvector('simple', m.text) @@ to_tsquery('simple', $3) AND m.author_kind <> 'system'
               AND c.team_id = $1 AND c.escalated_at IS NOT NULL AND ",
            chat_scope!("$2"),
            " ORDER BY m.created_at DESC, m.id DESC LIMIT $4"
        )
    };
}

/// Conversations whose visitor's name or email has every word of `$3` (the same match as for
/// messages), in team `$1` as member `$2` may see them, latest activity first, `$4` at most.
macro_rules! people_search_sql {
    (sqlite) => {
        concat!(
            "SELECT ", search_cols!(), " FROM visitor_search vs CROSS JOIN visitors v ON v.rowid = vs.rowid
             CROSS JOIN conversations c ON c.visitor_id = v.id JOIN bots b ON b.id = c.bot_id
             WHERE visitor_search MATCH $3 AND c.team_id = $1 AND c.escalated_at IS NOT NULL AND ", chat_scope!("$2"),
            " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4"
        )
    };
    (postgres) => {
        concat!(
            "SELECT ", search_cols!(), " FROM visitors v JOIN conversations c ON c.visitor_id = v.id JOIN bots b ON b.id = c.bot_id
             WHERE to_tsvector('simple', COALESCE(v.name, '') || ' ' || regexp_replace(COALESCE(v.email, ''), '[^[:alnum:]]+', ' ', 'g')) @@ to_tsquery('simple', $3)
               AND c.team_id = $1 AND c.escalated_at IS NOT NULL AND ", chat_scope!("$2"),
            " ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4"
        )
    };
}

macro_rules! search_store {
    ($Store:ty, $Db:ty, $engine:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::SearchStore for $Store {
            async fn search(&self, scope: &AgentScope, q: &crate::domain::search::Query, limit: i64) -> $crate::store::Result<SearchResults> {
                let (scope, q) = (scope.clone(), q.clone());
                run!(self.read, |c| {
                    let (scope, q) = (&scope, &q);
                    let pattern = if stringify!($engine) == "sqlite" { q.fts5() } else { q.tsquery() };
                    let rows: Vec<MessageHitRow> = query_as(message_search_sql!($engine))
                        .bind(&scope.team)
                        .bind(&scope.user)
                        .bind(&pattern)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                    let people: Vec<SearchRow> = query_as(people_search_sql!($engine))
                        .bind(&scope.team)
                        .bind(&scope.user)
                        .bind(&pattern)
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?;
                    Ok(SearchResults {
                        conversations: people.into_iter().map(Into::into).collect(),
                        messages: rows.into_iter().map(Into::into).collect(),
                    })
                })
            }
        }
    };
}
