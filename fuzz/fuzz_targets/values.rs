//! Values parsed at the edge (`baton::domain::values`, `baton::domain::ids`): every parser takes
//! any string without panicking, and a value that parses re-parses from its own string form to
//! the same value, with the invariants its docs state (trimmed, length caps, no control
//! characters, lower-cased emails and origins, canonical UUID text for ids).
//!
//! The whole input is given to every parser; when it has a line break, the first line is also
//! taken as an allowed origin and the rest as a request's `Origin` header.
#![no_main]

use baton::domain::ids::{BotId, ConversationId, InvitationId, MessageId, ShortcutId, TeamId, TokenId, UserId, VisitorId};
use baton::domain::values::{BotName, ClientId, Email, InvalidField, Origin, Password, PersonName, ShortcutName, TeamName, TokenName};
use libfuzzer_sys::{Corpus, fuzz_target};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(s) = std::str::from_utf8(data) else { return Corpus::Reject };

    line_value(s, "name", 0, 100, PersonName::parse, PersonName::as_str);
    line_value(s, "name", 1, 100, TeamName::parse, TeamName::as_str);
    line_value(s, "name", 1, 100, BotName::parse, BotName::as_str);
    line_value(s, "name", 1, 60, ShortcutName::parse, ShortcutName::as_str);
    line_value(s, "name", 1, 100, TokenName::parse, TokenName::as_str);
    assert_eq!(TeamName::parse_as("team.name", s).map_err(|e| e.field), TeamName::parse(s).map_err(|_| "team.name"));

    email(s);
    password(s);
    client_id(s);
    origin(s);
    if let Some((allowed, header)) = s.split_once('\n') {
        origin_matches(allowed, header);
    }

    ids(s, UserId::parse, UserId::as_str);
    ids(s, TeamId::parse, TeamId::as_str);
    ids(s, BotId::parse, BotId::as_str);
    ids(s, VisitorId::parse, VisitorId::as_str);
    ids(s, ConversationId::parse, ConversationId::as_str);
    ids(s, MessageId::parse, MessageId::as_str);
    ids(s, ShortcutId::parse, ShortcutId::as_str);
    ids(s, TokenId::parse, TokenId::as_str);
    ids(s, InvitationId::parse, InvitationId::as_str);
    if let Some(id) = ConversationId::parse(s) {
        assert_eq!(id.to_string(), id.as_str());
        // The JSON form is the string form.
        assert_eq!(serde_json::to_string(&id).expect("serialises"), format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<ConversationId>(&format!("\"{id}\"")).expect("deserialises"), id);
    }
    Corpus::Keep
});

fn line_value<T: PartialEq + std::fmt::Debug>(
    s: &str,
    field: &str,
    min: usize,
    max: usize,
    parse: fn(&str) -> Result<T, InvalidField>,
    as_str: fn(&T) -> &str,
) {
    match parse(s) {
        Ok(v) => {
            let text = as_str(&v);
            assert_eq!(text, s.trim(), "not the trimmed input");
            let n = text.chars().count();
            assert!((min..=max).contains(&n), "{n} characters, not {min}..={max}: {text:?}");
            assert!(!text.chars().any(char::is_control), "control character in {text:?}");
            assert_eq!(parse(text).as_ref(), Ok(&v), "does not re-parse to itself: {text:?}");
        }
        Err(e) => {
            assert_eq!(e.field, field);
            assert_eq!(e.to_string(), format!("{field}: {}", e.reason));
        }
    }
}

fn email(s: &str) {
    let Ok(e) = Email::parse(s) else { return };
    let a = e.as_str();
    assert_eq!(a, s.trim().to_lowercase());
    assert_eq!(a, a.to_lowercase(), "not lower-cased: {a:?}");
    assert!(a.len() <= 254);
    assert!(!a.chars().any(|c| c.is_whitespace() || c.is_control()));
    let (local, domain) = a.split_once('@').expect("an email has an @");
    assert!(!local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    assert_eq!(Email::parse(a).as_ref(), Ok(&e), "does not re-parse to itself: {a:?}");
    assert_eq!(Email::parse(&format!(" {a}\t")).as_ref(), Ok(&e));
}

fn password(s: &str) {
    match Password::parse(s) {
        Ok(p) => {
            assert_eq!(p.expose(), s, "a password is kept as typed");
            let n = s.chars().count();
            assert!((Password::MIN..=Password::MAX).contains(&n));
            assert_eq!(format!("{p:?}"), "Password(<redacted>)");
            assert!(Password::parse(p.expose()).is_ok());
        }
        Err(e) => assert_eq!(e.field, "password"),
    }
}

fn client_id(s: &str) {
    let Ok(c) = ClientId::parse(s) else { return };
    let a = c.as_str();
    assert_eq!(a, s.trim());
    assert!((1..=100).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_graphic()), "{a:?}");
    assert_eq!(ClientId::parse(a).as_ref(), Ok(&c));
}

fn origin(s: &str) {
    let Ok(o) = Origin::parse(s) else { return };
    let a = o.as_str();
    let host = a.strip_prefix("https://").or_else(|| a.strip_prefix("http://")).expect("an origin starts with http(s)://");
    assert!(!host.is_empty() && !host.contains(['/', '?', '#', '@']) && !host.chars().any(char::is_whitespace), "{a:?}");
    assert!(a.len() <= 255);
    assert_eq!(a, a.to_lowercase());
    assert_eq!(Origin::parse(a).as_ref(), Ok(&o), "does not re-parse to itself: {a:?}");
    assert!(o.matches(a));
    assert!(o.matches(s.trim()), "{s:?} parses as {a:?} but the same header does not match it");
}

/// A header matches an allowed origin only if it is that origin.
fn origin_matches(allowed: &str, header: &str) {
    let Ok(o) = Origin::parse(allowed) else { return };
    if o.matches(header) {
        assert_eq!(Origin::parse(header).as_ref(), Ok(&o), "{header:?} matches {:?} but is not that origin", o.as_str());
    }
}

fn ids<T: PartialEq + std::fmt::Debug>(s: &str, parse: fn(&str) -> Option<T>, as_str: fn(&T) -> &str) {
    let Some(id) = parse(s) else { return };
    let a = as_str(&id);
    let canonical = a.len() == 36
        && a.bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_digit() || (b'a'..=b'f').contains(&b) });
    assert!(canonical, "id not in canonical form: {a:?}");
    assert_eq!(parse(a).as_ref(), Some(&id));
    if s.len() == 36 && s == s.to_ascii_lowercase() {
        assert_eq!(a, s, "a canonical id is kept as written");
    }
}
