//! What a bot's widget shows a visitor: business hours (a weekly schedule in a time zone, with
//! closed dates), what happens when nobody can answer, the optional pre-chat form, its look, and
//! per-language overrides of its words. Plain data with its own checks; no I/O (the time zone
//! database is compiled in).
//!
//! Stored as one JSON document per bot, in the same shape the API takes and returns, so a
//! stored document is read back through the same checks as an incoming one.

use std::collections::BTreeMap;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::clock::Millis;

pub const MAX_SPANS_PER_DAY: usize = 4;
pub const MAX_CLOSED_DATES: usize = 200;
pub const MAX_FIELDS: usize = 10;
pub const MAX_CHOICES: usize = 20;
pub const MAX_LABEL: usize = 100;
pub const MAX_LAUNCHER_TEXT: usize = 40;
pub const MAX_TEXT_OVERRIDE: usize = 500;
pub const MAX_FIELD_VALUE: usize = 500;
/// The languages the widget speaks.
pub const LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A refused setting: the field (dotted path) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid { field: field.into(), message: message.into() }
}

/// The whole document. Every part has a default, so `{}` is a valid (plain) widget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = WidgetSettings)]
pub struct WidgetSettings {
    /// `null`: always open.
    pub hours: Option<Hours>,
    pub when_unavailable: WhenUnavailable,
    pub pre_chat: PreChat,
    pub appearance: Appearance,
    /// Per language (`en`, `de`, `fr`, `es`), the widget's words to use instead of the built-in
    /// ones, by key (see `GET /api/widget/strings`).
    #[schema(value_type = Object)]
    pub texts: BTreeMap<String, BTreeMap<String, String>>,
}

/// What the widget does outside business hours, or when no agent with access is available.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenUnavailable {
    /// Take the chat into the queue and say when a reply can be expected.
    #[default]
    Queue,
    /// Offer a form (name, email, message): the team answers later, by email.
    LeaveMessage,
    /// No "Talk to a person" button at all.
    Hide,
}

/// A weekly schedule in a time zone. Days left out are closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// An IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
    /// `mon` … `sun` → opening spans as `["09:00", "17:00"]` (the end may be `24:00`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub days: BTreeMap<String, Vec<[String; 2]>>,
    /// Dates (`YYYY-MM-DD`, in the schedule's time zone) closed all day.
    #[serde(default)]
    pub closed_dates: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PreChat {
    /// Show the form before the first message.
    pub enabled: bool,
    pub name: Ask,
    pub email: Ask,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    #[default]
    Off,
    Optional,
    Required,
}

/// A question of the pre-chat form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Letters, digits, `_` and `-`; the answer is stored under it.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// For `choice`: the options offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Choice,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Appearance {
    /// `#rrggbb`; `null` for Baton's indigo.
    pub accent_color: Option<String>,
    pub position: Position,
    /// Shown beside the launcher's icon; `null` for the icon alone.
    pub launcher_text: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Left,
    #[default]
    Right,
}

impl WidgetSettings {
    /// Checks every part; trims labels and texts. The result is what gets stored.
    pub fn checked(mut self, known_texts: &dyn Fn(&str) -> bool) -> Result<Self, Invalid> {
        if let Some(h) = &mut self.hours {
            h.check()?;
        }
        self.pre_chat.check()?;
        self.appearance.check()?;
        for (lang, words) in &mut self.texts {
            if !LANGUAGES.contains(&lang.as_str()) {
                return Err(invalid("widget.texts", format!("{lang:?} is not one of the widget's languages ({})", LANGUAGES.join(", "))));
            }
            for (key, text) in words.iter_mut() {
                if !known_texts(key) {
                    return Err(invalid(format!("widget.texts.{lang}"), format!("{key:?} is not one of the widget's words")));
                }
                *text = text.trim().to_string();
                if text.is_empty() || text.chars().count() > MAX_TEXT_OVERRIDE {
                    return Err(invalid(format!("widget.texts.{lang}.{key}"), format!("must be 1-{MAX_TEXT_OVERRIDE} characters")));
                }
            }
        }
        self.texts.retain(|_, words| !words.is_empty());
        Ok(self)
    }

    /// Whether the schedule has the team open at `now` (always, without one).
    pub fn open_at(&self, now: Millis) -> bool {
        self.hours.as_ref().and_then(|h| h.schedule().ok()).is_none_or(|s| s.is_open(now))
    }

