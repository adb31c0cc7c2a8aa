//! The outbound queue's sender (SPEC §3): takes due remote recipients from
//! the store, sends each message once per domain to the configured
//! smarthost or the domain's mail server, and follows `core`'s retry policy
//! — removing what was accepted, retrying temporary failures with back-off,
//! and sending a delivery status notification (RFC 3464) to the sender for
//! permanent failures, on expiry, and once when a message is delayed.
//!
//! The queue lives in the store, so it survives restarts: a message is in
//! it from the moment its submission was acknowledged until it is sent or
//! bounced.

pub mod client;
pub mod dsn;
pub mod mta_sts;
pub mod mx;
pub mod tls_report;

use std::collections::BTreeMap;
use std::time::Duration;

use std::sync::Arc;

use mailroom_core::change::{Change, ChangeFeed, FeedRead};
use mailroom_core::mail::{AfterFailure, Mail, RetryPolicy};
use mailroom_core::store::QueueEntry;
use mailroom_types::{BlobId, EmailAddress};
use tokio::sync::watch;

use client::{Delivery, RecipientOutcome};

/// How the sender reaches other domains.
#[derive(Clone, Debug)]
pub struct OutboundConfig {
    /// Our name in EHLO and in notifications.
    pub hostname: String,
    /// This node's name: the entries it claims to send carry it, so no
    /// other node on the store sends them too.
    pub node: String,
    /// `host:port` every message goes through, if set. Without one, each
    /// domain's MX hosts on port 25 (RFC 5321 §5.1).
    pub smarthost: Option<String>,
    pub policy: RetryPolicy,
    /// Per connection and per command.
    pub timeout: Duration,
    /// How often the queue is looked at without being woken (the admin CLI
    /// changes it from another process).
    pub poll: Duration,
    /// The smarthost's account (user, password), if it wants one.
    pub smarthost_auth: Option<(String, mailroom_types::Secret<String>)>,
    /// Verified TLS for the smarthost, required whenever credentials go to
    /// it (except on loopback).
    pub smarthost_tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    /// The server's resolver (`[dns]`); `None`: the system's.
    pub dns: Option<std::sync::Arc<mailroom_mailauth::Dns>>,
    /// The port of other domains' mail servers: 25 (another only for
    /// tests and lab networks).
    pub remote_port: u16,
    /// The port MTA-STS policies are fetched from: 443 (likewise).
    pub mta_sts_port: u16,
    /// Verified TLS for other domains' servers where a policy asks for it
    /// (MTA-STS): the public roots and `[outbound] ca_file`'s.
    pub remote_tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
    /// How often TLS reports (RFC 8460) are sent: a day.
    pub tls_report_interval: Duration,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            hostname: "localhost".into(),
            node: "mailroom".into(),
            smarthost: None,
            policy: RetryPolicy::default(),
            timeout: Duration::from_secs(60),
            poll: Duration::from_secs(30),
            smarthost_auth: None,
            smarthost_tls: None,
            dns: None,
            remote_port: 25,
            mta_sts_port: 443,
            remote_tls: None,
            tls_report_interval: Duration::from_secs(86_400),
        }
    }
}

/// The sender: one per server.
#[derive(Clone, Debug)]
pub struct Sender {
    mail: Mail,
    config: OutboundConfig,
    /// Other domains' MTA-STS policies, as fetched and kept.
    mta_sts: std::sync::Arc<mta_sts::MtaSts>,
    /// The TLS sessions with those domains' hosts, for their reports.
    tls_reports: std::sync::Arc<tls_report::TlsReports>,
}

