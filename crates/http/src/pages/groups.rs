//! A group's pages: adding one, and its members.

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::{Recipient, RecipientKind};
use mailroom_types::PrincipalId;

use super::mailbox::NewPage;
use super::{Chrome, Errors, Page, Values, html, not_found, problem_page};
use crate::ops::OpResult;
use crate::problem::Problem;
use crate::{Response, redirect};

/// "Add a group".
pub(super) async fn new(page: &Page<'_>) -> Response {
    let mut values = Values::default();
    let mut errors = Errors::default();
    let (domains, default) = match super::domain_choices(page).await {
        Ok(choices) => choices,
        Err(response) => return response,
    };
    values.set("domain", default.clone());
    if page.post {
        let form = page.form;
        values.keep_typed(form, &["name", "local", "domain", "type"]);
        let address = super::address_from_form(form, &default);
        let name = form.get("name").trim();
        match page.ctx().create_group(name, &address, form.get("type") != "distribution").await {
            Ok(group) => return redirect(&format!("/admin/groups/{}?notice=created", group.id.0)),
            Err(problem) => errors = Errors(Some(problem)),
        }
    }
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    html(
        status,
        &NewPage {
            chrome: page.chrome("groups"),
            heading: "Add a group",
            back: "/admin/groups",
            back_label: "Groups",
            action: "/admin/groups/new",
            submit: "Add group",
            kind: "group",
            domains,
            values,
            errors,
            global_admin: false,
            exchange_admin: false,
        },
    )
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    chrome: Chrome,
    r: Recipient,
    /// Where the members' forms post (`members.html`).
    member_base: String,
    kind_label: &'static str,
    notice: Option<&'static str>,
    errors: Errors,
    values: Values,
    members: Vec<Recipient>,
    people: Vec<(String, String)>,
}

pub(super) async fn handle(page: &Page<'_>, id: PrincipalId, action: &[&str]) -> Response {
    let ctx = page.ctx();
    let form = page.form;
    if !page.post {
        return match action {
            [] => detail(page, id, None).await,
            _ => not_found(page.caller),
        };
    }
    let outcome: OpResult<()> = match action {
        ["members"] => ctx.add_group_member(id, form.get("member")).await.map(|_| ()),
        ["remove-member"] => ctx.remove_group_member(id, form.get("member")).await,
        ["delete"] if !form.checked("confirm") => {
            Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Tick the box to confirm the deletion."))
        }
        ["delete"] => match ctx.remove(id, &RecipientKind::GROUPS).await {
            Ok(_) => return redirect("/admin/groups?notice=deleted"),
            Err(problem) => Err(problem),
        },
        _ => return not_found(page.caller),
    };
    match outcome {
        Ok(()) => redirect(&format!("/admin/groups/{}?notice=saved", id.0)),
        Err(problem) => detail(page, id, Some(problem)).await,
    }
}

async fn detail(page: &Page<'_>, id: PrincipalId, problem: Option<Problem>) -> Response {
    let ctx = page.ctx();
    let group = match ctx.recipient(id, &RecipientKind::GROUPS).await {
        Ok(group) => group,
        Err(p) if p.status == StatusCode::NOT_FOUND => return not_found(page.caller),
        Err(p) => return problem_page(page.caller, &p),
    };
    let members = match ctx.group_members(id).await {
        Ok(m) => m,
        Err(p) => return problem_page(page.caller, &p),
    };
    let mut values = Values::default();
    if problem.is_some() {
        values.keep_typed(page.form, &["member"]);
    }
    let notice = match page.query.get("notice") {
        "saved" => Some("Your changes are saved."),
        "created" => Some("The group is created. Add its members."),
        _ => None,
    };
    let errors = Errors(problem);
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    // Any recipient can be a member of a group, not only those who can hold permissions.
    let people = ctx
        .search(&RecipientKind::ALL, "", 0, super::lists::PICKER_OPTIONS)
        .await
        .map(|(_, found)| found)
        .unwrap_or_default()
        .iter()
        .filter(|r| r.id != id)
        .map(|r| (r.primary_address.to_string(), r.display_name.clone()))
        .collect();
    html(
        status,
        &GroupPage {
            chrome: page.chrome("groups"),
            kind_label: if group.kind == RecipientKind::SecurityGroup {
                "Mail-enabled security group"
            } else {
                "Distribution list"
            },
            member_base: format!("/admin/groups/{}", group.id.0),
            r: group,
            notice,
            errors,
            values,
            members,
            people,
        },
    )
}
