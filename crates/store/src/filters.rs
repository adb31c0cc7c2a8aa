//! Message-list filters on keywords (`$Handled`, `$Assigned`,
//! `$AssignedTo_<alias>`), written into SQL the same way for both
//! backends; each backend says how it finds a word in the keywords column.

use mailroom_core::mail::MessageFilter;

/// ` AND …` for the keywords `filter` asks for and against; empty for a
/// filter without keywords. `contains(k)` is the backend's test that the
/// space-separated, lower-cased keywords hold the word `k`. The words are
/// IMAP atoms from `MessageFilter::keywords` (no quote can be among them),
/// so they stand in the SQL as literals.
pub(crate) fn keyword_condition(filter: &MessageFilter, contains: impl Fn(&str) -> String) -> String {
    let Some((with, without)) = filter.keywords() else { return String::new() };
    let safe = |k: &String| k.bytes().all(|b| b.is_ascii_alphanumeric() || b"$._-".contains(&b));
    let mut sql = String::new();
    for k in &with {
        if !safe(k) {
            return " AND 0 = 1".to_string();
        }
        sql.push_str(&format!(" AND {}", contains(k)));
    }
    for k in without.iter().filter(|k| safe(k)) {
        sql.push_str(&format!(" AND NOT {}", contains(k)));
    }
    sql
}
