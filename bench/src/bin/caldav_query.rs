//! CalDAV calendar-query on a big shared calendar: a member's client asks
//! for a week, a month, and everything, of a calendar with N events (some
//! recurring), over a kept-alive HTTP connection; stated next to an OPTIONS
//! round trip (no sign-in, no store) measured in the same run.
//!
//!     cargo run --release -p mailroom-bench --bin caldav_query -- [--events 10000] [--rounds 50]

use std::time::Instant;

use anyhow::{Context, Result, bail};
use mailroom_bench::arg;
use mailroom_core::calendar::{Calendars, DEFAULT_CALENDAR, Precondition, PutOutcome};
use mailroom_core::directory::Actor;
use mailroom_server::{Config, ListenOverrides, Listener};

const TEAM: &str = "/dav/calendars/user0@bench.example/info@bench.example/";

fn main() -> Result<()> {
    let events: usize = arg("--events", 10_000);
    let rounds: usize = arg("--rounds", 50);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(events, rounds))
}

fn event(i: usize) -> String {
    // Spread over two years from 2026-01-01, one an hour-long meeting a
    // working hour; every 20th recurs weekly for 10 weeks.
    let day = i % 730;
    let hour = 8 + (i / 730) % 10;
    let date =
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date") + chrono::Days::new(day as u64);
    let start = format!("{}T{hour:02}0000Z", date.format("%Y%m%d"));
    let rule = if i.is_multiple_of(20) { "RRULE:FREQ=WEEKLY;COUNT=10\r\n" } else { "" };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n{rule}SUMMARY:Meeting {i}\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nDESCRIPTION:Soon\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

async fn setup(data: &std::path::Path, events: usize) -> Result<()> {
    let org = mailroom_bench::organisation(data, &["user0"]).await?;
    let (info, member) = (&org.info, &org.users[0]);
    let info_id = info.mailbox_id().context("info is a mailbox")?;
    org.dir.add_member(&Actor::System, info_id, member.id, true).await?;
    let calendars = Calendars::new(org.dir.clone(), org.store.clone());
    let open = calendars.open(member.id, info, DEFAULT_CALENDAR).await?;
    // 64 writes at a time, as many clients would (group commit).
    let mut pending = Vec::new();
    for i in 0..events {
        let object = mailroom_ical::validate(&event(i)).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (calendars, open) = (calendars.clone(), open.clone());
        pending.push(tokio::spawn(async move {
            calendars.put(&open, &format!("bench-{i}.ics"), &object, &Precondition::None).await
        }));
        if pending.len() == 64 {
            for task in pending.drain(..) {
                if !matches!(task.await??, PutOutcome::Created { .. }) {
                    bail!("an event wasn't created");
                }
            }
        }
    }
    for task in pending {
        task.await??;
    }
    Ok(())
}

fn query(start: &str, end: &str) -> String {
    let range = if start.is_empty() {
        String::new()
    } else {
        format!("<c:time-range start=\"{start}\" end=\"{end}\"/>")
    };
    format!(
        r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">{range}</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
    )
}

async fn run(events: usize, rounds: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let started = Instant::now();
    setup(&data, events).await?;
    println!("stored {events} events (validated, indexed) in {:.1} s", started.elapsed().as_secs_f64());
    let mut config = Config { hostname: Some("bench.example".into()), ..Config::default() };
    config.apply(&ListenOverrides {
        smtp: Some("off".into()),
        imap: Some("off".into()),
        imaps: Some("off".into()),
        http: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let running = mailroom_server::start(&data, config).await?;
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Http).context("http listener")?.1;
    let mut http = mailroom_bench::HttpClient::connect(addr).await?;
    // Basic auth on every request, as CalDAV clients send it.
    let credentials = format!("user0@bench.example:{}", mailroom_bench::PASSWORD);
    http.headers.push((
        "Authorization".into(),
        format!("Basic {}", mailroom_mime::encode_base64(credentials.as_bytes())),
    ));
    http.headers.push(("Content-Type".into(), "application/xml".into()));

    let start = Instant::now();
    for _ in 0..200 {
        let (status, _) = http.request("OPTIONS", "/dav/", &[("Depth", "0")], "").await?;
        if status != 200 {
            bail!("OPTIONS answered {status}");
        }
    }
    let options = start.elapsed().as_secs_f64() / 200.0;
    println!("baseline: OPTIONS round trip {:.3} ms", options * 1000.0);
    println!();
    println!("{:<34} {:>8} {:>10} {:>12}", "request", "matches", "ms", "x OPTIONS");
    let cases = [
        ("GET one event", "GET", format!("{TEAM}bench-7.ics"), String::new()),
        (
            "calendar-query, one week",
            "REPORT",
            TEAM.to_string(),
            query("20260601T000000Z", "20260608T000000Z"),
        ),
        (
            "calendar-query, one month",
            "REPORT",
            TEAM.to_string(),
            query("20260601T000000Z", "20260701T000000Z"),
        ),
        ("calendar-query, no range (all)", "REPORT", TEAM.to_string(), query("", "")),
    ];
    for (name, method, path, body) in cases {
        let (status, reply) = http.request(method, &path, &[("Depth", "1")], &body).await?;
        if status != 200 && status != 207 {
            bail!("{name} answered {status}: {reply}");
        }
        let matches = reply.matches("<d:response>").count();
        let n = if body.contains("time-range") || method == "GET" { rounds } else { rounds.div_ceil(10) };
        let start = Instant::now();
        for _ in 0..n {
            http.request(method, &path, &[("Depth", "1")], &body).await?;
        }
        let each = start.elapsed().as_secs_f64() / n as f64;
        println!("{name:<34} {matches:>8} {:>10.2} {:>12.0}", each * 1000.0, each / options);
    }
    running.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}
