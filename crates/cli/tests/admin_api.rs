//! The admin API (`/api/v1`, JSON) against a real `mailroom serve`: every
//! operation once on its happy path — mailboxes (create, list with `type`
//! and `q`, get, members, sent items, forwarding, automatic replies, quota,
//! addresses, send on behalf, conversion, password, sign-in, roles, delete),
//! groups, accepted domains and the outbound queue — each checked in the
//! API's answer and again through `mailroom exo`, the way an admin reads
//! state back. Then the refusals: each is `application/problem+json` whose
//! `detail` is the CLI's message word for word (missing, wrong and revoked
//! tokens, an address in use, quotas out of order, an unknown identity, a
//! body that isn't JSON, a field of the wrong type, a wrong method, a body
//! declared too large, a non-admin's session, a session change without its
//! CSRF token), and a refusal's `field` naming the request's own JSON
//! property; `mailroom token list` showing a token's last use; and
//! schemathesis fuzzing the whole API from `/api/openapi.json`, which must
//! find no server error.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use mailroom_testkit::{Cli, HttpReply, LineClient, Server, http, python};
use serde_json::{Value, json};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
"#;

const PROBLEM: &str = "application/problem+json";

/// contoso.com with the organisation above, an API token, served.
fn served() -> (Cli, Server, String) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let token = create_token(&cli, "provisioning");
    let server = cli.serve(&[]);
    (cli, server, token)
}

