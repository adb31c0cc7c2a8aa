//! `/api/v1/mailboxes`: user and shared mailboxes and every section of
//! their detail pane.

use http::Method;
use mailroom_core::directory::RecipientKind;
use serde_json::Value;

use super::json::{self, boolean, required, strings, text};
use super::{Call, Reply, created, no_content, not_allowed, ok};
use crate::ops::{AutoReplyInput, Ctx, NewMailboxInput};
use crate::problem::Problem;

pub(crate) async fn handle(ctx: &Ctx<'_>, call: &Call<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["mailboxes"] => match *call.method {
            Method::GET => {
                let kinds = match call.query.get("type") {
                    "" => RecipientKind::MAILBOXES.to_vec(),
                    "shared" => vec![RecipientKind::SharedMailbox],
                    "user" => vec![RecipientKind::UserMailbox],
                    _ => return Err(Problem::field("type", "type is shared or user.")),
                };
                let list = ctx.list(&kinds, call.query.get("q")).await?;
                ok(Value::Array(list.iter().map(json::recipient).collect()))
            }
            Method::POST => {
                let body = call.body()?;
                let shared = match text(&body, "type")?.as_str() {
                    "" | "shared" => true,
                    "user" => false,
                    _ => return Err(Problem::field("type", "type is shared or user.")),
                };
                let input = NewMailboxInput {
                    name: required(&body, "name")?,
                    address: text(&body, "address")?,
                    shared,
                    password: text(&body, "password")?,
                    roles: strings(&body, "roles")?,
                };
                let recipient = ctx.create_mailbox(input).await?;
                created(json::mailbox(&ctx.mailbox(recipient.id).await?))
            }
            _ => Err(not_allowed("GET or POST")),
        },
        ["mailboxes", identity, rest @ ..] => {
            let id = ctx.resolve(identity, &RecipientKind::MAILBOXES).await?.id;
            section(ctx, call, id, rest).await
        }
        _ => Err(Problem::not_found()),
    }
}

async fn section(ctx: &Ctx<'_>, call: &Call<'_>, id: mailroom_types::PrincipalId, rest: &[&str]) -> Reply {
    let method = call.method;
    match (rest, method) {
        ([], &Method::GET) => ok(json::mailbox(&ctx.mailbox(id).await?)),
        ([], &Method::DELETE) => {
            ctx.remove(id, &RecipientKind::MAILBOXES).await?;
            no_content()
        }
        ([], _) => Err(not_allowed("GET or DELETE")),
        (["members"], &Method::GET) => {
            let view = ctx.mailbox(id).await?;
            ok(Value::Array(view.members.iter().map(json::recipient).collect()))
        }
        (["members"], &Method::POST) => {
            let member = ctx.add_member(id, &required(&call.body()?, "member")?).await?;
            created(json::recipient(&member))
        }
        (["members", member], &Method::DELETE) => {
            ctx.remove_member(id, member).await?;
            no_content()
        }
        (["sent-items"], &Method::PUT) => {
            let body = call.body()?;
            ctx.set_sent_items(
                id,
                boolean(&body, "message_copy_for_sent_as", false)?,
                boolean(&body, "message_copy_for_send_on_behalf", false)?,
            )
            .await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["forwarding"], &Method::PUT) => {
            let body = call.body()?;
            ctx.set_forwarding(id, &text(&body, "address")?, boolean(&body, "keep_copy", false)?).await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["auto-reply"], &Method::GET) => ok(json::auto_reply(&ctx.mailbox(id).await?.auto_reply)),
        (["auto-reply"], &Method::PUT) => {
            let body = call.body()?;
            let input = AutoReplyInput {
                state: required(&body, "state")?,
                start: text(&body, "start_time")?,
                end: text(&body, "end_time")?,
                internal: text(&body, "internal_message")?,
                external: text(&body, "external_message")?,
                audience: text(&body, "external_audience")?,
            };
            ok(json::auto_reply(&ctx.set_auto_reply(id, input).await?))
        }
        (["quota"], &Method::PUT) => {
            let body = call.body()?;
            ctx.set_quota(
                id,
                &required(&body, "issue_warning_quota")?,
                &required(&body, "prohibit_send_quota")?,
                &required(&body, "prohibit_send_receive_quota")?,
            )
            .await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["addresses"], &Method::POST) => {
            let body = call.body()?;
            ctx.set_addresses(id, &text(&body, "primary")?, &text(&body, "add")?, &text(&body, "remove")?)
                .await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["send-on-behalf"], &Method::PUT) => {
            ctx.set_send_on_behalf(id, &strings(&call.body()?, "holders")?).await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["convert"], &Method::POST) => {
            let body = call.body()?;
            let to_shared = match required(&body, "to")?.as_str() {
                "shared" => true,
                "user" => false,
                _ => return Err(Problem::field("to", "to is shared or user.")),
            };
            let recipient = ctx.convert(id, to_shared, &text(&body, "password")?).await?;
            ok(json::mailbox(&ctx.mailbox(recipient.id).await?))
        }
        (["password"], &Method::PUT) => {
            ctx.reset_password(id, &required(&call.body()?, "password")?).await?;
            no_content()
        }
        (["sign-in"], &Method::PUT) => {
            let body = call.body()?;
            if !body.contains_key("blocked") {
                return Err(Problem::field("blocked", "\"blocked\" is required."));
            }
            ctx.set_sign_in_blocked(id, boolean(&body, "blocked", true)?).await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        (["roles"], &Method::PUT) => {
            ctx.set_roles(id, &strings(&call.body()?, "roles")?).await?;
            ok(json::mailbox(&ctx.mailbox(id).await?))
        }
        ([section], _) if SECTIONS.contains(section) => Err(not_allowed(allowed(section))),
        _ => Err(Problem::not_found()),
    }
}

const SECTIONS: &[&str] = &[
    "members",
    "sent-items",
    "forwarding",
    "auto-reply",
    "quota",
    "addresses",
    "send-on-behalf",
    "convert",
    "password",
    "sign-in",
    "roles",
];

fn allowed(section: &str) -> &'static str {
    match section {
        "members" => "GET or POST",
        "auto-reply" => "GET or PUT",
        "addresses" | "convert" => "POST",
        _ => "PUT",
    }
}
