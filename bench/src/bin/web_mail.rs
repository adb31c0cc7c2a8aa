//! The web app on a big shared folder: a member's message list of a
//! 100,000-message shared Inbox (first page, a middle page, unread only, a
//! search), and opening a 1 MB HTML message (parsed, cleaned, rendered),
//! over one kept-alive HTTP connection with the member's session. Stated
//! next to a baseline measured in the same run: the compose page (session,
//! the From chooser's rights, a template; no folder read).
//!
//!     cargo run --release -p mailroom-bench --bin web_mail -- [--messages 100000] [--rounds 30]

use std::time::Instant;

use anyhow::{Context, Result, bail};
use mailroom_bench::arg;
use mailroom_core::directory::Actor;
use mailroom_core::mail::{Flags, SpecialUse};
use mailroom_core::store::{DeliveryTarget, FolderRef};

fn main() -> Result<()> {
    let messages: usize = arg("--messages", 100_000);
    let rounds: usize = arg("--rounds", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(messages, rounds))
}

/// `count` messages into `mailbox`'s Inbox, 64 writers at a time; every
/// tenth unread, the rest read.
/// A 1 MB HTML message: a newsletter of tables, links and remote images
/// (`n` makes each one a different body).
fn big_html(n: usize) -> String {
    let mut html = format!("<html><body><h1>Monthly report {n}</h1>");
    let mut n = 0;
    while html.len() < 1024 * 1024 {
        html.push_str(&format!(
            "<table><tr><td><a href=\"https://example.com/item/{n}\">Item {n}</a></td><td style=\"color:red\" onclick=\"x()\">{}</td><td><img src=\"https://cdn.example.com/{n}.png\"></td></tr></table>\n",
            "Figures for the quarter, with notes. ".repeat(3)
        ));
        n += 1;
    }
    html.push_str("</body></html>");
    format!(
        "From: Reports <reports@example.org>\r\nTo: user0@bench.example\r\nSubject: Monthly report\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
}

async fn run(messages: usize, rounds: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let org = mailroom_bench::organisation(&data, &["user0"]).await?;
    let info = org.info.mailbox_id().context("info is a mailbox")?;
    let user = org.users[0].mailbox_id().context("user0 is a mailbox")?;
    org.dir.add_member(&Actor::System, info, org.users[0].id, true).await?;
    let started = Instant::now();
    mailroom_bench::fill_inbox(org.store.clone(), info, messages, |n| n % 10 == 0).await?;
    println!("delivered {messages} messages to the shared Inbox in {:.1} s", started.elapsed().as_secs_f64());
    // One per round, each opened once ("first open"), and the first again and again.
    for n in 0..=rounds {
        let report = big_html(n);
        let summary = mailroom_mime::summarize(report.as_bytes());
        let target = DeliveryTarget {
            mailbox: user,
            folder: FolderRef::Special(SpecialUse::Inbox),
            flags: Flags::default(),
        };
        org.store.deliver(report.into_bytes(), &summary, 1_795_000_000, &[target]).await?;
    }

    let (running, addr) = mailroom_bench::serve_http(&data).await?;
    // The server's indexer fills the search index in the background; a
    // search before it is done reads the newest bodies directly. Measure
    // the index, once it has caught up.
    let started = Instant::now();
    while mailroom_core::store::MailStore::text_backlog(&*org.store).await? > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    println!("the search index caught up in {:.1} s", started.elapsed().as_secs_f64());
    let mut http = mailroom_bench::HttpClient::connect(addr).await?;
    http.sign_in("user0@bench.example", mailroom_bench::PASSWORD).await?;
    // Where the shared Inbox and the report are.
    let info_inbox = location(&mut http, &format!("/mail/{}", info.0)).await?;
    let own_inbox = location(&mut http, "/mail/").await?;

    let start = Instant::now();
    for _ in 0..rounds {
        let (status, _) = http.request("GET", "/mail/compose", &[], "").await?;
        if status != 200 {
            bail!("compose answered {status}");
        }
    }
    let baseline = start.elapsed().as_secs_f64() / rounds as f64;
    println!("baseline: the compose page, round trip {:.3} ms", baseline * 1000.0);
    println!();
    println!("{:<46} {:>9} {:>10} {:>12}", "request", "bytes", "ms", "x baseline");
    let cases = [
        ("shared Inbox, first page (50)", info_inbox.clone()),
        ("shared Inbox, a middle page", format!("{info_inbox}?page={}", (messages / 100).max(1))),
        ("shared Inbox, unread only", format!("{info_inbox}?filter=unread")),
        ("shared Inbox, search (one match)", format!("{info_inbox}?q=number%20{}", messages / 3)),
        ("a 1 MB HTML message, opened again", format!("{own_inbox}/1")),
    ];
    for (name, path) in cases {
        let (status, reply) = http.request("GET", &path, &[], "").await?;
        if status != 200 {
            bail!("{name} answered {status}: {}", &reply[..reply.len().min(300)]);
        }
        let start = Instant::now();
        for _ in 0..rounds {
            http.request("GET", &path, &[], "").await?;
        }
        let each = start.elapsed().as_secs_f64() / rounds as f64;
        println!("{name:<46} {:>9} {:>10.2} {:>12.0}", reply.len(), each * 1000.0, each / baseline);
    }
    // Each of the other reports opened once: parsed and cleaned every time.
    let start = Instant::now();
    let mut bytes = 0;
    for uid in 2..=rounds + 1 {
        let (status, reply) = http.request("GET", &format!("{own_inbox}/{uid}"), &[], "").await?;
        if status != 200 {
            bail!("report {uid} answered {status}");
        }
        bytes = reply.len();
    }
    let each = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "{:<46} {bytes:>9} {:>10.2} {:>12.0}",
        "a 1 MB HTML message, first open",
        each * 1000.0,
        each / baseline
    );
    running.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}

/// Where a redirecting page sends the browser.
async fn location(http: &mut mailroom_bench::HttpClient, path: &str) -> Result<String> {
    let (status, body) = http.request("GET", path, &[], "").await?;
    if status != 303 {
        bail!("{path} answered {status}: {body}");
    }
    http.last_location.clone().context("a Location header")
}
