//! A mailbox's pages: adding one ("Add a shared mailbox", "Add a user"),
//! and its detail pane with the admin center's sections, each with its
//! own form: Members, Account, Sent items, Email forwarding, Automatic
//! replies, Storage quota, Email addresses, Send on behalf, Convert, Delete.

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::{Quota, Recipient, RecipientKind, format_quota, format_size};
use mailroom_core::mail::StorageLimitStatus;
use mailroom_types::PrincipalId;

use super::{Chrome, Errors, Page, Values, html, lists, not_found, problem_page};
use crate::ops::{AutoReplyInput, MailboxView, NewMailboxInput, OpResult};
use crate::problem::Problem;
use crate::{Response, redirect};

#[derive(Template)]
#[template(path = "new_recipient.html")]
pub(super) struct NewPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub back: &'static str,
    pub back_label: &'static str,
    pub action: &'static str,
    pub submit: &'static str,
    pub kind: &'static str,
    pub domains: Vec<String>,
    pub values: Values,
    pub errors: Errors,
    /// The role boxes ticked (kept when the form is refused).
    pub global_admin: bool,
    pub exchange_admin: bool,
}

/// "Add a shared mailbox" / "Add a user": the form, and creating it.
pub(super) async fn new(page: &Page<'_>, user: bool) -> Response {
    let mut values = Values::default();
    let mut errors = Errors::default();
    let (domains, default) = match super::domain_choices(page).await {
        Ok(choices) => choices,
        Err(response) => return response,
    };
    values.set("domain", default.clone());
    if page.post {
        let form = page.form;
        values.keep_typed(form, &["name", "local", "domain"]);
        let name = form.get("name").trim();
        let address = super::address_from_form(form, &default);
        let input = NewMailboxInput {
            name: name.to_string(),
            address,
            shared: !user,
            password: form.get("password").to_string(),
            roles: form.all("roles"),
        };
        match page.ctx().create_mailbox(input).await {
            Ok(created) if user => {
                return redirect(&format!("/admin/mailboxes/{}?notice=created", created.id.0));
            }
            Ok(created) => {
                return redirect(&format!("/admin/mailboxes/{}?notice=created#members", created.id.0));
            }
            Err(problem) => errors = Errors(Some(problem)),
        }
    }
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    let (heading, back, back_label, action, submit, kind, active) = if user {
        ("Add a user", "/admin/users", "Active users", "/admin/users/new", "Add user", "user", "users")
    } else {
        (
            "Add a shared mailbox",
            "/admin/shared-mailboxes",
            "Shared mailboxes",
            "/admin/shared-mailboxes/new",
            "Add",
            "shared",
            "shared",
        )
    };
    html(
        status,
        &NewPage {
            chrome: page.chrome(active),
            heading,
            back,
            back_label,
            action,
            submit,
            kind,
            domains,
            values,
            errors,
            global_admin: page.form.all("roles").iter().any(|r| r == "global-admin"),
            exchange_admin: page.form.all("roles").iter().any(|r| r == "exchange-admin"),
        },
    )
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct DetailPage {
    chrome: Chrome,
    r: Recipient,
    /// Where the members' forms post (`members.html`).
    member_base: String,
    back: &'static str,
    back_label: &'static str,
    kind_label: &'static str,
    shared: bool,
    blocked: bool,
    notice: Option<&'static str>,
    errors: Errors,
    open: &'static str,
    added: bool,
    values: Values,
    people: Vec<(String, String)>,
    members: Vec<Recipient>,
    send_on_behalf: Vec<Recipient>,
    roles: Vec<&'static str>,
    global_admin: bool,
    exchange_admin: bool,
    sent_items_summary: &'static str,
    copy_send_as: bool,
    copy_on_behalf: bool,
    forwarding_summary: String,
    keep_copy: bool,
    auto_reply_state: &'static str,
    usage_text: String,
    usage_permille: u64,
    limit_text: String,
    status: &'static str,
}

/// `/admin/mailboxes/{id}` and its section forms.
pub(super) async fn handle(page: &Page<'_>, id: PrincipalId, action: &[&str]) -> Response {
    let ctx = page.ctx();
    let form = page.form;
    let section: &'static str = match action {
        [] if !page.post => return detail(page, id, None, "").await,
        ["members"] => "members",
        ["remove-member"] => "members",
        ["sent-items"] => "sent-items",
        ["forwarding"] => "forwarding",
        ["auto-reply"] => "auto-reply",
        ["quota"] => "quota",
        ["addresses"] => "addresses",
        ["send-on-behalf"] => "send-on-behalf",
        ["convert"] => "convert",
        ["password"] | ["sign-in"] | ["roles"] => "account",
        ["delete"] => "delete",
        _ => return not_found(page.caller),
    };
    if !page.post {
        return not_found(page.caller);
    }
    let outcome: OpResult<()> = match action {
        ["members"] => ctx.add_member(id, form.get("member")).await.map(|_| ()),
        ["remove-member"] => ctx.remove_member(id, form.get("member")).await,
        ["sent-items"] => {
            ctx.set_sent_items(id, form.checked("send_as"), form.checked("send_on_behalf")).await
        }
        ["forwarding"] => ctx.set_forwarding(id, form.get("forward_to"), form.checked("keep_copy")).await,
        ["auto-reply"] => {
            let input = AutoReplyInput {
                state: form.get("state").to_string(),
                start: form.get("start").to_string(),
                end: form.get("end").to_string(),
                internal: form.get("internal").to_string(),
                external: form.get("external").to_string(),
                audience: form.get("audience").to_string(),
            };
            ctx.set_auto_reply(id, input).await.map(|_| ())
        }
        ["quota"] => {
            ctx.set_quota(
                id,
                form.get("issue_warning"),
                form.get("prohibit_send"),
                form.get("prohibit_send_receive"),
            )
            .await
        }
        ["addresses"] => {
            ctx.set_addresses(id, form.get("primary"), form.get("add"), form.get("remove")).await
        }
        ["send-on-behalf"] => ctx.set_send_on_behalf(id, &form.all("holder")).await,
        ["convert"] => ctx.convert(id, form.get("to") == "shared", form.get("password")).await.map(|_| ()),
        ["password"] => ctx.reset_password(id, form.get("password")).await,
        ["sign-in"] => ctx.set_sign_in_blocked(id, form.checked("blocked")).await,
        ["roles"] => ctx.set_roles(id, &form.all("roles")).await,
        ["delete"] => {
            if !form.checked("confirm") {
                Err(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Tick the box to confirm the deletion."))
            } else {
                match ctx.remove(id, &RecipientKind::MAILBOXES).await {
                    Ok(removed) => {
                        let list = if removed.kind == RecipientKind::SharedMailbox {
                            "/admin/shared-mailboxes"
                        } else {
                            "/admin/users"
                        };
                        return redirect(&format!("{list}?notice=deleted"));
                    }
                    Err(problem) => Err(problem),
                }
            }
        }
        _ => return not_found(page.caller),
    };
    match outcome {
        Ok(()) => redirect(&format!("/admin/mailboxes/{}?notice=saved&open={section}#{section}", id.0)),
        Err(problem) if problem.status == StatusCode::NOT_FOUND && problem.field.is_none() => {
            not_found(page.caller)
        }
        Err(problem) => detail(page, id, Some(problem), section).await,
    }
}

/// The detail pane; after a refusal, with the message by its field and the
/// section's typed values kept.
async fn detail(
    page: &Page<'_>,
    id: PrincipalId,
    problem: Option<Problem>,
    section: &'static str,
) -> Response {
    let view = match page.ctx().mailbox(id).await {
        Ok(view) => view,
        Err(problem) if problem.status == StatusCode::NOT_FOUND => return not_found(page.caller),
        Err(problem) => return problem_page(page.caller, &problem),
    };
    let mut values = current_values(&view);
    if problem.is_some() {
        values.keep_typed(page.form, section_fields(section));
        if section == "send-on-behalf" {
            // The last `holder` field is the one typed in "Add someone".
            values.set("holder_new", page.form.all("holder").pop().unwrap_or_default());
        }
    }
    let added = page.query.get("notice") == "created" && view.recipient.kind == RecipientKind::SharedMailbox;
    let open = match (&problem, added) {
        (Some(_), _) => section,
        // "Add members to this mailbox" comes right after adding it.
        (None, true) => "members",
        (None, false) => open_section(page.query.get("open")),
    };
    let notice = match page.query.get("notice") {
        "saved" => Some("Your changes are saved."),
        "created" if view.recipient.kind == RecipientKind::SharedMailbox => {
            Some("The shared mailbox is created.")
        }
        "created" => Some("The user is created."),
        _ => None,
    };
    let shared = view.recipient.kind == RecipientKind::SharedMailbox;
    let roles: Vec<&'static str> =
        view.account.as_ref().map(|a| a.roles.iter().map(|r| r.as_str()).collect()).unwrap_or_default();
    let s = &view.settings;
    let limit = s.quota.prohibit_send_receive;
    let usage_permille = match limit {
        Quota::Bytes(l) if l > 0 => (view.usage.bytes.saturating_mul(1000) / l).min(1000),
        _ => 0,
    };
    let status = match view.status {
        StorageLimitStatus::BelowLimit => "below the warning limit",
        StorageLimitStatus::IssueWarning => "past the warning limit",
        StorageLimitStatus::ProhibitSend => "sending is blocked",
        StorageLimitStatus::MailboxDisabled => "full: new mail is refused",
    };
    let errors = Errors(problem);
    let http_status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    let (back, back_label, active) = if shared {
        ("/admin/shared-mailboxes", "Shared mailboxes", "shared")
    } else {
        ("/admin/users", "Active users", "users")
    };
    let forwarding_summary = match &view.forwarding {
        Some(to) if s.deliver_to_mailbox_and_forward => format!("Forwarding to {to}, keeping a copy"),
        Some(to) => format!("Forwarding to {to}"),
        None => "Off".to_string(),
    };
    let sent_items_summary = match (s.message_copy_for_sent_as, s.message_copy_for_send_on_behalf) {
        (true, true) => "Copied for Send As and Send on Behalf",
        (true, false) => "Copied for Send As",
        (false, true) => "Copied for Send on Behalf",
        (false, false) => "Not copied",
    };
    let auto_reply_state = match view.auto_reply.state {
        mailroom_core::directory::AutoReplyState::Disabled => "Off",
        mailroom_core::directory::AutoReplyState::Enabled => "On",
        mailroom_core::directory::AutoReplyState::Scheduled => "Scheduled",
    };
    let (copy_send_as, copy_on_behalf, keep_copy) = (
        values.get("send_as") == "on",
        values.get("send_on_behalf") == "on",
        values.get("keep_copy") == "on",
    );
    let detail = DetailPage {
        chrome: page.chrome(active),
        back,
        back_label,
        kind_label: if shared { "Shared mailbox" } else { "User" },
        shared,
        blocked: view.account.as_ref().is_some_and(|a| a.sign_in_blocked),
        notice,
        errors,
        open,
        added,
        values,
        people: lists::people_options(page).await,
        global_admin: roles.contains(&"global-admin"),
        exchange_admin: roles.contains(&"exchange-admin"),
        roles,
        sent_items_summary,
        copy_send_as,
        copy_on_behalf,
        forwarding_summary,
        keep_copy,
        auto_reply_state,
        usage_text: short_size(view.usage.bytes),
        usage_permille,
        limit_text: short_quota(limit),
        status,
        members: view.members,
        send_on_behalf: view.send_on_behalf,
        member_base: format!("/admin/mailboxes/{}", view.recipient.id.0),
        r: view.recipient,
    };
    html(http_status, &detail)
}

/// The form values the stored settings give.
fn current_values(view: &MailboxView) -> Values {
    let mut values = Values::default();
    let s = &view.settings;
    let a = &view.auto_reply;
    values.set("forward_to", view.forwarding.as_ref().map(|f| f.to_string()).unwrap_or_default());
    let on = |b: bool| if b { "on" } else { "" };
    // Keeping a copy is the suggested choice when forwarding is turned on.
    values.set("keep_copy", on(s.deliver_to_mailbox_and_forward || view.forwarding.is_none()));
    values.set("send_as", on(s.message_copy_for_sent_as));
    values.set("send_on_behalf", on(s.message_copy_for_send_on_behalf));
    values.set("state", a.state.as_str());
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
    };
    values.set("start", time(a.start_time));
    values.set("end", time(a.end_time));
    values.set("internal", a.internal_message.clone());
    values.set("external", a.external_message.clone());
    values.set("audience", a.external_audience.as_str());
    values.set("issue_warning", exact_quota(s.quota.issue_warning));
    values.set("prohibit_send", exact_quota(s.quota.prohibit_send));
    values.set("prohibit_send_receive", exact_quota(s.quota.prohibit_send_receive));
    values
}