/// `mailroom --json token create --name NAME`: the secret, shown once.
fn create_token(cli: &Cli, name: &str) -> String {
    let created = cli.run(&["--json", "token", "create", "--name", name]).ok().json_array();
    let secret = created[0]["Secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("mrt_"), "{created:?}");
    secret
}

/// One API request with the token; `body` is sent as JSON.
fn api(server: &Server, token: &str, method: &str, path: &str, body: Option<Value>) -> HttpReply {
    let bearer = format!("Bearer {token}");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    http(
        server.http(),
        method,
        path,
        None,
        &[("Authorization", &bearer), ("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// Expects `status` with a JSON body (none for 204) and returns it.
#[track_caller]
fn expect(reply: HttpReply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{reply:?}");
    if status == 204 {
        assert_eq!(reply.body, "", "a 204 has no body: {reply:?}");
        return Value::Null;
    }
    assert_eq!(reply.header("content-type"), Some("application/json"), "{reply:?}");
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {reply:?}"))
}

/// Expects an RFC 9457 problem with `status` and exactly `detail`; returns it.
#[track_caller]
fn problem(reply: &HttpReply, status: u16, detail: &str) -> Value {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some(PROBLEM), "{reply:?}");
    let body: Value =
        serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {reply:?}"));
    assert_eq!(body["detail"], detail, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["type"], "about:blank", "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    body
}

/// The names in a list of recipients, sorted.
fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    names.sort_by_key(|n| n.to_lowercase());
    names
}

/// `Get-Mailbox IDENTITY` through the CLI.
fn get_mailbox(cli: &Cli, identity: &str) -> Value {
    let found = cli.exo_json(&format!("Get-Mailbox {identity}"));
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// A cmdlet that must fail; its standard error (which holds the CLI's message).
fn exo_fails(cli: &Cli, pipeline: &str) -> String {
    let run = cli.run(&["exo", pipeline]);
    assert_ne!(run.code, 0, "{pipeline} should fail: {run:?}");
    run.stderr
}

#[test]
fn mailboxes_are_created_listed_read_and_removed() {
    let (cli, server, token) = served();

    let sales = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes",
            Some(json!({ "type": "shared", "name": "Sales", "address": "sales@contoso.com" })),
        ),
        201,
    );
    assert_eq!(sales["type"], "SharedMailbox");
    assert_eq!(sales["name"], "Sales");
    assert_eq!(sales["primary_smtp_address"], "sales@contoso.com");
    assert_eq!(sales["email_addresses"], json!(["sales@contoso.com"]));
    assert_eq!(sales["sign_in_blocked"], true, "a shared mailbox can't sign in");
    assert_eq!(
        sales["issue_warning_quota"],
        json!({ "text": "49 GB (52,613,349,376 bytes)", "bytes": 52_613_349_376u64 })
    );
    assert_eq!(sales["auto_reply"]["state"], "Disabled");

    let carol = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes",
            Some(json!({
                "type": "user",
                "name": "Carol",
                "address": "carol@contoso.com",
                "password": "Carol-pass-123",
                "roles": ["exchange-admin"],
            })),
        ),
        201,
    );
    assert_eq!(carol["type"], "UserMailbox");
    assert_eq!(carol["sign_in_blocked"], false);
    assert_eq!(carol["roles"], json!(["exchange-admin"]));

    // The CLI sees both, as Exchange would show them.
    let shown = get_mailbox(&cli, "sales@contoso.com");
    assert_eq!(shown["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(shown["AccountDisabled"], true);
    let shown = get_mailbox(&cli, "carol");
    assert_eq!(shown["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(shown["PrimarySmtpAddress"], "carol@contoso.com");
    let user = cli.run(&["--json", "user", "show", "carol"]).ok().json_array();
    assert_eq!(user[0]["Roles"], json!(["exchange-admin"]));

    // Lists: both kinds, one kind, and a search (name, display name or address, any case).
    let all = expect(api(&server, &token, "GET", "/api/v1/mailboxes", None), 200);
    assert_eq!(names(&all), ["admin", "Alice", "Bob", "Carol", "Info", "Sales"]);
    let shared = expect(api(&server, &token, "GET", "/api/v1/mailboxes?type=shared", None), 200);
    assert_eq!(names(&shared), ["Info", "Sales"]);
    assert!(shared.as_array().unwrap().iter().all(|r| r["type"] == "SharedMailbox"), "{shared}");
    let users = expect(api(&server, &token, "GET", "/api/v1/mailboxes?type=user", None), 200);
    assert_eq!(names(&users), ["admin", "Alice", "Bob", "Carol"]);
    let found = expect(api(&server, &token, "GET", "/api/v1/mailboxes?q=SALES%40", None), 200);
    assert_eq!(names(&found), ["Sales"]);
    let found = expect(api(&server, &token, "GET", "/api/v1/mailboxes?type=shared&q=carol", None), 200);
    assert_eq!(names(&found), Vec::<String>::new());
    let exo_shared = cli.exo_json("Get-Mailbox -RecipientTypeDetails SharedMailbox");
    let mut exo_names: Vec<&str> = exo_shared.iter().map(|m| m["Name"].as_str().unwrap()).collect();
    exo_names.sort_unstable();
    assert_eq!(exo_names, ["Info", "Sales"]);

    // One mailbox, by name, alias or address.
    let got = expect(api(&server, &token, "GET", "/api/v1/mailboxes/carol@contoso.com", None), 200);
    assert_eq!(got["id"], carol["id"]);
    assert_eq!(got["name"], "Carol");
    assert_eq!(got["members"], json!([]));
    assert_eq!(got["storage_limit_status"], "BelowLimit");
    assert_eq!(got["item_count"], 0);

    // Removal.
    expect(api(&server, &token, "DELETE", "/api/v1/mailboxes/Sales", None), 204);
    problem(
        &api(&server, &token, "GET", "/api/v1/mailboxes/Sales", None),
        404,
        "The operation couldn't be performed because object 'Sales' couldn't be found.",
    );
    let stderr = exo_fails(&cli, "Get-Mailbox sales@contoso.com");
    assert!(stderr.contains("couldn't be found"), "{stderr}");
}

#[test]
fn members_are_added_listed_and_removed() {
    let (cli, server, token) = served();

    let added = expect(
        api(&server, &token, "POST", "/api/v1/mailboxes/info/members", Some(json!({ "member": "alice" }))),
        201,
    );
    assert_eq!(added["name"], "Alice");
    assert_eq!(added["primary_smtp_address"], "alice@contoso.com");
    let members = expect(api(&server, &token, "GET", "/api/v1/mailboxes/info/members", None), 200);
    assert_eq!(names(&members), ["Alice"]);
    // As the admin center adds members: Full Access (automapped) and Send As.
    let info = expect(api(&server, &token, "GET", "/api/v1/mailboxes/info", None), 200);
    assert_eq!(info["members"], json!(["alice@contoso.com"]));
    assert_eq!(info["send_as"], json!(["alice@contoso.com"]));

    let grants = cli.exo_json("Get-MailboxPermission info");
    let alice: Vec<&Value> = grants.iter().filter(|g| g["User"] == "alice@contoso.com").collect();
    assert_eq!(alice.len(), 1, "{grants:?}");
    assert_eq!(alice[0]["AccessRights"], json!(["FullAccess"]));
    assert_eq!(alice[0]["AutoMapping"], true);
    let send_as = cli.exo_json("Get-RecipientPermission info");
    assert!(send_as.iter().any(|g| g["Trustee"] == "alice@contoso.com"), "{send_as:?}");

    expect(api(&server, &token, "DELETE", "/api/v1/mailboxes/info/members/alice@contoso.com", None), 204);
    let members = expect(api(&server, &token, "GET", "/api/v1/mailboxes/info/members", None), 200);
    assert_eq!(members, json!([]));
    let grants = cli.exo_json("Get-MailboxPermission info");
    assert!(grants.iter().all(|g| g["User"] != "alice@contoso.com"), "{grants:?}");
    let send_as = cli.exo_json("Get-RecipientPermission info");
    assert!(send_as.iter().all(|g| g["Trustee"] != "alice@contoso.com"), "{send_as:?}");
}

#[test]
fn sent_items_forwarding_and_send_on_behalf() {
    let (cli, server, token) = served();

    let info = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/sent-items",
            Some(json!({ "message_copy_for_sent_as": true, "message_copy_for_send_on_behalf": true })),
        ),
        200,
    );
    assert_eq!(info["message_copy_for_sent_as"], true);
    assert_eq!(info["message_copy_for_send_on_behalf"], true);
    let shown = get_mailbox(&cli, "info");
    assert_eq!(shown["MessageCopyForSentAsEnabled"], true);
    assert_eq!(shown["MessageCopyForSendOnBehalfEnabled"], true);

    // An address of the organisation is kept as the recipient...
    let info = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/forwarding",
            Some(json!({ "address": "bob@contoso.com", "keep_copy": false })),
        ),
        200,
    );
    assert_eq!(info["forwarding_address"], "bob@contoso.com");
    assert_eq!(info["deliver_to_mailbox_and_forward"], false);
    let shown = get_mailbox(&cli, "info");
    assert_eq!(shown["ForwardingAddress"], "Bob");
    assert_eq!(shown["ForwardingSmtpAddress"], Value::Null);
    assert_eq!(shown["DeliverToMailboxAndForward"], false);

    // ...any other as an SMTP address.
    let info = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/forwarding",
            Some(json!({ "address": "partner@fabrikam.example", "keep_copy": true })),
        ),
        200,
    );
    assert_eq!(info["forwarding_address"], "partner@fabrikam.example");
    assert_eq!(info["deliver_to_mailbox_and_forward"], true);
    let shown = get_mailbox(&cli, "info");
    assert_eq!(shown["ForwardingAddress"], Value::Null);
    assert_eq!(shown["ForwardingSmtpAddress"], "smtp:partner@fabrikam.example");
    assert_eq!(shown["DeliverToMailboxAndForward"], true);

    let info = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/send-on-behalf",
            Some(json!({ "holders": ["bob", "alice@contoso.com"] })),
        ),
        200,
    );
    assert_eq!(info["send_on_behalf"], json!(["alice@contoso.com", "bob@contoso.com"]));
    let shown = get_mailbox(&cli, "info");
    let mut holders: Vec<&str> =
        shown["GrantSendOnBehalfTo"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    holders.sort_unstable();
    assert_eq!(holders, ["Alice", "Bob"]);
}

