//! What agents see about a visitor beside the chat: their context and attributes, and their
//! earlier chats.

macro_rules! visitor_store {
    ($Store:ty, $Db:ty) => {
        impl $Store {
            /// Replaces the context, the attributes, or both (`None` keeps what is stored).
            async fn save_visitor_context(&self, visitor: &VisitorId, context: Option<String>, attributes: Option<String>, now: i64) -> $crate::store::Result<()> {
                let visitor = visitor.clone();
                run!(self.write, |c| {
                    query(
                        "INSERT INTO visitor_context (visitor_id, context, attributes, updated_at) VALUES ($1, COALESCE($2, '{}'), COALESCE($3, '{}'), $4)
                         ON CONFLICT (visitor_id) DO UPDATE SET context = COALESCE($2, visitor_context.context),
                            attributes = COALESCE($3, visitor_context.attributes), updated_at = excluded.updated_at",
                    )
                    .bind(&visitor)
                    .bind(&context)
                    .bind(&attributes)
                    .bind(now)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::VisitorStore for $Store {
            async fn set_visitor_context(&self, visitor: &VisitorId, context: &crate::domain::visitor::Context, now: i64) -> $crate::store::Result<()> {
                self.save_visitor_context(visitor, Some(serde_json::to_string(context).expect("context serialises")), None, now).await
            }

            async fn set_visitor_attributes(
                &self,
                visitor: &VisitorId,
                attributes: &std::collections::BTreeMap<String, String>,
                now: i64,
            ) -> $crate::store::Result<()> {
                self.save_visitor_context(visitor, None, Some(serde_json::to_string(attributes).expect("attributes serialise")), now).await
            }

            async fn visitor_context(&self, visitor: &VisitorId) -> $crate::store::Result<Option<VisitorContext>> {
                let visitor = visitor.clone();
                run!(self.read, |c| {
                    let row: Option<VisitorContextRow> =
                        query_as("SELECT context, attributes, updated_at FROM visitor_context WHERE visitor_id = $1")
                            .bind(&visitor)
                            .fetch_optional(&mut *c)
                            .await?;
                    Ok(row.map(|r| VisitorContext { context: r.context.0, attributes: r.attributes.0, updated_at: r.updated_at }))
                })
            }

            async fn visitor_chats(&self, visitor: &VisitorId, limit: i64) -> $crate::store::Result<Vec<PastChat>> {
                let visitor = visitor.clone();
                run!(self.read, |c| {
                    let rows: Vec<PastChatRow> = query_as(
                        "SELECT c.id, c.state, c.created_at, c.escalated_at, c.resolved_at, c.last_preview, b.name AS bot_name,
                                u.first_name AS u_first, u.last_name AS u_last, u.email AS u_email,
                                rt.score AS r_score, rt.scale AS r_scale, rt.comment AS r_comment, rt.created_at AS r_at
                         FROM conversations c JOIN bots b ON b.id = c.bot_id
                         LEFT JOIN users u ON u.id = c.assignee_id
                         LEFT JOIN ratings rt ON rt.conversation_id = c.id
                         WHERE c.visitor_id = $1 AND c.escalated_at IS NOT NULL
                         ORDER BY c.created_at DESC, c.id DESC LIMIT $2",
                    )
                    .bind(&visitor)
                    .bind(limit)
                    .fetch_all(&mut *c)
                    .await?;
                    Ok(rows.into_iter().map(Into::into).collect())
                })
            }
        }
    };
}
