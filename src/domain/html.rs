//! Message HTML. Agents write rich text (bold, italic, links, lists, code); it is reduced here to a
//! fixed allow-list of attribute-free tags plus `<a href>` with http(s)/mailto targets, re-emitted
//! in canonical form and balanced. Anything else is escaped and shown as text, so the output is
//! safe to insert as HTML in the inbox and the widget. Hand-written on purpose: the allow-list is
//! tiny, and a full HTML5 parser would be most of the binary's compile time.

const ALLOWED: &[&str] = &["a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "s", "strong", "u", "ul"];
const MAX_DEPTH: usize = 32;

/// Escapes plain text for HTML; line breaks become `<br>`.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Reduces untrusted HTML to the allowed subset.
pub fn sanitize(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut open: Vec<&'static str> = Vec::new();
    let mut rest = input;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some((tag, len)) = parse_tag(rest) {
                emit_tag(&mut out, &mut open, tag);
                rest = &rest[len..];
                continue;
            }
            out.push_str("&lt;");
        } else if c == '&' {
            match entity_len(rest) {
                Some(n) => out.push_str(&rest[..n]),
                None => out.push_str("&amp;"),
            }
            rest = &rest[entity_len(rest).unwrap_or(1)..];
            continue;
        } else if c == '>' {
            out.push_str("&gt;");
        } else if c == '\r' || (c.is_control() && c != '\n' && c != '\t') {
            // dropped: control characters have no business in a chat message
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    while let Some(t) = open.pop() {
        close(&mut out, t);
    }
    out
}

/// Plain text of sanitised HTML: tags dropped, block ends as line breaks, entities decoded.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let end = rest.find('>').map(|i| i + 1).unwrap_or(rest.len());
            let tag = &rest[..end];
            if tag.starts_with("<br") || tag == "</p>" || tag == "</li>" || tag == "</pre>" || tag == "</blockquote>" {
                out.push('\n');
            }
            rest = &rest[end..];
            continue;
        }
        if c == '&' {
            if let Some(n) = entity_len(rest) {
                out.push_str(&decode_entity(&rest[..n]));
                rest = &rest[n..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.trim().to_string()
}

#[derive(Debug, PartialEq)]
struct Tag {
    name: &'static str,
    closing: bool,
    href: Option<String>,
}

/// Parses one tag at the start of `s`. `None` when it is not a well-formed allowed tag.
fn parse_tag(s: &str) -> Option<(Tag, usize)> {
    let end = s.find('>')?;
    let inner = &s[1..end];
    if inner.contains('<') {
        return None;
    }
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let inner = inner.trim_end().trim_end_matches('/');
    let name_len = inner.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(inner.len());
    let raw_name = inner[..name_len].to_ascii_lowercase();
    let name = *ALLOWED.iter().find(|a| **a == raw_name)?;
    let attrs = &inner[name_len..];
    if !attrs.is_empty() && !attrs.starts_with(char::is_whitespace) {
        return None;
    }
    let mut href = None;
    if !closing {
        for (k, v) in parse_attrs(attrs)? {
            if name == "a" && k == "href" {
                href = Some(v);
            }
            // every other attribute (style, on*, class, target...) is dropped
        }
        if name == "a" {
            href = Some(safe_href(href.as_deref()?)?);
        }
    }
    Some((Tag { name, closing, href }, end + 1))
}

fn parse_attrs(mut s: &str) -> Option<Vec<(String, String)>> {
    let mut attrs = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Some(attrs);
        }
        let n = s.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(s.len());
        let key = s[..n].to_ascii_lowercase();
        if key.is_empty() || key.contains(['"', '\'']) {
            return None;
        }
        s = s[n..].trim_start();
        let value = if let Some(r) = s.strip_prefix('=') {
            let r = r.trim_start();
            let (v, rest) = match r.chars().next()? {
                q @ ('"' | '\'') => {
                    let close = r[1..].find(q)? + 1;
                    (&r[1..close], &r[close + 1..])
                }
                _ => {
                    let e = r.find(char::is_whitespace).unwrap_or(r.len());
                    (&r[..e], &r[e..])
                }
            };
            s = rest;
            v.to_string()
        } else {
            String::new()
        };
        attrs.push((key, value));
    }
}

/// Only web and mail links; the value is entity-decoded first so `&#106;avascript:` cannot hide.
fn safe_href(raw: &str) -> Option<String> {
    let decoded = to_text(raw);
    let cleaned: String = decoded.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = cleaned.to_ascii_lowercase();
    if (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")) && cleaned.len() <= 2000 {
        Some(cleaned)
    } else {
        None
    }
}