#[test]
fn automatic_replies_enabled_and_scheduled() {
    let (cli, server, token) = served();

    let set = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/auto-reply",
            Some(json!({
                "state": "Enabled",
                "internal_message": "We answer on Monday.",
                "external_message": "Thanks, we answer on Monday.",
                "external_audience": "Known",
            })),
        ),
        200,
    );
    let expected = json!({
        "state": "Enabled",
        "start_time": null,
        "end_time": null,
        "internal_message": "We answer on Monday.",
        "external_message": "Thanks, we answer on Monday.",
        "external_audience": "Known",
    });
    assert_eq!(set, expected);
    assert_eq!(expect(api(&server, &token, "GET", "/api/v1/mailboxes/info/auto-reply", None), 200), expected);
    let shown = cli.exo_json("Get-MailboxAutoReplyConfiguration info");
    assert_eq!(shown[0]["AutoReplyState"], "Enabled");
    assert_eq!(shown[0]["InternalMessage"], "We answer on Monday.");
    assert_eq!(shown[0]["ExternalMessage"], "Thanks, we answer on Monday.");
    assert_eq!(shown[0]["ExternalAudience"], "Known");

    // Scheduled: a form's local time (taken as UTC) and RFC 3339 both do.
    let set = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/auto-reply",
            Some(json!({
                "state": "Scheduled",
                "start_time": "2030-12-24T09:00",
                "end_time": "2030-12-31T18:30:00+01:00",
                "internal_message": "Closed for the holidays.",
            })),
        ),
        200,
    );
    assert_eq!(set["state"], "Scheduled");
    assert_eq!(set["start_time"], "2030-12-24T09:00:00+00:00");
    assert_eq!(set["end_time"], "2030-12-31T17:30:00+00:00");
    assert_eq!(set["external_message"], "", "every field is set: an absent message is empty");
    let info = expect(api(&server, &token, "GET", "/api/v1/mailboxes/info", None), 200);
    assert_eq!(info["auto_reply"], set);
    let shown = cli.exo_json("Get-MailboxAutoReplyConfiguration info");
    assert_eq!(shown[0]["AutoReplyState"], "Scheduled");
    assert_eq!(shown[0]["StartTime"], "2030-12-24T09:00:00Z");
    assert_eq!(shown[0]["EndTime"], "2030-12-31T17:30:00Z");
    assert_eq!(shown[0]["InternalMessage"], "Closed for the holidays.");
}

#[test]
fn quota_and_email_addresses() {
    let (cli, server, token) = served();

    let info = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/quota",
            Some(json!({
                "issue_warning_quota": "1GB",
                "prohibit_send_quota": "1.5 GB",
                "prohibit_send_receive_quota": "Unlimited",
            })),
        ),
        200,
    );
    assert_eq!(
        info["issue_warning_quota"],
        json!({ "text": "1 GB (1,073,741,824 bytes)", "bytes": 1_073_741_824u64 })
    );
    assert_eq!(
        info["prohibit_send_quota"],
        json!({ "text": "1.5 GB (1,610,612,736 bytes)", "bytes": 1_610_612_736u64 })
    );
    assert_eq!(info["prohibit_send_receive_quota"], json!({ "text": "Unlimited", "bytes": null }));
    let shown = get_mailbox(&cli, "info");
    assert_eq!(shown["IssueWarningQuota"], "1 GB (1,073,741,824 bytes)");
    assert_eq!(shown["ProhibitSendQuota"], "1.5 GB (1,610,612,736 bytes)");
    assert_eq!(shown["ProhibitSendReceiveQuota"], "Unlimited");

    // An alias address...
    let info = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes/info/addresses",
            Some(json!({ "add": "hello@contoso.com" })),
        ),
        200,
    );
    assert_eq!(info["primary_smtp_address"], "info@contoso.com");
    assert_eq!(info["email_addresses"], json!(["info@contoso.com", "hello@contoso.com"]));
    assert_eq!(
        get_mailbox(&cli, "info")["EmailAddresses"],
        json!(["SMTP:info@contoso.com", "smtp:hello@contoso.com"])
    );
    // ...made primary, the old primary kept as an alias...
    let info = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes/info/addresses",
            Some(json!({ "primary": "hello@contoso.com" })),
        ),
        200,
    );
    assert_eq!(info["primary_smtp_address"], "hello@contoso.com");
    let shown = get_mailbox(&cli, "hello@contoso.com");
    assert_eq!(shown["PrimarySmtpAddress"], "hello@contoso.com");
    assert_eq!(shown["EmailAddresses"], json!(["SMTP:hello@contoso.com", "smtp:info@contoso.com"]));
    // ...and the old one removed.
    let info = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes/info/addresses",
            Some(json!({ "remove": "info@contoso.com" })),
        ),
        200,
    );
    assert_eq!(info["email_addresses"], json!(["hello@contoso.com"]));
    assert_eq!(get_mailbox(&cli, "info")["EmailAddresses"], json!(["SMTP:hello@contoso.com"]));
}

