//! The widget's words: one string table (`ui/widget/strings.json`, compiled in) in every
//! language the widget speaks, the choice of language from what the visitor's browser asks for,
//! and a bot's overrides on top.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::widget::LANGUAGES;

type Table = BTreeMap<String, BTreeMap<String, String>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Checked by the tests below: every language has every key, with the same placeholders.
        serde_json::from_str(include_str!("../../ui/widget/strings.json")).unwrap_or_default()
    })
}

/// Whether `key` is one of the widget's words.
pub fn known(key: &str) -> bool {
    table().get("en").is_some_and(|en| en.contains_key(key))
}

/// The whole table, for `GET /api/widget/strings`.
pub fn all() -> &'static Table {
    table()
}

/// The first language of a browser's list (`de-AT,de;q=0.9,en;q=0.8` or `navigator.languages`
/// joined by commas) that the widget speaks; English otherwise.
pub fn pick(accept: &str) -> &'static str {
    let mut asked: Vec<(f32, usize, &str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    asked.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    for (_, _, tag) in asked {
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        if let Some(lang) = LANGUAGES.iter().find(|l| **l == primary) {
            return lang;
        }
    }
    "en"
}

/// The words in `lang`, with the bot's overrides for that language applied.
pub fn for_language(lang: &str, overrides: &BTreeMap<String, BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let t = table();
    let mut words = t.get(lang).or_else(|| t.get("en")).cloned().unwrap_or_default();
    if let Some(mine) = overrides.get(lang) {
        for (k, v) in mine {
            if words.contains_key(k) {
                words.insert(k.clone(), v.clone());
            }
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(name, _)| name)).collect();
        out.sort();
        out
    }

    #[test]
    fn every_language_has_every_word_with_the_same_placeholders() {
        let t = table();
        let en = &t["en"];
        assert!(en.len() > 50, "the table loaded");
        for lang in LANGUAGES {
            let words = t.get(lang).unwrap_or_else(|| panic!("{lang} is in the table"));
            assert_eq!(words.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>(), "{lang} has the same keys as en");
            for (k, v) in words {
                assert!(!v.trim().is_empty(), "{lang}.{k} is empty");
                // English may use {nth} (an English ordinal) where the others use {n}.
                let (mine, theirs): (Vec<_>, Vec<_>) = (placeholders(v), placeholders(&en[k]));
                let same = mine == theirs || (k == "position" && mine == ["n"] && theirs == ["nth"]);
                assert!(same, "{lang}.{k}: {mine:?} vs en {theirs:?}");
            }
        }
        assert_eq!(t.len(), LANGUAGES.len(), "no language the widget does not offer");
    }

    #[test]
    fn the_language_follows_the_browser() {
        assert_eq!(pick("de-AT,de;q=0.9,en;q=0.8"), "de");
        assert_eq!(pick("fr-CA"), "fr");
        assert_eq!(pick("ja,es;q=0.5,de;q=0.4"), "es");
        assert_eq!(pick("en;q=0.1,fr;q=0.9"), "fr");
        assert_eq!(pick("ja"), "en");
        assert_eq!(pick(""), "en");
        assert_eq!(pick("de;q=0,fr"), "fr");
    }

    #[test]
    fn a_bots_overrides_apply_to_their_language_only() {
        let overrides: BTreeMap<String, BTreeMap<String, String>> =
            [("de".to_string(), [("talk_to_person".to_string(), "Mit Anna sprechen".to_string())].into())].into();
        assert_eq!(for_language("de", &overrides)["talk_to_person"], "Mit Anna sprechen");
        assert_eq!(for_language("en", &overrides)["talk_to_person"], "Talk to a person");
        assert!(known("talk_to_person"));
        assert!(!known("nonsense"));
    }
}
