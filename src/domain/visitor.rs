//! What agents are told about a visitor beyond the chat: where they are (the page, where they
//! came from), what they use (browser and system, from the User-Agent), their local time zone and
//! language, and attributes the host page sets (`Baton.setUser({...})` or `data-user-*` on the
//! script tag). Everything is checked and size-limited here; anything that does not fit is
//! refused, never truncated silently.

use std::collections::BTreeMap;

use super::values::InvalidField;

const MAX_URL: usize = 2000;
const MAX_TITLE: usize = 300;
pub const MAX_ATTRIBUTES: usize = 20;
const MAX_KEY: usize = 40;
const MAX_VALUE: usize = 500;

/// The visitor's surroundings as the widget last reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Context {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// The page that sent the visitor to the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// "Chrome 131", "Safari 17", …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// "Windows", "macOS", "iOS", "Android", "Linux", …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// IANA time zone (`Europe/Berlin`): the app shows the visitor's local time from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// BCP 47 language tag (`de-DE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// What the widget sends; checked into a [`Context`] with the browser read from the request.
pub struct Reported<'a> {
    pub page_url: Option<&'a str>,
    pub page_title: Option<&'a str>,
    pub referrer: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub language: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

fn web_url(field: &'static str, raw: Option<&str>) -> Result<Option<String>, InvalidField> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if raw.chars().count() > MAX_URL {
        return Err(InvalidField::new(field, format!("must be at most {MAX_URL} characters")));
    }
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidField::new(field, "must be an http(s) address"));
    }
    Ok(Some(raw.to_string()))
}

impl Context {
    pub fn check(r: &Reported<'_>) -> Result<Self, InvalidField> {
        let page_title = match r.page_title.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|t| !t.is_empty()) {
            Some(t) if t.chars().count() > MAX_TITLE => t.chars().take(MAX_TITLE - 1).chain(['…']).collect::<String>().into(),
            other => other,
        };
        let time_zone = match r.time_zone.map(str::trim).filter(|s| !s.is_empty()) {
            Some(tz) if tz.len() <= 64 && jiff::tz::TimeZone::get(tz).is_ok() => Some(tz.to_string()),
            Some(_) => return Err(InvalidField::new("time_zone", "must be an IANA time zone such as Europe/Berlin")),
            None => None,
        };
        let language = match r.language.map(str::trim).filter(|s| !s.is_empty()) {
            Some(l) if l.len() <= 35 && l.split('-').all(|p| !p.is_empty() && p.len() <= 8 && p.chars().all(|c| c.is_ascii_alphanumeric())) => {
                Some(l.to_string())
            }
            Some(_) => return Err(InvalidField::new("language", "must be a language tag such as de-DE")),
            None => None,
        };
        let (browser, os) = r.user_agent.map(user_agent).unwrap_or((None, None));
        Ok(Self {
            page_url: web_url("page_url", r.page_url)?,
            page_title,
            referrer: web_url("referrer", r.referrer)?,
            browser,
            os,
            time_zone,
            language,
        })
    }
}