/// Whether IMAP accepts `login` / `password`.
fn imap_accepts(server: &Server, login: &str, password: &str) -> bool {
    let mut c = LineClient::connect(server.imap());
    assert!(c.line().unwrap().starts_with("* OK"));
    let done = c.imap("a", &format!("LOGIN {login} {password}"));
    done.last().unwrap().starts_with("a OK")
}

#[test]
fn conversion_password_sign_in_and_roles() {
    let (cli, server, token) = served();

    let info = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes/info/convert",
            Some(json!({ "to": "user", "password": "Info-pass-123" })),
        ),
        200,
    );
    assert_eq!(info["type"], "UserMailbox");
    assert_eq!(get_mailbox(&cli, "info")["RecipientTypeDetails"], "UserMailbox");
    assert!(imap_accepts(&server, "info@contoso.com", "Info-pass-123"));
    let info = expect(
        api(&server, &token, "POST", "/api/v1/mailboxes/info/convert", Some(json!({ "to": "shared" }))),
        200,
    );
    assert_eq!(info["type"], "SharedMailbox");
    assert_eq!(info["sign_in_blocked"], true);
    assert_eq!(get_mailbox(&cli, "info")["RecipientTypeDetails"], "SharedMailbox");

    expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/bob/password",
            Some(json!({ "password": "Bob-new-pass-456" })),
        ),
        204,
    );
    assert!(imap_accepts(&server, "bob@contoso.com", "Bob-new-pass-456"));
    assert!(!imap_accepts(&server, "bob@contoso.com", "Bob-pass-123"));

    let bob = expect(
        api(&server, &token, "PUT", "/api/v1/mailboxes/bob/sign-in", Some(json!({ "blocked": true }))),
        200,
    );
    assert_eq!(bob["sign_in_blocked"], true);
    assert_eq!(get_mailbox(&cli, "bob")["AccountDisabled"], true);
    let bob = expect(
        api(&server, &token, "PUT", "/api/v1/mailboxes/bob/sign-in", Some(json!({ "blocked": false }))),
        200,
    );
    assert_eq!(bob["sign_in_blocked"], false);
    assert_eq!(get_mailbox(&cli, "bob")["AccountDisabled"], false);

    let bob = expect(
        api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/bob/roles",
            Some(json!({ "roles": ["exchange-admin", "global-admin"] })),
        ),
        200,
    );
    assert_eq!(bob["roles"], json!(["global-admin", "exchange-admin"]));
    let shown = cli.run(&["--json", "user", "show", "bob"]).ok().json_array();
    assert_eq!(shown[0]["Roles"], json!(["global-admin", "exchange-admin"]));
    let bob =
        expect(api(&server, &token, "PUT", "/api/v1/mailboxes/bob/roles", Some(json!({ "roles": [] }))), 200);
    assert_eq!(bob["roles"], json!([]));
    let shown = cli.run(&["--json", "user", "show", "bob"]).ok().json_array();
    assert_eq!(shown[0]["Roles"], json!([]));
}

#[test]
fn groups_are_created_filled_emptied_and_removed() {
    let (cli, server, token) = served();

    let group = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/groups",
            Some(json!({ "type": "distribution", "name": "Sales Team", "address": "salesteam@contoso.com" })),
        ),
        201,
    );
    assert_eq!(group["type"], "MailUniversalDistributionGroup");
    assert_eq!(group["members"], json!([]));
    let shown = cli.exo_json("Get-DistributionGroup salesteam@contoso.com");
    assert_eq!(shown[0]["Name"], "Sales Team");
    assert_eq!(shown[0]["GroupType"], "Universal");
    let got = expect(api(&server, &token, "GET", "/api/v1/groups/Sales%20Team", None), 200);
    assert_eq!(got["primary_smtp_address"], "salesteam@contoso.com");
    let listed = expect(api(&server, &token, "GET", "/api/v1/groups?q=team", None), 200);
    assert_eq!(names(&listed), ["Sales Team"]);

    let member = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/groups/salesteam@contoso.com/members",
            Some(json!({ "member": "alice" })),
        ),
        201,
    );
    assert_eq!(member["primary_smtp_address"], "alice@contoso.com");
    let got = expect(api(&server, &token, "GET", "/api/v1/groups/salesteam@contoso.com", None), 200);
    assert_eq!(got["members"], json!(["alice@contoso.com"]));
    let members = cli.exo_json("Get-DistributionGroupMember salesteam@contoso.com");
    assert_eq!(members.len(), 1, "{members:?}");
    assert_eq!(members[0]["PrimarySmtpAddress"], "alice@contoso.com");

    expect(api(&server, &token, "DELETE", "/api/v1/groups/salesteam@contoso.com/members/alice", None), 204);
    let got = expect(api(&server, &token, "GET", "/api/v1/groups/salesteam@contoso.com", None), 200);
    assert_eq!(got["members"], json!([]));
    assert_eq!(cli.exo_json("Get-DistributionGroupMember salesteam@contoso.com"), Vec::<Value>::new());

    expect(api(&server, &token, "DELETE", "/api/v1/groups/salesteam@contoso.com", None), 204);
    assert_eq!(expect(api(&server, &token, "GET", "/api/v1/groups", None), 200), json!([]));
    let stderr = exo_fails(&cli, "Get-DistributionGroup salesteam@contoso.com");
    assert!(stderr.contains("couldn't be found"), "{stderr}");
}

