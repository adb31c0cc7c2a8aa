//! The outbound queue: what `Get-Queue` shows, with retry and delete.

use askama::Template;
use http::StatusCode;

use super::{Chrome, Errors, Page, html, not_found, problem_page};
use crate::problem::Problem;
use crate::{Response, redirect};

#[derive(Debug)]
struct Row {
    id: i64,
    recipient: String,
    from: String,
    attempts: u32,
    error: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    rows: Vec<Row>,
    notice: Option<&'static str>,
    errors: Errors,
}

pub(super) async fn handle(page: &Page<'_>, action: &[&str]) -> Response {
    let ctx = page.ctx();
    let mut problem: Option<Problem> = None;
    if page.post {
        let outcome = match action {
            [id, "retry"] => match id.parse() {
                Ok(id) => ctx.retry_queued(id).await,
                Err(_) => return not_found(page.caller),
            },
            [id, "delete"] => match id.parse() {
                Ok(id) => ctx.delete_queued(id).await,
                Err(_) => return not_found(page.caller),
            },
            _ => return not_found(page.caller),
        };
        match outcome {
            Ok(()) => return redirect("/admin/queue?notice=saved"),
            Err(p) => problem = Some(p),
        }
    } else if !action.is_empty() {
        return not_found(page.caller);
    }
    let rows = match ctx.queue().await {
        Ok(entries) => entries
            .into_iter()
            .map(|e| Row {
                id: e.id,
                recipient: e.recipient.to_string(),
                from: e.envelope_from.map(|a| a.to_string()).unwrap_or_else(|| "<>".into()),
                attempts: e.attempts,
                error: e.last_error.unwrap_or_default(),
            })
            .collect(),
        Err(p) => return problem_page(page.caller, &p),
    };
    let notice = (page.query.get("notice") == "saved").then_some("Done.");
    let errors = Errors(problem);
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    html(status, &QueuePage { chrome: page.chrome("queue"), rows, notice, errors })
}
