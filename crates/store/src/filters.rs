//! Message-list filters on keywords (`$Handled`, `$Assigned`,
//! `$AssignedTo_<alias>`), in SQL of one shape for every keyword filter:
//! the words go as parameters, so a statement cache holds one statement
//! whatever the alias, and no word is ever part of the SQL text. Each
//! backend says how it finds a word in the keywords column.

use mailroom_core::mail::MessageFilter;

/// Words a keyword filter can ask for and against, at most.
const SLOTS: usize = 2;

/// ` AND …` for a filter on keywords, with its parameters (numbered from
/// `first`: `SLOTS` words it must have, then `SLOTS` it must not, `''` for
/// an unused one); `None` for a filter without keywords. `contains(p)` is
/// the backend's test that the space-separated, lower-cased keywords hold
/// the word in parameter `p` (`?4`, `$4`).
pub(crate) fn keyword_condition(
    filter: &MessageFilter,
    first: usize,
    placeholder: impl Fn(usize) -> String,
    contains: impl Fn(&str) -> String,
) -> Option<(String, Vec<String>)> {
    let (with, without) = filter.keywords()?;
    let mut sql = String::new();
    let mut params = Vec::with_capacity(2 * SLOTS);
    for (i, words) in [with, without].iter().enumerate() {
        for slot in 0..SLOTS {
            let p = placeholder(first + params.len());
            let test = contains(&p);
            let test = if i == 0 { test } else { format!("NOT {test}") };
            sql.push_str(&format!(" AND ({p} = '' OR {test})"));
            params.push(words.get(slot).cloned().unwrap_or_default());
        }
    }
    Some((sql, params))
}