    /// When the schedule next opens or closes after `now`, within a year.
    pub fn next_change(&self, now: Millis) -> Option<Millis> {
        self.hours.as_ref().and_then(|h| h.schedule().ok()).and_then(|s| s.next_change(now))
    }
}

fn minutes(raw: &str) -> Option<u16> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl Hours {
    fn check(&mut self) -> Result<(), Invalid> {
        self.time_zone = self.time_zone.trim().to_string();
        for day in self.days.keys() {
            if !DAYS.contains(&day.as_str()) {
                return Err(invalid("widget.hours.days", format!("{day:?} is not a day; use {}", DAYS.join(", "))));
            }
        }
        if self.closed_dates.len() > MAX_CLOSED_DATES {
            return Err(invalid("widget.hours.closed_dates", format!("at most {MAX_CLOSED_DATES} dates")));
        }
        self.closed_dates.sort();
        self.closed_dates.dedup();
        self.days.retain(|_, spans| !spans.is_empty());
        self.schedule().map(|_| ())
    }

    /// The schedule in a form that answers questions.
    pub fn schedule(&self) -> Result<Schedule, Invalid> {
        let tz = TimeZone::get(&self.time_zone)
            .map_err(|_| invalid("widget.hours.time_zone", format!("{:?} is not a known time zone", self.time_zone)))?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, spans) in &self.days {
            let i = DAYS.iter().position(|d| d == day).ok_or_else(|| invalid("widget.hours.days", format!("{day:?} is not a day")))?;
            let field = format!("widget.hours.days.{day}");
            if spans.len() > MAX_SPANS_PER_DAY {
                return Err(invalid(field, format!("at most {MAX_SPANS_PER_DAY} spans a day")));
            }
            let mut parsed = spans
                .iter()
                .map(|[from, to]| match (minutes(from), minutes(to)) {
                    (Some(f), Some(t)) if f < t && f < 1440 => Ok((f, t)),
                    _ => Err(invalid(&field, format!("[{from:?}, {to:?}] is not a span: use [\"HH:MM\", \"HH:MM\"], the start before the end"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            parsed.sort();
            if parsed.windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(invalid(field, "spans overlap"));
            }
            week[i] = parsed;
        }
        let closed = self
            .closed_dates
            .iter()
            .map(|d| d.parse::<Date>().map_err(|_| invalid("widget.hours.closed_dates", format!("{d:?} is not a date (YYYY-MM-DD)"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Schedule { tz, week, closed })
    }
}

/// A checked schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    tz: TimeZone,
    /// Monday first: open spans in minutes of the day.
    week: [Vec<(u16, u16)>; 7],
    closed: Vec<Date>,
}

impl Schedule {
    fn spans(&self, date: Date) -> &[(u16, u16)] {
        if self.closed.binary_search(&date).is_ok() {
            return &[];
        }
        &self.week[date.weekday().to_monday_zero_offset() as usize]
    }

    pub fn is_open(&self, now: Millis) -> bool {
        let Ok(at) = Timestamp::from_millisecond(now) else { return false };
        let local = at.to_zoned_datetime(self.tz.clone());
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        self.spans(local.date()).iter().any(|&(f, t)| f <= minute && minute < t)
    }

    /// The first moment after `now` at which `is_open` answers otherwise, within a year.
    pub fn next_change(&self, now: Millis) -> Option<Millis> {
        let open = self.is_open(now);
        let at = Timestamp::from_millisecond(now).ok()?;
        let mut date = at.to_zoned_datetime(self.tz.clone()).date();
        for _ in 0..=366 {
            // Every span edge of the day, and midnight (a closed date starts and ends there).
            let mut edges: Vec<u16> = self.spans(date).iter().flat_map(|&(f, t)| [f, t]).collect();
            edges.push(0);
            edges.sort();
            for minute in edges {
                let Some(instant) = self.instant(date, minute) else { continue };
                if instant > now && self.is_open(instant) != open {
                    return Some(instant);
                }
            }
            date = date.checked_add(1.day()).ok()?;
        }
        None
    }

    /// The instant of a wall-clock minute of a date (`1440`: the next midnight).
    fn instant(&self, date: Date, minute: u16) -> Option<Millis> {
        let (date, minute) = if minute >= 1440 { (date.checked_add(1.day()).ok()?, 0) } else { (date, minute) };
        let dt = DateTime::new(date.year(), date.month(), date.day(), (minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?;
        // A time repeated by a clock change counts as its first occurrence; a skipped one as the
        // moment after the gap.
        let zoned = self.tz.to_ambiguous_zoned_datetime(dt).compatible().ok()?;
        Some(zoned.timestamp().as_millisecond())
    }
}

impl PreChat {
    fn check(&mut self) -> Result<(), Invalid> {
        if self.fields.len() > MAX_FIELDS {
            return Err(invalid("widget.pre_chat.fields", format!("at most {MAX_FIELDS} fields")));
        }
        let mut keys = std::collections::BTreeSet::new();
        for (i, f) in self.fields.iter_mut().enumerate() {
            let at = format!("widget.pre_chat.fields[{i}]");
            f.key = f.key.trim().to_string();
            f.label = f.label.trim().to_string();
            if f.key.is_empty() || f.key.len() > 40 || !f.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return Err(invalid(format!("{at}.key"), "must be 1-40 letters, digits, _ or -"));
            }
            if ["name", "email"].contains(&f.key.as_str()) || !keys.insert(f.key.clone()) {
                return Err(invalid(format!("{at}.key"), format!("{:?} is already used", f.key)));
            }
            if f.label.is_empty() || f.label.chars().count() > MAX_LABEL {
                return Err(invalid(format!("{at}.label"), format!("must be 1-{MAX_LABEL} characters")));
            }
            for o in &mut f.options {
                *o = o.trim().to_string();
            }
            match f.kind {
                FieldKind::Text if !f.options.is_empty() => return Err(invalid(format!("{at}.options"), "only a choice has options")),
                FieldKind::Choice if f.options.is_empty() || f.options.len() > MAX_CHOICES => {
                    return Err(invalid(format!("{at}.options"), format!("a choice needs 1-{MAX_CHOICES} options")));
                }
                FieldKind::Choice if f.options.iter().any(|o| o.is_empty() || o.chars().count() > MAX_LABEL) => {
                    return Err(invalid(format!("{at}.options"), format!("each option must be 1-{MAX_LABEL} characters")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks a visitor's answers to the custom fields: known keys, values that fit, a choice
    /// among its options. Blank answers are dropped.
    pub fn answers(&self, given: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Invalid> {
        let mut out = BTreeMap::new();
        for (key, value) in given {
            let Some(field) = self.fields.iter().find(|f| f.key == key) else {
                return Err(invalid("fields", format!("{key:?} is not a question of this chat's form")));
            };
            let value = value.trim().to_string();
            if value.is_empty() {
                continue;
            }
            if value.chars().count() > MAX_FIELD_VALUE {
                return Err(invalid(format!("fields.{key}"), format!("must be at most {MAX_FIELD_VALUE} characters")));
            }
            if field.kind == FieldKind::Choice && !field.options.contains(&value) {
                return Err(invalid(format!("fields.{key}"), "must be one of the options offered"));
            }
            out.insert(key, value);
        }
        Ok(out)
    }
}

impl Appearance {
    fn check(&mut self) -> Result<(), Invalid> {
        if let Some(c) = &mut self.accent_color {
            *c = c.trim().to_ascii_lowercase();
            if !(c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit())) {
                return Err(invalid("widget.appearance.accent_color", "must be a colour as #rrggbb"));
            }
        }
        if let Some(t) = &mut self.launcher_text {
            *t = t.trim().to_string();
            if t.chars().count() > MAX_LAUNCHER_TEXT {
                return Err(invalid("widget.appearance.launcher_text", format!("must be at most {MAX_LAUNCHER_TEXT} characters")));
            }
        }
        self.launcher_text = self.launcher_text.take().filter(|t| !t.is_empty());
        Ok(())
    }
}

/// Whether a person can answer now, as the widget shows it before the visitor asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Within business hours, with an agent available.
    Open,
    /// Outside business hours.
    Closed,
    /// Within business hours, but no agent with access is available.
    Away,
}

pub fn reach(within_hours: bool, agent_available: bool) -> Reach {
    match (within_hours, agent_available) {
        (false, _) => Reach::Closed,
        (true, false) => Reach::Away,
        (true, true) => Reach::Open,
    }
}

/// The typical wait before a person claims a chat: the median of recent waits (milliseconds),
/// `None` without any.
pub fn expected_wait(mut waits: Vec<Millis>) -> Option<Millis> {
    waits.retain(|w| *w >= 0);
    if waits.is_empty() {
        return None;
    }
    waits.sort_unstable();
    let n = waits.len();
    Some(if n % 2 == 1 { waits[n / 2] } else { (waits[n / 2 - 1] + waits[n / 2]) / 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-01-01T00:00:00Z, a Thursday.
    const T0: Millis = 1_767_225_600_000;
    const H: Millis = 3_600_000;

    fn berlin_office() -> Schedule {
        let mut hours = Hours {
            time_zone: "Europe/Berlin".into(),
            days: ["mon", "tue", "wed", "thu", "fri"].iter().map(|d| (d.to_string(), vec![["09:00".to_string(), "17:00".to_string()]])).collect(),
            closed_dates: vec!["2026-01-02".into()],
        };
        hours.check().expect("valid");
        hours.schedule().expect("valid")
    }

    #[test]
    fn the_schedule_is_read_in_its_own_time_zone() {
        let s = berlin_office();
        // Thursday 1 January, 08:00 UTC = 09:00 in Berlin (UTC+1): open.
        assert!(!s.is_open(T0 + 7 * H + 59 * 60_000));
        assert!(s.is_open(T0 + 8 * H));
        assert!(s.is_open(T0 + 15 * H + 59 * 60_000));
        assert!(!s.is_open(T0 + 16 * H));
        // Friday 2 January is a closed date; the weekend is closed.
        assert!(!s.is_open(T0 + 24 * H + 10 * H));
        assert!(!s.is_open(T0 + 3 * 24 * H + 10 * H));
        // Monday 5 January is open again.
        assert!(s.is_open(T0 + 4 * 24 * H + 10 * H));
    }

    #[test]
    fn the_next_change_skips_closed_dates_and_weekends() {
        let s = berlin_office();
        // Thursday 10:00 Berlin: closes at 17:00 Berlin = 16:00 UTC.
        assert_eq!(s.next_change(T0 + 9 * H), Some(T0 + 16 * H));
        // Thursday evening: next opening is Monday 09:00 Berlin = 08:00 UTC.
        assert_eq!(s.next_change(T0 + 20 * H), Some(T0 + 4 * 24 * H + 8 * H));
    }

    #[test]
    fn summer_time_moves_the_opening_in_utc() {
        let s = berlin_office();
        // Monday 29 June 2026, 09:00 in Berlin is 07:00 UTC (UTC+2).
        let june_29 = 1_782_691_200_000; // 2026-06-29T00:00:00Z
        assert!(!s.is_open(june_29 + 6 * H + 59 * 60_000));
        assert!(s.is_open(june_29 + 7 * H));
    }

    #[test]
    fn a_closing_time_in_the_hour_repeated_in_autumn_is_its_first_occurrence() {
        let mut hours = Hours {
            time_zone: "Europe/Berlin".into(),
            days: [("sun".to_string(), vec![["00:00".to_string(), "02:30".to_string()]])].into_iter().collect(),
            closed_dates: vec![],
        };
        hours.check().expect("valid");
        let s = hours.schedule().expect("valid");
        // Sunday 25 October 2026: 03:00 summer time becomes 02:00 winter time. Open from
        // 00:00 (22:00 UTC the day before) until the first 02:30 (00:30 UTC).
        let oct_25 = 1_792_886_400_000; // 2026-10-25T00:00:00Z
        assert!(s.is_open(oct_25 - 30 * 60_000));
        assert_eq!(s.next_change(oct_25 - 30 * 60_000), Some(oct_25 + 30 * 60_000));
    }

    #[test]
    fn spans_can_end_at_midnight_and_run_on_into_the_next_day() {
        let mut hours = Hours {
            time_zone: "UTC".into(),
            days: [
                ("thu".to_string(), vec![["20:00".to_string(), "24:00".to_string()]]),
                ("fri".to_string(), vec![["00:00".to_string(), "02:00".to_string()]]),
            ]
            .into_iter()
            .collect(),
            closed_dates: vec![],
        };
        hours.check().expect("valid");
        let s = hours.schedule().expect("valid");
        assert!(s.is_open(T0 + 23 * H + 59 * 60_000));
        assert!(s.is_open(T0 + 24 * H + H));
        // Open from Thursday 20:00 to Friday 02:00: no change at midnight.
        assert_eq!(s.next_change(T0 + 21 * H), Some(T0 + 26 * H));
    }

    #[test]
    fn bad_schedules_are_refused_with_the_field_named() {
        let bad = |days: &[(&str, [&str; 2])], tz: &str, closed: &[&str]| {
            let mut h = Hours {
                time_zone: tz.into(),
                days: days.iter().fold(BTreeMap::new(), |mut m, (d, [f, t])| {
                    m.entry(d.to_string()).or_insert_with(Vec::new).push([f.to_string(), t.to_string()]);
                    m
                }),
                closed_dates: closed.iter().map(|d| d.to_string()).collect(),
            };
            h.check().expect_err("refused").field
        };
        assert_eq!(bad(&[], "Mars/Olympus", &[]), "widget.hours.time_zone");
        assert_eq!(bad(&[("funday", ["09:00", "10:00"])], "UTC", &[]), "widget.hours.days");
        assert_eq!(bad(&[("mon", ["10:00", "09:00"])], "UTC", &[]), "widget.hours.days.mon");
        assert_eq!(bad(&[("mon", ["9:00", "17:00"])], "UTC", &[]), "widget.hours.days.mon");
        assert_eq!(bad(&[("mon", ["09:00", "24:01"])], "UTC", &[]), "widget.hours.days.mon");
        assert_eq!(bad(&[("mon", ["09:00", "12:00"]), ("mon", ["11:00", "13:00"])], "UTC", &[]), "widget.hours.days.mon");
        assert_eq!(bad(&[], "UTC", &["2026-02-30"]), "widget.hours.closed_dates");
    }

    #[test]
    fn the_form_checks_its_fields_and_the_answers() {
        let mut form = PreChat {
            enabled: true,
            name: Ask::Required,
            email: Ask::Optional,
            fields: vec![
                Field { key: "order".into(), label: " Order number ".into(), kind: FieldKind::Text, options: vec![], required: false },
                Field {
                    key: "topic".into(),
                    label: "Topic".into(),
                    kind: FieldKind::Choice,
                    options: vec!["Sales".into(), "Support".into()],
                    required: true,
                },
            ],
        };
        form.check().expect("valid");
        assert_eq!(form.fields[0].label, "Order number");
        let answers = form.answers([("topic".to_string(), "Sales".to_string()), ("order".to_string(), "  ".to_string())].into()).expect("valid");
        assert_eq!(answers, [("topic".to_string(), "Sales".to_string())].into());
        assert_eq!(form.answers([("topic".to_string(), "Other".to_string())].into()).unwrap_err().field, "fields.topic");
        assert_eq!(form.answers([("color".to_string(), "red".to_string())].into()).unwrap_err().field, "fields");

        let mut twice = form.clone();
        twice.fields[1].key = "order".into();
        assert_eq!(twice.check().unwrap_err().field, "widget.pre_chat.fields[1].key");
        let mut no_options = form.clone();
        no_options.fields[1].options.clear();
        assert_eq!(no_options.check().unwrap_err().field, "widget.pre_chat.fields[1].options");
        let mut reserved = form;
        reserved.fields[0].key = "email".into();
        assert_eq!(reserved.check().unwrap_err().field, "widget.pre_chat.fields[0].key");
    }

    #[test]
    fn appearance_and_texts_are_checked() {
        let known = |k: &str| k == "launcher";
        let mut w = WidgetSettings::default();
        w.appearance.accent_color = Some("#0F766E".into());
        w.texts.insert("de".into(), [("launcher".to_string(), " Hilfe ".to_string())].into());
        let w = w.checked(&known).expect("valid");
        assert_eq!(w.appearance.accent_color.as_deref(), Some("#0f766e"));
        assert_eq!(w.texts["de"]["launcher"], "Hilfe");

        let mut red = WidgetSettings::default();
        red.appearance.accent_color = Some("red".into());
        assert_eq!(red.checked(&known).unwrap_err().field, "widget.appearance.accent_color");
        let mut klingon = WidgetSettings::default();
        klingon.texts.insert("tlh".into(), BTreeMap::new());
        assert_eq!(klingon.checked(&known).unwrap_err().field, "widget.texts");
        let mut unknown = WidgetSettings::default();
        unknown.texts.insert("fr".into(), [("nope".to_string(), "x".to_string())].into());
        assert_eq!(unknown.checked(&known).unwrap_err().field, "widget.texts.fr");
    }

    #[test]
    fn reach_and_expected_wait() {
        assert_eq!(reach(true, true), Reach::Open);
        assert_eq!(reach(true, false), Reach::Away);
        assert_eq!(reach(false, true), Reach::Closed);
        assert_eq!(reach(false, false), Reach::Closed);
        assert_eq!(expected_wait(vec![]), None);
        assert_eq!(expected_wait(vec![60_000, 180_000, 120_000]), Some(120_000));
        assert_eq!(expected_wait(vec![60_000, 120_000]), Some(90_000));
    }
}
