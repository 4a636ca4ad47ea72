//! Message HTML (`baton::domain::html`) and message bodies (`MessageBody`).
//!
//! What the module promises (its docs and tests): the sanitiser's output is a fixed allow-list
//! of attribute-free tags plus `<a href>` with http(s)/mailto targets, in canonical form and
//! balanced; everything else is escaped text. So for any input:
//! - `sanitize` never panics, and is idempotent (its output is its own canonical form);
//! - every `<` in the output starts an allowed tag in canonical form, tags nest properly, at
//!   most 32 deep, `<a>` never inside `<a>`, and every tag is closed: no `<script`, no event
//!   handler or other attribute, no `javascript:`/`data:` link can come out;
//!   every `&` starts a well-formed character reference, `>` only ends a tag, and no control
//!   character other than `\n` and `\t` survives;
//! - plain text escaped by `escape_text` reads back unchanged through `to_text`, and is a fixed
//!   point of `sanitize` (when it has no control characters, which `sanitize` drops);
//! - `MessageBody::parse_html`/`parse_text` agree with those functions, refuse more than
//!   `MAX_CHARS` characters and blank text, and a stored body re-parses to itself;
//! - `preview` never returns more than `max` characters (one, the ellipsis, when `max` is 0).
#![no_main]

use baton::domain::html::{escape_text, sanitize, to_text};
use baton::domain::values::{MessageBody, preview};
use libfuzzer_sys::{Corpus, fuzz_target};

const ALLOWED: &[&str] = &["b", "blockquote", "code", "em", "i", "li", "ol", "p", "pre", "s", "strong", "u", "ul"];
const A_TAIL: &str = "\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">";
const MAX_DEPTH: usize = 32;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(input) = std::str::from_utf8(data) else { return Corpus::Reject };

    let once = sanitize(input);
    check_safe(&once, false).unwrap_or_else(|why| panic!("unsafe output: {why}\n input: {input:?}\noutput: {once:?}"));
    let twice = sanitize(&once);
    assert_eq!(twice, once, "sanitize is not idempotent\ninput: {input:?}");
    let text = to_text(&once);
    assert_eq!(text, text.trim(), "to_text trims");

    // to_text must take any string, not just sanitised HTML.
    let _ = to_text(input);

    // Plain text: escaped, it reads back as written; it is already in the allowed subset.
    let escaped = escape_text(input);
    check_safe(&escaped, true).unwrap_or_else(|why| panic!("escape_text output: {why}\n input: {input:?}\noutput: {escaped:?}"));
    let expected = input.replace('\r', "");
    assert_eq!(to_text(&escaped), expected.trim(), "to_text(escape_text(x)) != x\ninput: {input:?}");
    if !input.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        assert_eq!(sanitize(&escaped), escaped, "escaped text is not a fixed point of sanitize\ninput: {input:?}");
    }

    let too_long = input.chars().count() > MessageBody::MAX_CHARS;
    match MessageBody::parse_html(input) {
        Ok(body) => {
            assert!(!too_long);
            assert_eq!(body.html(), once);
            assert_eq!(body.text(), text);
            assert!(!body.text().trim().is_empty());
            // What was stored re-parses to itself (when escaping did not push it over the cap).
            if body.html().chars().count() <= MessageBody::MAX_CHARS {
                assert_eq!(MessageBody::parse_html(body.html()).as_ref(), Ok(&body), "a stored body does not re-parse to itself");
            }
            check_preview(body.text(), data);
        }
        Err(e) => {
            assert_eq!(e.field, "body");
            assert!(too_long || text.trim().is_empty(), "refused a non-blank body: {e}\ninput: {input:?}");
        }
    }
    match MessageBody::parse_text(input) {
        Ok(body) => {
            assert!(!too_long);
            assert_eq!(body.html(), escape_text(input.trim()));
            assert_eq!(body.text(), input.trim().replace('\r', ""), "a plain-text body's text is not what was written");
            check_preview(body.text(), data);
        }
        Err(e) => {
            assert_eq!(e.field, "body");
            assert!(too_long || input.trim().is_empty() || to_text(&escape_text(input.trim())).is_empty(), "refused: {e}\ninput: {input:?}");
        }
    }
    Corpus::Keep
});

