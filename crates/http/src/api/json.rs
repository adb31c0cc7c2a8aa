//! JSON in and out: reading typed fields from a request body (a wrong type
//! is a `422` naming the field), and the objects the API returns. Property
//! names are snake_case versions of the cmdlets' (`primary_smtp_address`
//! for `PrimarySmtpAddress`).

use mailroom_core::directory::{Quota, Recipient, format_quota};
use mailroom_core::store::QueueEntry;
use serde_json::{Map, Value, json};

use crate::ops::{MailboxView, OpResult};
use crate::problem::Problem;

pub(crate) type Object = Map<String, Value>;

/// A string field; absent is empty.
pub(crate) fn text(body: &Object, field: &'static str) -> OpResult<String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Problem::field(field, format!("\"{field}\" must be a string."))),
    }
}

/// A string field that must be there.
pub(crate) fn required(body: &Object, field: &'static str) -> OpResult<String> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(Problem::field(field, format!("\"{field}\" is required.")))
        }
        Some(_) => Err(Problem::field(field, format!("\"{field}\" must be a string."))),
    }
}

/// A boolean field; absent is `default`.
pub(crate) fn boolean(body: &Object, field: &'static str, default: bool) -> OpResult<bool> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Problem::field(field, format!("\"{field}\" must be true or false."))),
    }
}

/// A list of strings; absent is empty.
pub(crate) fn strings(body: &Object, field: &'static str) -> OpResult<Vec<String>> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Problem::field(field, format!("\"{field}\" must be a list of strings.")))
            })
            .collect(),
        Some(_) => Err(Problem::field(field, format!("\"{field}\" must be a list of strings."))),
    }
}

pub(crate) fn recipient(r: &Recipient) -> Value {
    json!({
        "id": r.id.0,
        "type": r.kind.exchange_name(),
        "name": r.name,
        "display_name": r.display_name,
        "alias": r.alias,
        "primary_smtp_address": r.primary_address.to_string(),
        "email_addresses": r.addresses().map(|a| a.to_string()).collect::<Vec<_>>(),
    })
}

fn quota(q: Quota) -> Value {
    match q {
        Quota::Unlimited => json!({ "text": "Unlimited", "bytes": null }),
        Quota::Bytes(b) => json!({ "text": format_quota(q), "bytes": b }),
    }
}

fn names(list: &[Recipient]) -> Value {
    Value::Array(list.iter().map(|r| Value::from(r.primary_address.to_string())).collect())
}

pub(crate) fn mailbox(view: &MailboxView) -> Value {
    let mut value = recipient(&view.recipient);
    let s = &view.settings;
    let a = &view.auto_reply;
    let extra = json!({
        "sign_in_blocked": view.account.as_ref().is_some_and(|a| a.sign_in_blocked),
        "roles": view.account.as_ref().map(|a| a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()).unwrap_or_default(),
        "members": names(&view.members),
        "send_as": names(&view.send_as),
        "send_on_behalf": names(&view.send_on_behalf),
        "message_copy_for_sent_as": s.message_copy_for_sent_as,
        "message_copy_for_send_on_behalf": s.message_copy_for_send_on_behalf,
        "forwarding_address": view.forwarding.as_ref().map(|f| f.to_string()),
        "deliver_to_mailbox_and_forward": s.deliver_to_mailbox_and_forward,
        "issue_warning_quota": quota(s.quota.issue_warning),
        "prohibit_send_quota": quota(s.quota.prohibit_send),
        "prohibit_send_receive_quota": quota(s.quota.prohibit_send_receive),
        "total_item_size": view.usage.bytes,
        "item_count": view.usage.messages,
        "storage_limit_status": view.status.as_str(),
        "auto_reply": auto_reply(a),
    });
    if let (Value::Object(target), Value::Object(more)) = (&mut value, extra) {
        target.extend(more);
    }
    value
}

pub(crate) fn auto_reply(a: &mailroom_core::directory::AutoReplyConfig) -> Value {
    json!({
        "state": a.state.as_str(),
        "start_time": a.start_time.map(|t| t.to_rfc3339()),
        "end_time": a.end_time.map(|t| t.to_rfc3339()),
        "internal_message": a.internal_message,
        "external_message": a.external_message,
        "external_audience": a.external_audience.as_str(),
    })
}

pub(crate) fn queue_entry(e: &QueueEntry) -> Value {
    json!({
        "id": e.id,
        "from": e.envelope_from.as_ref().map(|a| a.to_string()),
        "recipient": e.recipient.to_string(),
        "created": e.created,
        "attempts": e.attempts,
        "next_attempt": e.next_attempt,
        "last_error": e.last_error,
    })
}