/// The browser (name and major version) and the system from a User-Agent string; `None` for
/// what cannot be told.
pub fn user_agent(ua: &str) -> (Option<String>, Option<String>) {
    let version_after = |key: &str| -> Option<String> {
        let at = ua.find(key)? + key.len();
        let v: String = ua[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
        (!v.is_empty()).then_some(v)
    };
    let named = |name: &str, key: &str| Some(version_after(key).map_or_else(|| name.to_string(), |v| format!("{name} {v}")));
    // Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
    let browser = if ua.contains("Edg/") {
        named("Edge", "Edg/")
    } else if ua.contains("OPR/") {
        named("Opera", "OPR/")
    } else if ua.contains("Firefox/") {
        named("Firefox", "Firefox/")
    } else if ua.contains("SamsungBrowser/") {
        named("Samsung Internet", "SamsungBrowser/")
    } else if ua.contains("Chrome/") || ua.contains("CriOS/") {
        named("Chrome", if ua.contains("CriOS/") { "CriOS/" } else { "Chrome/" })
    } else if ua.contains("Safari/") && ua.contains("Version/") {
        named("Safari", "Version/")
    } else {
        None
    };
    let os = if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    (browser, os.map(str::to_string))
}

/// Attributes the host page sets: up to 20, keys of lower-case letters, digits and `_`, values
/// text, numbers or booleans (shown as text) of at most 500 characters.
pub fn attributes(raw: &serde_json::Map<String, serde_json::Value>) -> Result<BTreeMap<String, String>, InvalidField> {
    if raw.len() > MAX_ATTRIBUTES {
        return Err(InvalidField::new("attributes", format!("at most {MAX_ATTRIBUTES}")));
    }
    let mut out = BTreeMap::new();
    for (k, v) in raw {
        let key_ok = !k.is_empty() && k.len() <= MAX_KEY && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(InvalidField::new("attributes", format!("{k:?}: names are 1–{MAX_KEY} lower-case letters, digits or _")));
        }
        let value = match v {
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            _ => return Err(InvalidField::new("attributes", format!("{k}: must be text, a number or true/false"))),
        };
        if value.chars().count() > MAX_VALUE || value.chars().any(|c| c.is_control()) {
            return Err(InvalidField::new("attributes", format!("{k}: at most {MAX_VALUE} characters on one line")));
        }
        out.insert(k.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reported<'a>(url: Option<&'a str>, tz: Option<&'a str>, lang: Option<&'a str>) -> Reported<'a> {
        Reported { page_url: url, page_title: Some("  Boots \n — Northwind "), referrer: None, time_zone: tz, language: lang, user_agent: None }
    }

    #[test]
    fn the_context_is_checked_and_tidied() {
        let c = Context::check(&reported(Some("https://shop.test/boots?x=1"), Some("Europe/Berlin"), Some("de-DE"))).unwrap();
        assert_eq!((c.page_url.as_deref(), c.page_title.as_deref()), (Some("https://shop.test/boots?x=1"), Some("Boots — Northwind")));
        assert_eq!((c.time_zone.as_deref(), c.language.as_deref()), (Some("Europe/Berlin"), Some("de-DE")));
        for (url, tz, lang, field) in [
            (Some("javascript:alert(1)"), None, None, "page_url"),
            (Some("https://a b"), None, None, "page_url"),
            (None, Some("Mars/Olympus"), None, "time_zone"),
            (None, None, Some("de_DE<script>"), "language"),
        ] {
            assert_eq!(Context::check(&reported(url, tz, lang)).unwrap_err().field, field);
        }
        let long = format!("https://shop.test/{}", "a".repeat(MAX_URL));
        assert!(Context::check(&reported(Some(&long), None, None)).is_err());
    }

    #[test]
    fn browsers_and_systems_are_told_from_the_user_agent() {
        let table = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari 17",
                "macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17",
                "iOS",
            ),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128", "Linux"),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131",
                "Android",
            ),
        ];
        for (ua, browser, os) in table {
            assert_eq!(user_agent(ua), (Some(browser.to_string()), Some(os.to_string())), "{ua}");
        }
        assert_eq!(user_agent("curl/8.5.0"), (None, None));
    }

    #[test]
    fn attributes_are_small_named_values() {
        let ok: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"plan": "pro", "seats": 12, "trial": false, "gone": null}"#).unwrap();
        let a = attributes(&ok).unwrap();
        assert_eq!(
            a.into_iter().collect::<Vec<_>>(),
            [("plan".into(), "pro".into()), ("seats".into(), "12".into()), ("trial".into(), "false".into())]
        );
        for bad in [r#"{"Plan": "x"}"#, r#"{"a b": "x"}"#, r#"{"x": {"y": 1}}"#, r#"{"x": [1]}"#] {
            let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(bad).unwrap();
            assert_eq!(attributes(&m).unwrap_err().field, "attributes", "{bad}");
        }
        let long: serde_json::Map<String, serde_json::Value> = [("x".to_string(), serde_json::Value::String("y".repeat(501)))].into_iter().collect();
        assert!(attributes(&long).is_err());
        let many: serde_json::Map<String, serde_json::Value> = (0..21).map(|i| (format!("k{i}"), serde_json::json!(i))).collect();
        assert!(attributes(&many).is_err());
    }
}
