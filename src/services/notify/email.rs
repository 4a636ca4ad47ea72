//! The unread-reply email to visitors: SMTP configuration and delivery of the email outbox.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::hub::Topic;
use crate::services::AppState;
use crate::services::auth;
use crate::store::{AuthorKind, EmailJob, EmailKind};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain connection upgraded with STARTTLS (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test server.
    None,
}

impl Tls {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(s: &SmtpSettings) -> Result<Self, String> {
        let from: Mailbox = s.from.parse().map_err(|e| format!("--smtp-from {:?}: {e}", s.from))?;
        let builder = match s.tls {
            Tls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host).map_err(|e| e.to_string())?,
            Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(|e| e.to_string())?,
            Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
        };
        let mut builder = builder.port(s.port).timeout(Some(std::time::Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self { transport: builder.build(), from })
    }
}

/// Gives up on an email after this many attempts.
const MAX_ATTEMPTS: i64 = 5;
/// How long the link in an email keeps working.
const RESUME_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

enum Outcome {
    Sent,
    Cancel(&'static str),
    Later(i64),
    Failed(String),
}

/// The visitor's copy of an ended chat: every public message, with who wrote it and when.
async fn transcript(state: &AppState, mailer: &Mailer, job: &EmailJob) -> Result<Outcome, crate::store::StoreError> {
    let store = &state.store;
    let Some(conv) = store.conversation(&job.conversation_id).await? else { return Ok(Outcome::Cancel("conversation gone")) };
    let Some(to) = job.to.clone() else { return Ok(Outcome::Cancel("no address")) };
    let bot_name = store.bot(&conv.bot_id).await?.map(|b| b.name).unwrap_or_else(|| "our team".into());
    let mut body = format!("Hi,\n\nHere is your chat with {bot_name}, as you asked.\n\n");
    for m in store.messages(&conv.id, 0, false).await? {
        let at = crate::clock::rfc3339(m.created_at);
        let at = at.get(..16).unwrap_or(&at).replace('T', " ");
        let who = match m.author.kind {
            AuthorKind::Visitor => "You".to_string(),
            AuthorKind::Bot => bot_name.clone(),
            AuthorKind::Agent => m.author.display_name.clone().unwrap_or_else(|| "Agent".into()),
            AuthorKind::System => {
                body.push_str(&format!("[{at} UTC] — {} —\n\n", m.body.text()));
                continue;
            }
        };
        body.push_str(&format!("[{at} UTC] {who}:\n{}\n\n", m.body.text()));
    }
    body.push_str("You are getting this email because you asked for a copy of the chat.\n");
    let to: Mailbox = match to.parse() {
        Ok(m) => m,
        Err(_) => return Ok(Outcome::Cancel("the address is not deliverable")),
    };
    let message =
        Message::builder().from(mailer.from.clone()).to(to).subject(format!("Your chat with {bot_name}")).header(ContentType::TEXT_PLAIN).body(body);
    send(mailer, job, message, state.now()).await
}

async fn send(
    mailer: &Mailer,
    job: &EmailJob,
    message: Result<Message, lettre::error::Error>,
    now: i64,
) -> Result<Outcome, crate::store::StoreError> {
    let message = match message {
        Ok(m) => m,
        Err(e) => return Ok(Outcome::Failed(format!("cannot build the email: {e}"))),
    };
    match mailer.transport.send(message).await {
        Ok(_) => Ok(Outcome::Sent),
        Err(e) if job.attempts < MAX_ATTEMPTS => {
            tracing::warn!(error = %e, "sending an email failed; retrying");
            Ok(Outcome::Later(now + 60_000 * (1 << job.attempts.min(6))))
        }
        Err(e) => Ok(Outcome::Failed(e.to_string())),
    }
}

async fn process(state: &AppState, mailer: &Mailer, job: &EmailJob) -> Result<Outcome, crate::store::StoreError> {
    if job.kind == EmailKind::Transcript {
        return transcript(state, mailer, job).await;
    }
    let store = &state.store;
    let Some(conv) = store.conversation(&job.conversation_id).await? else { return Ok(Outcome::Cancel("conversation gone")) };
    let Some(visitor) = store.visitor(&conv.visitor_id).await? else { return Ok(Outcome::Cancel("visitor gone")) };
    let Some(to) = visitor.email.clone() else { return Ok(Outcome::Cancel("the visitor left no email")) };
    let read = store.read_marker(&conv.id, visitor.id.as_str()).await?;
    let unread: Vec<_> =
        store.messages(&conv.id, read.max(job.from_seq - 1), false).await?.into_iter().filter(|m| m.author.kind == AuthorKind::Agent).collect();
    if unread.is_empty() {
        return Ok(Outcome::Cancel("the visitor read the reply"));
    }
    let team = store.team(&conv.team_id).await?;
    let delay = team.map(|t| t.settings.visitor_email_delay_seconds).unwrap_or(120).max(30) * 1000;
    match state.listening(&Topic::Visitor(visitor.id.clone())).await {
        // The widget is open right now, on some node: it shows the reply; look again later.
        Ok(true) => return Ok(Outcome::Later(state.now() + delay)),
        Ok(false) => {}
        // Cannot tell: an email the visitor may not need is worse than one a little later.
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell whether the visitor's widget is open; trying again shortly");
            return Ok(Outcome::Later(state.now() + 30_000));
        }
    }
    let bot = store.bot(&conv.bot_id).await?;
    let bot_name = bot.as_ref().map(|b| b.name.clone()).unwrap_or_else(|| "our team".into());