#[test]
fn domains_are_added_listed_and_made_default() {
    let (cli, server, token) = served();

    let domains = expect(api(&server, &token, "GET", "/api/v1/domains", None), 200);
    assert_eq!(domains, json!([{ "domain": "contoso.com", "default": true }]));
    let domains = expect(
        api(&server, &token, "POST", "/api/v1/domains", Some(json!({ "domain": "fabrikam.com" }))),
        201,
    );
    assert_eq!(
        domains,
        json!([{ "domain": "contoso.com", "default": true }, { "domain": "fabrikam.com", "default": false }])
    );
    let shown = cli.exo_json("Get-AcceptedDomain fabrikam.com");
    assert_eq!(shown[0]["DomainName"], "fabrikam.com");
    assert_eq!(shown[0]["Default"], false);

    let domains = expect(
        api(&server, &token, "PUT", "/api/v1/domains/default", Some(json!({ "domain": "fabrikam.com" }))),
        200,
    );
    assert_eq!(
        domains,
        json!([{ "domain": "contoso.com", "default": false }, { "domain": "fabrikam.com", "default": true }])
    );
    assert_eq!(expect(api(&server, &token, "GET", "/api/v1/domains", None), 200), domains);
    let shown = cli.exo_json("Get-AcceptedDomain");
    let default: Vec<&Value> = shown.iter().filter(|d| d["Default"] == true).collect();
    assert_eq!(default.len(), 1, "{shown:?}");
    assert_eq!(default[0]["DomainName"], "fabrikam.com");
}

#[test]
fn the_queue_lists_and_refuses_missing_entries() {
    let (cli, server, token) = served();

    assert_eq!(expect(api(&server, &token, "GET", "/api/v1/queue", None), 200), json!([]));
    assert_eq!(cli.queue(), Vec::<Value>::new());
    assert_eq!(cli.exo_json("Get-Queue"), Vec::<Value>::new());
    problem(
        &api(&server, &token, "POST", "/api/v1/queue/42/retry", None),
        404,
        "The operation couldn't be performed because object 'queue entry 42' couldn't be found.",
    );
    problem(
        &api(&server, &token, "DELETE", "/api/v1/queue/42", None),
        404,
        "The operation couldn't be performed because object 'queue entry 42' couldn't be found.",
    );
    problem(
        &api(&server, &token, "DELETE", "/api/v1/queue/not-a-number", None),
        404,
        "There is no such queue entry.",
    );
}

const SIGN_IN_WITH_A_TOKEN: &str = "Sign in with an API token (Authorization: Bearer <secret>, from 'mailroom token create --name NAME') or an admin's session.";

#[test]
fn requests_without_a_valid_token_are_refused() {
    let (cli, server, token) = served();

    let anonymous = http(server.http(), "GET", "/api/v1/mailboxes", None, &[], b"");
    problem(&anonymous, 401, SIGN_IN_WITH_A_TOKEN);
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    // Basic credentials are not the API's.
    let basic = http(
        server.http(),
        "GET",
        "/api/v1/mailboxes",
        Some(("admin@contoso.com", "Admin-pass-123")),
        &[],
        b"",
    );
    problem(&basic, 401, SIGN_IN_WITH_A_TOKEN);

    let wrong = format!("mrt_{}", "0".repeat(64));
    let refused = api(&server, &wrong, "GET", "/api/v1/mailboxes", None);
    problem(&refused, 401, SIGN_IN_WITH_A_TOKEN);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    let refused = api(
        &server,
        &token[..token.len() - 1],
        "POST",
        "/api/v1/domains",
        Some(json!({ "domain": "x.com" })),
    );
    problem(&refused, 401, SIGN_IN_WITH_A_TOKEN);

    // A revoked token stops working at once.
    expect(api(&server, &token, "GET", "/api/v1/domains", None), 200);
    cli.run(&["token", "revoke", "provisioning"]).ok();
    problem(&api(&server, &token, "GET", "/api/v1/domains", None), 401, SIGN_IN_WITH_A_TOKEN);
    assert_eq!(cli.exo_json("Get-AcceptedDomain").len(), 1, "nothing was added");

    // The document itself needs no credentials.
    let document = http(server.http(), "GET", "/api/openapi.json", None, &[], b"");
    assert_eq!(expect(document, 200)["openapi"], "3.1.0");
}

#[test]
fn token_list_shows_the_last_use() {
    let (cli, server, token) = served();
    let listed = |cli: &Cli| cli.run(&["--json", "token", "list"]).ok().json_array();

    let before = listed(&cli);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["Name"], "provisioning");
    assert_eq!(before[0]["LastUsed"], "never");

    expect(api(&server, &token, "GET", "/api/v1/mailboxes", None), 200);
    let after = listed(&cli);
    let last_used = after[0]["LastUsed"].as_str().unwrap();
    let created = after[0]["Created"].as_str().unwrap();
    assert_ne!(last_used, "never", "{after:?}");
    // RFC 3339 with the same offset, so the text orders as the time does.
    assert_eq!(last_used.len(), created.len(), "{after:?}");
    assert!(last_used >= created, "{after:?}");
}

