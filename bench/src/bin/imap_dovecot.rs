//! Mailroom's IMAP against Dovecot's on this machine, in one run: the same
//! client (this binary) drives both servers, each in a process of its own,
//! through the same workloads, alternating which goes first; every row is
//! a ratio Mailroom ÷ Dovecot (above 1 means Mailroom is ahead).
//!
//! Workloads, all on one account's INBOX of `--messages` messages put there
//! by APPEND through IMAP (so both servers store exactly the same mail):
//! - APPEND/s: one client appending the messages, one at a time;
//! - single commands: FETCH of every message's FLAGS and ENVELOPE, one
//!   whole message, SEARCH SUBJECT/BODY/TEXT, SORT and THREAD, each as the
//!   median of `--runs` runs;
//! - persistent sessions: `--clients` clients signed in once to the same
//!   INBOX, each running a mail client's mix of commands (NOOP, newest
//!   headers, one body, flag search, STORE, subject search, STATUS) for
//!   `--seconds`; commands per second;
//! - login mix: `--clients` clients, each on an account of its own with
//!   50 messages, looping connect, LOGIN, SELECT, FETCH FLAGS, SEARCH
//!   UNSEEN, LOGOUT; commands per second.
//!
//! Dovecot (Debian's `dovecot-imapd`, 2.3) runs with its defaults apart from
//! what a test server needs: loopback, no TLS, plain-text sign-in allowed,
//! passwords in a passwd-file as `--dovecot-scheme` (default SHA512-CRYPT,
//! Dovecot's usual choice), Maildir owned by `nobody` — and its
//! authentication cache on for 10 minutes, as Mailroom remembers verified
//! passwords for 10 minutes by default, so the login mix compares like with
//! like. It must be run as root (Dovecot's master switches users).
//!
//!     apt-get install dovecot-imapd
//!     cargo run --release -p mailroom-bench --bin imap_dovecot -- [--messages 2000] [--clients 10] [--seconds 10] [--runs 20] [--repeat 2] [--mailroom-only [--only single|persistent|login]]
//!
//! `--mailroom-only` skips Dovecot and prints Mailroom's own figures;
//! `BENCH_SERVER_WRAP="perf record -g -o perf.data --"` runs the Mailroom
//! server under a profiler.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mailroom_bench::{ImapClient, arg};
use mailroom_server::Listener;
use tokio::io::AsyncWriteExt;

/// Accounts: `user0` holds the big INBOX, `user1..` the login mix's small ones.
const SMALL_INBOX: usize = 50;

fn main() -> Result<()> {
    if let Some(data) = std::env::args().skip_while(|a| a != "--serve-data").nth(1) {
        return serve_only(Path::new(&data));
    }
    let settings = Settings {
        messages: arg("--messages", 2000),
        clients: arg("--clients", 10),
        seconds: Duration::from_secs(arg("--seconds", 10)),
        runs: arg("--runs", 20),
        repeat: arg("--repeat", 2),
        scheme: arg("--dovecot-scheme", "SHA512-CRYPT".to_string()),
        mailroom_only: std::env::args().any(|a| a == "--mailroom-only"),
        only: arg("--only", String::new()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(&settings))
}

struct Settings {
    messages: usize,
    clients: usize,
    seconds: Duration,
    runs: usize,
    repeat: usize,
    scheme: String,
    /// Without Dovecot: Mailroom's own figures (profiling, quick checks).
    mailroom_only: bool,
    /// With `--mailroom-only`: one workload (`single`, `persistent`,
    /// `login`) rather than all three.
    only: String,
}

/// The child process: Mailroom serving `data`, IMAP on loopback, until its
/// stdin closes.
fn serve_only(data: &Path) -> Result<()> {
    use std::io::Read;
    let config = mailroom_bench::imap_only_config();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let running = runtime.block_on(mailroom_server::start(data, config))?;
    let addr = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).context("imap listener")?.1;
    println!("imap {addr}");
    println!("ready");
    // The runtime's workers serve while this thread waits for the parent.
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    runtime.block_on(running.shutdown(Duration::from_secs(5)));
    Ok(())
}

/// A server under test: its process and IMAP address.
struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Mailroom stops when its stdin closes; Dovecot's master on SIGTERM.
        drop(self.child.stdin.take());
        if self.name == "Dovecot" {
            let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        }
        let _ = self.child.wait();
    }
}

