//! Names, aliases and the addresses derived from them.
//!
//! SPEC §1, Address suggestion: a shared mailbox created from a name alone
//! gets the alias `Sales Department` → `SalesDepartment` (ASCII, no spaces)
//! and the address `alias@defaultdomain`.

use mailroom_types::EmailAddress;

/// Exchange limits `Name` and `Alias` to 64 characters and `DisplayName` to 256.
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_ALIAS_LEN: usize = 64;
pub const MAX_DISPLAY_NAME_LEN: usize = 256;

/// Checks a recipient `Name`.
pub fn validate_name(name: &str) -> Result<(), String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err("The name can't be empty. Give the recipient a name, e.g. \"Sales Department\".".into());
    }
    if trimmed.chars().count() > MAX_NAME_LEN {
        return Err(format!("The name \"{trimmed}\" is longer than {MAX_NAME_LEN} characters."));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("The name can't contain control characters such as tabs or line breaks.".into());
    }
    Ok(())
}

/// Checks a `DisplayName`.
pub fn validate_display_name(display: &str) -> Result<(), String> {
    if display.trim().is_empty() {
        return Err("The display name can't be empty.".into());
    }
    if display.chars().count() > MAX_DISPLAY_NAME_LEN {
        return Err(format!("The display name is longer than {MAX_DISPLAY_NAME_LEN} characters."));
    }
    if display.chars().any(char::is_control) {
        return Err("The display name can't contain control characters such as tabs or line breaks.".into());
    }
    Ok(())
}

/// Checks an `Alias`: it becomes the local part of addresses, so it must be a
/// valid ASCII dot-atom (RFC 5321 §4.1.2), at most 64 characters.
pub fn validate_alias(alias: &str) -> Result<(), String> {
    if alias.is_empty() {
        return Err("The alias can't be empty.".into());
    }
    if alias.len() > MAX_ALIAS_LEN || !alias.is_ascii() || !EmailAddress::is_valid_local_part(alias) {
        return Err(format!(
            "The alias \"{alias}\" isn't valid. An alias may contain the letters A-Z, digits and !#$%&'*+-/=?^_`{{|}}~, with single dots between them, at most {MAX_ALIAS_LEN} characters."
        ));
    }
    Ok(())
}

/// Derives an alias from a display name: Latin letters with diacritics are
/// folded to ASCII (`Åse Øvergård` → `AseOvergard`), anything an alias may not
/// contain is dropped. Falls back to `mailbox` when nothing usable is left.
pub fn suggest_alias(name: &str) -> String {
    let mut alias = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || "-_".contains(c) {
            alias.push(c);
        } else if c == '.' {
            // No leading or doubled dots.
            if !alias.is_empty() && !alias.ends_with('.') {
                alias.push('.');
            }
        } else if let Some(folded) = fold_latin(c) {
            alias.push_str(folded);
        }
    }
    while alias.ends_with('.') {
        alias.pop();
    }
    alias.truncate(MAX_ALIAS_LEN);
    while alias.ends_with('.') {
        alias.pop();
    }
    if alias.is_empty() { "mailbox".to_string() } else { alias }
}

/// ASCII for the Latin letters of the languages of SPEC's seeds and their
/// neighbours; others are dropped.
fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Č' | 'Ć' => "C",
        'ç' | 'č' | 'ć' => "c",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ı' => "i",
        'Ł' => "L",
        'ł' => "l",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ñ' | 'ń' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Š' | 'Ś' => "S",
        'š' | 'ś' => "s",
        'ß' => "ss",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => "u",
        'Ý' | 'Ÿ' => "Y",
        'ý' | 'ÿ' => "y",
        'Ž' | 'Ź' | 'Ż' => "Z",
        'ž' | 'ź' | 'ż' => "z",
        'Þ' => "Th",
        'þ' => "th",
        'Ð' => "D",
        'ð' => "d",
        _ => return None,
    })
}

/// Candidates for a free alias: `Sales`, `Sales2`, `Sales3`, ... as Exchange's
/// email address policy numbers them when the first is taken.
pub fn numbered_candidates(base: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(base.to_string()).chain((2..).map(move |n| {
        let suffix = n.to_string();
        let mut stem = base.to_string();
        stem.truncate(MAX_ALIAS_LEN - suffix.len());
        format!("{stem}{suffix}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_suggestion_known_answers() {
        let table = [
            ("Sales Department", "SalesDepartment"),
            ("info", "info"),
            ("Åse Øvergård", "AseOvergard"),
            ("Kundeservice & Support", "KundeserviceSupport"),
            ("Straße 1", "Strasse1"),
            ("J. R. R. Tolkien", "J.R.R.Tolkien"),
            ("...dots...", "dots"),
            ("日本語", "mailbox"),
            ("Marketing-SG", "Marketing-SG"),
        ];
        for (name, alias) in table {
            assert_eq!(suggest_alias(name), alias, "{name}");
            assert!(validate_alias(&suggest_alias(name)).is_ok(), "{name}");
        }
        let long = "x".repeat(100);
        assert_eq!(suggest_alias(&long).len(), MAX_ALIAS_LEN);
    }

    #[test]
    fn alias_validation_refuses_what_cannot_be_a_local_part() {
        for bad in ["", "has space", ".lead", "trail.", "do..ts", "æøå", "a@b"] {
            assert!(validate_alias(bad).is_err(), "{bad}");
        }
        assert!(validate_alias(&"a".repeat(65)).is_err());
        assert!(validate_alias("sales.team-1").is_ok());
    }

    #[test]
    fn names_are_checked() {
        assert!(validate_name("Sales Department").is_ok());
        assert!(validate_name("  ").is_err());
        assert!(validate_name(&"n".repeat(65)).is_err());
        assert!(validate_name("tab\there").is_err());
        assert!(validate_display_name("").is_err());
        assert!(validate_display_name("Salg og marked").is_ok());
    }

    #[test]
    fn numbered_candidates_follow_exchange() {
        let got: Vec<_> = numbered_candidates("Sales").take(3).collect();
        assert_eq!(got, ["Sales", "Sales2", "Sales3"]);
        let long = "y".repeat(64);
        let second = numbered_candidates(&long).nth(1).unwrap();
        assert_eq!(second.len(), 64);
        assert!(second.ends_with('2'));
    }
}