#[test]
fn refusals_carry_the_cli_words() {
    let (cli, server, token) = served();

    // An address in use: Exchange's message, about the address.
    let taken = api(
        &server,
        &token,
        "POST",
        "/api/v1/mailboxes",
        Some(json!({ "name": "Helpdesk", "address": "bob@contoso.com" })),
    );
    let in_use = "The proxy address \"SMTP:bob@contoso.com\" is already being used by the proxy addresses of \"Bob\". Choose another proxy address.";
    let body = problem(&taken, 422, in_use);
    assert_eq!(body["field"], "address");
    assert!(
        exo_fails(&cli, "New-Mailbox -Shared -Name Helpdesk -PrimarySmtpAddress bob@contoso.com")
            .contains(in_use)
    );
    let taken = api(
        &server,
        &token,
        "POST",
        "/api/v1/mailboxes/info/addresses",
        Some(json!({ "add": "alice@contoso.com" })),
    );
    let body = problem(
        &taken,
        422,
        "The proxy address \"smtp:alice@contoso.com\" is already being used by the proxy addresses of \"Alice\". Choose another proxy address.",
    );
    assert_eq!(body["field"], "add");

    // Quotas out of order.
    let order = "The value of property \"IssueWarningQuota\" must be less than or equal to that of property \"ProhibitSendQuota\". IssueWarningQuota: 3 GB (3,221,225,472 bytes), ProhibitSendQuota: 2 GB (2,147,483,648 bytes).";
    let refused = api(
        &server,
        &token,
        "PUT",
        "/api/v1/mailboxes/info/quota",
        Some(
            json!({ "issue_warning_quota": "3GB", "prohibit_send_quota": "2GB", "prohibit_send_receive_quota": "4GB" }),
        ),
    );
    let body = problem(&refused, 422, order);
    assert!(body["field"].is_string(), "{body}");
    assert!(
        exo_fails(
            &cli,
            "Set-Mailbox info -IssueWarningQuota 3GB -ProhibitSendQuota 2GB -ProhibitSendReceiveQuota 4GB"
        )
        .contains(order)
    );
    assert_eq!(
        get_mailbox(&cli, "info")["IssueWarningQuota"],
        "49 GB (52,613,349,376 bytes)",
        "nothing changed"
    );

    // An unknown identity.
    let missing = "The operation couldn't be performed because object 'nobody' couldn't be found.";
    problem(&api(&server, &token, "GET", "/api/v1/mailboxes/nobody", None), 404, missing);
    problem(
        &api(&server, &token, "PUT", "/api/v1/mailboxes/nobody/sign-in", Some(json!({ "blocked": true }))),
        404,
        missing,
    );
    problem(&api(&server, &token, "GET", "/api/v1/groups/nobody", None), 404, missing);
    assert!(exo_fails(&cli, "Get-Mailbox nobody").contains(missing));
    // A group isn't a mailbox.
    cli.exo("New-DistributionGroup -Name Staff -Alias staff -PrimarySmtpAddress staff@contoso.com");
    problem(
        &api(&server, &token, "GET", "/api/v1/mailboxes/staff", None),
        404,
        "The operation couldn't be performed because object 'staff' couldn't be found.",
    );

    // A body that isn't JSON, or isn't an object.
    let broken = http(
        server.http(),
        "POST",
        "/api/v1/mailboxes",
        None,
        &[("Authorization", &format!("Bearer {token}")), ("Content-Type", "application/json")],
        b"{\"name\": ",
    );
    assert_eq!(broken.status, 400, "{broken:?}");
    assert_eq!(broken.header("content-type"), Some(PROBLEM));
    let body: Value = serde_json::from_str(&broken.body).unwrap();
    assert!(body["detail"].as_str().unwrap().starts_with("The body isn't valid JSON: "), "{body}");
    let list = api(&server, &token, "PUT", "/api/v1/mailboxes/info/roles", Some(json!(["global-admin"])));
    problem(&list, 400, "The body must be a JSON object.");

    // A field of the wrong type, named.
    let body = problem(
        &api(&server, &token, "PUT", "/api/v1/mailboxes/bob/sign-in", Some(json!({ "blocked": "yes" }))),
        422,
        "\"blocked\" must be true or false.",
    );
    assert_eq!(body["field"], "blocked");
    let body = problem(
        &api(&server, &token, "POST", "/api/v1/mailboxes", Some(json!({ "name": 7 }))),
        422,
        "\"name\" must be a string.",
    );
    assert_eq!(body["field"], "name");
    let body = problem(
        &api(
            &server,
            &token,
            "PUT",
            "/api/v1/mailboxes/info/send-on-behalf",
            Some(json!({ "holders": "bob" })),
        ),
        422,
        "\"holders\" must be a list of strings.",
    );
    assert_eq!(body["field"], "holders");
    let body = problem(
        &api(&server, &token, "POST", "/api/v1/groups", Some(json!({ "type": "security" }))),
        422,
        "\"name\" is required.",
    );
    assert_eq!(body["field"], "name");
    assert_eq!(get_mailbox(&cli, "bob")["AccountDisabled"], false, "nothing changed");

    // A method the path doesn't take.
    problem(&api(&server, &token, "PATCH", "/api/v1/mailboxes", None), 405, "This path takes GET or POST.");
    problem(
        &api(&server, &token, "PUT", "/api/v1/mailboxes/info", None),
        405,
        "This path takes GET or DELETE.",
    );
    problem(&api(&server, &token, "GET", "/api/v1/mailboxes/info/quota", None), 405, "This path takes PUT.");
    problem(&api(&server, &token, "POST", "/api/v1/queue", None), 405, "This path takes GET.");
    problem(
        &api(&server, &token, "GET", "/api/v1/nothing-here", None),
        404,
        "There is no such page or object.",
    );
}

