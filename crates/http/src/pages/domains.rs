//! Accepted domains: list, add, choose the default; one domain's DNS
//! records (the ones `mailroom domain dns` prints), each checked against
//! DNS as the page is made.

use askama::Template;
use http::StatusCode;

use super::{Chrome, Errors, Page, Values, html, not_found, problem_page};
use crate::problem::Problem;
use crate::{Response, redirect};

#[derive(Template)]
#[template(path = "domains.html")]
struct DomainsPage {
    chrome: Chrome,
    domains: Vec<(String, bool)>,
    notice: Option<&'static str>,
    errors: Errors,
    values: Values,
}

/// One row of the records table: a group's caption, or a record and what
/// DNS has of it.
struct RecordRow {
    caption: Option<String>,
    kind: String,
    name: String,
    value: String,
    /// "OK", "Missing", …; empty when unchecked.
    status: &'static str,
    /// A class for the status's colour: ok, problem, note.
    tone: &'static str,
    found: String,
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    chrome: Chrome,
    domain: String,
    rows: Vec<RecordRow>,
    /// Records missing or wrong; `None` when DNS wasn't asked.
    problems: Option<usize>,
    /// Records DNS didn't answer for.
    unchecked: usize,
}

/// `GET /admin/domains/NAME`: the records, checked.
async fn records(page: &Page<'_>, name: &str) -> Response {
    let Ok(domain) = mailroom_types::DomainName::parse(name) else { return not_found(page.caller) };
    let dir = page.web.mail().directory();
    if !dir.is_accepted_domain(&domain).await.unwrap_or(false) {
        return not_found(page.caller);
    }
    let keys = match mailroom_mailauth::ensure_keys(dir, &domain).await {
        Ok(keys) => keys,
        Err(err) => return problem_page(page.caller, &Problem::from(err)),
    };
    let lines = crate::clientconfig::domain_records(&page.web.config.client, domain.as_str(), &keys);
    let checked = match &page.web.config.dns {
        Some(dns) => Some(mailroom_mailauth::records::check(dns, &lines).await),
        None => None,
    };
    let mut rows = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(caption) = line.strip_prefix(';') {
            rows.push(RecordRow {
                caption: Some(caption.trim().to_string()),
                kind: String::new(),
                name: String::new(),
                value: String::new(),
                status: "",
                tone: "",
                found: String::new(),
            });
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, kind, value) = (
            words.first().copied().unwrap_or(""),
            words.get(3).copied().unwrap_or(""),
            words.get(4..).map(|w| w.join(" ")).unwrap_or_default(),
        );
        let result = checked.iter().flatten().find(|c| c.line == index);
        let (status, tone, found) = match result {
            None => ("", "", String::new()),
            Some(c) => {
                use mailroom_mailauth::records::Status;
                let (status, tone) = match &c.status {
                    Status::Ok => ("OK", "ok"),
                    Status::Missing => ("Missing", "problem"),
                    Status::Wrong => ("Wrong", "problem"),
                    Status::Differs => ("Differs", "note"),
                    Status::Unanswered(_) => ("Not checked", "note"),
                };
                let found = if matches!(c.status, Status::Ok | Status::Missing) {
                    String::new()
                } else {
                    c.found.join(" | ")
                };
                (status, tone, found)
            }
        };
        rows.push(RecordRow {
            caption: None,
            kind: kind.into(),
            name: name.into(),
            value,
            status,
            tone,
            found,
        });
    }
    let problems = checked.as_ref().map(|c| c.iter().filter(|c| c.status.is_problem()).count());
    let unchecked = checked
        .iter()
        .flatten()
        .filter(|c| matches!(c.status, mailroom_mailauth::records::Status::Unanswered(_)))
        .count();
    html(
        StatusCode::OK,
        &DomainPage { chrome: page.chrome("domains"), domain: domain.to_string(), rows, problems, unchecked },
    )
}

pub(super) async fn handle(page: &Page<'_>, action: &[&str]) -> Response {
    if let [name] = action
        && !page.post
        && *name != "default"
    {
        return records(page, name).await;
    }
    let ctx = page.ctx();
    let mut problem: Option<Problem> = None;
    let mut values = Values::default();
    if page.post {
        let outcome = match action {
            [] => ctx.add_domain(page.form.get("domain"), page.form.checked("default")).await,
            ["default"] => ctx.set_default_domain(page.form.get("domain")).await,
            _ => return not_found(page.caller),
        };
        match outcome {
            Ok(()) => return redirect("/admin/domains?notice=saved"),
            Err(p) => {
                values.keep_typed(page.form, &["domain"]);
                problem = Some(p);
            }
        }
    } else if !action.is_empty() {
        return not_found(page.caller);
    }
    let domains = match ctx.domains().await {
        Ok(d) => d.into_iter().map(|d| (d.name.to_string(), d.is_default)).collect(),
        Err(p) => return problem_page(page.caller, &p),
    };
    let notice = (page.query.get("notice") == "saved").then_some("Your changes are saved.");
    let errors = Errors(problem);
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    html(status, &DomainsPage { chrome: page.chrome("domains"), domains, notice, errors, values })
}
