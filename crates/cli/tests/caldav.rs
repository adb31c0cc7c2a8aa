//! CalDAV (SPEC §2, §4) against a real `mailroom serve`: the
//! Python `caldav` library (discovery, the shared calendar listed for each
//! member, create/read/update/delete, time-range search, sync), vdirsyncer
//! syncing the shared calendar both ways, and raw HTTP for the exact XML
//! and every refusal.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::inspect::calendar_activity;
use mailroom_testkit::{Cli, HttpReply, Server, http, python};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Name Carol -Alias carol -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
New-Mailbox -Shared -Name Info -Alias info -DisplayName 'Info Desk' -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess
Add-MailboxPermission info -User bob -AccessRights FullAccess
"#;

const ALICE: (&str, &str) = ("alice@contoso.com", "Alice-pass-123");
const BOB: (&str, &str) = ("bob@contoso.com", "Bob-pass-123");
const CAROL: (&str, &str) = ("carol@contoso.com", "Carol-pass-123");

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    (cli, server)
}

fn event(uid: &str, start: &str, summary: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn put(server: &Server, who: (&str, &str), path: &str, body: &str, headers: &[(&str, &str)]) -> HttpReply {
    let mut all = vec![("Content-Type", "text/calendar; charset=utf-8")];
    all.extend_from_slice(headers);
    http(server.http(), "PUT", path, Some(who), &all, body.as_bytes())
}

fn xml(server: &Server, who: (&str, &str), method: &str, path: &str, depth: &str, body: &str) -> HttpReply {
    http(
        server.http(),
        method,
        path,
        Some(who),
        &[("Depth", depth), ("Content-Type", "application/xml")],
        body.as_bytes(),
    )
}

const CALDAV_LIBRARY: &str = r#"import sys, datetime, caldav
from caldav.lib import error
base, alice_pw, bob_pw, carol_pw, domain = sys.argv[1:6]
def client(user, pw):
    return caldav.DAVClient(url=base + "/.well-known/caldav", username=user + "@" + domain, password=pw)
def shared(principal):
    cals = principal.calendars()
    names = sorted(c.get_display_name() for c in cals)
    return [c for c in cals if c.get_display_name() == "Info Desk"], names

alice = client("alice", alice_pw).principal()
found, names = shared(alice)
assert names == ["Calendar", "Info Desk"], names
team = found[0]
assert "/dav/calendars/alice@" in str(team.url), team.url
ical = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VEVENT
UID:planning-1
DTSTAMP:20260101T000000Z
DTSTART:20261207T090000Z
DTEND:20261207T100000Z
SUMMARY:Team planning
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:Planning soon
END:VALARM
END:VEVENT
END:VCALENDAR
"""
team.add_event(ical)
tokenized = team.objects_by_sync_token(load_objects=True)
first_token = tokenized.sync_token
assert len(list(tokenized)) == 1

bob = client("bob", bob_pw).principal()
found, names = shared(bob)
assert names == ["Calendar", "Info Desk"], names
bob_team = found[0]
hits = bob_team.search(start=datetime.datetime(2026, 12, 7, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 12, 8, tzinfo=datetime.timezone.utc), event=True)
assert len(hits) == 1, hits
miss = bob_team.search(start=datetime.datetime(2026, 12, 8, tzinfo=datetime.timezone.utc), end=datetime.datetime(2026, 12, 9, tzinfo=datetime.timezone.utc), event=True)
assert len(miss) == 0, miss
event = bob_team.get_event_by_uid("planning-1")
assert "TRIGGER:-PT15M" in event.data, event.data
event.icalendar_component["summary"] = "Team planning (moved)"
event.save()

again = team.get_event_by_uid("planning-1")
assert "Team planning (moved)" in again.data, again.data
updated, deleted = tokenized.sync()
assert len(updated) == 1 and len(deleted) == 0, (updated, deleted)
assert tokenized.sync_token != first_token

bob_team.get_event_by_uid("planning-1").delete()
updated, deleted = tokenized.sync()
assert len(deleted) == 1 and len(updated) == 0, (updated, deleted)

carol = client("carol", carol_pw).principal()
names = sorted(c.get_display_name() for c in carol.calendars())
assert names == ["Calendar"], names
try:
    caldav.DAVClient(url=base + "/dav/calendars/info@" + domain + "/calendar/", username="carol@" + domain, password=carol_pw).calendar(url=base + "/dav/calendars/info@" + domain + "/calendar/").events()
    raise SystemExit("carol read the team calendar")
except (error.AuthorizationError, error.NotFoundError, error.ReportError) as e:
    pass
print("ok")
"#;

#[test]
fn members_share_the_team_calendar_through_the_caldav_library() {
    let (cli, server) = served();
    let base = format!("http://{}", server.http());
    let out = python(CALDAV_LIBRARY, &[&base, ALICE.1, BOB.1, CAROL.1, "contoso.com"]);
    assert_eq!(out.trim(), "ok");
    // Who did what is recorded for the activity trail.
    let activity = calendar_activity(&cli.data(), "info@contoso.com");
    let actions: Vec<(&str, &str)> =
        activity.iter().map(|(who, what, _)| (who.as_str(), what.as_str())).collect();
    assert_eq!(
        actions,
        [("alice@contoso.com", "created"), ("bob@contoso.com", "changed"), ("bob@contoso.com", "deleted")],
        "{activity:?}"
    );
}

#[test]
fn discovery_answers_with_the_exact_xml() {
    let (_cli, server) = served();
    // RFC 6764: the well-known URI redirects, without signing in.
    let reply = http(server.http(), "GET", "/.well-known/caldav", None, &[], b"");
    assert_eq!((reply.status, reply.header("location")), (301, Some("/dav/")), "{reply:?}");
    let reply = xml(&server, ("alice@contoso.com", "wrong"), "PROPFIND", "/dav/", "0", "");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.header("www-authenticate"), Some("Basic realm=\"Mailroom\", charset=\"UTF-8\""));
    // A shared mailbox can't sign in, whatever the password (SPEC §1).
    assert_eq!(
        xml(&server, ("info@contoso.com", "Alice-pass-123"), "PROPFIND", "/dav/", "0", "").status,
        401
    );

    let body = r#"<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>"#;
    let reply = xml(&server, ALICE, "PROPFIND", "/dav/", "0", body);
    assert_eq!(reply.status, 207, "{reply:?}");
    assert!(reply.body.contains("<d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/dav/principals/alice@contoso.com/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"), "{}", reply.body);

    let body = r#"<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-home-set/><c:calendar-user-address-set/><d:displayname/><d:unknown-thing/></d:prop></d:propfind>"#;
    let reply = xml(&server, ALICE, "PROPFIND", "/dav/principals/alice@contoso.com/", "0", body);
    assert!(reply.body.contains("<c:calendar-home-set><d:href>/dav/calendars/alice@contoso.com/</d:href></c:calendar-home-set><c:calendar-user-address-set><d:href>mailto:alice@contoso.com</d:href></c:calendar-user-address-set><d:displayname>Alice</d:displayname>"), "{}", reply.body);
    assert!(reply.body.contains("<d:propstat><d:prop><d:unknown-thing/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>"), "{}", reply.body);

    // Alice's home: her calendar, then the automapped team calendar under the shared mailbox's name.
    let body = r#"<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:displayname/><d:resourcetype/><cs:getctag/></d:prop></d:propfind>"#;
    let reply = xml(&server, ALICE, "PROPFIND", "/dav/calendars/alice@contoso.com/", "1", body);
    assert!(reply.body.contains("<d:href>/dav/calendars/alice@contoso.com/calendar/</d:href><d:propstat><d:prop><d:displayname>Calendar</d:displayname><d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"), "{}", reply.body);
    assert!(reply.body.contains("<d:href>/dav/calendars/alice@contoso.com/info@contoso.com/</d:href><d:propstat><d:prop><d:displayname>Info Desk</d:displayname>"), "{}", reply.body);
    // Carol's home has only her own calendar; the team's is refused to her.
    let reply = xml(&server, CAROL, "PROPFIND", "/dav/calendars/carol@contoso.com/", "1", body);
    assert!(!reply.body.contains("info@contoso.com"), "{}", reply.body);
    let reply = xml(&server, CAROL, "PROPFIND", "/dav/calendars/info@contoso.com/calendar/", "1", body);
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(
        reply.body.contains("<d:need-privileges/>") && reply.body.contains("Full Access"),
        "{}",
        reply.body
    );
    let reply = xml(&server, CAROL, "PROPFIND", "/dav/calendars/alice@contoso.com/calendar/", "0", body);
    assert_eq!(reply.status, 403);
    assert_eq!(xml(&server, CAROL, "PROPFIND", "/dav/calendars/nobody@contoso.com/", "0", body).status, 404);
    // Segments that only work in one's own home don't leak through another's.
    assert_eq!(
        xml(&server, CAROL, "PROPFIND", "/dav/calendars/carol@contoso.com/info@contoso.com/", "0", body)
            .status,
        403
    );
    // Depth: infinity is refused with its precondition (RFC 4918 §9.1).
    let reply = xml(&server, ALICE, "PROPFIND", "/dav/calendars/alice@contoso.com/", "infinity", body);
    assert_eq!(reply.status, 403);
    assert!(reply.body.contains("<d:propfind-finite-depth/>"), "{}", reply.body);
}

#[test]
fn writes_are_validated_conditional_and_synced() {
    let (cli, server) = served();
    let team = "/dav/calendars/info@contoso.com/calendar/";
    let created = put(
        &server,
        ALICE,
        &format!("{team}one.ics"),
        &event("one", "20261201T100000Z", "One"),
        &[("If-None-Match", "*")],
    );
    assert_eq!(created.status, 201, "{created:?}");
    let etag = created.header("etag").unwrap().to_string();
    // Bob reads it through his own home (automapped), byte for byte.
    let got = http(
        server.http(),
        "GET",
        "/dav/calendars/bob@contoso.com/info@contoso.com/one.ics",
        Some(BOB),
        &[],
        b"",
    );
    assert_eq!((got.status, got.header("etag")), (200, Some(etag.as_str())));
    assert_eq!(got.body, event("one", "20261201T100000Z", "One"));

    // Conditional writes (RFC 9110 §13).
    let again = put(
        &server,
        BOB,
        &format!("{team}one.ics"),
        &event("one", "20261201T100000Z", "x"),
        &[("If-None-Match", "*")],
    );
    assert_eq!(again.status, 412);
    let stale = put(
        &server,
        BOB,
        &format!("{team}one.ics"),
        &event("one", "20261201T100000Z", "x"),
        &[("If-Match", "\"0000\"")],
    );
    assert_eq!(stale.status, 412);
    let replaced = put(
        &server,
        BOB,
        &format!("{team}one.ics"),
        &event("one", "20261201T120000Z", "One, later"),
        &[("If-Match", &etag)],
    );
    assert_eq!(replaced.status, 204, "{replaced:?}");
    assert_ne!(replaced.header("etag"), Some(etag.as_str()));

    // One UID per calendar (RFC 4791 §5.3.2.1).
    let clash =
        put(&server, ALICE, &format!("{team}copy.ics"), &event("one", "20261201T100000Z", "Copy"), &[]);
    assert_eq!(clash.status, 403);
    assert!(clash.body.contains("<c:no-uid-conflict><d:href>/dav/calendars/info@contoso.com/calendar/one.ics</d:href></c:no-uid-conflict>"), "{}", clash.body);

    // Malformed input is refused with the reason, and nothing is stored.
    let broken = put(
        &server,
        ALICE,
        &format!("{team}broken.ics"),
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261201T100000Z\r\n",
        &[],
    );
    assert_eq!(broken.status, 400);
    assert!(
        broken.body.contains("<c:valid-calendar-data/>") && broken.body.contains("truncated"),
        "{}",
        broken.body
    );
    let no_uid = put(
        &server,
        ALICE,
        &format!("{team}nouid.ics"),
        &event("one", "20261201T100000Z", "x").replace("UID:one\r\n", ""),
        &[],
    );
    assert!(no_uid.status == 400 && no_uid.body.contains("no UID"), "{no_uid:?}");
    let wrong_type = http(
        server.http(),
        "PUT",
        &format!("{team}x.ics"),
        Some(ALICE),
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(wrong_type.status, 415);
    assert!(wrong_type.body.contains("text/calendar"), "{}", wrong_type.body);
    let bad_xml = xml(
        &server,
        ALICE,
        "REPORT",
        team,
        "1",
        "<c:calendar-query xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><c:filter>",
    );
    assert_eq!(bad_xml.status, 400);
    assert!(bad_xml.body.contains("malformed") || bad_xml.body.contains("ended"), "{}", bad_xml.body);
    assert_eq!(http(server.http(), "GET", &format!("{team}broken.ics"), Some(ALICE), &[], b"").status, 404);
    // A non-member can't write either.
    assert_eq!(
        put(&server, CAROL, &format!("{team}carol.ics"), &event("c", "20261201T100000Z", "c"), &[]).status,
        403
    );

    // A recurring event matches a time range by a later occurrence.
    let weekly = event("weekly", "20260105T090000Z", "Weekly")
        .replace("DURATION:PT1H\r\n", "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY\r\n");
    assert_eq!(put(&server, ALICE, &format!("{team}weekly.ics"), &weekly, &[]).status, 201);
    let query = |start: &str, end: &str| {
        let body = format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        );
        let reply = xml(&server, BOB, "REPORT", team, "1", &body);
        assert_eq!(reply.status, 207, "{reply:?}");
        let mut names: Vec<String> = reply
            .body
            .match_indices("<d:href>")
            .map(|(i, _)| {
                reply.body[i + 8..].split('<').next().unwrap().rsplit('/').next().unwrap().to_string()
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(query("20261201T000000Z", "20261202T000000Z"), ["one.ics"]);
    assert_eq!(query("20261207T000000Z", "20261208T000000Z"), ["weekly.ics"]);
    assert_eq!(query("20261201T000000Z", "20261208T000000Z"), ["one.ics", "weekly.ics"]);
    assert!(query("20261202T000000Z", "20261207T000000Z").is_empty());
    // A rule that can never produce a date (February 30th) is stored, and
    // occurs in no range — not in every one.
    let never = event("never", "20260228T090000Z", "Never")
        .replace("DURATION:PT1H\r\n", "DURATION:PT1H\r\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\r\n");
    assert_eq!(put(&server, ALICE, &format!("{team}never.ics"), &never, &[]).status, 201);
    assert_eq!(query("20260101T000000Z", "20300101T000000Z"), ["one.ics", "weekly.ics"]);
    assert!(query("20260228T000000Z", "20260302T000000Z").is_empty());

    // sync-collection (RFC 6578): from the start, then only what changed.
    let sync = |token: &str| {
        let body = format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        );
        xml(&server, ALICE, "REPORT", team, "0", &body)
    };
    let first = sync("");
    assert!(first.body.contains("one.ics") && first.body.contains("weekly.ics"), "{}", first.body);
    let token = first.body.split("<d:sync-token>").nth(1).unwrap().split('<').next().unwrap().to_string();
    let deleted = http(server.http(), "DELETE", &format!("{team}one.ics"), Some(BOB), &[], b"");
    assert_eq!(deleted.status, 204);
    let next = sync(&token);
    assert!(next.body.contains("<d:response><d:href>/dav/calendars/info@contoso.com/calendar/one.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>"), "{}", next.body);
    assert!(!next.body.contains("weekly.ics"), "{}", next.body);
    assert_ne!(next.body.split("<d:sync-token>").nth(1).unwrap().split('<').next().unwrap(), token);
    let invalid = sync("urn:x-mailroom:sync:999:1");
    assert_eq!(invalid.status, 403);
    assert!(invalid.body.contains("<d:valid-sync-token/>"), "{}", invalid.body);

    // MKCALENDAR and PROPPATCH on the shared mailbox; the default calendar stays.
    let made = xml(
        &server,
        BOB,
        "MKCALENDAR",
        "/dav/calendars/info@contoso.com/rota/",
        "0",
        r#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:displayname>Rota</d:displayname></d:prop></d:set></c:mkcalendar>"#,
    );
    assert_eq!(made.status, 201, "{made:?}");
    let patched = xml(
        &server,
        ALICE,
        "PROPPATCH",
        "/dav/calendars/info@contoso.com/rota/",
        "0",
        r#"<d:propertyupdate xmlns:d="DAV:" xmlns:ic="http://apple.com/ns/ical/"><d:set><d:prop><ic:calendar-color>#3366FF</ic:calendar-color></d:prop></d:set></d:propertyupdate>"#,
    );
    assert!(
        patched.body.contains("<ic:calendar-color/></d:prop><d:status>HTTP/1.1 200 OK</d:status>"),
        "{}",
        patched.body
    );
    let refused = xml(
        &server,
        ALICE,
        "PROPPATCH",
        "/dav/calendars/info@contoso.com/rota/",
        "0",
        r#"<d:propertyupdate xmlns:d="DAV:" xmlns:ic="http://apple.com/ns/ical/"><d:set><d:prop><ic:calendar-color>blue</ic:calendar-color></d:prop></d:set></d:propertyupdate>"#,
    );
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("#RRGGBB"), "{}", refused.body);
    assert_eq!(http(server.http(), "DELETE", team, Some(ALICE), &[], b"").status, 403);
    assert_eq!(
        http(server.http(), "DELETE", "/dav/calendars/info@contoso.com/rota/", Some(ALICE), &[], b"").status,
        204
    );

    let activity = calendar_activity(&cli.data(), "info@contoso.com");
    assert!(
        activity.contains(&("bob@contoso.com".into(), "deleted".into(), "one.ics".into())),
        "{activity:?}"
    );
}

#[test]
fn vdirsyncer_syncs_the_team_calendar_both_ways() {
    let (cli, server) = served();
    let team = "/dav/calendars/info@contoso.com/calendar/";
    assert_eq!(
        put(
            &server,
            ALICE,
            &format!("{team}from-server.ics"),
            &event("from-server", "20261201T100000Z", "Server side"),
            &[]
        )
        .status,
        201
    );
    let root = cli.root().join("vdirsyncer");
    let local = root.join("local");
    std::fs::create_dir_all(&local).unwrap();
    let config = root.join("config");
    std::fs::write(
        &config,
        format!(
            "[general]\nstatus_path = \"{status}\"\n\n[pair team]\na = \"team_remote\"\nb = \"team_local\"\ncollections = null\nconflict_resolution = \"a wins\"\n\n[storage team_remote]\ntype = \"caldav\"\nurl = \"http://{addr}/dav/calendars/bob@contoso.com/info@contoso.com/\"\nusername = \"bob@contoso.com\"\npassword = \"Bob-pass-123\"\n\n[storage team_local]\ntype = \"filesystem\"\npath = \"{local}/\"\nfileext = \".ics\"\n",
            status = root.join("status").display(),
            addr = server.http(),
            local = local.display()
        ),
    )
    .unwrap();
    let vdirsyncer = |args: &[&str]| {
        let out = std::process::Command::new("vdirsyncer")
            .arg("-c")
            .arg(&config)
            .args(args)
            .output()
            .expect("run vdirsyncer (Debian package vdirsyncer; .ci/run installs it)");
        assert!(
            out.status.success(),
            "vdirsyncer {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    vdirsyncer(&["discover", "team"]);
    vdirsyncer(&["sync"]);
    let synced =
        std::fs::read_to_string(local.join("from-server.ics")).expect("the server's event arrived locally");
    assert!(synced.contains("SUMMARY:Server side"), "{synced}");
    std::fs::write(local.join("from-local.ics"), event("from-local", "20261202T100000Z", "Local side"))
        .unwrap();
    vdirsyncer(&["sync"]);
    let uploaded = http(server.http(), "GET", &format!("{team}from-local.ics"), Some(ALICE), &[], b"");
    assert_eq!(uploaded.status, 200, "{uploaded:?}");
    assert!(uploaded.body.contains("SUMMARY:Local side"), "{}", uploaded.body);
    // Bob's upload went through his home's shared entry: recorded as his.
    let activity = calendar_activity(&cli.data(), "info@contoso.com");
    assert!(
        activity.contains(&("bob@contoso.com".into(), "created".into(), "from-local.ics".into())),
        "{activity:?}"
    );
}

const OVER_HTTPS: &str = r#"
import sys, caldav
url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password, ssl_verify_cert=False)
print(sorted(c.get_display_name() for c in client.principal().calendars()))
"#;

#[test]
fn rights_and_sign_ins_change_at_once_and_https_serves_the_same() {
    let (cli, server) = served();
    let body = r#"<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>"#;
    let team = "/dav/calendars/bob@contoso.com/info@contoso.com/";
    // Signed in (and remembered), Bob sees the team calendar in his home...
    assert_eq!(xml(&server, BOB, "PROPFIND", team, "0", body).status, 207);
    let home = xml(&server, BOB, "PROPFIND", "/dav/calendars/bob@contoso.com/", "1", body);
    assert!(home.body.contains("Info Desk"), "{}", home.body);
    // ...until his Full Access is removed: the next request is refused.
    cli.exo("Remove-MailboxPermission info -User bob -AccessRights FullAccess -Confirm:$false");
    let refused = xml(&server, BOB, "PROPFIND", team, "0", body);
    assert_eq!(refused.status, 403, "{refused:?}");
    let home = xml(&server, BOB, "PROPFIND", "/dav/calendars/bob@contoso.com/", "1", body);
    assert!(!home.body.contains("Info Desk"), "{}", home.body);
    assert_eq!(
        put(&server, BOB, &format!("{team}x.ics"), &event("x", "20261201T100000Z", "x"), &[]).status,
        403
    );

    // A remembered sign-in ends with a blocked account or a new password.
    assert_eq!(xml(&server, ALICE, "PROPFIND", "/dav/", "0", body).status, 207);
    cli.run(&["user", "block", "alice"]).ok();
    assert_eq!(xml(&server, ALICE, "PROPFIND", "/dav/", "0", body).status, 401);
    cli.run(&["user", "unblock", "alice"]).ok();
    assert_eq!(xml(&server, ALICE, "PROPFIND", "/dav/", "0", body).status, 207);
    cli.run_with_stdin(&["user", "password", "alice", "--password-stdin"], "Alice-new-pass-1\n").ok();
    assert_eq!(xml(&server, ALICE, "PROPFIND", "/dav/", "0", body).status, 401);
    assert_eq!(
        xml(&server, ("alice@contoso.com", "Alice-new-pass-1"), "PROPFIND", "/dav/", "0", body).status,
        207
    );
    drop(server);

    // The same service over implicit TLS (self-signed certificate here).
    let server = cli.serve(&["--https-listen", "127.0.0.1:0"]);
    let url = format!("https://{}/", server.listeners["https"]);
    let out = python(OVER_HTTPS, &[&url, "alice@contoso.com", "Alice-new-pass-1"]);
    assert_eq!(out.trim(), "['Calendar', 'Info Desk']");
}
