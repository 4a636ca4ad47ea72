//! The built-in bot: rank a bot's question/answer pairs against a visitor's message with BM25
//! and answer with the best one, if it is relevant enough.
//!
//! Each entry is one document: its question counts twice (the question is what visitors
//! paraphrase), its answer once. Tokens are lower-cased words with a light suffix stemmer, so
//! "opening" finds "open". Stop words are dropped so "what is the" matches nothing by itself.
//! An answer is given only when the best score clears [`THRESHOLD`] *relative to* the score the
//! query would get from a document containing all its terms (unknown words weighing half), which keeps the cut-off meaningful
//! whatever the size of the knowledge base.

use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// Share of the query's best possible score a match must reach.
pub const THRESHOLD: f64 = 0.3;

pub const FALLBACK: &str = "Sorry, I don't have an answer to that. You can ask to talk to a person.";

#[derive(Debug, Clone)]
pub struct Entry {
    pub question: String,
    pub answer: String,
}

/// The chosen answer, or why none was.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Answer { text: String, score: f64 },
    Unanswered,
}

const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "can", "could", "do", "does", "for", "from", "have", "how", "i", "if", "in", "is", "it", "me", "my",
    "of", "on", "or", "please", "so", "that", "the", "there", "this", "to", "we", "what", "when", "where", "which", "who", "why", "will", "with",
    "would", "you", "your", "hi", "hello", "hey", "thanks", "thank", "get",
];

fn stem(w: &str) -> String {
    for suffix in ["ing", "ed", "ies", "es", "s", "y"] {
        if let Some(root) = w.strip_suffix(suffix) {
            if root.chars().count() >= 3 {
                let mut root = root.to_string();
                // "shipping" -> "shipp" -> "ship"
                let b = root.as_bytes();
                if matches!(suffix, "ing" | "ed") && b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] && !b"aeiouls".contains(&b[b.len() - 1]) {
                    root.pop();
                }
                return root;
            }
        }
    }
    w.to_string()
}

pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty() && !STOP.contains(w)).map(stem).collect()
}

/// Picks the best answer for `query`.
pub fn answer(entries: &[Entry], query: &str) -> Reply {
    let q: Vec<String> = {
        let mut q = tokens(query);
        q.sort();
        q.dedup();
        q
    };
    if q.is_empty() || entries.is_empty() {
        return Reply::Unanswered;
    }
    let docs: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut d = tokens(&e.question);
            d.extend(tokens(&e.question));
            d.extend(tokens(&e.answer));
            d
        })
        .collect();
    let n = docs.len() as f64;
    let avg_len = docs.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let df: HashMap<&str, usize> = q.iter().map(|t| (t.as_str(), docs.iter().filter(|d| d.contains(t)).count())).collect();
    // BM25+ style idf that stays positive for terms in every document.
    let idf = |t: &str| (1.0 + (n - df[t] as f64 + 0.5) / (df[t] as f64 + 0.5)).ln();

    let score = |d: &Vec<String>| -> f64 {
        let len = d.len() as f64;
        q.iter()
            .map(|t| {
                let tf = d.iter().filter(|w| *w == t).count() as f64;
                if tf == 0.0 { 0.0 } else { idf(t) * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len.max(1.0))) }
            })
            .sum()
    };
    // A document of average length holding each query term twice (once per question copy).
    // Words the knowledge base has never seen count half: a visitor's extra detail ("a jacket I
    // bought") should not sink an otherwise clear match.
    let ideal: f64 = q.iter().map(|t| idf(t) * 2.0 * (K1 + 1.0) / (2.0 + K1) * if df[t.as_str()] == 0 { 0.5 } else { 1.0 }).sum();

    let (best, s) = docs.iter().enumerate().map(|(i, d)| (i, score(d))).fold((0, 0.0), |acc, x| if x.1 > acc.1 { x } else { acc });
    if s > 0.0 && s / ideal >= THRESHOLD { Reply::Answer { text: entries[best].answer.clone(), score: s } } else { Reply::Unanswered }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> Vec<Entry> {
        [
            ("What are your opening hours?", "We are open Monday to Friday, 9am to 6pm."),
            ("How long does shipping take?", "Orders ship within 2 business days; delivery takes 3-5 days."),
            ("Can I return an item?", "Yes, returns are free within 30 days of delivery."),
            ("Do you ship internationally?", "We ship to the EU, the UK and the US."),
        ]
        .into_iter()
        .map(|(q, a)| Entry { question: q.into(), answer: a.into() })
        .collect()
    }

    fn text(r: Reply) -> String {
        match r {
            Reply::Answer { text, .. } => text,
            Reply::Unanswered => "<none>".into(),
        }
    }

    #[test]
    fn paraphrases_find_the_right_entry() {
        assert!(text(answer(&kb(), "when do you open?")).starts_with("We are open"));
        assert!(text(answer(&kb(), "Returning a jacket I bought")).starts_with("Yes, returns"));
        assert!(text(answer(&kb(), "how long until my order is delivered")).starts_with("Orders ship"));
        assert!(text(answer(&kb(), "do you ship to the UK?")).starts_with("We ship to the EU"));
    }

    #[test]
    fn unrelated_or_empty_questions_get_no_answer() {
        assert_eq!(answer(&kb(), "what is the meaning of life"), Reply::Unanswered);
        assert_eq!(answer(&kb(), "hello!"), Reply::Unanswered);
        assert_eq!(answer(&kb(), ""), Reply::Unanswered);
        assert_eq!(answer(&[], "opening hours"), Reply::Unanswered);
    }

    #[test]
    fn stemming_and_stop_words() {
        assert_eq!(tokens("The Opening hours, please!"), vec!["open", "hour"]);
        assert_eq!(tokens("shipping shipped ships delivery delivered"), vec!["ship", "ship", "ship", "deliver", "deliver"]);
    }
}
