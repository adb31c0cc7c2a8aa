//! The admin center and the admin API for a big organisation: N shared
//! mailboxes (10,000 by default) and a signed-in admin, over one kept-alive
//! HTTP connection. Each page is timed next to a baseline measured in the
//! same run: a signed-in "not found" page (the session and role checks and
//! the smallest template, no directory listing).
//!
//!     cargo run --release -p mailroom-bench --bin admin_pages -- [--mailboxes 10000] [--rounds 50]

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Result, bail};
use mailroom_bench::arg;
use mailroom_core::directory::{Actor, AdminRole, NewMailbox, NewMailboxKind};

fn main() -> Result<()> {
    let mailboxes: usize = arg("--mailboxes", 10_000);
    let rounds: usize = arg("--rounds", 50);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(mailboxes, rounds))
}

async fn setup(data: &std::path::Path, mailboxes: usize) -> Result<i64> {
    let org = mailroom_bench::organisation(data, &["admin"]).await?;
    let roles: BTreeSet<AdminRole> = [AdminRole::GlobalAdmin].into();
    org.dir.set_roles(&Actor::System, org.users[0].id, roles).await?;
    // 64 creations at a time, as a provisioning script would (group commit).
    let mut pending = Vec::new();
    let mut middle = 0;
    for i in 0..mailboxes {
        let dir = org.dir.clone();
        pending.push(tokio::spawn(async move {
            let spec = NewMailbox {
                name: format!("Team mailbox {i:05}"),
                display_name: None,
                alias: None,
                primary_address: None,
                kind: NewMailboxKind::Shared,
            };
            dir.create_mailbox(&Actor::System, spec).await
        }));
        if pending.len() == 64 {
            for task in pending.drain(..) {
                let created = task.await??;
                if created.name == format!("Team mailbox {:05}", mailboxes / 2) {
                    middle = created.id.0;
                }
            }
        }
    }
    for task in pending {
        let created = task.await??;
        if created.name == format!("Team mailbox {:05}", mailboxes / 2) {
            middle = created.id.0;
        }
    }
    Ok(if middle == 0 { org.info.id.0 } else { middle })
}

async fn run(mailboxes: usize, rounds: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let data = tmp.path().join("data");
    std::fs::create_dir(&data)?;
    let started = Instant::now();
    let middle = setup(&data, mailboxes).await?;
    println!("created {mailboxes} shared mailboxes in {:.1} s", started.elapsed().as_secs_f64());
    let (running, addr) = mailroom_bench::serve_http(&data).await?;
    let mut http = mailroom_bench::HttpClient::connect(addr).await?;

    http.sign_in("admin@bench.example", mailroom_bench::PASSWORD).await?;

    let start = Instant::now();
    for _ in 0..200 {
        let (status, _) = http.request("GET", "/admin/no-such-page", &[], "").await?;
        if status != 404 {
            bail!("the not-found page answered {status}");
        }
    }
    let baseline = start.elapsed().as_secs_f64() / 200.0;
    println!("baseline: a signed-in not-found page, round trip {:.3} ms", baseline * 1000.0);
    println!();
    println!("{:<44} {:>9} {:>10} {:>12}", "request", "bytes", "ms", "x baseline");
    let detail = format!("/admin/mailboxes/{middle}");
    let cases = [
        ("shared mailboxes, page 1 of the list", "/admin/shared-mailboxes".to_string()),
        (
            "shared mailboxes, a middle page",
            format!("/admin/shared-mailboxes?page={}", (mailboxes / 200).max(1)),
        ),
        (
            "shared mailboxes, search (one match)",
            format!("/admin/shared-mailboxes?q=mailbox%20{:05}", mailboxes / 3),
        ),
        ("one shared mailbox's detail pane", detail),
        ("people picker suggestions", "/admin/people?q=adm".to_string()),
        ("API: every shared mailbox (JSON)", "/api/v1/mailboxes?type=shared".to_string()),
    ];
    for (name, path) in cases {
        let (status, reply) = http.request("GET", &path, &[], "").await?;
        if status != 200 {
            bail!("{name} answered {status}: {reply}");
        }
        let n = if path.starts_with("/api/") { rounds.div_ceil(5) } else { rounds };
        let start = Instant::now();
        for _ in 0..n {
            http.request("GET", &path, &[], "").await?;
        }
        let each = start.elapsed().as_secs_f64() / n as f64;
        println!("{name:<44} {:>9} {:>10.2} {:>12.0}", reply.len(), each * 1000.0, each / baseline);
    }
    running.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}
