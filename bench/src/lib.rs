//! Shared pieces of the benchmarks: the disk's fsync rate (the baseline
//! every durable-write figure is stated against) and a throwaway
//! organisation to serve.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How many `write(4 KiB) + fsync` a second the disk under `dir` sustains,
/// measured for `duration`. This is what "one fsync per message" would cap
/// delivery at.
pub fn fsync_rate(dir: &Path, duration: Duration) -> std::io::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration {
        file.write_all(&block)?;
        file.sync_data()?;
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// The server's configuration for an IMAP benchmark: `bench.example`, IMAP
/// on a free loopback port, every other listener off.
pub fn imap_only_config() -> mailroom_server::Config {
    let mut config = mailroom_server::Config { hostname: Some("bench.example".into()), ..Default::default() };
    config.apply(&mailroom_server::ListenOverrides {
        smtp: Some("off".into()),
        imap: Some("127.0.0.1:0".into()),
        imaps: Some("off".into()),
        ..Default::default()
    });
    config
}

/// The median time of `runs` runs of an IMAP `command` on `client`.
pub async fn median(client: &mut ImapClient, command: &str, runs: usize) -> anyhow::Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        client.cmd(command).await?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// Parses `--name value` from the arguments, with a default.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Reads one SMTP reply (all its lines) and fails unless it has `code`.
pub async fn expect(
    read: &mut tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: u16,
) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            anyhow::bail!("connection closed while waiting for {code}");
        }
        let got: Option<u16> = line.get(..3).and_then(|c| c.parse().ok());
        if got != Some(code) {
            anyhow::bail!("expected {code}, got {}", line.trim_end());
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}

/// The password of every bench user.
pub const PASSWORD: &str = "Bench-pass-123";

/// A throwaway organisation: domain `bench.example`, the shared mailbox
/// `info@`, and a user per alias (`<alias>@bench.example`, [`PASSWORD`]).
#[derive(Debug)]
pub struct Organisation {
    pub backend: mailroom_store::Backend,
    pub store: std::sync::Arc<dyn mailroom_core::store::Store>,
    pub dir: mailroom_core::Directory,
    pub info: mailroom_core::directory::Recipient,
    pub users: Vec<mailroom_core::directory::Recipient>,
}

/// Creates the [`Organisation`] in the data directory `data`, on the
/// embedded store.
pub async fn organisation(data: &Path, aliases: &[&str]) -> anyhow::Result<Organisation> {
    organisation_on(data, mailroom_store::DEFAULT_URL, aliases).await
}

/// Creates the [`Organisation`] on the store at `url` (`[store] url`;
/// a relative SQLite path is in `data`).
pub async fn organisation_on(data: &Path, url: &str, aliases: &[&str]) -> anyhow::Result<Organisation> {
    use mailroom_core::directory::{Actor, NewMailbox, NewMailboxKind};
    use mailroom_types::{DomainName, EmailAddress, Secret};
    let location = mailroom_store::StoreLocation::parse(url, data)?;
    let backend = tokio::task::block_in_place(|| mailroom_store::Backend::open(&location))?;
    let store = backend.store();
    let dir = mailroom_core::Directory::new(store.clone());
    let domain = DomainName::parse("bench.example")?;
    dir.add_domain(&Actor::System, &domain, true).await?;
    let info = dir
        .create_mailbox(
            &Actor::System,
            NewMailbox {
                name: "Info".into(),
                display_name: None,
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", domain.clone())),
                kind: NewMailboxKind::Shared,
            },
        )
        .await?;
    let mut users = Vec::new();
    for alias in aliases {
        let user = NewMailbox {
            name: alias.to_string(),
            display_name: None,
            alias: Some(alias.to_string()),
            primary_address: Some(EmailAddress::from_parts(alias, domain.clone())),
            kind: NewMailboxKind::User { password: Secret::new(PASSWORD.into()), roles: Default::default() },
        };
        users.push(dir.create_mailbox(&Actor::System, user).await?);
    }
    Ok(Organisation { backend, store, dir, info, users })
}

/// A DNS server on loopback that answers for the benches' sender domain
/// (`sender.example`: SPF passes for 127.0.0.1). Servers under a bench ask
/// it (`[dns] nameservers`), so sender checks run as in production without
/// the machine's resolver: a bench must not measure the network's DNS.
/// Its answers live an hour, so the server's resolver caches them as it
/// would a real domain's.
pub fn sender_dns() -> mailroom_testkit::DnsServer {
    let dns = mailroom_testkit::DnsServer::with_ttl(3600);
    dns.add("sender.example", "TXT", "v=spf1 ip4:127.0.0.1 -all");
    dns
}

