//! The web app's calendar against a real `mailroom serve` and the Python
//! `caldav` library: an event made on the web is read back over CalDAV
//! (repeats included) in the shared mailbox's calendar, one made over
//! CalDAV shows in the web's week and month, an edit and a delete on the
//! web reach CalDAV, the calendar's activity trail names the member, and a
//! person without rights reaches nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, HttpReply, Server, hidden_field, http, python, web_sign_in};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Carol -Alias carol -DisplayName 'Carol White' -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
New-Mailbox -Shared -Name Info -DisplayName 'Info Desk' -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess
"#;

/// Runs a CalDAV step as Alice with the Python library; prints what it found.
const CALDAV: &str = r#"import sys, datetime, json, caldav
base, step = sys.argv[1:3]
alice = caldav.DAVClient(url=base + "/.well-known/caldav", username="alice@contoso.com", password="Alice-pass-123").principal()
calendars = {c.get_display_name(): c for c in alice.calendars()}
utc = datetime.timezone.utc
if step == "read-team":
    team = calendars["Info Desk"]
    hits = team.search(start=datetime.datetime(2026, 12, 1, tzinfo=utc), end=datetime.datetime(2027, 1, 1, tzinfo=utc), event=True, expand=False)
    print(json.dumps([h.data for h in hits]))
elif step == "add-own":
    calendars["Calendar"].add_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VEVENT
UID:dentist-1
DTSTAMP:20260101T000000Z
DTSTART:20261208T090000Z
DTEND:20261208T100000Z
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
""")
    print(json.dumps("added"))
elif step == "add-review":
    calendars["Calendar"].add_event("""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//caldav//EN
