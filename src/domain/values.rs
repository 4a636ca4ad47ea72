//! Values parsed at the edge. Each type can only be built through `parse`, so anything holding
//! one has already been checked; the error names the field for API.md's `invalid_input`.

use std::fmt;

/// Why a field was refused. Rendered as "field: reason".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    pub field: &'static str,
    pub reason: String,
}

impl InvalidField {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidField {}

/// Trimmed single-line text with a length cap and no control characters. The cap counts what
/// was sent, spaces around included (as the API documents it); the minimum what is kept.
fn line(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, InvalidField> {
    let s = raw.trim();
    if s.chars().count() < min {
        return Err(InvalidField::new(field, if min == 1 { "must not be blank".to_string() } else { format!("must be at least {min} characters") }));
    }
    if raw.chars().count() > max {
        return Err(InvalidField::new(field, format!("must be at most {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(InvalidField::new(field, "must not contain control characters"));
    }
    Ok(s.to_string())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidField> {
                line($field, raw, $min, $max).map(Self)
            }
            pub fn parse_as(field: &'static str, raw: &str) -> Result<Self, InvalidField> {
                line(field, raw, $min, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

text_value!(
    /// A first or last name; may be blank (visitors then see the email).
    PersonName, "name", 0, 100);
text_value!(TeamName, "name", 1, 100);
text_value!(BotName, "name", 1, 100);
text_value!(ShortcutName, "name", 1, 60);
text_value!(TokenName, "name", 1, 100);

/// An email address: one `@`, a dotted domain, no spaces; stored lower-cased so lookups and the
/// uniqueness constraint ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        Self::parse_as("email", raw)
    }

    pub fn parse_as(field: &'static str, raw: &str) -> Result<Self, InvalidField> {
        let s = raw.trim().to_lowercase();
        let bad = || InvalidField::new(field, "must be an email address like name@example.com");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passwords tried first by anyone guessing, lowercase, one a line.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A password as typed. Never logged: `Debug` is redacted.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        Self::parse_as("password", raw)
    }

    /// Refuses short and long passwords, one character repeated, and the passwords people try
    /// first (a short list shipped in the binary).
    pub fn parse_as(field: &'static str, raw: &str) -> Result<Self, InvalidField> {
        let n = raw.chars().count();
        if n < Self::MIN {
            return Err(InvalidField::new(field, format!("must be at least {} characters", Self::MIN)));
        }
        if n > Self::MAX {
            return Err(InvalidField::new(field, format!("must be at most {} characters", Self::MAX)));
        }
        let lower = raw.to_lowercase();
        let mut chars = lower.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) || COMMON_PASSWORDS.lines().any(|common| common == lower) {
            return Err(InvalidField::new(field, "is too easy to guess; choose a longer or less common one"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A message body, already reduced to Baton's safe HTML subset (see [`crate::domain::html`]),
/// with its plain-text rendering kept beside it for previews, emails and search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody {
    html: String,
    text: String,
}

impl MessageBody {
    /// Longest accepted input, in characters, before sanitising.
    pub const MAX_CHARS: usize = 10_000;

    /// Rich text from an agent: the allowed tags survive, everything else is escaped.
    pub fn parse_html(raw: &str) -> Result<Self, InvalidField> {
        Self::check_len(raw)?;
        let html = crate::domain::html::sanitize(raw);
        Self::from_html(html)
    }

    /// Plain text (visitors, bots): every character is shown literally.
    pub fn parse_text(raw: &str) -> Result<Self, InvalidField> {
        Self::check_len(raw)?;
        Self::from_html(crate::domain::html::escape_text(raw.trim()))
    }

    /// Text written by Baton itself (system events), trusted but still escaped.
    pub fn system(text: &str) -> Self {
        Self { html: crate::domain::html::escape_text(text), text: text.to_string() }
    }

    fn check_len(raw: &str) -> Result<(), InvalidField> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(InvalidField::new("body", format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        Ok(())
    }

    fn from_html(html: String) -> Result<Self, InvalidField> {
        let text = crate::domain::html::to_text(&html);
        if text.trim().is_empty() {
            return Err(InvalidField::new("body", "must not be blank"));
        }
        Ok(Self { html, text })
    }

    /// The body of a message that only carries files: no text of its own; the file names stand
    /// in for it in previews, emails and search.
    pub fn files_only(names: &[&str]) -> Self {
        let label = if names.len() == 1 { "Attachment" } else { "Attachments" };
        Self { html: String::new(), text: format!("{label}: {}", names.join(", ")) }
    }

    /// Rebuilds a body read back from the store (already sanitised when written).
    pub fn from_stored(html: String, text: String) -> Self {
        Self { html, text }
    }

    pub fn html(&self) -> &str {
        &self.html
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The first line of the text, cut to `max` characters, for list previews.
    pub fn preview(&self, max: usize) -> String {
        preview(&self.text, max)
    }
}

pub fn preview(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// An idempotency key chosen by the client for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 100 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidField::new("client_id", "must be 1-100 printable ASCII characters"));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A browser origin as it appears in the `Origin` header: scheme://host[:port], no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let s = raw.trim().trim_end_matches('/').to_lowercase();
        let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
        let ok = match rest {
            Some(host) => {
                !host.is_empty()
                    && !host.contains('/')
                    && !host.contains('?')
                    && !host.contains('#')
                    && !host.contains('@')
                    && !host.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if !ok || s.len() > 255 {
            return Err(InvalidField::new("settings.allowed_origins", format!("{raw:?} must be an origin like https://shop.example.com")));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request's `Origin` header value is this origin.
    pub fn matches(&self, header: &str) -> bool {
        self.0 == header.trim_end_matches('/').to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Alice@Example.COM ").unwrap().as_str(), "alice@example.com");
        for bad in ["", "alice", "@x.com", "a@b", "a@.com", "a@b..c", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_capped() {
        assert_eq!(PersonName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(PersonName::parse("").is_ok());
        assert!(TeamName::parse("  ").is_err());
        assert!(TeamName::parse(&"x".repeat(101)).is_err());
        assert!(TeamName::parse("a\u{0007}b").is_err());
    }

    #[test]
    fn message_bodies_are_never_blank_and_keep_text() {
        assert!(MessageBody::parse_text("   ").is_err());
        assert!(MessageBody::parse_html("<b> </b>").is_err());
        let b = MessageBody::parse_text("1 < 2 & <b>x</b>").unwrap();
        assert_eq!(b.html(), "1 &lt; 2 &amp; &lt;b&gt;x&lt;/b&gt;");
        assert_eq!(b.text(), "1 < 2 & <b>x</b>");
        assert!(MessageBody::parse_text(&"y".repeat(MessageBody::MAX_CHARS + 1)).is_err());
        for easy in ["12345678", "Password1", "QWERTY123", "aaaaaaaaaa", "iloveyou"] {
            assert!(Password::parse(easy).is_err(), "{easy}");
        }
        assert!(Password::parse("correct horse battery").is_ok());
    }

    #[test]
    fn previews_flatten_and_cut() {
        assert_eq!(preview("a\n b   c", 10), "a b c");
        assert_eq!(preview("abcdefghijk", 5), "abcd…");
    }

    #[test]
    fn origins_are_scheme_host_port_only() {
        let o = Origin::parse("https://Shop.example.com/").unwrap();
        assert!(o.matches("https://shop.example.com"));
        assert!(!o.matches("https://evil.example.com"));
        for bad in ["shop.example.com", "ftp://x", "https://x/path", "https://", "https://a b"] {
            assert!(Origin::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_redacted_in_debug() {
        let p = Password::parse("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
        assert!(Password::parse("short").is_err());
    }
}