fn emit_tag(out: &mut String, open: &mut Vec<&'static str>, tag: Tag) {
    if tag.name == "br" {
        if !tag.closing {
            out.push_str("<br>");
        }
        return;
    }
    if tag.closing {
        if let Some(pos) = open.iter().rposition(|t| *t == tag.name) {
            while open.len() > pos {
                let t = open.pop().expect("len > pos >= 0");
                close(out, t);
            }
        }
        return;
    }
    if open.len() >= MAX_DEPTH || (tag.name == "a" && open.contains(&"a")) {
        return;
    }
    match tag.href {
        Some(href) => {
            out.push_str("<a href=\"");
            out.push_str(&escape_text(&href));
            out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
        }
        None => {
            out.push('<');
            out.push_str(tag.name);
            out.push('>');
        }
    }
    open.push(tag.name);
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Length of a well-formed character reference at the start of `s` (`&amp;`, `&#39;`, `&#x27;`).
fn entity_len(s: &str) -> Option<usize> {
    let body = &s[1..];
    let semi = body.find(';')?;
    let name = &body[..semi];
    let ok = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        !num.is_empty() && num.len() <= 6 && num.chars().all(|c| c.is_ascii_hexdigit())
    } else if let Some(num) = name.strip_prefix('#') {
        !num.is_empty() && num.len() <= 7 && num.chars().all(|c| c.is_ascii_digit())
    } else {
        matches!(name, "amp" | "lt" | "gt" | "quot" | "apos" | "nbsp" | "#39")
    };
    ok.then_some(semi + 2)
}

fn decode_entity(e: &str) -> String {
    let name = &e[1..e.len() - 1];
    let code = if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(h, 16).ok()
    } else if let Some(d) = name.strip_prefix('#') {
        d.parse().ok()
    } else {
        None
    };
    if let Some(c) = code {
        return char::from_u32(c).filter(|c| !c.is_control() || *c == '\n').map(String::from).unwrap_or_default();
    }
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => " ",
        _ => "",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_formatting_survives_in_canonical_form() {
        assert_eq!(sanitize("<B>bold</B> <em class=x>it</em>"), "<b>bold</b> <em>it</em>");
        assert_eq!(sanitize("<ul><li>one<li>two</ul>"), "<ul><li>one<li>two</li></li></ul>");
        assert_eq!(sanitize("a<br/>b<br>c"), "a<br>b<br>c");
        assert_eq!(sanitize("<code>x &amp;&amp; y</code>"), "<code>x &amp;&amp; y</code>");
    }

    #[test]
    fn scripts_handlers_and_unknown_tags_become_text() {
        assert_eq!(sanitize("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(sanitize("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(sanitize("<b onclick=\"x()\">hi</b>"), "<b>hi</b>");
        assert_eq!(sanitize("<!-- c -->"), "&lt;!-- c --&gt;");
        assert_eq!(sanitize("<b<i>>"), "&lt;b<i>&gt;</i>");
    }

    #[test]
    fn links_keep_only_safe_targets() {
        assert_eq!(
            sanitize("<a href=\"https://x.test/?a=1&amp;b=2\" onclick=y>go</a>"),
            "<a href=\"https://x.test/?a=1&amp;b=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">go</a>"
        );
        for evil in [
            "<a href=\"javascript:alert(1)\">x</a>",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<a href=\" java\tscript:x\">x</a>",
            "<a>x</a>",
            "<a href='data:text/html,x'>x</a>",
        ] {
            let out = sanitize(evil);
            assert!(!out.contains("<a "), "{evil} -> {out}");
        }
    }

    #[test]
    fn output_is_balanced() {
        assert_eq!(sanitize("<b><i>x</b>"), "<b><i>x</i></b>");
        assert_eq!(sanitize("</p>x<p>y"), "x<p>y</p>");
        assert_eq!(
            sanitize("<a href='https://a.b'><a href='https://c.d'>x</a>"),
            "<a href=\"https://a.b\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">x</a>"
        );
    }

    #[test]
    fn stray_ampersands_and_brackets_are_escaped() {
        assert_eq!(sanitize("Tom & Jerry > cats &copy2"), "Tom &amp; Jerry &gt; cats &amp;copy2");
        assert_eq!(sanitize("&#60;b&#62;"), "&#60;b&#62;");
    }

    #[test]
    fn text_rendering_decodes_and_breaks_lines() {
        assert_eq!(to_text("<p>a &amp; b</p><ul><li>x</li></ul>c<br>d"), "a & b\nx\nc\nd");
        assert_eq!(to_text(&escape_text("1 < 2\nok")), "1 < 2\nok");
    }
}