BEGIN:VEVENT
UID:review-1
DTSTAMP:20260101T000000Z
DTSTART:20261208T080000Z
DTEND:20261208T090000Z
SUMMARY:Review
X-TEST-CLIENT:kept as written
ATTENDEE;CN=Bob:mailto:bob@fabrikam.example
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Review soon
TRIGGER:-PT10M
END:VALARM
END:VEVENT
END:VCALENDAR
""")
    print(json.dumps("added"))
elif step.startswith("read-uid:"):
    print(json.dumps(calendars["Calendar"].get_event_by_uid(step.split(":", 1)[1]).data))
elif step == "read-own":
    own = calendars["Calendar"]
    try:
        print(json.dumps(own.get_event_by_uid("dentist-1").data))
    except caldav.lib.error.NotFoundError:
        print(json.dumps(None))
"#;

fn caldav(server: &Server, step: &str) -> serde_json::Value {
    let out = python(CALDAV, &[&format!("http://{}", server.http()), step]);
    serde_json::from_str(out.trim()).unwrap()
}

fn form_post(server: &Server, cookie: &str, path: &str, body: &str) -> HttpReply {
    mailroom_testkit::web_post(server.http(), cookie, path, body)
}

/// The value of the `<option>` whose text is `label`.
fn option_value(html: &str, label: &str) -> String {
    let at =
        html.find(&format!(">{label}</option>")).unwrap_or_else(|| panic!("no option {label} in {html}"));
    let open = html[..at].rfind("value=\"").unwrap() + 7;
    html[open..].split('"').next().unwrap().to_string()
}

#[test]
fn events_made_on_the_web_and_over_caldav_are_the_same_events() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    let alice = web_sign_in(server.http(), "alice@contoso.com", "Alice-pass-123").unwrap();
    let get = |cookie: &str, path: &str| http(server.http(), "GET", path, None, &[("Cookie", cookie)], b"");

    // A weekly lunch in the team's calendar, made on the web.
    let form = get(&alice, "/calendar/event?date=2026-12-07");
    assert_eq!(form.status, 200);
    let csrf = hidden_field(&form.body, "csrf");
    let team = option_value(&form.body, "Info Desk");
    let made = form_post(
        &server,
        &alice,
        "/calendar/event",
        &format!(
            "csrf={csrf}&cal={}&summary=Team+lunch&date=2026-12-07&start=12%3A00&end=13%3A00&location=Canteen&repeat=weekly",
            team.replace('@', "%40")
        ),
    );
    assert_eq!(
        (made.status, made.header("location")),
        (303, Some("/calendar?date=2026-12-07&notice=saved")),
        "{}",
        made.body
    );
    let read = caldav(&server, "read-team");
    let data = read[0].as_str().unwrap();
    assert!(data.contains("SUMMARY:Team lunch") && data.contains("RRULE:FREQ=WEEKLY"), "{data}");
    assert!(data.contains("DTSTART:20261207T120000Z") && data.contains("LOCATION:Canteen"), "{data}");
    // The trail says who.
    let trail = mailroom_testkit::inspect::calendar_activity(&cli.data(), "info@contoso.com");
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert_eq!(trail[0].0, "alice@contoso.com");

    // One made over CalDAV shows in the web's week, beside the lunch.
    assert_eq!(caldav(&server, "add-own"), "added");
    let week = get(&alice, "/calendar?date=2026-12-07");
    assert_eq!(week.status, 200);
    assert!(week.body.contains("Dentist") && week.body.contains("Team lunch"), "{}", week.body);
    assert!(week.body.contains("09:00–10:00") && week.body.contains("12:00–13:00"), "{}", week.body);
    // The month has the lunch every week of December it falls in (7, 14, 21, 28) and into January's first row.
    let month = get(&alice, "/calendar?view=month&date=2026-12-07");
    assert!(month.body.matches("Team lunch").count() >= 4, "{}", month.body);
    // Hiding the team calendar hides its events.
    let hidden = get(&alice, &format!("/calendar?date=2026-12-07&hide={}", team.replace('@', "%40")));
    assert!(hidden.body.contains("Dentist") && !hidden.body.contains("Team lunch"), "{}", hidden.body);

    // Edit the dentist on the web: CalDAV sees the change.
    let link = week.body.split("/calendar/event?cal=").find(|s| s.contains("dentist")).unwrap();
    let href = format!(
        "/calendar/event?cal={}",
        link.split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&")
    );
    let event = get(&alice, &href);
    assert_eq!(event.status, 200, "{href}");
    let values = |name: &str| field(&event.body, name);
    let body = format!(
        "csrf={}&cal={}&name={}&etag={}&uid={}&summary=Dentist+%28moved%29&date=2026-12-08&start=15%3A00&end=16%3A00",
        values("csrf"),
        values("cal"),
        values("name"),
        values("etag"),
        values("uid"),
    );
    assert_eq!(form_post(&server, &alice, "/calendar/event", &body).status, 303);
    let moved = caldav(&server, "read-own");
    let text = moved.as_str().unwrap();
    assert!(text.contains("SUMMARY:Dentist (moved)") && text.contains("DTSTART:20261208T150000Z"), "{text}");
    // A stale etag (someone changed it meanwhile) is refused, not overwritten.
    let stale = form_post(&server, &alice, "/calendar/event", &body);
    assert_eq!(stale.status, 409, "{}", stale.body);
    // Delete on the web: gone over CalDAV.
    let event = get(&alice, &href);
    let delete = format!(
        "csrf={}&cal={}&name={}&etag={}",
        field(&event.body, "csrf"),
        field(&event.body, "cal"),
        field(&event.body, "name"),
        field(&event.body, "etag"),
    );
    assert_eq!(form_post(&server, &alice, "/calendar/delete", &delete).status, 303);
    assert_eq!(caldav(&server, "read-own"), serde_json::Value::Null);

    // Carol: not in her calendar list, not at its URL, can't write to it.
    let carol = web_sign_in(server.http(), "carol@contoso.com", "Carol-pass-123").unwrap();
    let hers = get(&carol, "/calendar?date=2026-12-07");
    assert!(!hers.body.contains("Info Desk") && !hers.body.contains("Team lunch"), "{}", hers.body);
    assert_eq!(
        get(&carol, &format!("/calendar/event?cal={}&name=x.ics", team.replace('@', "%40"))).status,
        404
    );
    let carol_csrf = hidden_field(&get(&carol, "/calendar/event").body, "csrf");
    let refused = form_post(
        &server,
        &carol,
        "/calendar/event",
        &format!(
            "csrf={carol_csrf}&cal={}&summary=Intrusion&date=2026-12-09&start=10%3A00&end=11%3A00",
            team.replace('@', "%40")
        ),
    );
    assert_ne!(refused.status, 303, "{}", refused.body);
    assert_eq!(caldav(&server, "read-team").as_array().unwrap().len(), 1, "nothing was added");
    // A title is required; an end before the start is named at its field.
    let bad = form_post(
        &server,
        &alice,
        "/calendar/event",
        &format!(
            "csrf={csrf}&cal={}&summary=&date=2026-12-09&start=10%3A00&end=11%3A00",
            team.replace('@', "%40")
        ),
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Give the event a title."), "{}", bad.body);
    let backwards = form_post(
        &server,
        &alice,
        "/calendar/event",
        &format!(
            "csrf={csrf}&cal={}&summary=Oops&date=2026-12-09&start=11%3A00&end=10%3A00",
            team.replace('@', "%40")
        ),
    );
    assert!(backwards.body.contains("The end must be after the start."), "{}", backwards.body);
}

/// Times are shown and taken in the browser's zone (its cookie): an event
/// made in Berlin is written with its TZID and a VTIMEZONE, so it stays at
/// 09:30 in summer; an event changed on the web keeps its alarm, attendee
/// and the client's own properties.
#[test]
fn times_follow_the_browsers_zone_and_edits_keep_what_the_form_does_not_show() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    let server = cli.serve(&[]);
    let alice = web_sign_in(server.http(), "alice@contoso.com", "Alice-pass-123").unwrap();
    let berlin = format!("{alice}; mailroom_tz=Europe%2FBerlin");
    let get = |cookie: &str, path: &str| http(server.http(), "GET", path, None, &[("Cookie", cookie)], b"");
    assert_eq!(caldav(&server, "add-review"), "added");
    let week = get(&berlin, "/calendar?date=2026-12-07");
    assert!(week.body.contains("Times in Europe/Berlin"), "{}", week.body);
    assert!(week.body.contains("09:00–10:00"), "08:00 UTC is 09:00 in Berlin: {}", week.body);
    let utc = get(&alice, "/calendar?date=2026-12-07");
    assert!(utc.body.contains("Times in UTC") && utc.body.contains("08:00–09:00"), "{}", utc.body);
    let unknown = get(&format!("{alice}; mailroom_tz=Mars%2FOlympus"), "/calendar?date=2026-12-07");
    assert!(unknown.body.contains("Times in UTC"), "an unknown zone is UTC");

    // A weekly standup at 09:30 Berlin time, made on the web.
    let form = get(&berlin, "/calendar/event?date=2026-12-07");
    assert!(form.body.contains("Start (Europe/Berlin)"), "{}", form.body);
    let csrf = hidden_field(&form.body, "csrf");
    let own = option_value(&form.body, "Calendar");
    let made = form_post(
        &server,
        &berlin,
        "/calendar/event",
        &format!(
            "csrf={csrf}&cal={}&summary=Standup&date=2026-12-07&start=09%3A30&end=09%3A45&repeat=weekly",
            own.replace('@', "%40")
        ),
    );
    assert_eq!(made.status, 303, "{}", made.body);
    let week = get(&berlin, "/calendar?date=2026-12-07");
    let standup = week.body.split("Standup").next().unwrap();
    assert!(standup.ends_with("09:30–09:45</span> <span class=\"summary\">"), "{}", week.body);
    let summer = get(&berlin, "/calendar?date=2027-06-07");
    assert!(summer.body.contains("09:30–09:45"), "still 09:30 in summer: {}", summer.body);
    assert!(get(&alice, "/calendar?date=2027-06-07").body.contains("07:30–07:45"), "07:30 UTC in summer");
    // Read with Python's caldav: the zone by name, and its definition.
    let list = get(&berlin, "/calendar?date=2026-12-07").body;
    let uid_link = list.split("/calendar/event?cal=").find(|s| s.contains("Standup")).unwrap();
    let name = uid_link.split("name=").nth(1).unwrap().split('"').next().unwrap();
    let uid = name.trim_end_matches(".ics").replace("%40", "@");
    let text = caldav(&server, &format!("read-uid:{uid}"));
    let text = text.as_str().unwrap();
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261207T093000"), "{text}");
    assert!(text.contains("BEGIN:VTIMEZONE") && text.contains("TZID:Europe/Berlin"), "{text}");
    assert!(text.contains("RRULE:FREQ=WEEKLY"), "{text}");
    // Renamed from New York, times untouched: its start is as written. Then
    // moved to 04:00 New York time: still written in Berlin's zone (10:00).
    let standup_href = format!(
        "/calendar/event?cal={}",
        uid_link.split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&")
    );
    let new_york = format!("{alice}; mailroom_tz=America%2FNew_York");
    let event = get(&new_york, &standup_href);
    assert!(event.body.contains(r#"name="start" type="time" value="03:30""#), "{}", event.body);
    let edit = |summary: &str, start: &str, end: &str| {
        let event = get(&new_york, &standup_href);
        format!(
            "csrf={}&cal={}&name={}&etag={}&uid={}&shown_times={}&summary={summary}&date=2026-12-07&start={start}&end={end}&repeat=weekly",
            field(&event.body, "csrf"),
            field(&event.body, "cal"),
            field(&event.body, "name"),
            field(&event.body, "etag"),
            field(&event.body, "uid"),
            field(&event.body, "shown_times"),
        )
    };
    assert_eq!(
        form_post(&server, &new_york, "/calendar/event", &edit("Daily+standup", "03%3A30", "03%3A45")).status,
        303
    );
    let text = caldav(&server, &format!("read-uid:{uid}"));
    let text = text.as_str().unwrap();
    assert!(text.contains("SUMMARY:Daily standup"), "{text}");
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261207T093000"), "untouched: {text}");
    assert_eq!(
        form_post(&server, &new_york, "/calendar/event", &edit("Daily+standup", "04%3A00", "04%3A15")).status,
        303
    );
    let text = caldav(&server, &format!("read-uid:{uid}"));
    let text = text.as_str().unwrap();
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261207T100000"), "the event's own zone: {text}");
    assert!(!text.contains("America/New_York"), "{text}");

    // The review changed on the web (in Berlin): its alarm, attendee and the
    // client's property are still there.
    let link = week.body.split("/calendar/event?cal=").find(|s| s.contains("review")).unwrap();
    let href = format!(
        "/calendar/event?cal={}",
        link.split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&")
    );
    let event = get(&berlin, &href);
    assert!(event.body.contains(r#"name="start" type="time" value="09:00""#), "Berlin time: {}", event.body);
    let body = format!(
        "csrf={}&cal={}&name={}&etag={}&uid={}&summary=Review+%28longer%29&date=2026-12-08&start=11%3A00&end=12%3A30",
        field(&event.body, "csrf"),
        field(&event.body, "cal"),
        field(&event.body, "name"),
        field(&event.body, "etag"),
        field(&event.body, "uid"),
    );
    assert_eq!(form_post(&server, &berlin, "/calendar/event", &body).status, 303);
    let text = caldav(&server, "read-uid:review-1");
    let text = text.as_str().unwrap();
    assert!(text.contains("SUMMARY:Review (longer)"), "{text}");
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261208T110000"), "{text}");
    assert!(text.contains("BEGIN:VALARM") && text.contains("TRIGGER:-PT10M"), "the alarm stays: {text}");
    assert!(text.contains("ATTENDEE;CN=Bob:mailto:bob@fabrikam.example"), "{text}");
    assert!(text.contains("X-TEST-CLIENT:kept as written"), "{text}");
    assert!(!text.contains("SUMMARY:Review\r\n") && !text.contains("T080000Z"), "{text}");
}

/// A hidden field's value as a browser would post it: the page's escapes
/// undone, then form-encoded.
fn field(html: &str, name: &str) -> String {
    let raw = hidden_field(html, name)
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
