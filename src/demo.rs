//! `baton demo`: a ready-to-try team with a shop bot and two agents.

use crate::app::{BoxError, Settings, open_store};
use crate::clock::{Clock, SystemClock};
use crate::domain::knowledge::Entry;
use crate::domain::team::Role;
use crate::store::{BotInput, BotSettings, NewMember, NewUser, Responder};

pub const PASSWORD: &str = "baton-demo";
pub const OWNER_EMAIL: &str = "alice@demo.test";
pub const AGENT_EMAIL: &str = "bob@demo.test";

const KNOWLEDGE: &[(&str, &str)] = &[
    ("What are your opening hours?", "Our support team is around Monday to Friday, 9:00 to 18:00 (CET)."),
    ("How long does shipping take?", "Orders ship within 1 business day; delivery takes 2-4 days in the EU."),
    ("Can I return an item?", "Yes: returns are free within 30 days. Start one from your order page."),
    ("Do you ship internationally?", "We ship to the EU, the UK, Switzerland and Norway."),
    ("How can I track my order?", "You get a tracking link by email as soon as your parcel leaves our warehouse."),
    ("Which payment methods do you accept?", "Cards (Visa, Mastercard, Amex), PayPal and bank transfer."),
];

/// Seeds the demo on a fresh instance (a second run only prints it again).
pub async fn run(settings: &Settings) -> Result<String, BoxError> {
    let store = open_store(settings).await?;
    let now = SystemClock.now_ms();
    let base = settings.public_url.clone().unwrap_or_else(|| format!("http://{}", settings.listen));
    if let Some((owner, _)) = store.credentials(OWNER_EMAIL).await? {
        let me = store.me(&owner.id).await?;
        let team = me.active_team_id.ok_or("the demo owner has no team")?;
        let bots = store.bots(&team, &crate::domain::team::BotAccess::All).await?;
        let bot = bots.first().ok_or("the demo team has no bot")?;
        return Ok(summary(&base, &bot.id.to_string(), false));
    }
    if store.user_count().await? > 0 {
        return Err("this Baton is already set up by someone else; run the demo on a fresh data directory, e.g. `baton demo --data-dir ./demo-data` and `baton serve --data-dir ./demo-data`".into());
    }
    let hash = crate::services::auth::hash(PASSWORD.to_string()).await?;
    let owner = NewUser { email: OWNER_EMAIL.into(), password_hash: hash.clone(), first_name: "Alice".into(), last_name: "Martin".into() };
    let (_, team) = store.setup(owner, "Demo Shop", now).await?;
    let agent = NewMember {
        email: AGENT_EMAIL.into(),
        role: Role::ChatAgent,
        first_name: "Bob".into(),
        last_name: "Keller".into(),
        password_hash: Some(hash),
    };
    store.add_member(&team.id, agent, now).await?;
    let bot = BotInput {
        name: "Shop Assistant".into(),
        greeting: "Hi! I'm the Demo Shop assistant. Ask me about shipping, returns or payments, or ask for a person.".into(),
        settings: BotSettings {
            human_escalation: true,
            human_only: false,
            show_agent_availability: true,
            auto_escalate_unanswered: false,
            allowed_origins: vec![],
            widget: Default::default(),
        },
        responder: Responder::Knowledge,
        knowledge: KNOWLEDGE.iter().map(|(q, a)| Entry { question: (*q).into(), answer: (*a).into() }).collect(),
    };
    let bot = store.create_bot(&team.id, bot, now).await?;
    Ok(summary(&base, &bot.id.to_string(), true))
}

fn summary(base: &str, bot: &str, fresh: bool) -> String {
    format!(
        "{}\n\n  Team:   Demo Shop\n  Owner:  {OWNER_EMAIL} / {PASSWORD}\n  Agent:  {AGENT_EMAIL} / {PASSWORD}\n  Bot id: {bot}\n\n  Start the server with `baton serve`, then:\n    agents:   {base}/app  (log in as Alice in one window, Bob in a private window)\n    visitors: {base}/demo?bot={bot}  (the demo shop with the chat widget)\n",
        if fresh { "Demo seeded." } else { "The demo is already seeded." }
    )
}
