//! OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) through a raw client:
//! folder ids that survive a rename, message ids that survive a copy, save
//! dates that a copy renews and INTERNALDATE doesn't set, and the searches
//! on them, with their refusals.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

/// The `(...)` value after `item` in a response line.
fn value(line: &str, item: &str) -> String {
    let at = line.find(&format!("{item} (")).unwrap_or_else(|| panic!("{item} in {line}")) + item.len() + 2;
    line[at..at + line[at..].find(')').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folder_and_message_ids_are_stable() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].contains(" OBJECTID") && caps[0].contains(" SAVEDATE"), "{caps:?}");

    let created = c.cmd("c1", "CREATE Projects").await;
    let id = value(&created[0], "MAILBOXID");
    assert!(id.starts_with('F') && id.len() > 1, "{created:?}");
    let selected = c.cmd("s", "SELECT Projects").await;
    assert!(selected.contains(&format!("* OK [MAILBOXID ({id})] Ok")), "{selected:?}");
    // A rename keeps the id; another folder has another.
    c.cmd("r", "RENAME Projects Plans").await;
    let status = c.cmd("st", "STATUS Plans (MESSAGES MAILBOXID)").await;
    assert_eq!(status[0], format!("* STATUS \"Plans\" (MESSAGES 0 MAILBOXID ({id}))"));
    let inbox = c.cmd("st2", "STATUS INBOX (MAILBOXID)").await;
    assert_ne!(value(&inbox[0], "MAILBOXID"), id);
    let listed = c.cmd("l", "LIST \"\" \"Plans\" RETURN (STATUS (MAILBOXID UIDNEXT))").await;
    assert_eq!(listed[1], format!("* STATUS \"Plans\" (UIDNEXT 1 MAILBOXID ({id}))"), "{listed:?}");

    // A message keeps its EMAILID through a copy; THREADID is NIL.
    c.cmd("a", "APPEND Plans {23+}\r\nSubject: plan\r\n\r\nplan\r\n").await;
    c.cmd("a2", "APPEND Plans {23+}\r\nSubject: other\r\n\r\nxyz\r\n").await;
    let fetched = c.cmd("f", "FETCH 1 (EMAILID THREADID)").await;
    let email = value(&fetched[0], "EMAILID");
    assert!(email.starts_with('M') && email.len() == 25, "{fetched:?}");
    assert!(fetched[0].contains("THREADID NIL"), "{fetched:?}");
    c.cmd("k", "COPY 1 INBOX").await;
    c.cmd("s2", "SELECT INBOX").await;
    let copied = c.cmd("f2", "UID FETCH 1 EMAILID").await;
    assert_eq!(value(&copied[0], "EMAILID"), email);
    c.cmd("s3", "SELECT Plans").await;
    assert_eq!(c.cmd("q", &format!("SEARCH EMAILID {email}")).await[0], "* SEARCH 1");
    assert_eq!(c.cmd("q2", &format!("SEARCH NOT EMAILID {email}")).await[0], "* SEARCH 2");
    assert_eq!(c.cmd("q3", &format!("SEARCH EMAILID {}", email.to_lowercase())).await[0], "* SEARCH");
    assert_eq!(c.cmd("q4", "SEARCH THREADID T1").await[0], "* SEARCH");

    // Refusals.
    for (tag, bad) in
        [("b1", "SEARCH EMAILID \"M 1\""), ("b2", "SEARCH EMAILID"), ("b3", "STATUS Plans (MAILBOXID FROB)")]
    {
        let answer = c.cmd(tag, bad).await;
        assert!(answer.last().unwrap().starts_with(&format!("{tag} BAD ")), "{bad}: {answer:?}");
    }
    let answer = c.cmd("b4", "STATUS Nowhere (MAILBOXID)").await;
    assert!(answer.last().unwrap().starts_with("b4 NO [NONEXISTENT]"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_dates_are_when_a_message_came_into_its_folder() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    c.cmd("c", "CREATE Old").await;
    // An APPEND with an old INTERNALDATE is still saved now.
    c.cmd("a", "APPEND Old \"01-Feb-2020 10:00:00 +0000\" {23+}\r\nSubject: plan\r\n\r\nplan\r\n").await;
    c.cmd("s", "SELECT Old").await;
    let fetched = c.cmd("f", "FETCH 1 (INTERNALDATE SAVEDATE)").await;
    assert!(fetched[0].contains("INTERNALDATE \"01-Feb-2020 10:00:00 +0000\""), "{fetched:?}");
    let today = chrono::Utc::now().date_naive();
    let saved = fetched[0].split("SAVEDATE \"").nth(1).unwrap();
    let saved = chrono::DateTime::parse_from_str(&saved[..26], "%d-%b-%Y %H:%M:%S %z").unwrap();
    assert!((saved.date_naive() - today).num_days().abs() <= 1, "{fetched:?}");

    let day = |d: chrono::NaiveDate| d.format("%-d-%b-%Y").to_string();
    // The day it was saved, as FETCH said (UTC): on it, not before it.
    let saved_on = day(saved.with_timezone(&chrono::Utc).date_naive());
    assert_eq!(c.cmd("d1", &format!("SEARCH SAVEDON {saved_on}")).await[0], "* SEARCH 1");
    assert_eq!(c.cmd("d2", &format!("SEARCH SAVEDSINCE {saved_on}")).await[0], "* SEARCH 1");
    assert_eq!(c.cmd("d3", &format!("SEARCH SAVEDBEFORE {saved_on}")).await[0], "* SEARCH");
    let yesterday = day(today.pred_opt().unwrap());
    let next_week = day(today + chrono::Days::new(7));
    assert_eq!(c.cmd("q1", &format!("SEARCH SAVEDSINCE {yesterday}")).await[0], "* SEARCH 1");
    assert_eq!(c.cmd("q2", &format!("SEARCH SAVEDBEFORE {next_week}")).await[0], "* SEARCH 1");
    assert_eq!(c.cmd("q3", "SEARCH SAVEDBEFORE 1-Jan-2021").await[0], "* SEARCH");
    assert_eq!(c.cmd("q4", "SEARCH BEFORE 1-Jan-2021").await[0], "* SEARCH 1", "INTERNALDATE is 2020");
    assert_eq!(c.cmd("q5", "SEARCH SAVEDATESUPPORTED").await[0], "* SEARCH 1");
    assert_eq!(c.cmd("q6", "UID SEARCH OR SAVEDON 1-Feb-2020 SAVEDON 2-Feb-2020").await[0], "* SEARCH");
    let sorted = c.cmd("q7", &format!("SORT (ARRIVAL) UTF-8 SAVEDSINCE {yesterday}")).await;
    assert_eq!(sorted[0], "* SORT 1");
    let answer = c.cmd("b", "SEARCH SAVEDON yesterday").await;
    assert!(answer.last().unwrap().starts_with("b BAD "), "{answer:?}");
}