async fn start_mailroom(data: &Path, users: usize) -> Result<Server> {
    let aliases: Vec<String> = (0..users).map(|i| format!("user{i}")).collect();
    mailroom_bench::organisation(data, &aliases.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    // BENCH_SERVER_WRAP runs the server under another program, e.g.
    // "perf record -e cpu-clock -g -o /tmp/perf.data --" to profile it.
    let wrap = std::env::var("BENCH_SERVER_WRAP").unwrap_or_default();
    let mut words = wrap.split_whitespace();
    let mut command = match words.next() {
        Some(program) => {
            let mut c = Command::new(program);
            c.args(words).arg(std::env::current_exe()?);
            c
        }
        None => Command::new(std::env::current_exe()?),
    };
    let mut child =
        command.arg("--serve-data").arg(data).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    use std::io::BufRead;
    let mut addr = None;
    for line in std::io::BufReader::new(child.stdout.take().context("child stdout")?).lines() {
        let line = line?;
        if let Some(a) = line.strip_prefix("imap ") {
            addr = Some(a.parse()?);
        }
        if line == "ready" {
            break;
        }
    }
    Ok(Server { name: "Mailroom", child, addr: addr.context("Mailroom's IMAP address")? })
}

async fn start_dovecot(dir: &Path, users: usize, scheme: &str) -> Result<Server> {
    let binary = Path::new("/usr/sbin/dovecot");
    if !binary.exists() {
        bail!("Dovecot is not installed: apt-get install dovecot-imapd (and run as root)");
    }
    let nobody = 65534;
    // Dovecot's mail processes run as nobody: the temporary directory
    // (made 0700) must let them through to the Maildirs.
    if let Some(parent) = dir.parent() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755))?;
    }
    for sub in ["run", "state", "mail"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    std::os::unix::fs::chown(dir.join("mail"), Some(nobody), Some(nobody))?;
    // A free loopback port: bind 0, read it, let it go for Dovecot.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let conf = dir.join("dovecot.conf");
    std::fs::write(
        &conf,
        format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             auth_cache_size = 10M\n\
             auth_cache_ttl = 10 mins\n\
             mail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={nobody} gid={nobody} home={d}/mail/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    port = 0\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n\
             service submission-login {{\n  inet_listener submission {{\n    port = 0\n  }}\n}}\n\
             service lmtp {{\n  unix_listener lmtp {{\n    mode = 0600\n  }}\n}}\n",
            d = dir.display()
        ),
    )?;
    let hash = Command::new("doveadm")
        .args(["-c"])
        .arg(&conf)
        .args(["pw", "-s", scheme, "-p", mailroom_bench::PASSWORD])
        .output()
        .context("doveadm pw")?;
    if !hash.status.success() {
        bail!("doveadm pw: {}", String::from_utf8_lossy(&hash.stderr));
    }
    let hash = String::from_utf8(hash.stdout)?.trim().to_string();
    let passwd: String = (0..users).map(|i| format!("user{i}@bench.example:{hash}\n")).collect();
    std::fs::write(dir.join("passwd"), passwd)?;
    let child = Command::new(binary).arg("-F").arg("-c").arg(&conf).stdin(Stdio::null()).spawn()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while ImapClient::connect(addr).await.is_err() {
        if Instant::now() > deadline {
            bail!("Dovecot did not listen on {addr}; see {}/dovecot.log", dir.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Server { name: "Dovecot", child, addr })
}

/// Message `n` of an INBOX: about 1 KB of text, distinct, two in three
/// replying to the one before (threads for THREAD), every seventh with a
/// quoted-printable body (BODY search must decode).
fn message(owner: usize, n: usize) -> String {
    let references = if !n.is_multiple_of(3) && n > 0 {
        format!(
            "In-Reply-To: <{owner}.{}@example.org>\r\nReferences: <{owner}.{}@example.org>\r\n",
            n - 1,
            n - 1
        )
    } else {
        String::new()
    };
    let (encoding, text) = if n.is_multiple_of(7) {
        ("quoted-printable", "Gr=C3=BC=C3=9Fe aus Z=C3=BCrich, my order has not arrived. ".repeat(16))
    } else {
        ("8bit", "Hello, I have a question about my order number. ".repeat(20))
    };
    format!(
        "From: Customer {n} <c{n}@example.org>\r\nTo: user{owner}@bench.example\r\nSubject: Question number {n}\r\n\
         Date: Mon, 23 Nov 2026 10:{:02}:00 +0000\r\nMessage-ID: <{owner}.{n}@example.org>\r\n{references}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{text}\r\n",
        n % 60
    )
}

async fn login(addr: SocketAddr, user: usize) -> Result<ImapClient> {
    let mut c = ImapClient::connect(addr).await?;
    c.cmd(&format!("LOGIN user{user}@bench.example {}", mailroom_bench::PASSWORD)).await?;
    Ok(c)
}

async fn append(c: &mut ImapClient, body: &str) -> Result<()> {
    c.tag += 1;
    let tag = format!("t{}", c.tag);
    c.write.write_all(format!("{tag} APPEND INBOX {{{}+}}\r\n{body}\r\n", body.len()).as_bytes()).await?;
    c.finish(&tag).await?;
    Ok(())
}

/// Fills every account's INBOX; returns user0's APPENDs per second.
async fn fill(server: &Server, messages: usize, users: usize) -> Result<f64> {
    let mut c = login(server.addr, 0).await?;
    let started = Instant::now();
    for n in 0..messages {
        append(&mut c, &message(0, n)).await?;
    }
    let rate = messages as f64 / started.elapsed().as_secs_f64();
    for user in 1..users {
        let mut c = login(server.addr, user).await?;
        for n in 0..SMALL_INBOX {
            append(&mut c, &message(user, n)).await?;
        }
    }
    Ok(rate)
}

fn single_commands(messages: usize) -> Vec<String> {
    vec![
        "NOOP".into(),
        "UID FETCH 1:* (FLAGS)".into(),
        "FETCH 1:* (ENVELOPE)".into(),
        format!("FETCH {} BODY.PEEK[]", messages / 2 + 1),
        format!("SEARCH SUBJECT \"number {}\"", messages - 1),
        // Non-ASCII, so a literal (LITERAL+) with CHARSET: 7 octets of UTF-8.
        "SEARCH CHARSET UTF-8 BODY {7+}\r\nzürich".into(),
        "SEARCH TEXT \"nothing like it\"".into(),
        "SORT (SUBJECT) UTF-8 ALL".into(),
        "THREAD REFERENCES UTF-8 ALL".into(),
    ]
}

async fn time_single(server: &Server, messages: usize, runs: usize) -> Result<Vec<Duration>> {
    let mut c = login(server.addr, 0).await?;
    c.cmd("SELECT INBOX").await?;
    let mut times = Vec::new();
    for command in single_commands(messages) {
        times.push(mailroom_bench::median(&mut c, &command, runs).await?);
    }
    c.cmd("LOGOUT").await.ok();
    Ok(times)
}

/// A small deterministic generator, so both servers see the same commands.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

/// The persistent mix, one command of each kind in turn (a mail client's
/// steady state: poll, newest headers, read one, flag search, flag, subject
/// search, folder status, unflag).
const MIX: [&str; 8] = [
    "NOOP",
    "FETCH newest 50 headers",
    "FETCH one BODY[]",
    "UID SEARCH FLAGGED",
    "STORE +FLAGS",
    "UID SEARCH SUBJECT",
    "STATUS",
    "STORE -FLAGS",
];

/// Time spent per kind of command of [`MIX`], and how many ran.
#[derive(Default, Clone, Copy)]
struct MixTimes {
    time: [Duration; 8],
    count: [u64; 8],
}

/// One persistent client's loop until `until`.
async fn persistent_client(
    addr: SocketAddr,
    client: usize,
    messages: usize,
    until: Instant,
) -> Result<MixTimes> {
    let mut c = login(addr, 0).await?;
    c.cmd("SELECT INBOX").await?;
    let mut seed = client as u64 + 1;
    let mut times = MixTimes::default();
    let mut done = 0;
    let newest = messages.saturating_sub(49).max(1);
    while Instant::now() < until {
        let r = next(&mut seed) as usize % messages + 1;
        let kind = done % 8;
        let command = match kind {
            0 => "NOOP".to_string(),
            1 => format!("FETCH {newest}:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])"),
            2 => format!("FETCH {r} BODY.PEEK[]"),
            3 => "UID SEARCH FLAGGED".to_string(),
            4 => format!("STORE {r} +FLAGS.SILENT (\\Flagged)"),
            5 => format!("UID SEARCH SUBJECT \"number {r}\""),
            6 => "STATUS INBOX (MESSAGES UNSEEN)".to_string(),
            _ => format!("STORE {r} -FLAGS.SILENT (\\Flagged)"),
        };
        let started = Instant::now();
        c.cmd(&command).await?;
        times.time[kind] += started.elapsed();
        times.count[kind] += 1;
        done += 1;
    }
    c.cmd("LOGOUT").await.ok();
    Ok(times)
}

async fn persistent(
    server: &Server,
    clients: usize,
    messages: usize,
    time: Duration,
) -> Result<(f64, MixTimes)> {
    let until = Instant::now() + time;
    let started = Instant::now();
    let tasks: Vec<_> =
        (0..clients).map(|i| tokio::spawn(persistent_client(server.addr, i, messages, until))).collect();
    let mut all = MixTimes::default();
    for task in tasks {
        let times = task.await??;
        for kind in 0..8 {
            all.time[kind] += times.time[kind];
            all.count[kind] += times.count[kind];
        }
    }
    let total: u64 = all.count.iter().sum();
    Ok((total as f64 / started.elapsed().as_secs_f64(), all))
}

/// One login-mix client's loop until `until`; returns commands done.
async fn login_client(addr: SocketAddr, user: usize, until: Instant) -> Result<u64> {
    let mut done = 0;
    while Instant::now() < until {
        let mut c = login(addr, user).await?;
        c.cmd("SELECT INBOX").await?;
        c.cmd("FETCH 1:* (FLAGS)").await?;
        c.cmd("UID SEARCH UNSEEN").await?;
        c.cmd("LOGOUT").await?;
        done += 5;
    }
    Ok(done)
}

async fn login_mix(server: &Server, clients: usize, time: Duration) -> Result<f64> {
    let until = Instant::now() + time;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients).map(|i| tokio::spawn(login_client(server.addr, i + 1, until))).collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// `--mailroom-only`: the same workloads on Mailroom alone, its own
/// figures (no ratio), for profiling and quick checks between changes.
async fn run_mailroom_only(mailroom: &Server, s: &Settings, users: usize) -> Result<()> {
    let rate = fill(mailroom, s.messages, users).await?;
    println!("APPEND /s (1 client): {rate:.0}");
    for round in 0..s.repeat {
        println!("round {}", round + 1);
        let wanted = |workload: &str| s.only.is_empty() || s.only == workload;
        if wanted("single") {
            let single = time_single(mailroom, s.messages, s.runs).await?;
            for (command, time) in single_commands(s.messages).into_iter().zip(single) {
                let command = command.replace("{7+}\r\n", "");
                println!("  {command:<50} {:>8.2} ms", time.as_secs_f64() * 1000.0);
            }
        }
        if wanted("persistent") {
            let (rate, mix) = persistent(mailroom, s.clients, s.messages, s.seconds).await?;
            println!("  {} persistent sessions: {rate:.0} cmd/s", s.clients);
            for (kind, label) in MIX.iter().enumerate() {
                let mean = mix.time[kind].as_secs_f64() * 1000.0 / mix.count[kind].max(1) as f64;
                println!("    {label:<28} {mean:>8.2} ms");
            }
        }
        if wanted("login") {
            let logins = login_mix(mailroom, s.clients, s.seconds).await?;
            println!("  login mix, {} clients: {logins:.0} cmd/s", s.clients);
        }
    }
    Ok(())
}

/// Which figure: a rate (higher is better) or a time (lower is better).
enum Figure {
    Rate(f64),
    Time(Duration),
}

async fn run(s: &Settings) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let users = s.clients + 1;
    let data = tmp.path().join("mailroom");
    std::fs::create_dir(&data)?;
    let mailroom = start_mailroom(&data, users).await?;
    if s.mailroom_only {
        return run_mailroom_only(&mailroom, s, users).await;
    }
    let dovecot = start_dovecot(&tmp.path().join("dovecot"), users, &s.scheme).await?;
    println!("Mailroom on {}, Dovecot ({}) on {}", mailroom.addr, s.scheme, dovecot.addr);

    let mut rows: Vec<(String, Vec<Figure>, Vec<Figure>)> = Vec::new();
    let mut record = |name: String, dovecot: Figure, mailroom: Figure| {
        if let Some(row) = rows.iter_mut().find(|r| r.0 == name) {
            row.1.push(dovecot);
            row.2.push(mailroom);
        } else {
            rows.push((name, vec![dovecot], vec![mailroom]));
        }
    };
    // Filling is the APPEND row: Dovecot first, then Mailroom (once each).
    let d = fill(&dovecot, s.messages, users).await?;
    let m = fill(&mailroom, s.messages, users).await?;
    record("APPEND /s (1 client)".into(), Figure::Rate(d), Figure::Rate(m));
    println!("filled both servers: {} messages in user0's INBOX, {SMALL_INBOX} in each other's", s.messages);

    let mut last_mix: Vec<(&str, MixTimes)> = Vec::new();
    for round in 0..s.repeat {
        // Alternate which server goes first.
        let order: [&Server; 2] = if round % 2 == 0 { [&dovecot, &mailroom] } else { [&mailroom, &dovecot] };
        let mut single = Vec::new();
        let mut sessions = Vec::new();
        let mut mixes = Vec::new();
        let mut logins = Vec::new();
        for server in order {
            single.push((server.name, time_single(server, s.messages, s.runs).await?));
            let (rate, mix) = persistent(server, s.clients, s.messages, s.seconds).await?;
            sessions.push((server.name, rate));
            mixes.push((server.name, mix));
            logins.push((server.name, login_mix(server, s.clients, s.seconds).await?));
        }
        let pick = |list: &Vec<(&str, _)>, name: &str| list.iter().position(|(n, _)| *n == name).unwrap_or(0);
        let (di, mi) = (pick(&single, "Dovecot"), pick(&single, "Mailroom"));
        for (i, command) in single_commands(s.messages).into_iter().enumerate() {
            let command = command.replace("{7+}\r\n", "");
            record(format!("{command} (ms)"), Figure::Time(single[di].1[i]), Figure::Time(single[mi].1[i]));
        }
        record(
            format!("{} persistent sessions, cmd/s", s.clients),
            Figure::Rate(sessions[di].1),
            Figure::Rate(sessions[mi].1),
        );
        record(
            format!("login mix, {} clients, cmd/s", s.clients),
            Figure::Rate(logins[di].1),
            Figure::Rate(logins[mi].1),
        );
        last_mix = mixes;
    }

    println!();
    println!("{:<52} {:>18} {:>18} {:>16}", "workload", "Dovecot", "Mailroom", "Mailroom÷Dovecot");
    for (name, d, m) in rows {
        let show = |f: &Figure| match f {
            Figure::Rate(r) => format!("{r:.0}"),
            Figure::Time(t) => format!("{:.2}", t.as_secs_f64() * 1000.0),
        };
        let ratio = |d: &Figure, m: &Figure| match (d, m) {
            (Figure::Rate(d), Figure::Rate(m)) => m / d,
            (Figure::Time(d), Figure::Time(m)) => d.as_secs_f64() / m.as_secs_f64(),
            _ => f64::NAN,
        };
        let join = |v: &Vec<Figure>| v.iter().map(show).collect::<Vec<_>>().join(" / ");
        let ratios: Vec<String> = d.iter().zip(&m).map(|(d, m)| format!("{:.2}", ratio(d, m))).collect();
        println!("{name:<52} {:>18} {:>18} {:>16}", join(&d), join(&m), ratios.join(" / "));
    }
    // Where the persistent sessions' time went (the last round): the mean
    // time of each kind of command, as each client waited for it.
    println!();
    println!("persistent mix, mean ms per command (last round):");
    print!("{:<28}", "command");
    for (name, _) in &last_mix {
        print!(" {name:>10}");
    }
    println!();
    for (kind, label) in MIX.iter().enumerate() {
        print!("{label:<28}");
        for (_, mix) in &last_mix {
            let mean = mix.time[kind].as_secs_f64() * 1000.0 / mix.count[kind].max(1) as f64;
            print!(" {mean:>10.2}");
        }
        println!();
    }
    drop(mailroom);
    drop(dovecot);
    Ok(())
}
