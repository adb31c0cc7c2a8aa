//! `/api/v1/domains`: accepted domains.

use http::Method;
use serde_json::{Value, json};

use super::json::{boolean, required};
use super::{Call, Reply, created, not_allowed, ok};
use crate::ops::Ctx;
use crate::problem::Problem;

pub(crate) async fn handle(ctx: &Ctx<'_>, call: &Call<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (segments.as_slice(), call.method) {
        (["domains"], &Method::GET) => ok(list(ctx).await?),
        (["domains"], &Method::POST) => {
            let body = call.body()?;
            ctx.add_domain(&required(&body, "domain")?, boolean(&body, "default", false)?).await?;
            created(list(ctx).await?)
        }
        (["domains"], _) => Err(not_allowed("GET or POST")),
        (["domains", "default"], &Method::PUT) => {
            ctx.set_default_domain(&required(&call.body()?, "domain")?).await?;
            ok(list(ctx).await?)
        }
        (["domains", "default"], _) => Err(not_allowed("PUT")),
        _ => Err(Problem::not_found()),
    }
}

async fn list(ctx: &Ctx<'_>) -> Result<Value, Problem> {
    Ok(Value::Array(
        ctx.domains()
            .await?
            .iter()
            .map(|d| json!({ "domain": d.name.as_str(), "default": d.is_default }))
            .collect(),
    ))
}