/// Deliveries in progress at once.
const PARALLEL: usize = 8;
/// Entries claimed per pass at most; a full pass is followed by another at
/// once. Small, so that several nodes share a long queue rather than one
/// holding most of it (and a node that dies strands only this many).
const CLAIM_LIMIT: usize = 64;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Sender {
    pub fn new(mail: Mail, mut config: OutboundConfig) -> Self {
        // The public roots alone when no extra ones are configured (this
        // fails only if the TLS library can't be set up at all).
        if config.remote_tls.is_none() {
            config.remote_tls = client::verified_tls(&[]).ok();
        }
        let mta_sts =
            mta_sts::MtaSts::new(config.dns.clone(), config.remote_tls.clone(), config.mta_sts_port);
        let tls_reports = std::sync::Arc::new(tls_report::TlsReports::new(now()));
        Sender { mail, config, mta_sts: std::sync::Arc::new(mta_sts), tls_reports }
    }

    /// Runs until `shutdown`; woken early by `changes` when mail is queued.
    pub async fn run(self, feed: Arc<dyn ChangeFeed>, mut shutdown: watch::Receiver<bool>) {
        // Entries queued by any process (the admin CLI's retry too) wake it.
        let mut seen = feed.head();
        tracing::info!(smarthost = ?self.config.smarthost, "outbound sender started");
        loop {
            let pass = self.send_due().await;
            if let Err(err) = &pass {
                tracing::error!(error = %err, "outbound queue pass failed");
            }
            if let Err(err) = self.send_tls_reports().await {
                tracing::error!(error = %err, "TLS reports not sent");
            }
            let wait = match &pass {
                // A full pass: more is due, at once (the queue isn't read).
                Ok(claimed) if *claimed >= CLAIM_LIMIT => Duration::ZERO,
                // After a failed pass, never straight into another: what
                // failed may still be due, and the store may be unwell.
                Err(_) => self.config.poll,
                Ok(_) => match self.mail.queue(None).await {
                    Err(_) => self.config.poll,
                    Ok(all) => {
                        // Entries another node is sending are its own; this
                        // node looks again within a beat, in case it is gone.
                        let elsewhere = |e: &&QueueEntry| {
                            e.lease_node.as_deref().is_some_and(|node| node != self.config.node)
                        };
                        let mine = all.iter().filter(|e| !elsewhere(e));
                        let next = mine.map(|e| (e.next_attempt - now()).max(0)).min();
                        let wait = next.map_or(self.config.poll, |secs| Duration::from_secs(secs as u64));
                        match all.iter().any(|e| elsewhere(&e)) {
                            true => wait.min(mailroom_core::cluster::HEARTBEAT),
                            false => wait,
                        }
                        .min(self.config.poll)
                    }
                },
            };
            if wait.is_zero() {
                continue;
            }
            let woken = async {
                loop {
                    feed.wait_after(seen).await;
                    match feed.read_after(seen).await {
                        Ok(FeedRead::Changes(records)) => {
                            let Some(last) = records.last() else { continue };
                            seen = last.seq;
                            if records.iter().any(|r| r.change == Change::OutboundQueued) {
                                return;
                            }
                        }
                        Ok(FeedRead::Resync { head }) => {
                            seen = head;
                            return;
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "outbound sender: change feed unreadable");
                            return tokio::time::sleep(wait).await;
                        }
                    }
                }
            };
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break,
                _ = tokio::time::sleep(wait) => {}
                _ = woken => {}
            }
        }
        tracing::info!("outbound sender stopped");
    }

    /// When the period is over, each domain's TLS report (RFC 8460 §5) to
    /// the `mailto:` addresses of its `_smtp._tls` record, queued from the
    /// null sender as notifications are. A domain without one gets none.
    async fn send_tls_reports(&self) -> Result<(), SendError> {
        let now = now();
        let interval = self.config.tls_report_interval.as_secs() as i64;
        if now - self.tls_reports.period_start() < interval {
            return Ok(());
        }
        let Some(dns) = &self.config.dns else { return Ok(()) };
        let submitter = self.mail.directory().default_domain().await?;
        let submitter = submitter.as_str().trim_end_matches('.');
        let contact = format!("postmaster@{submitter}");
        for report in self.tls_reports.take(now, submitter, &contact) {
            for to in report_addresses(dns, &report.domain).await {
                let message = tls_report::report_message(&report, submitter, &contact, &to.to_string(), now);
                let summary = mailroom_mime::summarize(&message);
                tracing::info!(domain = report.domain, to = %to, "sending a TLS report");
                self.mail.deliver_notice(&to, message, &summary).await?;
            }
        }
        Ok(())
    }

    /// One pass over what is due and not sent by another node: one
    /// connection per message and domain. Returns how many entries it claimed.
    pub async fn send_due(&self) -> Result<usize, SendError> {
        let due = self.mail.claim_due(&self.config.node, now(), CLAIM_LIMIT).await?;
        let claimed = due.len();
        let mut groups: BTreeMap<(BlobId, Option<String>, String), Vec<QueueEntry>> = BTreeMap::new();
        for entry in due {
            let key = (
                entry.blob,
                entry.envelope_from.as_ref().map(|a| a.to_string()),
                entry.recipient.domain().as_str().to_ascii_lowercase(),
            );
            groups.entry(key).or_default().push(entry);
        }
        // Several deliveries at once: one slow or stalling server holds up
        // only its own messages.
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        let mut running = tokio::task::JoinSet::new();
        for ((blob, _, domain), entries) in groups {
            let (sender, gate) = (self.clone(), gate.clone());
            running.spawn(async move {
                let _slot = gate.acquire_owned().await;
                let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
                (ids, sender.send_group(blob, &domain, entries).await)
            });
        }
        let mut failed = None;
        while let Some(joined) = running.join_next().await {
            let Ok((ids, result)) = joined else { continue };
            if let Err(err) = result {
                // One message's trouble (a body that can't be read, a write
                // that failed) holds back only that message, for a while.
                tracing::error!(error = %err, queue = ?ids, "sending failed; trying again later");
                let later = now() + self.config.poll.as_secs().max(60) as i64;
                for id in ids {
                    let _ = self.mail.queue_retry(id, later, &format!("local error: {err}"), false).await;
                }
                failed = Some(err);
            }
        }
        failed.map_or(Ok(claimed), Err)
    }

    async fn send_group(
        &self,
        blob: BlobId,
        domain: &str,
        entries: Vec<QueueEntry>,
    ) -> Result<(), SendError> {
        let Some(first) = entries.first() else { return Ok(()) };
        debug_assert!(entries.iter().all(|e| e.blob == blob));
        let message = self.mail.queued_message(first).await?;
        let recipients: Vec<EmailAddress> = entries.iter().map(|e| e.recipient.clone()).collect();
        let from = entries.first().and_then(|e| e.envelope_from.clone());
        // Signed as it leaves rather than when queued: the queue keeps one
        // body for every copy, local ones included, and a retry signs afresh.
        let message = mailroom_mailauth::sign_outgoing(self.mail.directory(), message, from.as_ref()).await;
        let via_smarthost = self.config.smarthost.is_some();
        let targets = match &self.config.smarthost {
            Some(host) => Ok(vec![host.clone()]),
            None => mx::targets(self.config.dns.as_deref(), domain, self.config.remote_port).await,
        };
        // RFC 8461: the domain's MTA-STS policy, when mail goes to its MX hosts.
        let policy = match via_smarthost {
            true => None,
            false => self.mta_sts.policy(domain).await.filter(|p| p.mode != mta_sts::Mode::None),
        };
        let enforced = policy.as_ref().filter(|p| p.mode == mta_sts::Mode::Enforce);
        let mut server = String::new();
        let mut result =
            Err(client::Failure { permanent: false, text: format!("no mail server for {domain}") });
        match targets {
            Err(failure) => result = Err(failure),
            Ok(targets) => {
                // The best host that answers; a refused or silent one, the next.
                for target in targets {
                    let host = target.rsplit_once(':').map_or(target.as_str(), |(h, _)| h).to_string();
                    if let Some(policy) = &policy
                        && !policy.allows(&host)
                    {
                        let text = format!("MTA-STS: {host} isn't an MX host that {domain}'s policy names");
                        tracing::warn!(domain, host, mode = ?policy.mode, "{text}");
                        if enforced.is_some() {
                            result = Err(client::Failure { permanent: false, text });
                            continue;
                        }
                    }
                    // Our resolver's addresses for the host (the system's
                    // otherwise); a smarthost is resolved as written.
                    let addresses = match (&self.config.dns, via_smarthost) {
                        (Some(dns), false) => {
                            match mta_sts::resolve(dns, &host, self.config.remote_port).await {
                                Ok(addresses) => addresses,
                                Err(text) => {
                                    result = Err(client::Failure { permanent: false, text });
                                    continue;
                                }
                            }
                        }
                        _ => Vec::new(),
                    };
                    let required_tls = if via_smarthost {
                        self.config.smarthost_tls.clone()
                    } else if policy.is_some() {
                        // Verified for the MX host's name, or not at all
                        // (in testing mode, tried so first: see below).
                        match &self.config.remote_tls {
                            Some(tls) => Some(tls.clone()),
                            None => {
                                result = Err(client::Failure {
                                    permanent: false,
                                    text: format!("MTA-STS: no TLS verification is available for {host}"),
                                });
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    let mut delivery = Delivery {
                        server: &target,
                        addresses: &addresses,
                        helo: &self.config.hostname,
                        from: from.as_ref(),
                        recipients: &recipients,
                        message: &message,
                        timeout: self.config.timeout,
                        auth: self
                            .config
                            .smarthost_auth
                            .as_ref()
                            .filter(|_| via_smarthost)
                            .map(|(user, password)| (user.as_str(), password.expose().as_str())),
                        required_tls,
                    };
                    result = client::deliver(&delivery).await;
                    if let Some(policy) = &policy {
                        // The session, for the domain's TLS report (RFC 8460).
                        let session = match &result {
                            Ok(_) => Some(tls_report::Session::Success),
                            Err(failure) => tls_report::result_type(&failure.text).map(|result_type| {
                                tls_report::Session::Failure { result_type, mx: host.clone() }
                            }),
                        };
                        if let Some(session) = session {
                            let failed = session != tls_report::Session::Success;
                            self.tls_reports.record(domain, policy, session);
                            // RFC 8461 §5.2: in testing mode a failure is
                            // reported, and the mail goes as it would have.
                            if failed && enforced.is_none() {
                                tracing::info!(
                                    domain,
                                    host,
                                    "MTA-STS (testing): TLS can't be verified; sending without"
                                );
                                delivery.required_tls = None;
                                result = client::deliver(&delivery).await;
                            }
                        }
                    }
                    server = target;
                    let next_host = match &mut result {
                        // Under an enforced policy every failure to get a
                        // verified connection is said in Get-Queue's
                        // LastError, and the next MX host is tried (RFC
                        // 8461 §5.1).
                        Err(failure) if enforced.is_some() && !failure.permanent => {
                            failure.text = format!("MTA-STS policy of {domain} (enforce): {}", failure.text);
                            true
                        }
                        Err(failure) => failure.unreachable(),
                        Ok(_) => false,
                    };
                    if !next_host {
                        break;
                    }
                }
            }
        }
        let outcomes: Vec<RecipientOutcome> = match result {
            Ok(outcomes) => outcomes,
            Err(failure) if failure.permanent => {
                entries.iter().map(|_| RecipientOutcome::Permanent(failure.text.clone())).collect()
            }
            Err(failure) => {
                entries.iter().map(|_| RecipientOutcome::Temporary(failure.text.clone())).collect()
            }
        };
        let mut bounced = Vec::new();
        let mut delayed = Vec::new();
        for (entry, outcome) in entries.iter().zip(outcomes) {
            match outcome {
                RecipientOutcome::Accepted => {
                    tracing::info!(queue = entry.id, to = %entry.recipient, via = %server, "sent");
                    self.mail.queue_remove(entry.id).await?;
                }
                RecipientOutcome::Permanent(text) => {
                    tracing::info!(queue = entry.id, to = %entry.recipient, reason = %text, "refused; bouncing");
                    bounced
                        .push(dsn::RecipientStatus { recipient: entry.recipient.clone(), diagnostic: text });
                }
                RecipientOutcome::Temporary(text) => {
                    match self.config.policy.after_temporary_failure(entry, now()) {
                        AfterFailure::Retry { at, notify_delay } => {
                            tracing::info!(queue = entry.id, to = %entry.recipient, reason = %text, retry_at = at, "deferred");
                            self.mail
                                .queue_retry(entry.id, at, &text, entry.delay_notified || notify_delay)
                                .await?;
                            if notify_delay {
                                delayed.push(dsn::RecipientStatus {
                                    recipient: entry.recipient.clone(),
                                    diagnostic: text,
                                });
                            }
                        }
                        AfterFailure::Bounce => {
                            tracing::info!(queue = entry.id, to = %entry.recipient, reason = %text, "expired; bouncing");
                            let diagnostic =
                                format!("{text} (gave up after {} attempts)", entry.attempts + 1);
                            bounced.push(dsn::RecipientStatus {
                                recipient: entry.recipient.clone(),
                                diagnostic,
                            });
                        }
                    }
                }
            }
        }
        let arrived = entries.first().map_or(0, |e| e.created);
        if !delayed.is_empty()
            && let Some((to, bytes, summary)) =
                self.notice(dsn::Action::Delayed, from.as_ref(), &delayed, &message, arrived).await?
        {
            self.mail.deliver_notice(&to, bytes, &summary).await?;
        }
        if !bounced.is_empty() {
            let notice = self.notice(dsn::Action::Failed, from.as_ref(), &bounced, &message, arrived).await?;
            let done: Vec<i64> = entries
                .iter()
                .filter(|e| bounced.iter().any(|b| b.recipient == e.recipient))
                .map(|e| e.id)
                .collect();
            // The notice and the entries' removal: one transaction in core.
            let notice = notice.as_ref().map(|(to, bytes, summary)| (to, bytes.clone(), summary));
            self.mail.bounce(notice, &done).await?;
        }
        Ok(())
    }

    /// A notification to the original sender; none for the null sender (a
    /// notification that fails is dropped, never answered).
    async fn notice(
        &self,
        action: dsn::Action,
        to: Option<&EmailAddress>,
        recipients: &[dsn::RecipientStatus],
        original: &[u8],
        arrived: i64,
    ) -> Result<Option<(EmailAddress, Vec<u8>, mailroom_core::mail::MessageSummary)>, SendError> {
        let Some(to) = to else {
            tracing::warn!(?action, "a notification couldn't be delivered; dropped (null sender)");
            return Ok(None);
        };
        let domain = self.mail.directory().default_domain().await?;
        let postmaster = EmailAddress::from_parts("postmaster", domain);
        let id = format!("{:x}{:x}", now(), recipients.len() ^ original.len());
        let bytes = dsn::build(&dsn::Notice {
            action,
            hostname: &self.config.hostname,
            from: &postmaster,
            to,
            recipients,
            original,
            arrived,
            id: &id,
        });
        let summary = mailroom_mime::summarize(&bytes);
        Ok(Some((to.clone(), bytes, summary)))
    }
}

/// Resolves once shutdown is signalled; returns nothing, so no guard is
/// held across the `select!`.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Why a queue pass stopped: the store or `core` failed (the entries stay
/// queued and are tried again at the next pass).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Store(#[from] mailroom_core::store::StoreError),
    #[error(transparent)]
    Core(#[from] mailroom_core::CoreError),
}

/// The `mailto:` addresses of `domain`'s TLS-RPT record (RFC 8460 §3:
/// `v=TLSRPTv1; rua=mailto:…,https:…`); `https:` ones aren't used.
async fn report_addresses(dns: &mailroom_mailauth::Dns, domain: &str) -> Vec<EmailAddress> {
    let Some(record) = dns.versioned_txt(&format!("_smtp._tls.{domain}"), "v=TLSRPTv1").await else {
        return Vec::new();
    };
    let Some(rua) = mailroom_mailauth::records::tag(&record, "rua") else { return Vec::new() };
    rua.split(',')
        .filter_map(|uri| uri.trim().strip_prefix("mailto:"))
        .filter_map(|address| EmailAddress::parse(address.split('!').next().unwrap_or(address)).ok())
        .collect()
}