/// The size of [`ten_kib_message`].
pub const MESSAGE_SIZE: usize = 10 * 1024;

/// A 10 KiB message to `info@bench.example` (the SMTP ingest benches'),
/// without the final dot; [`send_messages`] makes each copy unique.
pub fn ten_kib_message() -> Vec<u8> {
    let mut body =
        b"From: load@sender.example\r\nTo: info@bench.example\r\nSubject: benchmark\r\n\r\n".to_vec();
    while body.len() < MESSAGE_SIZE - 80 {
        body.extend_from_slice(
            b"The quick brown fox jumps over the lazy dog, again and again and again.\r\n",
        );
    }
    body
}

/// One SMTP connection sending `count` messages from `load@sender.example`
/// to `info@bench.example`, each `body` with a first field making it
/// unique (content addressing would store copies once); returns how many
/// got their `250`.
pub async fn send_messages(
    addr: std::net::SocketAddr,
    client: usize,
    count: usize,
    body: &[u8],
) -> anyhow::Result<usize> {
    use tokio::io::AsyncWriteExt;
    let (mut read, mut write) = smtp_connect(addr).await?;
    for n in 0..count {
        let mut data = format!("X-Bench: {client}-{n}\r\n").into_bytes();
        data.extend_from_slice(body);
        data.extend_from_slice(b".\r\n");
        write
            .write_all(b"MAIL FROM:<load@sender.example>\r\nRCPT TO:<info@bench.example>\r\nDATA\r\n")
            .await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 250).await?;
        expect(&mut read, 354).await?;
        write.write_all(&data).await?;
        expect(&mut read, 250).await?;
    }
    write.write_all(b"QUIT\r\n").await?;
    Ok(count)
}

/// The first message of the Inbox of the mailbox at `address`, in the data
/// directory `data`, read through `core` as its owner would.
pub async fn first_inbox_message(data: &Path, address: &str) -> anyhow::Result<Vec<u8>> {
    use mailroom_core::mail::Mail;
    let store =
        std::sync::Arc::new(mailroom_store::SqliteStore::open(&data.join(mailroom_store::SQLITE_FILE))?);
    let dir = mailroom_core::Directory::new(store.clone());
    let mail = Mail::new(dir.clone(), store);
    let address = mailroom_types::EmailAddress::parse(address)?;
    let recipient = dir.resolve_address(&address).await?.ok_or_else(|| anyhow::anyhow!("no {address}"))?;
    let mailbox = recipient.mailbox_id().ok_or_else(|| anyhow::anyhow!("{address} has no mailbox"))?;
    let open = mail.open_mailbox(recipient.id, mailbox).await?;
    let inbox =
        mail.find_folder(&open, |f| f.name == "Inbox").await?.ok_or_else(|| anyhow::anyhow!("no Inbox"))?;
    let first =
        mail.messages(&inbox).await?.first().cloned().ok_or_else(|| anyhow::anyhow!("an empty Inbox"))?;
    Ok(mail.body(&inbox, &first).await?)
}

/// An SMTP connection past its greeting and EHLO.
pub async fn smtp_connect(
    addr: std::net::SocketAddr,
) -> anyhow::Result<(tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>, tokio::net::tcp::OwnedWriteHalf)> {
    use tokio::io::AsyncWriteExt;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    expect(&mut read, 220).await?;
    write.write_all(b"EHLO bench.client\r\n").await?;
    expect(&mut read, 250).await?;
    Ok((read, write))
}

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A raw IMAP client for the benchmarks: tagged commands, whole responses
/// (literals included) read and counted.
#[derive(Debug)]
pub struct ImapClient {
    pub read: BufReader<OwnedReadHalf>,
    pub write: OwnedWriteHalf,
    pub tag: u64,
}