fn section_fields(section: &str) -> &'static [&'static str] {
    match section {
        "members" => &["member"],
        "forwarding" => &["forward_to", "keep_copy"],
        "sent-items" => &["send_as", "send_on_behalf"],
        "send-on-behalf" => &["holder_new"],
        "auto-reply" => &["state", "start", "end", "internal", "external", "audience"],
        "quota" => &["issue_warning", "prohibit_send", "prohibit_send_receive"],
        "addresses" => &["add"],
        _ => &[],
    }
}

fn open_section(asked: &str) -> &'static str {
    const SECTIONS: [&str; 10] = [
        "members",
        "account",
        "sent-items",
        "forwarding",
        "auto-reply",
        "quota",
        "addresses",
        "send-on-behalf",
        "convert",
        "delete",
    ];
    SECTIONS.into_iter().find(|s| *s == asked).unwrap_or("")
}

/// A quota as a form shows it: short when that is exact (`49.5 GB`), else
/// Exchange's form with the byte count, so saving the form unchanged
/// changes nothing.
fn exact_quota(q: Quota) -> String {
    let short = short_quota(q);
    if Quota::parse(&short) == Ok(q) { short } else { format_quota(q) }
}

fn short_quota(q: Quota) -> String {
    match q {
        Quota::Unlimited => "Unlimited".to_string(),
        Quota::Bytes(b) => short_size(b),
    }
}

/// `49.5 GB`, without Exchange's byte count.
fn short_size(bytes: u64) -> String {
    let full = format_size(bytes);
    full.split(" (").next().unwrap_or(&full).to_string()
}
