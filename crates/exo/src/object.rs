//! Output objects and how they are shown: PowerShell-like tables and lists,
//! or JSON with Exchange's property names.

use serde_json::{Map, Value as Json};

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub enum PsValue {
    Null,
    Bool(bool),
    Int(i64),
    Text(String),
    List(Vec<String>),
}

impl PsValue {
    pub fn text(s: impl Into<String>) -> Self {
        PsValue::Text(s.into())
    }

    /// `None` prints as an empty value.
    pub fn opt(s: Option<impl Into<String>>) -> Self {
        s.map_or(PsValue::Null, |s| PsValue::Text(s.into()))
    }

    /// How PowerShell prints the value in a table or list.
    fn display(&self) -> String {
        match self {
            PsValue::Null => String::new(),
            PsValue::Bool(b) => if *b { "True" } else { "False" }.into(),
            PsValue::Int(n) => n.to_string(),
            PsValue::Text(s) => s.clone(),
            PsValue::List(items) => format!("{{{}}}", items.join(", ")),
        }
    }

    fn to_json(&self) -> Json {
        match self {
            PsValue::Null => Json::Null,
            PsValue::Bool(b) => Json::Bool(*b),
            PsValue::Int(n) => Json::from(*n),
            PsValue::Text(s) => Json::String(s.clone()),
            PsValue::List(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
        }
    }
}

/// How an object is shown as text.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
    /// A table with these columns (PowerShell's default view for the type).
    Table(Vec<String>),
    /// `Name : value` lines for these properties.
    List(Vec<String>),
}

/// One output object of a cmdlet.
#[derive(Clone, Debug, PartialEq)]
pub struct PsObject {
    /// The .NET-like type name, e.g. `Mailbox`, `MailboxPermission`.
    pub type_name: &'static str,
    /// What this object means when piped into the next cmdlet's `-Identity`.
    pub identity: String,
    pub properties: Vec<(String, PsValue)>,
    pub view: View,
    /// Set by `Format-List`/`Format-Table` with chosen properties: JSON then
    /// carries only those. Otherwise JSON carries every property.
    pub selected: bool,
}

impl PsObject {
    /// An object shown as a table of `columns` by default.
    pub fn new(
        type_name: &'static str,
        identity: impl Into<String>,
        properties: Vec<(&str, PsValue)>,
        table: &[&str],
    ) -> Self {
        let properties: Vec<(String, PsValue)> =
            properties.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let view = if table.is_empty() {
            View::List(properties.iter().map(|(k, _)| k.clone()).collect())
        } else {
            View::Table(table.iter().map(|c| c.to_string()).collect())
        };
        PsObject { type_name, identity: identity.into(), properties, view, selected: false }
    }

    pub fn get(&self, name: &str) -> Option<&PsValue> {
        self.properties.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// The properties matching `patterns` (names, `*` wildcards), in object order.
    pub fn select(&self, patterns: &[String]) -> Vec<String> {
        self.properties
            .iter()
            .map(|(k, _)| k)
            .filter(|k| patterns.iter().any(|p| wildcard_match(p, k)))
            .cloned()
            .collect()
    }

    fn shown_properties(&self) -> &[String] {
        match &self.view {
            View::Table(cols) | View::List(cols) => cols,
        }
    }

    /// The object as a JSON object: every property, or those chosen by Format-*.
    pub fn to_json(&self) -> Json {
        let mut map = Map::new();
        for (name, value) in &self.properties {
            if !self.selected || self.shown_properties().iter().any(|p| p == name) {
                map.insert(name.clone(), value.to_json());
            }
        }
        Json::Object(map)
    }
}

/// `*` matches any run of characters; comparison ignores case.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Renders objects as PowerShell would on a console: consecutive objects with
/// the same table view share one table; list views print one block each.
pub fn format_text(objects: &[PsObject]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < objects.len() {
        match &objects[i].view {
            View::Table(columns) => {
                let mut j = i;
                while j < objects.len() && objects[j].view == objects[i].view {
                    j += 1;
                }
                out.push_str(&format_table(columns, &objects[i..j]));
                i = j;
            }
            View::List(names) => {
                out.push_str(&format_list(names, &objects[i]));
                i += 1;
            }
        }
    }
    out
}

fn format_table(columns: &[String], rows: &[PsObject]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| columns.iter().map(|c| row.get(c).map(PsValue::display).unwrap_or_default()).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells.iter().map(|r| r[i].chars().count()).chain([c.chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<String>| {
        let mut s = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect::<Vec<_>>().join(" ");
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = String::from("\n");
    out.push_str(&line(columns.to_vec()));
    out.push_str(&line(columns.iter().map(|c| "-".repeat(c.chars().count())).collect()));
    for row in cells {
        out.push_str(&line(row));
    }
    out.push('\n');
    out
}

fn format_list(names: &[String], object: &PsObject) -> String {
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut out = String::from("\n");
    for name in names {
        let value = object.get(name).map(PsValue::display).unwrap_or_default();
        out.push_str(&format!("{name:<width$} : {value}\n"));
    }
    out.push('\n');
    out
}

/// The objects as a JSON array (what `--json` prints).
pub fn to_json(objects: &[PsObject]) -> Json {
    Json::Array(objects.iter().map(PsObject::to_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: &str, alias: &str) -> PsObject {
        PsObject::new(
            "Mailbox",
            format!("{alias}@contoso.com"),
            vec![
                ("Name", PsValue::text(name)),
                ("Alias", PsValue::text(alias)),
                ("EmailAddresses", PsValue::List(vec![format!("SMTP:{alias}@contoso.com")])),
                ("AccountDisabled", PsValue::Bool(true)),
                ("ForwardingAddress", PsValue::Null),
            ],
            &["Name", "Alias"],
        )
    }

    #[test]
    fn tables_align_columns() {
        let text = format_text(&[mailbox("Sales Department", "Sales"), mailbox("Info", "info")]);
        assert_eq!(
            text,
            "\nName             Alias\n----             -----\nSales Department Sales\nInfo             info\n\n"
        );
    }

    #[test]
    fn lists_show_every_property() {
        let mut o = mailbox("Info", "info");
        o.view = View::List(o.select(&["*".into()]));
        let text = format_text(&[o]);
        assert!(text.contains("Name              : Info\n"), "{text}");
        assert!(text.contains("EmailAddresses    : {SMTP:info@contoso.com}\n"), "{text}");
        assert!(text.contains("AccountDisabled   : True\n"), "{text}");
        assert!(text.contains("ForwardingAddress : \n"), "{text}");
    }

    #[test]
    fn json_uses_native_types_and_every_property() {
        let json = to_json(&[mailbox("Info", "info")]);
        assert_eq!(json[0].as_object().unwrap().len(), 5, "not only the table's columns");
        assert_eq!(json[0]["Name"], "Info");
        assert_eq!(json[0]["AccountDisabled"], true);
        assert_eq!(json[0]["EmailAddresses"][0], "SMTP:info@contoso.com");
        assert!(json[0]["ForwardingAddress"].is_null());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "Name"));
        assert!(wildcard_match("name", "Name"));
        assert!(wildcard_match("*Quota", "ProhibitSendQuota"));
        assert!(wildcard_match("Prohibit*", "ProhibitSendQuota"));
        assert!(wildcard_match("P*Send*Q*", "ProhibitSendQuota"));
        assert!(!wildcard_match("Alias*", "Name"));
        assert!(!wildcard_match("Nam", "Name"));
    }
}
