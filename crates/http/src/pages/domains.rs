//! Accepted domains: list, add, choose the default.

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

pub(super) async fn handle(page: &Page<'_>, action: &[&str]) -> Response {
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