#[test]
fn refusals_name_the_request_field_they_concern() {
    let (_cli, server, token) = served();
    // (path, body, the JSON property the refusal is about)
    let cases = [
        (
            "/api/v1/mailboxes/info/quota",
            json!({ "issue_warning_quota": "3GB", "prohibit_send_quota": "2GB", "prohibit_send_receive_quota": "4GB" }),
            "issue_warning_quota",
        ),
        (
            "/api/v1/mailboxes/info/quota",
            json!({ "issue_warning_quota": "1GB", "prohibit_send_quota": "lots", "prohibit_send_receive_quota": "4GB" }),
            "prohibit_send_quota",
        ),
        (
            // The stage that is too high is named, not always the first.
            "/api/v1/mailboxes/info/quota",
            json!({ "issue_warning_quota": "1GB", "prohibit_send_quota": "5GB", "prohibit_send_receive_quota": "4GB" }),
            "prohibit_send_quota",
        ),
        ("/api/v1/mailboxes", json!({ "name": "Dave", "type": "user", "password": "short" }), "password"),
        ("/api/v1/mailboxes/info/forwarding", json!({ "address": "not an address" }), "address"),
        (
            "/api/v1/mailboxes/info/auto-reply",
            json!({ "state": "Scheduled", "start_time": "soon" }),
            "start_time",
        ),
        (
            "/api/v1/mailboxes/info/auto-reply",
            json!({ "state": "Scheduled", "start_time": "2030-01-02T00:00", "end_time": "2030-01-01T00:00" }),
            "end_time",
        ),
        (
            "/api/v1/mailboxes/info/auto-reply",
            json!({ "state": "Enabled", "external_audience": "Everyone" }),
            "external_audience",
        ),
        ("/api/v1/mailboxes/info/send-on-behalf", json!({ "holders": ["nobody"] }), "holders"),
        ("/api/v1/mailboxes/info/convert", json!({ "to": "user" }), "password"),
        ("/api/v1/mailboxes/info/addresses", json!({ "add": "bob@contoso.com" }), "add"),
    ];
    let mut wrong = Vec::new();
    for (path, body, field) in cases {
        let method =
            if path.ends_with("/convert") || path.ends_with("/addresses") || path.ends_with("/mailboxes") {
                "POST"
            } else {
                "PUT"
            };
        let reply = api(&server, &token, method, path, Some(body.clone()));
        assert!(matches!(reply.status, 404 | 422), "{method} {path} {body}: {reply:?}");
        assert_eq!(reply.header("content-type"), Some(PROBLEM), "{reply:?}");
        let problem: Value = serde_json::from_str(&reply.body).unwrap();
        if problem["field"] != field {
            wrong
                .push(format!("{method} {path} {body} -> field {} (expected \"{field}\")", problem["field"]));
        }
    }
    assert!(wrong.is_empty(), "refusals naming a field the request doesn't have:\n{}", wrong.join("\n"));
}

/// Reads one response whose head says how long its body is.
fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => raw.push(byte[0]),
            other => panic!("no response head: {other:?} after {:?}", String::from_utf8_lossy(&raw)),
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, head, String::from_utf8(body).unwrap())
}

#[test]
fn a_body_declared_too_large_is_refused_before_it_is_read() {
    let (_cli, server, token) = served();
    // One octet past 320 KiB, declared, and never sent: the answer comes
    // from the head alone.
    let mut stream = TcpStream::connect(server.http()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "PUT /api/v1/mailboxes/info/auto-reply HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        320 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (status, head, body) = read_response(&mut stream);
    assert_eq!(status, 413, "{head}{body}");
    let content_type = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_string());
    assert_eq!(content_type.as_deref(), Some(PROBLEM), "an API error is a problem document\n{head}{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], 413);
    assert_eq!(body["detail"], "This request may carry at most 320 KiB of body.");
}

/// Signs in to the admin center as `login`: the session cookie (`name=value`).
fn browser_session(server: &Server, login: &str, password: &str) -> String {
    mailroom_testkit::web_sign_in(server.http(), login, password).unwrap_or_else(|reply| panic!("{reply:?}"))
}

fn hidden_csrf(html: &str) -> String {
    mailroom_testkit::hidden_field(html, "csrf")
}

#[test]
fn browser_sessions_need_an_admin_and_the_csrf_token() {
    let (cli, server, _token) = served();

    // Bob signs in (anyone may, for /setup), but the API is for admins.
    let bob = browser_session(&server, "bob@contoso.com", "Bob-pass-123");
    let refused = http(server.http(), "GET", "/api/v1/mailboxes", None, &[("Cookie", &bob)], b"");
    problem(&refused, 403, "You don't have permission to access this page or perform this action.");

    // The admin's session reads freely; a change needs the session's CSRF token.
    let admin = browser_session(&server, "admin@contoso.com", "Admin-pass-123");
    let listed = http(server.http(), "GET", "/api/v1/domains", None, &[("Cookie", &admin)], b"");
    assert_eq!(expect(listed, 200), json!([{ "domain": "contoso.com", "default": true }]));
    let new_domain = json!({ "domain": "fabrikam.com" }).to_string();
    let refused = http(
        server.http(),
        "POST",
        "/api/v1/domains",
        None,
        &[("Cookie", &admin), ("Content-Type", "application/json")],
        new_domain.as_bytes(),
    );
    problem(
        &refused,
        403,
        "A change made with a browser session must send the session's CSRF token as X-CSRF-Token.",
    );
    let wrong = http(
        server.http(),
        "POST",
        "/api/v1/domains",
        None,
        &[("Cookie", &admin), ("Content-Type", "application/json"), ("X-CSRF-Token", "0123")],
        new_domain.as_bytes(),
    );
    assert_eq!(wrong.status, 403, "{wrong:?}");
    assert_eq!(cli.exo_json("Get-AcceptedDomain").len(), 1, "nothing was added");

    // Any admin page carries the session's token (its sign-out form).
    let home = http(server.http(), "GET", "/admin/", None, &[("Cookie", &admin)], b"");
    let page = match home.header("location") {
        Some(location) => http(server.http(), "GET", location, None, &[("Cookie", &admin)], b""),
        None => home,
    };
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = hidden_csrf(&page.body);
    let added = http(
        server.http(),
        "POST",
        "/api/v1/domains",
        None,
        &[("Cookie", &admin), ("Content-Type", "application/json"), ("X-CSRF-Token", &csrf)],
        new_domain.as_bytes(),
    );
    assert_eq!(expect(added, 201).as_array().unwrap().len(), 2);
    assert_eq!(cli.exo_json("Get-AcceptedDomain fabrikam.com")[0]["DomainName"], "fabrikam.com");
}

/// Checks the served document as JSON: OpenAPI 3.1.0, every path under `/api/`.
const DOCUMENT_CHECK: &str = r#"
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1]) as answer:
    assert answer.headers.get_content_type() == "application/json", answer.headers
    doc = json.load(answer)