impl ImapClient {
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<ImapClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut c = ImapClient { read: BufReader::new(read), write, tag: 0 };
        let mut greeting = String::new();
        c.read.read_line(&mut greeting).await?;
        Ok(c)
    }

    /// One line of the server's, whatever it is.
    pub async fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.read.read_line(&mut line).await? == 0 {
            anyhow::bail!("connection closed");
        }
        Ok(line)
    }

    /// Sends a command; reads (and counts the bytes of) its whole response,
    /// literals included.
    pub async fn cmd(&mut self, command: &str) -> anyhow::Result<usize> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let start = std::time::Instant::now();
        self.write.write_all(format!("{tag} {command}\r\n").as_bytes()).await?;
        let bytes = self.finish(&tag).await?;
        if std::env::var_os("BENCH_TRACE").is_some() {
            eprintln!("{:>9.2} ms {bytes:>9} B  {command}", start.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(bytes)
    }

    /// Reads the response to `tag` (its bytes, literals included).
    pub async fn finish(&mut self, tag: &str) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let mut line = Vec::new();
            if self.read.read_until(b'\n', &mut line).await? == 0 {
                anyhow::bail!("connection closed");
            }
            total += line.len();
            if let Some(length) = literal_length(&line) {
                let mut literal = vec![0; length];
                self.read.read_exact(&mut literal).await?;
                total += length;
                continue;
            }
            if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                if !line[tag.len() + 1..].starts_with(b"OK") {
                    anyhow::bail!("{}", String::from_utf8_lossy(&line));
                }
                return Ok(total);
            }
        }
    }
}

fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let inner = line.get(open + 1..line.len().checked_sub(1)?)?;
    if line.last() != Some(&b'}') {
        return None;
    }
    std::str::from_utf8(inner).ok()?.trim_end_matches('+').parse().ok()
}

/// One round of an ordinary mail client's session mix on the shared INBOX
/// of `total` messages (`imap_session`, `store_backends`): SELECT, FETCH
/// the newest 50 headers, FETCH one whole message, UID SEARCH FLAGGED,
/// STORE a flag, APPEND, UID SEARCH SUBJECT, mark the appended message
/// deleted and EXPUNGE.
pub async fn session_round(c: &mut ImapClient, total: usize) -> anyhow::Result<()> {
    c.cmd("SELECT \"Shared/info@bench.example/INBOX\"").await?;
    let first = total.saturating_sub(49).max(1);
    c.cmd(&format!("FETCH {first}:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")).await?;
    c.cmd(&format!("FETCH {} BODY.PEEK[]", total / 2 + 1)).await?;
    c.cmd("UID SEARCH FLAGGED").await?;
    c.cmd(&format!("STORE {} +FLAGS (\\Flagged)", total / 3 + 1)).await?;
    let message = "From: user0@bench.example\r\nSubject: note\r\n\r\nappended\r\n";
    c.tag += 1;
    let tag = format!("t{}", c.tag);
    c.write
        .write_all(
            format!(
                "{tag} APPEND \"Shared/info@bench.example/INBOX\" {{{}+}}\r\n{message}\r\n",
                message.len()
            )
            .as_bytes(),
        )
        .await?;
    c.finish(&tag).await?;
    c.cmd("UID SEARCH SUBJECT note").await?;
    c.cmd("STORE * +FLAGS.SILENT (\\Deleted)").await?;
    c.cmd("EXPUNGE").await?;
    Ok(())
}

/// A kept-alive HTTP/1.1 client for the benchmarks: headers sent with
/// every request (`Authorization`, …), cookies kept as a browser keeps
/// them, and a new connection when the server ends one (answers to callers
/// not signed in do).
#[derive(Debug)]
pub struct HttpClient {
    addr: std::net::SocketAddr,
    read: BufReader<OwnedReadHalf>,
    write: OwnedWriteHalf,
    /// Sent with every request.
    pub headers: Vec<(String, String)>,
    cookies: Vec<String>,
    /// The `Location` of the last answer, if it had one.
    pub last_location: Option<String>,
}

