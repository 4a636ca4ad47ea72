//! Search terms and highlighted snippets. A query is split into words (runs of letters and
//! digits, lower-cased); a message matches when it has every word, the last one also as the start
//! of a longer word ("ship" finds "shipping"). Each engine gets the query in its own syntax, built
//! here only from those words, so nothing the person typed reaches the engine's query parser.

use super::html::escape_text;
use super::values::InvalidField;

pub const MAX_QUERY_CHARS: usize = 200;
const MAX_WORDS: usize = 8;
const MAX_WORD_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    raw: String,
    words: Vec<String>,
}

impl Query {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(InvalidField::new("q", format!("must be at most {MAX_QUERY_CHARS} characters")));
        }
        let mut words: Vec<String> = Vec::new();
        // Single letters say little and would match most of the index: they are left out.
        for w in raw.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 2) {
            let w: String = w.to_lowercase().chars().take(MAX_WORD_CHARS).collect();
            if !words.contains(&w) {
                words.push(w);
            }
        }
        if words.is_empty() {
            return Err(InvalidField::new("q", "type a word of at least two letters"));
        }
        if words.len() > MAX_WORDS {
            return Err(InvalidField::new("q", format!("use at most {MAX_WORDS} words")));
        }
        Ok(Self { raw: raw.to_string(), words })
    }

    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// SQLite FTS5: every word as a quoted prefix (`"ship"* "box"*`).
    pub fn fts5(&self) -> String {
        self.words.iter().map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ")
    }

    /// PostgreSQL `to_tsquery('simple', …)`: every word as a quoted prefix, all required.
    pub fn tsquery(&self) -> String {
        self.words.iter().map(|w| format!("'{}':*", w.replace('\'', "''").replace('\\', "\\\\"))).collect::<Vec<_>>().join(" & ")
    }
}

/// A short piece of `text` around the first place a word of the query starts, HTML-escaped, with
/// every word start marked `<mark>…</mark>`; `max` characters of text at most (plus "…" where cut).
pub fn snippet(text: &str, q: &Query, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    // Where a word of the query starts a word of the text.
    let mut hits: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let starts_word = lower[i].is_alphanumeric() && (i == 0 || !lower[i - 1].is_alphanumeric());
        if starts_word {
            let found = q.words.iter().filter_map(|w| {
                let w: Vec<char> = w.chars().collect();
                (lower.len() >= i + w.len() && lower[i..i + w.len()] == w[..]).then_some(w.len())
            });
            if let Some(len) = found.max() {
                hits.push((i, i + len));
                i += len;
                continue;
            }
        }
        i += 1;
    }
    let first = hits.first().map(|h| h.0).unwrap_or(0);
    // Start a little before the first hit, at a word boundary when there is one near.
    let mut start = first.saturating_sub(max / 3);
    if start > 0 {
        if let Some(space) = chars[start..first].iter().position(|c| c.is_whitespace()) {
            start += space + 1;
        }
    }
    let end = (start + max).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(s, e) in hits.iter().filter(|(s, e)| *s >= start && *e <= end) {
        out.push_str(&escape_text(&chars[at..s].iter().collect::<String>()));
        out.push_str("<mark>");
        out.push_str(&escape_text(&chars[s..e].iter().collect::<String>()));
        out.push_str("</mark>");
        at = e;
    }
    out.push_str(&escape_text(&chars[at..end].iter().collect::<String>()));
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_and_reach_engines_only_as_quoted_words() {
        let q = Query::parse("  Ship-ping \"box\" o'brien; DROP TABLE  ").unwrap();
        assert_eq!(q.words(), ["ship", "ping", "box", "brien", "drop", "table"], "single letters are left out");
        assert_eq!(Query::parse("Größe größe").unwrap().words(), ["größe"], "lower-cased, once");
        assert_eq!(Query::parse("ship box").unwrap().fts5(), "\"ship\"* \"box\"*");
        assert_eq!(Query::parse("ship box").unwrap().tsquery(), "'ship':* & 'box':*");
        for bad in ["", "   ", "!!! ???", "* & |", "a b"] {
            assert_eq!(Query::parse(bad).unwrap_err().field, "q", "{bad:?}");
        }
        assert!(Query::parse(&"ab ".repeat(9)).is_ok(), "repeated words count once");
        assert!(Query::parse("aa bb cc dd ee ff gg hh ii").is_err(), "nine words");
        assert!(Query::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn snippets_mark_word_starts_escape_html_and_cut_around_the_first_hit() {
        let q = Query::parse("ship box").unwrap();
        assert_eq!(snippet("Shipping takes <3> days for a Box", &q, 100), "<mark>Ship</mark>ping takes &lt;3&gt; days for a <mark>Box</mark>");
        assert_eq!(snippet("relationship", &q, 100), "relationship", "only where a word starts");
        let long = format!("{} the box arrived broken {}", "word ".repeat(40), "more ".repeat(40));
        let s = snippet(&long, &q, 60);
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("<mark>box</mark>"), "{s}");
        assert!(s.chars().count() <= 60 + 2 + "<mark></mark>".len());
        assert_eq!(snippet("no match here", &q, 5), "no ma…");
        assert_eq!(snippet("Äh box", &Query::parse("äh").unwrap(), 10), "<mark>Äh</mark> box");
    }
}
