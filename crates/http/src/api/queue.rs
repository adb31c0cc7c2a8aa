//! `/api/v1/queue`: what `Get-Queue` shows; retry and delete.

use http::Method;
use serde_json::Value;

use super::json;
use super::{Call, Reply, no_content, not_allowed, ok};
use crate::ops::Ctx;
use crate::problem::Problem;

pub(crate) async fn handle(ctx: &Ctx<'_>, call: &Call<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let entry = |text: &str| {
        text.parse::<i64>()
            .map_err(|_| Problem::new(http::StatusCode::NOT_FOUND, "There is no such queue entry."))
    };
    match (segments.as_slice(), call.method) {
        (["queue"], &Method::GET) => {
            ok(Value::Array(ctx.queue().await?.iter().map(json::queue_entry).collect()))
        }
        (["queue"], _) => Err(not_allowed("GET")),
        (["queue", id], &Method::DELETE) => {
            ctx.delete_queued(entry(id)?).await?;
            no_content()
        }
        (["queue", id, "retry"], &Method::POST) => {
            ctx.retry_queued(entry(id)?).await?;
            no_content()
        }
        (["queue", _], _) => Err(not_allowed("DELETE")),
        (["queue", _, "retry"], _) => Err(not_allowed("POST")),
        _ => Err(Problem::not_found()),
    }
}