impl HttpClient {
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<HttpClient> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(HttpClient {
            addr,
            read: BufReader::new(read),
            write,
            headers: Vec::new(),
            cookies: Vec::new(),
            last_location: None,
        })
    }

    /// Sends a request with `extra` headers and reads the whole reply:
    /// (status, body).
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &str,
    ) -> anyhow::Result<(u16, String)> {
        use std::fmt::Write as _;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n", body.len());
        for (name, value) in
            self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).chain(extra.iter().copied())
        {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if !self.cookies.is_empty() {
            let _ = write!(head, "Cookie: {}\r\n", self.cookies.join("; "));
        }
        head.push_str("\r\n");
        self.write.write_all(head.as_bytes()).await?;
        self.write.write_all(body.as_bytes()).await?;
        let mut status_line = String::new();
        self.read.read_line(&mut status_line).await?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .ok_or_else(|| anyhow::anyhow!("no status line: {status_line:?}"))?
            .parse()?;
        let (mut length, mut close) = (0usize, false);
        self.last_location = None;
        loop {
            let mut line = String::new();
            self.read.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse()?;
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("location") {
                self.last_location = Some(value.to_string());
            } else if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default().to_string();
                let name = format!("{}=", pair.split('=').next().unwrap_or_default());
                self.cookies.retain(|c| !c.starts_with(&name));
                if !pair.ends_with('=') {
                    self.cookies.push(pair);
                }
            }
        }
        let mut body = vec![0; length];
        self.read.read_exact(&mut body).await?;
        if close {
            let (headers, cookies) = (std::mem::take(&mut self.headers), std::mem::take(&mut self.cookies));
            let location = self.last_location.take();
            *self = HttpClient::connect(self.addr).await?;
            (self.headers, self.cookies, self.last_location) = (headers, cookies, location);
        }
        Ok((status, String::from_utf8(body)?))
    }
}

/// Starts the real server in-process on `data` with only its HTTP listener
/// (on `127.0.0.1:0`); returns it and the listener's address.
pub async fn serve_http(data: &Path) -> anyhow::Result<(mailroom_server::Running, std::net::SocketAddr)> {
    use anyhow::Context as _;
    let mut config = mailroom_server::Config { hostname: Some("bench.example".into()), ..Default::default() };
    config.apply(&mailroom_server::ListenOverrides {
        smtp: Some("off".into()),
        imap: Some("off".into()),
        imaps: Some("off".into()),
        http: Some("127.0.0.1:0".into()),
        ..Default::default()
    });
    let running = mailroom_server::start(data, config).await?;
    let addr = running
        .listeners
        .iter()
        .find(|(l, _)| *l == mailroom_server::Listener::Http)
        .context("http listener")?
        .1;
    Ok((running, addr))
}

impl HttpClient {
    /// Signs in through the form, as a browser does (the form's token, its
    /// cookie, then the session cookie kept).
    pub async fn sign_in(&mut self, login: &str, password: &str) -> anyhow::Result<()> {
        let (_, form) = self.request("GET", "/admin/sign-in", &[], "").await?;
        let marker = "name=\"csrf\" value=\"";
        let at = form.find(marker).ok_or_else(|| anyhow::anyhow!("no sign-in token"))? + marker.len();
        let token = form.get(at..at + 64).ok_or_else(|| anyhow::anyhow!("short sign-in token"))?.to_string();
        let body = format!("csrf={token}&login={}&password={password}&next=%2F", login.replace('@', "%40"));
        let form_type = [("Content-Type", "application/x-www-form-urlencoded")];
        let (status, _) = self.request("POST", "/admin/sign-in", &form_type, &body).await?;
        if status != 303 {
            anyhow::bail!("sign-in answered {status}");
        }
        Ok(())
    }
}

/// Delivers `count` customer questions (about 1 KB each, every one
/// distinct) to `mailbox`'s Inbox, 64 writers at a time as SMTP clients
/// would (group commit); message `n` arrives at a time growing with `n` and
/// is left unread when `unread(n)`.
pub async fn fill_inbox(
    store: std::sync::Arc<dyn mailroom_core::store::Store>,
    mailbox: mailroom_types::MailboxId,
    count: usize,
    unread: fn(usize) -> bool,
) -> anyhow::Result<()> {
    use mailroom_core::mail::{Flags, SpecialUse, SystemFlag};
    use mailroom_core::store::{DeliveryTarget, FolderRef};
    let workers = 64;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = w;
            while n < count {
                let body = format!(
                    "From: Customer {n} <c{n}@example.org>\r\nTo: info@bench.example\r\nSubject: Question number {n}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{n}@example.org>\r\n\r\n{}\r\n",
                    "Hello, I have a question about my order. ".repeat(20)
                );
                let summary = mailroom_mime::summarize(body.as_bytes());
                let flags = if unread(n) { Flags::default() } else { Flags::default().with(SystemFlag::Seen) };
                let target = DeliveryTarget { mailbox, folder: FolderRef::Special(SpecialUse::Inbox), flags };
                store.deliver(body.into_bytes(), &summary, 1_795_000_000 + n as i64, &[target]).await?;
                n += workers;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
