//! Runtime values and their conversion to what a parameter needs.
//!
//! Conversions follow what Exchange's parameter types accept: sizes like
//! `49GB`, `'50 GB'`, `1KB`, `Unlimited` or Exchange's own printed form
//! `'50 GB (53,687,091,200 bytes)'`; booleans only as `$true`/`$false`/`1`/`0`
//! (PowerShell refuses the string "true" for a Boolean parameter); dates in
//! ISO 8601 or the US form Exchange's documentation uses (`7/10/2026 8:00
//! AM`), taken as UTC unless an offset is given.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use mailroom_core::directory::Quota;
use mailroom_types::Secret;

use crate::object::PsObject;

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Bool(bool),
    /// Text, and whether it was quoted in the source.
    Text {
        text: String,
        quoted: bool,
    },
    Array(Vec<Value>),
    Table(Vec<(String, Value)>),
    Secure(Secret<String>),
    Object(Box<PsObject>),
}

impl Value {
    /// How the value reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "$null".into(),
            Value::Bool(b) => if *b { "$true" } else { "$false" }.into(),
            Value::Text { text, .. } => text.clone(),
            Value::Array(items) => items.iter().map(Value::describe).collect::<Vec<_>>().join(","),
            Value::Table(_) => "System.Collections.Hashtable".into(),
            Value::Secure(_) => "System.Security.SecureString".into(),
            Value::Object(o) => o.identity.clone(),
        }
    }

    /// The value as one string, if it is one (objects give their identity).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Text { text, .. } => Some(text.clone()),
            Value::Object(o) => Some(o.identity.clone()),
            Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
            _ => None,
        }
    }

    /// The value as a list of strings: arrays flatten, a scalar is a list of one.
    pub fn as_text_list(&self) -> Option<Vec<String>> {
        match self {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(item.as_text_list()?);
                }
                Some(out)
            }
            Value::Null => Some(Vec::new()),
            other => other.as_text().map(|t| vec![t]),
        }
    }
}

/// Parses an Exchange size (ByteQuantifiedSize) or `Unlimited` (the rule
/// lives in core: the admin center reads the same sizes).
pub fn parse_size(text: &str) -> Result<Quota, String> {
    Quota::parse(text)
}

/// Parses a date and time; without an offset it is UTC.
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(t) {
        return Ok(with_offset.with_timezone(&Utc));
    }
    let t_no_z = t.strip_suffix('Z').unwrap_or(t);
    const FORMATS: [&str; 10] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %I %p",
        "%Y-%m-%dT%H:%M:%S%.f",
    ];
    for format in FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t_no_z, format) {
            return Ok(dt.and_utc());
        }
    }
    for format in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(date) = NaiveDate::parse_from_str(t_no_z, format) {
            return Ok(date.and_time(NaiveTime::MIN).and_utc());
        }
    }
    Err(format!(
        "\"{t}\" isn't a valid date and time. Use 2026-12-24T08:00:00 (ISO 8601, UTC unless an offset like +01:00 is given) or 12/24/2026 8:00 AM."
    ))
}

/// How dates are printed: ISO 8601 in UTC.
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sizes_known_answers() {
        let table: [(&str, Quota); 12] = [
            ("49GB", Quota::Bytes(49 << 30)),
            ("50 GB", Quota::Bytes(50 << 30)),
            ("1KB", Quota::Bytes(1024)),
            ("1kb", Quota::Bytes(1024)),
            ("49.5 GB", Quota::Bytes((49 << 30) + (1 << 29))),
            ("0.5MB", Quota::Bytes(1 << 19)),
            ("1024", Quota::Bytes(1024)),
            ("10 B", Quota::Bytes(10)),
            ("2TB", Quota::Bytes(2 << 40)),
            ("Unlimited", Quota::Unlimited),
            ("unlimited", Quota::Unlimited),
            ("50 GB (53,687,091,200 bytes)", Quota::Bytes(53_687_091_200)),
        ];
        for (text, expected) in table {
            assert_eq!(parse_size(text), Ok(expected), "{text}");
        }
        for bad in ["", "GB", "12 XB", "1.2.3GB", "-5GB", "lots", "99999999999TB", "5 GB (many bytes)"] {
            let err = parse_size(bad).expect_err(bad);
            assert!(err.contains("isn't a valid size"), "{bad}: {err}");
        }
    }

    #[test]
    fn dates_known_answers() {
        let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        let table = [
            ("2026-12-24", at(2026, 12, 24, 0, 0)),
            ("2026-12-24T08:30:00", at(2026, 12, 24, 8, 30)),
            ("2026-12-24T08:30:00Z", at(2026, 12, 24, 8, 30)),
            ("2026-12-24T08:30:00+01:00", at(2026, 12, 24, 7, 30)),
            ("2026-12-24 08:30", at(2026, 12, 24, 8, 30)),
            ("12/24/2026", at(2026, 12, 24, 0, 0)),
            ("7/10/2026 08:00:00", at(2026, 7, 10, 8, 0)),
            ("7/10/2026 8:00 PM", at(2026, 7, 10, 20, 0)),
        ];
        for (text, expected) in table {
            assert_eq!(parse_datetime(text), Ok(expected), "{text}");
        }
        for bad in ["tomorrow", "2026-13-01", "24.12.2026", ""] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
        assert_eq!(format_datetime(&at(2026, 7, 10, 20, 0)), "2026-07-10T20:00:00Z");
    }
}