assert doc["openapi"] == "3.1.0", doc["openapi"]
assert doc["info"]["title"] == "Mailroom admin API", doc["info"]
assert doc["paths"], "no paths"
outside = [p for p in doc["paths"] if not p.startswith("/api/")]
assert not outside, outside
schemes = doc["components"]["securitySchemes"]
assert any(s.get("scheme") == "bearer" for s in schemes.values()), schemes
print(len(doc["paths"]))
"#;

/// Runs the schemathesis CLI (`schemathesis run ...`) in this Python.
///
/// The `caldav` package the CalDAV tests use pulls in `niquests`, whose
/// `urllib3-future` installs itself as `urllib3`; its pool container can't
/// be counted the way schemathesis' `requests` transport does (an
/// AttributeError on every request). Counting zero there only changes when
/// schemathesis resends a request the server dropped, which this server
/// doesn't do.
const SCHEMATHESIS: &str = r#"
import sys
try:
    import schemathesis.transport.requests as transport
    counted = transport._count_opened_connections
    def count(session):
        try:
            return counted(session)
        except AttributeError:
            return 0
    transport._count_opened_connections = count
except (ImportError, AttributeError):
    pass
from schemathesis.cli import schemathesis
schemathesis(prog_name="schemathesis")
"#;

#[test]
fn schemathesis_finds_no_server_error() {
    let importable =
        Command::new("python3").args(["-c", "import schemathesis"]).output().expect("run python3");
    assert!(
        importable.status.success(),
        "schemathesis isn't installed for python3; install it with `pip install schemathesis` (CI does):\n{}",
        String::from_utf8_lossy(&importable.stderr)
    );
    let (cli, server, token) = served();
    let url = format!("http://{}/api/openapi.json", server.http());
    let paths = python(DOCUMENT_CHECK, &[&url]);
    assert!(paths.trim().parse::<usize>().unwrap() >= 20, "{paths}");

    // Data for the document's examples to find: Bob a member of Info, a group.
    cli.exo("Add-MailboxPermission info -User bob -AccessRights FullAccess");
    cli.exo(
        "New-DistributionGroup -Name Sales -Alias sales -PrimarySmtpAddress sales@contoso.com -Members bob",
    );

    let bearer = format!("Authorization: Bearer {token}");
    let args = [
        "run",
        &url,
        "--header",
        &bearer,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples",
        "20",
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--output-truncate",
        "true",
    ];
    // In the test's own directory: schemathesis and hypothesis keep files there.
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCHEMATHESIS)
        .args(args)
        .current_dir(cli.root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail = |text: &str| {
        text.chars().rev().take(60_000).collect::<Vec<_>>().into_iter().rev().collect::<String>()
    };
    assert!(
        output.status.success(),
        "schemathesis {} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        args.join(" ").replace(&token, "mrt_…"),
        output.status,
        tail(&stdout),
        tail(&stderr)
    );
    assert!(stdout.contains("Open API 3.1.0"), "{stdout}");
}

#[test]
fn identities_in_paths_keep_their_plus() {
    let (cli, server, token) = served();
    let created = expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes",
            Some(json!({ "name": "Sales EU", "address": "sales+eu@contoso.com" })),
        ),
        201,
    );
    assert_eq!(created["primary_smtp_address"], "sales+eu@contoso.com");
    // A `+` in a path is a plus (only forms and queries read it as a space),
    // written as is or escaped.
    for path in ["/api/v1/mailboxes/sales+eu@contoso.com", "/api/v1/mailboxes/sales%2Beu%40contoso.com"] {
        assert_eq!(expect(api(&server, &token, "GET", path, None), 200)["name"], "Sales EU", "{path}");
    }
    expect(
        api(
            &server,
            &token,
            "POST",
            "/api/v1/mailboxes/sales+eu@contoso.com/members",
            Some(json!({ "member": "alice" })),
        ),
        201,
    );
    expect(
        api(
            &server,
            &token,
            "DELETE",
            "/api/v1/mailboxes/sales+eu@contoso.com/members/alice@contoso.com",
            None,
        ),
        204,
    );
    expect(api(&server, &token, "DELETE", "/api/v1/mailboxes/sales+eu@contoso.com", None), 204);
    assert_ne!(cli.run(&["exo", "Get-Mailbox sales+eu@contoso.com"]).code, 0);
}
