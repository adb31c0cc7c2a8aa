//! The lists: shared mailboxes, active users, groups — with search and
//! pages of [`PAGE_SIZE`] — and the people picker's suggestions.

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::{Recipient, RecipientKind};
use serde_json::Value;

use super::{Chrome, Page, html, problem_page};
use crate::form::encode;
use crate::{Response, answer};

/// Rows a list page shows at once: a page stays quick for any organisation.
pub(crate) const PAGE_SIZE: usize = 100;
/// Suggestions the people picker asks for.
const SUGGESTIONS: usize = 20;
/// People a page holds for its picker without JavaScript.
pub(crate) const PICKER_OPTIONS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Shared,
    Users,
    Groups,
}

#[derive(Debug)]
pub(crate) struct Row {
    pub href: String,
    pub name: String,
    pub address: String,
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    chrome: Chrome,
    heading: &'static str,
    lead: &'static str,
    base: &'static str,
    add_href: &'static str,
    add_label: &'static str,
    query: String,
    query_encoded: String,
    notice: Option<&'static str>,
    total: usize,
    page: usize,
    pages: usize,
    rows: Vec<Row>,
}

pub(super) async fn recipients(page: &Page<'_>, kind: Kind) -> Response {
    let (kinds, heading, lead, base, add_href, add_label, active): (&[RecipientKind], _, _, _, _, _, _) =
        match kind {
            Kind::Shared => (
                &[RecipientKind::SharedMailbox],
                "Shared mailboxes",
                "Mailboxes a team reads and answers together. Nobody signs in to them: members open them with their own account.",
                "/admin/shared-mailboxes",
                "/admin/shared-mailboxes/new",
                "Add a shared mailbox",
                "shared",
            ),
            Kind::Users => (
                &[RecipientKind::UserMailbox],
                "Active users",
                "People who sign in with their own address and password.",
                "/admin/users",
                "/admin/users/new",
                "Add a user",
                "users",
            ),
            Kind::Groups => (
                &RecipientKind::GROUPS,
                "Groups",
                "Mail-enabled security groups (they can hold permissions) and distribution lists.",
                "/admin/groups",
                "/admin/groups/new",
                "Add a group",
                "groups",
            ),
        };
    let query = page.query.get("q").to_string();
    let asked = page.query.get("page").parse::<usize>().unwrap_or(1).max(1);
    let offset = (asked - 1).saturating_mul(PAGE_SIZE);
    let (total, found) = match page.ctx().search(kinds, &query, offset, PAGE_SIZE).await {
        Ok(found) => found,
        Err(problem) => return problem_page(page.caller, &problem),
    };
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    if asked > pages {
        // Past the end (the list shrank): show the last page.
        let last = format!("{base}?q={}&page={pages}", encode(&query));
        return crate::redirect(&last);
    }
    let current = asked;
    let rows = found.iter().map(row).collect();
    let notice = match page.query.get("notice") {
        "deleted" => Some("Deleted."),
        _ => None,
    };
    html(
        StatusCode::OK,
        &ListPage {
            chrome: page.chrome(active),
            heading,
            lead,
            base,
            add_href,
            add_label,
            query_encoded: encode(&query),
            query,
            notice,
            total,
            page: current,
            pages,
            rows,
        },
    )
}

fn row(r: &Recipient) -> Row {
    let href = if r.kind.is_group() {
        format!("/admin/groups/{}", r.id.0)
    } else {
        format!("/admin/mailboxes/{}", r.id.0)
    };
    let kind = match r.kind {
        RecipientKind::UserMailbox => "User",
        RecipientKind::SharedMailbox => "Shared mailbox",
        RecipientKind::SecurityGroup => "Mail-enabled security",
        RecipientKind::DistributionGroup => "Distribution list",
    };
    Row { href, name: r.display_name.clone(), address: r.primary_address.to_string(), kind }
}

/// `GET /admin/people?q=`: users and security groups matching `q`, as JSON
/// for the people picker (who can hold permissions).
pub(super) async fn people(page: &Page<'_>) -> Response {
    let kinds = super::kinds_of_people();
    match page.ctx().search(&kinds, page.query.get("q"), 0, SUGGESTIONS).await {
        Ok((_, list)) => {
            let items: Vec<Value> = list
                .iter()
                .map(|r| serde_json::json!({ "address": r.primary_address.to_string(), "name": r.display_name }))
                .collect();
            answer(StatusCode::OK, "application/json", Value::Array(items).to_string())
        }
        Err(problem) => answer(problem.status, "application/problem+json", problem.to_json()),
    }
}

/// The people picker's first choices, in the page itself (it works
/// without JavaScript; the script asks [`people`] as one types).
pub(super) async fn people_options(page: &Page<'_>) -> Vec<(String, String)> {
    let kinds = super::kinds_of_people();
    page.ctx()
        .search(&kinds, "", 0, PICKER_OPTIONS)
        .await
        .map(|(_, found)| found)
        .unwrap_or_default()
        .iter()
        .map(|r| (r.primary_address.to_string(), r.display_name.clone()))
        .collect()
}