fn check_preview(text: &str, data: &[u8]) {
    let max = usize::from(data.first().copied().unwrap_or(0) % 64);
    let p = preview(text, max);
    assert!(p.chars().count() <= max.max(1), "preview({text:?}, {max}) = {p:?}");
    assert!(!p.contains('\n'));
}

/// Checks `html` is in Baton's allowed subset, canonical and balanced. `controls`: whether
/// control characters may appear in text (escape_text keeps them; sanitize drops them).
fn check_safe(html: &str, controls: bool) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("a `<` that starts no tag")?;
                let tag = &rest[..=end];
                rest = &rest[end + 1..];
                if tag == "<br>" {
                    continue;
                }
                if let Some(name) = tag.strip_prefix("</").and_then(|t| t.strip_suffix('>')) {
                    match open.pop() {
                        Some(top) if top == name => continue,
                        top => return Err(format!("{tag} closes {top:?}")),
                    }
                }
                if let Some(attrs) = tag.strip_prefix("<a href=\"") {
                    let q = attrs.find('"').ok_or("unterminated href")?;
                    let (href, tail) = attrs.split_at(q);
                    if tail != A_TAIL {
                        return Err(format!("non-canonical <a>: {tag}"));
                    }
                    check_href(href)?;
                    if open.contains(&"a") {
                        return Err("<a> inside <a>".into());
                    }
                    open.push("a");
                } else {
                    let name = &tag[1..tag.len() - 1];
                    if !ALLOWED.contains(&name) {
                        return Err(format!("tag not allowed or not canonical: {tag}"));
                    }
                    open.push(ALLOWED[ALLOWED.iter().position(|a| *a == name).expect("checked")]);
                }
                if open.len() > MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH}"));
                }
            }
            '>' => return Err("a bare `>`".into()),
            '&' => rest = &rest[entity_len(rest).ok_or_else(|| format!("a bare `&` before {:?}", rest.get(..20).unwrap_or(rest)))?..],
            c if !controls && c.is_control() && c != '\n' && c != '\t' => return Err(format!("control character {c:?}")),
            c => rest = &rest[c.len_utf8()..],
        }
    }
    match open.last() {
        Some(t) => Err(format!("<{t}> never closed")),
        None => Ok(()),
    }
}

/// A link target as it appears in the attribute: web or mail, escaped, no whitespace.
fn check_href(href: &str) -> Result<(), String> {
    let lower = href.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")) {
        return Err(format!("link to {href:?}"));
    }
    if href.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '\'')) {
        return Err(format!("unescaped or blank character in href {href:?}"));
    }
    if href.len() > 2000 * 6 {
        return Err("href longer than the cap".into());
    }
    let mut rest = href;
    while let Some(i) = rest.find('&') {
        let n = entity_len(&rest[i..]).ok_or_else(|| format!("a bare `&` in href {href:?}"))?;
        rest = &rest[i + n..];
    }
    Ok(())
}

/// Length of a character reference at the start of `s`, written independently of the module:
/// `&name;` for the few names the sanitiser keeps, `&#ddd;` (1-7 digits), `&#xhhh;` (1-6).
fn entity_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('&')?;
    let semi = body.find(';')?;
    let name = &body[..semi];
    let ok = match name.strip_prefix('#') {
        Some(num) => match num.strip_prefix(['x', 'X']) {
            Some(hex) => (1..=6).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => (1..=7).contains(&num.len()) && num.bytes().all(|b| b.is_ascii_digit()),
        },
        None => ["amp", "lt", "gt", "quot", "apos", "nbsp"].contains(&name),
    };
    ok.then_some(semi + 2)
}