    let token = auth::new_secret("");
    store.add_resume_token(&visitor.id, &auth::hash_secret(&token), state.now() + RESUME_TTL_MS).await?;
    let back = match &visitor.page_url {
        Some(page) => page.split('#').next().unwrap_or(page).to_string(),
        None => format!("{}/chat?bot={}", state.base_url, conv.bot_id),
    };
    let link = format!("{back}#baton-resume={token}");
    let agent = unread.last().and_then(|m| m.author.display_name.clone()).unwrap_or_else(|| "Our team".into());
    let mut body = format!("Hi {},\n\n{agent} replied to your chat with {bot_name}:\n\n", visitor.name.as_deref().unwrap_or("there"));
    for m in &unread {
        body.push_str(&format!("{}:\n{}\n\n", m.author.display_name.as_deref().unwrap_or("Agent"), m.body.text()));
    }
    body.push_str(&format!("Continue the conversation: {link}\n\nYou are getting this email because you left your address in the chat.\n"));
    let to: Mailbox = match to.parse() {
        Ok(m) => m,
        Err(_) => return Ok(Outcome::Cancel("the visitor's email is not deliverable")),
    };
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(format!("{agent} replied to your message"))
        .header(ContentType::TEXT_PLAIN)
        .body(body);
    send(mailer, job, message, state.now()).await
}

/// Sends (or cancels) every due email.
pub async fn drain(state: &AppState) {
    let Some(mailer) = &state.notifier.mailer else { return };
    loop {
        let jobs = match state.store.claim_emails(state.now(), 20).await {
            Ok(j) if !j.is_empty() => j,
            Ok(_) => return,
            Err(e) => return tracing::warn!(error = %e, "claiming emails failed"),
        };
        for job in jobs {
            // Stopping: the claimed jobs left go to whoever drains next, after their lease.
            if state.shutdown.is_stopping() {
                return;
            }
            let now = state.now();
            let result = match process(state, mailer, &job).await {
                Ok(Outcome::Sent) => state.store.email_done(&job.id, "sent", None, now).await,
                Ok(Outcome::Cancel(why)) => state.store.email_done(&job.id, "cancelled", Some(why), now).await,
                Ok(Outcome::Later(at)) => state.store.email_later(&job.id, at, None).await,
                Ok(Outcome::Failed(e)) => state.store.email_done(&job.id, "failed", Some(&e), now).await,
                Err(e) => {
                    tracing::warn!(error = %e, "an email job failed; it is retried after its lease");
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "recording an email result failed");
            }
        }
    }
}

/// Sends every due mail to people with accounts (invitations, password resets, notices to
/// owners): a few tries a few minutes apart, then given up.
pub async fn drain_mail(state: &AppState) {
    let Some(mailer) = &state.notifier.mailer else { return };
    loop {
        let mails = match state.store.claim_mail(state.now(), 20).await {
            Ok(m) if !m.is_empty() => m,
            Ok(_) => return,
            Err(e) => return tracing::warn!(error = %e, "claiming mail failed"),
        };
        for mail in mails {
            if state.shutdown.is_stopping() {
                return;
            }
            let now = state.now();
            let to: Result<Mailbox, _> = mail.to.parse();
            let result = match to {
                Err(_) => state.store.mail_done(&mail.id, "failed", Some("the address is not deliverable"), None, now).await,
                Ok(to) => {
                    let message = Message::builder()
                        .from(mailer.from.clone())
                        .to(to)
                        .subject(mail.subject.clone())
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.body.clone());
                    match message {
                        Err(e) => state.store.mail_done(&mail.id, "failed", Some(&format!("cannot build the email: {e}")), None, now).await,
                        Ok(message) => match mailer.transport.send(message).await {
                            Ok(_) => state.store.mail_done(&mail.id, "sent", None, None, now).await,
                            Err(e) if mail.attempts < MAX_ATTEMPTS => {
                                tracing::warn!(error = %e, "sending mail failed; retrying");
                                state
                                    .store
                                    .mail_done(&mail.id, "pending", Some(&e.to_string()), Some(now + 60_000 * (1 << mail.attempts.min(6))), now)
                                    .await
                            }
                            Err(e) => state.store.mail_done(&mail.id, "failed", Some(&e.to_string()), None, now).await,
                        },
                    }
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "recording a mail result failed");
            }
        }
    }
}
