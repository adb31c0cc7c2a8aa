//! `/api/v1/groups`: security groups and distribution lists.

use http::Method;
use mailroom_core::directory::RecipientKind;
use serde_json::Value;

use super::json::{self, required, text};
use super::{Call, Reply, created, no_content, not_allowed, ok};
use crate::ops::Ctx;
use crate::problem::Problem;

pub(crate) async fn handle(ctx: &Ctx<'_>, call: &Call<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (segments.as_slice(), call.method) {
        (["groups"], &Method::GET) => {
            let list = ctx.list(&RecipientKind::GROUPS, call.query.get("q")).await?;
            ok(Value::Array(list.iter().map(json::recipient).collect()))
        }
        (["groups"], &Method::POST) => {
            let body = call.body()?;
            let security = match text(&body, "type")?.as_str() {
                "" | "security" => true,
                "distribution" => false,
                _ => return Err(Problem::field("type", "type is security or distribution.")),
            };
            let group =
                ctx.create_group(&required(&body, "name")?, &text(&body, "address")?, security).await?;
            created(group_json(ctx, group.id).await?)
        }
        (["groups"], _) => Err(not_allowed("GET or POST")),
        (["groups", identity, rest @ ..], method) => {
            let id = ctx.resolve(identity, &RecipientKind::GROUPS).await?.id;
            match (rest, method) {
                ([], &Method::GET) => ok(group_json(ctx, id).await?),
                ([], &Method::DELETE) => {
                    ctx.remove(id, &RecipientKind::GROUPS).await?;
                    no_content()
                }
                ([], _) => Err(not_allowed("GET or DELETE")),
                (["members"], &Method::POST) => {
                    let member = ctx.add_group_member(id, &required(&call.body()?, "member")?).await?;
                    created(json::recipient(&member))
                }
                (["members"], _) => Err(not_allowed("POST")),
                (["members", member], &Method::DELETE) => {
                    ctx.remove_group_member(id, member).await?;
                    no_content()
                }
                _ => Err(Problem::not_found()),
            }
        }
        _ => Err(Problem::not_found()),
    }
}

async fn group_json(ctx: &Ctx<'_>, id: mailroom_types::PrincipalId) -> Result<Value, Problem> {
    let group = ctx.recipient(id, &RecipientKind::GROUPS).await?;
    let members = ctx.group_members(id).await?;
    let mut value = json::recipient(&group);
    value["members"] =
        Value::Array(members.iter().map(|m| Value::from(m.primary_address.to_string())).collect());
    Ok(value)
}
