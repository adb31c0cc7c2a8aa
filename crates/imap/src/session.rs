//! One IMAP session: the state (RFC 9051 §3), the command loop, and how it
//! ends (LOGOUT, autologout, shutdown, too many errors).

use std::net::SocketAddr;
use std::sync::Arc;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::{Command, CommandBody};
use mailroom_types::{MailboxId, PrincipalId};

use crate::Imap;
use crate::conn::{Conn, Incoming, Io};
use crate::names::{NameError, Target};
use crate::respond::{Status, status, untagged};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// Who signed in.
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    pub principal: PrincipalId,
    /// Their own mailbox (the personal namespace).
    pub mailbox: MailboxId,
    pub login: String,
}

/// The selected folder (RFC 9051 §3.3).
#[derive(Clone, Debug)]
pub(crate) struct Selected {
    pub target: Target,
    /// No change may be made: opened with EXAMINE, or the rights there
    /// allow none (RFC 4314 §5.2).
    pub read_only: bool,
    /// Opened with EXAMINE: not even a restore out of Recoverable Items.
    pub examined: bool,
    /// Message sequence number n is the n-th UID here.
    pub uids: crate::uidmap::UidMap,
    /// Changes up to this MODSEQ have been reported to the client.
    pub seen_modseq: mailroom_types::ModSeq,
    /// The keywords the client has been told of (FLAGS): a message with
    /// another is preceded by a new FLAGS ([`Session::announce_keywords`]).
    pub keywords: std::collections::BTreeSet<String>,
    /// `\Recent` in this session (IMAP4rev1 only).
    pub recent: crate::recent::Recent,
    /// Expunges not reported yet (NOTIFY SELECTED-DELAYED, RFC 5465 §6.1):
    /// the messages keep their numbers meanwhile.
    pub held_expunges: Vec<mailroom_types::Uid>,
    /// Messages whose flag changes weren't reported (NOTIFY without
    /// FlagChange): reported by the next command that reports changes.
    pub held_flags: Vec<mailroom_types::Uid>,
}

// One per session, replaced only at sign-in: its size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum State {
    NotAuthenticated,
    Authenticated { user: SignedIn, selected: Option<Selected> },
}

pub(crate) struct Session {
    pub server: Arc<Imap>,
    pub conn: Conn,
    pub peer: SocketAddr,
    pub id: u64,
    pub state: State,
    /// CONDSTORE enabled (RFC 7162 §3.1): MODSEQs in FETCH responses.
    pub condstore: bool,
    /// QRESYNC enabled (RFC 7162 §3.2): VANISHED instead of EXPUNGE.
    pub qresync: bool,
    /// IMAP4rev2 enabled (RFC 9051 §6.3.1): ESEARCH answers every SEARCH,
    /// no RECENT, mailbox names in UTF-8 rather than modified UTF-7.
    pub rev2: bool,
    /// UTF8=ACCEPT enabled (RFC 6855): mailbox names in UTF-8, as with
    /// IMAP4rev2, and nothing else of rev2's changes.
    pub utf8: bool,
    /// FETCH items read before imap-codec (`crate::fetch_items`: PREVIEW,
    /// EMAILID, THREADID, SAVEDATE) that the FETCH being run asked for;
    /// set for that one command.
    pub fetch_extra: crate::fetch_items::Extra,
    /// The PARTIAL modifier of the FETCH being run (RFC 9394 §3.3).
    pub fetch_partial: Option<crate::esearch::Partial>,
    /// The saved search result `$` names (RFC 5182), as UIDs; emptied
    /// whenever the selected folder changes.
    pub saved: Vec<mailroom_types::Uid>,
    /// Live SEARCH/SORT results (CONTEXT, RFC 5267 §4) of the selected folder.
    pub contexts: Vec<crate::cmd::context::UpdateContext>,
    /// The change feed has been read up to here.
    pub feed_seq: u64,
    /// The change feed said something about the selected folder (or lost
    /// track) since changes were last reported: the next report reads the
    /// store. Set whoever read the feed (between commands, IDLE, before a
    /// command), cleared by the report.
    pub folder_news: bool,
    /// What NOTIFY asked for (RFC 5465); `None` until the first NOTIFY.
    pub notify: Option<Box<crate::cmd::notify::Notify>>,
    /// Whether the session's access must be read again before the next
    /// command: set by a change that touches its user, its selected mailbox,
    /// a mailbox it opened, or any group (and at the start). Between such changes no command reads the
    /// directory to know the session may go on.
    access_stale: bool,
    /// The mailboxes `core` opened for this session, with their rights:
    /// dropped whenever the change feed says the session's access changed.
    opened: std::sync::Mutex<std::collections::HashMap<MailboxId, mailroom_core::mail::OpenMailbox>>,
    errors: u32,
}

/// New messages a session announces one by one from the feed; more at once
/// are read from the folder (by MODSEQ) instead.
const MAX_ARRIVALS: usize = 256;

/// What the change feed said since a session last read it.
#[derive(Debug, Default)]
pub(crate) struct FeedNews {
    /// Something that may change this session's access.
    pub access: bool,
    /// Flags or expunges in the selected folder, or the feed lost track.
    pub folder: bool,
    /// Messages added to the selected folder, in order.
    pub arrivals: Vec<(mailroom_types::Uid, mailroom_types::ModSeq)>,
}

impl Session {
    pub fn new(server: Arc<Imap>, io: Box<dyn Io>, peer: SocketAddr, implicit_tls: bool, id: u64) -> Self {
        let config = &server.config;
        let feed_seq = server.feed.head();
        let conn = Conn::new(
            io,
            implicit_tls,
            config.max_command_size,
            config.login_timeout,
            server.budget.clone(),
            peer.ip(),
        );
        Session {
            server,
            conn,
            peer,
            id,
            state: State::NotAuthenticated,
            condstore: false,
            qresync: false,
            rev2: false,
            utf8: false,
            fetch_extra: Default::default(),
            fetch_partial: None,
            saved: Vec::new(),
            contexts: Vec::new(),
            feed_seq,
            folder_news: true,
            notify: None,
            access_stale: true,
            opened: Default::default(),
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        tracing::debug!(session = self.id, peer = %self.peer, "imap session start");
        let greeting =
            format!("OK [CAPABILITY {}] {} IMAP ready", self.capabilities(), self.server.config.hostname);
        self.conn.send(&untagged(&greeting));
        let mut shutdown = self.server.shutdown.clone();
        let feed = self.server.feed.clone();
        let mut deadline = None;
        loop {
            // RFC 5465: with NOTIFY, what happened is said between commands too.
            self.send_notifications(crate::cmd::notify::When::Between).await;
            let limit = match self.state {
                State::NotAuthenticated => self.server.config.login_timeout,
                State::Authenticated { .. } => self.server.config.idle_timeout,
            };
            // One deadline per wait for a command, however often the feed
            // wakes the session meanwhile.
            let until = *deadline.get_or_insert_with(|| tokio::time::Instant::now() + limit);
            let signed_in = self.user().is_some();
            let seen = self.feed_seq;
            let read = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => {
                    self.conn.send(&untagged("BYE Server shutting down"));
                    break;
                }
                // SPEC §2, "effective immediately": a blocked account or a
                // removed member hears it now, not at its next command.
                // The client first: a stream of changes mustn't delay its commands.
                read = tokio::time::timeout_at(until, self.conn.next_message()) => read,
                () = feed.wait_after(seen), if signed_in => {
                    if self.read_feed().await.access && !self.check_access().await {
                        break;
                    }
                    if self.conn.flush().await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            deadline = None;
            let bytes = match read {
                Err(_elapsed) => {
                    // RFC 9051 §5.4: autologout after inactivity.
                    self.conn.send(&untagged("BYE Autologout; idle for too long"));
                    break;
                }
                Ok(Err(err)) => {
                    tracing::debug!(session = self.id, error = %err, "imap read failed");
                    break;
                }
                Ok(Ok(Incoming::Closed)) => break,
                Ok(Ok(Incoming::Overflow)) => {
                    self.conn.send(&untagged("BYE Command too long before sign-in"));
                    break;
                }
                Ok(Ok(Incoming::NoMemory(tag))) => {
                    // The server's memory for messages in transfer is spent:
                    // the client was refused before sending its literal.
                    let text = "The server is receiving too much mail at once; try again in a moment";
                    tracing::warn!(session = self.id, "append refused: message memory budget spent");
                    self.fail(status(tag.as_deref(), Status::No, Some("LIMIT"), text));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                Ok(Ok(Incoming::NoMemoryMidStream)) => {
                    // A non-synchronizing literal is already on its way and
                    // can't be refused: the connection goes.
                    tracing::warn!(session = self.id, "literal+ dropped: message memory budget spent");
                    self.conn.send(&untagged(
                        "BYE [LIMIT] The server is receiving too much mail at once; try again in a moment",
                    ));
                    break;
                }
                Ok(Ok(Incoming::TooBig(tag))) => {
                    let limit = match self.state {
                        State::NotAuthenticated => {
                            self.server.config.max_command_size.min(crate::conn::PRE_AUTH_LIMIT)
                        }
                        State::Authenticated { .. } => self.server.config.max_command_size,
                    };
                    let text = format!("Command too long (at most {limit} octets)");
                    self.fail(status(tag.as_deref(), Status::Bad, Some("TOOBIG"), &text));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                Ok(Ok(Incoming::Message(bytes))) => bytes,
            };
            // RFC 8437 UNAUTHENTICATE: imap-codec doesn't know it either.
            if let Some(tag) = crate::cmd::unauthenticate::parse(&bytes) {
                self.unauthenticate(&tag);
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 5267 CANCELUPDATE: imap-codec doesn't know it.
            if let Some(parsed) = crate::cmd::context::parse_cancel(&bytes) {
                if !self.still_allowed().await {
                    break;
                }
                match parsed {
                    Ok((tag, tags)) if self.user().is_some() => self.cancel_update(&tag, &tags),
                    Ok((tag, _)) => self.sign_in_first(&tag, "CANCELUPDATE"),
                    Err((tag, reason)) => self.fail(status(Some(&tag), Status::Bad, None, reason)),
                }
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 4314 commands first: imap-codec doesn't know them.
            if let crate::acl::AclParse::Command { tag, command } = crate::acl::parse(&bytes) {
                if self.still_allowed().await {
                    self.acl(&tag, command).await;
                    continue;
                }
                break;
            }
            if let crate::acl::AclParse::Bad { tag, reason } = crate::acl::parse(&bytes) {
                self.fail(status(Some(&tag), Status::Bad, None, reason));
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 5465 NOTIFY: imap-codec doesn't know it.
            if let Some((tag, parsed)) = crate::notify::parse(&bytes) {
                if !self.still_allowed().await {
                    break;
                }
                match parsed {
                    Ok(request) if self.user().is_some() => self.notify(&tag, request).await,
                    Ok(_) => self.sign_in_first(&tag, "NOTIFY"),
                    Err(reason) => self.fail(status(Some(&tag), Status::Bad, None, reason)),
                }
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 3502 MULTIAPPEND and RFC 4469 CATENATE: imap-codec reads one
            // literal per APPEND.
            if let Some(parsed) = crate::multiappend::parse(&bytes) {
                if !self.still_allowed().await {
                    break;
                }
                match parsed {
                    Ok(request) if self.user().is_some() => self.multi_append(request).await,
                    Ok(request) => self.sign_in_first(&request.tag, "APPEND"),
                    Err((tag, reason)) => self.fail(status(Some(&tag), Status::Bad, None, reason)),
                }
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 8474 STATUS MAILBOXID: imap-codec doesn't know the item.
            if let Some(parsed) = crate::status_items::parse(&bytes) {
                if !self.still_allowed().await {
                    break;
                }
                match parsed {
                    Ok(request) if self.user().is_some() => {
                        let name = self.name_from_client(request.mailbox);
                        self.status(&request.tag, &name, &request.items, true).await;
                    }
                    Ok(request) => self.sign_in_first(&request.tag, "STATUS"),
                    Err((tag, reason)) => self.fail(status(Some(&tag), Status::Bad, None, reason)),
                }
                if self.too_many_errors() {
                    break;
                }
                continue;
            }
            // RFC 5258/5819 extended LIST: imap-codec knows only the plain form.
            match crate::list_extended::parse(&bytes) {
                Some(Ok(request)) => {
                    if !self.still_allowed().await {
                        break;
                    }
                    let tag = request.tag.clone();
                    if self.user().is_some() {
                        self.list_extended(request).await;
                    } else {
                        self.sign_in_first(&tag, "LIST");
                    }
                    continue;
                }
                Some(Err(reason)) => {
                    self.fail(status(tag_of(&bytes).as_deref(), Status::Bad, None, reason));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                None => {}
            }
            // RFC 5182 `$`: the saved search result, written out for imap-codec.
            let bytes = match self.selected().map(|s| crate::searchres::expand(&bytes, &self.saved, &s.uids))
            {
                Some(crate::searchres::Expanded::Rewritten(rebuilt)) => rebuilt,
                Some(crate::searchres::Expanded::TooBig { tag }) => {
                    let text = "The saved search result ($) makes this command too long";
                    self.fail(status(Some(&tag), Status::Bad, Some("TOOBIG"), text));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                Some(crate::searchres::Expanded::Unchanged) | None => bytes,
            };
            // RFC 4731 RETURN options: read here, the rest to imap-codec.
            let (bytes, search_return) = match crate::esearch::split_return(&bytes) {
                Some(Ok((rebuilt, options))) => (rebuilt, Some(options)),
                Some(Err(reason)) => {
                    self.fail(status(tag_of(&bytes).as_deref(), Status::Bad, None, reason));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                None => (bytes, None),
            };
            // Search keys imap-codec doesn't know (SAVEDATE, OBJECTID): rewritten.
            let bytes = match crate::search_keys::rewrite(&bytes) {
                Some(Ok(rebuilt)) => rebuilt,
                Some(Err((tag, reason))) => {
                    self.fail(status(Some(&tag), Status::Bad, None, reason));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                None => bytes,
            };
            // FETCH items imap-codec doesn't know: taken out, added to the answers.
            let (bytes, fetch_extra) = match crate::fetch_items::split(&bytes) {
                Some(Ok((rebuilt, extra))) => (rebuilt, extra),
                Some(Err(reason)) => {
                    self.fail(status(tag_of(&bytes).as_deref(), Status::Bad, None, reason));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                None => (bytes, Default::default()),
            };
            self.fetch_extra = fetch_extra;
            let (bytes, fetch_partial) = match crate::fetch_items::split_partial(&bytes) {
                Some(Ok((rebuilt, window))) => (rebuilt, Some(window)),
                Some(Err(reason)) => {
                    self.fail(status(tag_of(&bytes).as_deref(), Status::Bad, None, reason));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                None => (bytes, None),
            };
            self.fetch_partial = fetch_partial;
            let flow = match CommandCodec::new().decode(&bytes) {
                Ok(([], command)) => {
                    let flow = self.command(command.into_static(), search_return).await;
                    // Live searches hear of what the command changed (RFC 5267 §4.3.2).
                    self.refresh_contexts().await;
                    flow
                }
                _ => {
                    let tag = tag_of(&bytes);
                    self.fail(status(
                        tag.as_deref(),
                        Status::Bad,
                        None,
                        "Syntax error: the command could not be parsed",
                    ));
                    Flow::Continue
                }
            };
            if flow == Flow::Close || self.too_many_errors() {
                break;
            }
        }
        self.conn.close().await;
        tracing::debug!(session = self.id, "imap session end");
    }

    /// A NO or BAD. Only protocol errors (BAD) and failed sign-ins count
    /// against the connection: ordinary NOs (TRYCREATE, NONEXISTENT) are part
    /// of a long-lived client's life.
    pub fn fail(&mut self, response: Vec<u8>) {
        let text = String::from_utf8_lossy(&response);
        let mut words = text.split(' ');
        let _tag = words.next();
        if words.next() == Some("BAD") || text.contains("[AUTHENTICATIONFAILED]") {
            self.errors += 1;
        }
        self.conn.send(&response);
    }

    /// The BAD for a command that needs a sign-in first.
    fn sign_in_first(&mut self, tag: &str, command: &str) {
        let text = format!("Sign in first: {command} needs LOGIN or AUTHENTICATE");
        self.fail(status(Some(tag), Status::Bad, None, &text));
    }

    fn too_many_errors(&mut self) -> bool {
        if self.errors >= self.server.config.max_errors {
            self.conn.send(&untagged("BYE Too many errors, closing connection"));
            return true;
        }
        false
    }

    /// Whether credentials may be sent on this connection: over TLS, from
    /// loopback, or when the configuration allows plaintext.
    pub fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.peer.ip().is_loopback() || self.server.config.allow_plaintext_auth
    }

    /// What this server offers in the current state (RFC 9051 §7.2.2).
    pub fn capabilities(&self) -> String {
        let mut caps = vec![
            "IMAP4rev1",
            "IMAP4rev2",
            "LITERAL+",
            "ID",
            "NAMESPACE",
            "IDLE",
            "UIDPLUS",
            "MOVE",
            "UNSELECT",
            "SPECIAL-USE",
            "CHILDREN",
            "ACL",
            "RIGHTS=texk",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "ENABLE",
            "CONDSTORE",
            "QRESYNC",
            "ESEARCH",
            "SEARCHRES",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "BINARY",
            "STATUS=SIZE",
            "SORT",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
            "THREAD=REFS",
            "LIST-MYRIGHTS",
            "WITHIN",
            "UTF8=ACCEPT",
            "PREVIEW",
            "NOTIFY",
            "OBJECTID",
            "SAVEDATE",
            "MULTIAPPEND",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "CATENATE",
            "ESORT",
            "PARTIAL",
        ];
        // RFC 7889: the largest message APPEND takes (Imap::append_limit).
        let append_limit = format!("APPENDLIMIT={}", self.server.append_limit());
        if matches!(self.state, State::NotAuthenticated) {
            if self.server.tls.is_some() && !self.conn.is_tls() {
                caps.push("STARTTLS");
            }
            if self.auth_allowed() {
                caps.extend(["AUTH=PLAIN", "AUTH=SCRAM-SHA-256", "SASL-IR"]);
            } else {
                caps.push("LOGINDISABLED");
            }
        } else {
            caps.extend(["UNAUTHENTICATE", "COMPRESS=DEFLATE", append_limit.as_str()]);
        }
        caps.join(" ")
    }

    /// A mailbox name (or LIST pattern) as the store keeps it: UTF-8. An
    /// IMAP4rev1 client writes names in modified UTF-7 (RFC 3501 §5.1.3);
    /// what isn't valid modified UTF-7 is taken as it came.
    pub fn name_from_client(&self, raw: String) -> String {
        if self.utf8_names() {
            return raw;
        }
        crate::mutf7::decode(&raw).unwrap_or(raw)
    }

    /// Whether mailbox names travel in UTF-8 (IMAP4rev2 or UTF8=ACCEPT
    /// enabled) rather than modified UTF-7.
    pub fn utf8_names(&self) -> bool {
        self.rev2 || self.utf8
    }

    /// A mailbox name as the client reads it, quoted: UTF-8 once IMAP4rev2
    /// or UTF8=ACCEPT is enabled, modified UTF-7 before.
    pub fn name_to_client(&self, name: &str) -> String {
        if self.utf8_names() {
            crate::respond::quoted(name)
        } else {
            crate::respond::quoted(&crate::mutf7::encode(name))
        }
    }

    /// A mailbox name inside response text, which is 7-bit for an
    /// IMAP4rev1 client: spelled as that client spells it.
    pub fn name_in_text(&self, name: &str) -> String {
        if self.utf8_names() { name.to_string() } else { crate::mutf7::encode(name) }
    }

    fn mailbox_name(&self, mailbox: &imap_codec::imap_types::mailbox::Mailbox<'_>) -> String {
        use imap_codec::imap_types::mailbox::Mailbox;
        match mailbox {
            Mailbox::Inbox => "INBOX".to_string(),
            Mailbox::Other(other) => {
                self.name_from_client(String::from_utf8_lossy(other.as_ref()).into_owned())
            }
        }
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<SignedIn> {
        match &self.state {
            State::Authenticated { user, .. } => Some(user.clone()),
            State::NotAuthenticated => None,
        }
    }

    pub fn selected(&self) -> Option<&Selected> {
        match &self.state {
            State::Authenticated { selected, .. } => selected.as_ref(),
            State::NotAuthenticated => None,
        }
    }

    /// Selects another folder (or none): SELECT, EXAMINE, CLOSE, UNSELECT,
    /// and the selected folder's deletion.
    pub fn change_selected(&mut self, new: Option<Selected>) {
        // RFC 5182 §2.1: the saved result belongs to the selection it came from.
        self.saved.clear();
        // RFC 5267 §4.3: updates cease when the folder is no longer selected.
        self.contexts.clear();
        self.set_selected(new);
    }

    /// This session's own change to the selected folder took `modseq`: if
    /// it directly follows what was last reported, nothing else happened in
    /// between (a folder's MODSEQs go up one at a time), so the client
    /// already knows everything up to it and isn't told its change again.
    pub fn note_own_change(&mut self, modseq: mailroom_types::ModSeq) {
        if let State::Authenticated { selected: Some(selected), .. } = &mut self.state
            && selected.seen_modseq.0 + 1 == modseq.0
        {
            selected.seen_modseq = modseq;
        }
    }

    /// Updates the view of the selected folder (new messages, expunges).
    /// RFC 3501 §7.2.6: before a message shows a keyword the client hasn't
    /// been told of, the client gets the folder's FLAGS (and, read-write,
    /// PERMANENTFLAGS) again with it — clients that track FLAGS otherwise
    /// meet a keyword "that isn't there".
    pub(crate) fn announce_keywords<'a>(
        &mut self,
        flags: impl IntoIterator<Item = &'a mailroom_core::mail::Flags>,
    ) {
        let State::Authenticated { selected: Some(selected), .. } = &mut self.state else { return };
        let mut added = false;
        for flags in flags {
            for keyword in &flags.keywords {
                if !selected.keywords.iter().any(|known| known.eq_ignore_ascii_case(keyword)) {
                    selected.keywords.insert(keyword.clone());
                    added = true;
                }
            }
        }
        if !added {
            return;
        }
        let list = crate::cmd::flag_list(&selected.keywords);
        let read_only = selected.read_only;
        let rights = selected.target.open.rights();
        self.conn.send(format!("* FLAGS ({list})\r\n").as_bytes());
        if !read_only {
            let permanent = crate::cmd::permanent_flags(&list, rights);
            self.conn.send(format!("* OK [PERMANENTFLAGS ({permanent})] Flags permitted\r\n").as_bytes());
        }
    }

    pub fn set_selected(&mut self, new: Option<Selected>) {
        if let State::Authenticated { selected, .. } = &mut self.state {
            *selected = new;
        }
    }

    /// The selected folder for a command on its messages: refused (and
    /// answered) when it was opened read-only and the command writes, or
    /// when message numbers run past the last message (RFC 9051 §6.4.5: BAD).
    pub(crate) fn selected_for(
        &mut self,
        tag: &str,
        set: Option<(&imap_codec::imap_types::sequence::SequenceSet, bool)>,
        writes: bool,
    ) -> Option<Selected> {
        let selected = self.selected().cloned()?;
        if writes && selected.read_only {
            let why = if selected.examined {
                "The mailbox was opened with EXAMINE"
            } else {
                "Your rights here allow no changes (a NoPurge grant can't purge Recoverable Items)"
            };
            self.fail(status(Some(tag), Status::No, Some("READ-ONLY"), why));
            return None;
        }
        if let Some((set, false)) = set
            && crate::sequence::out_of_range(set, selected.uids.len())
        {
            self.fail(status(Some(tag), Status::Bad, None, "Message number out of range"));
            return None;
        }
        Some(selected)
    }

    /// The NO for a store failure outside name resolution.
    pub fn store_error(&mut self, tag: &str, name: &str, err: impl Into<mailroom_core::CoreError>) {
        self.name_error(tag, name, NameError::Core(err.into()));
    }

    /// The NO for a name that leads nowhere (or to a store failure).
    pub fn name_error(&mut self, tag: &str, name: &str, err: NameError) {
        let name = &self.name_in_text(name);
        let response = match err {
            NameError::NonExistent => {
                status(Some(tag), Status::No, Some("NONEXISTENT"), &format!("No such mailbox: {name}"))
            }
            // Refusals core explains (a taken name, a default folder) go to the user as they are.
            NameError::Core(mailroom_core::CoreError::NameInUse { .. }) => {
                status(Some(tag), Status::No, Some("ALREADYEXISTS"), &format!("{name} already exists"))
            }
            // RFC 9208 §4.3.
            NameError::Core(
                err @ (mailroom_core::CoreError::MailboxFull { .. }
                | mailroom_core::CoreError::RecoverableItemsFull { .. }),
            ) => status(Some(tag), Status::No, Some("OVERQUOTA"), &err.to_string()),
            NameError::Core(mailroom_core::CoreError::Invalid(reason)) => {
                status(Some(tag), Status::No, Some("CANNOT"), &reason)
            }
            // RFC 4314 §4: a right the user lacks (a NoPurge grant in
            // Recoverable Items; access withdrawn mid-command).
            NameError::Core(
                err @ (mailroom_core::CoreError::NoPurge { .. } | mailroom_core::CoreError::NoAccess { .. }),
            ) => status(Some(tag), Status::No, Some("NOPERM"), &err.to_string()),
            NameError::Core(err) => {
                tracing::error!(session = self.id, error = %err, "imap store failure");
                status(Some(tag), Status::No, Some("SERVERBUG"), "Temporary problem, try again later")
            }
        };
        self.fail(response);
    }

    /// Reads the change feed from where this session left it: notes what
    /// touches its access (for [`Self::still_allowed`]) and returns what
    /// happened in its selected folder.
    pub(crate) async fn read_feed(&mut self) -> FeedNews {
        use mailroom_core::change::{Change, FeedRead};
        let folder = self.selected().map(|s| s.target.open.id());
        let me = self.user().map(|u| u.principal);
        let mut news = FeedNews::default();
        loop {
            match self.server.feed.read_after(self.feed_seq).await {
                Ok(FeedRead::Changes(records)) => {
                    let Some(last) = records.last().map(|r| r.seq) else { break };
                    self.feed_seq = last;
                    for record in records {
                        let change = &record.change;
                        if change.affects_access() && self.concerns(change) {
                            news.access = true;
                        }
                        if let Some(notify) = self.notify.as_deref_mut() {
                            notify.hear(change, me, folder);
                        }
                        if folder.is_some() && change.folder() == folder {
                            match *change {
                                // Past a few, one read of the folder beats announcing each.
                                Change::MessageAdded { uid, modseq, .. }
                                    if news.arrivals.len() < MAX_ARRIVALS =>
                                {
                                    news.arrivals.push((uid, modseq))
                                }
                                _ => news.folder = true,
                            }
                        }
                    }
                }
                // Fell behind what the log keeps: assume everything changed.
                Ok(FeedRead::Resync { head }) => {
                    self.feed_seq = head;
                    news.access = true;
                    news.folder = true;
                    if let Some(notify) = self.notify.as_deref_mut() {
                        notify.lost_track();
                    }
                    break;
                }
                Err(err) => {
                    tracing::error!(session = self.id, error = %err, "change feed unreadable");
                    news.access = true;
                    news.folder = true;
                    if let Some(notify) = self.notify.as_deref_mut() {
                        notify.lost_track();
                    }
                    break;
                }
            }
        }
        if news.folder || !news.arrivals.is_empty() {
            self.folder_news = true;
        }
        if news.access {
            self.forget_access();
            if let Some(notify) = self.notify.as_deref_mut() {
                notify.access_changed();
            }
        }
        news
    }

    /// Forgets the mailboxes opened for this session and their rights: they
    /// are read again before the next command that needs them.
    pub(crate) fn forget_access(&mut self) {
        self.access_stale = true;
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub(crate) fn cached_mailbox(&self, mailbox: MailboxId) -> Option<mailroom_core::mail::OpenMailbox> {
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).get(&mailbox).cloned()
    }

    pub(crate) fn cache_mailbox(&self, open: mailroom_core::mail::OpenMailbox) {
        self.opened.lock().unwrap_or_else(|p| p.into_inner()).insert(open.mailbox(), open);
    }

    /// Whether a change of access concerns this session: its user, its
    /// selected mailbox, a mailbox it opened, or any group (nesting makes
    /// those hard to rule out cheaply). Asked for every change every
    /// session hears: no allocation.
    fn concerns(&self, change: &mailroom_core::change::Change) -> bool {
        use mailroom_core::change::Change;
        let me = match &self.state {
            State::Authenticated { user, .. } => Some(user.principal),
            State::NotAuthenticated => None,
        };
        let selected = self.selected().map(|s| s.target.mailbox().principal());
        let ours = |principal: mailroom_types::PrincipalId| {
            me == Some(principal)
                || selected == Some(principal)
                || self.opened.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&MailboxId(principal.0))
        };
        match *change {
            Change::RecipientUpdated(id) | Change::RecipientRemoved(id) => ours(id),
            Change::PermissionsChanged { recipient, trustee } => ours(recipient) || ours(trustee),
            Change::GroupMembershipChanged { .. } => true,
            _ => false,
        }
    }

    /// SPEC §2, "effective immediately": a blocked (or converted, or
    /// removed) account's session ends, and a member whose Full Access was
    /// removed loses the selected shared folder — at the change, when the
    /// session waits, and before any command. The directory is read only
    /// when the change feed said something touching this session changed.
    pub(crate) async fn still_allowed(&mut self) -> bool {
        if self.user().is_none() {
            return true;
        }
        // Before a command, what changed in the selected folder is read
        // from the store by the command itself (by MODSEQ); only access matters here.
        self.read_feed().await;
        self.check_access().await
    }

    /// [`Self::still_allowed`] for a caller that has just read the feed
    /// itself (IDLE keeps the folder news it read).
    pub(crate) async fn check_access(&mut self) -> bool {
        let Some(user) = self.user() else { return true };
        if !self.access_stale {
            return true;
        }
        // The account itself: blocked, converted to shared or removed since
        // sign-in ends the session (SPEC §1: shared mailboxes can't sign in).
        let usable = match self.server.mail.directory().still_signed_in(user.principal).await {
            Ok(usable) => usable,
            Err(err) => {
                // Not the account's fault: said as what it is.
                tracing::error!(session = self.id, error = %err, "sign-in check failed");
                self.conn.send(&untagged("BYE Temporary problem, try again later"));
                return false;
            }
        };
        if !usable {
            tracing::info!(session = self.id, login = %user.login, "account no longer signs in; closing");
            self.conn.send(&untagged("BYE Your account can no longer sign in"));
            return false;
        }
        let Some(selected) = self.selected().cloned() else {
            self.access_stale = false;
            return true;
        };
        if selected.target.mailbox() == user.mailbox {
            self.access_stale = false;
            return true;
        }
        // Opened again by core (the cache was dropped with the news), as
        // every command's names are.
        match self.opened(&user, selected.target.mailbox()).await {
            Ok(opened) => {
                // The selected folder takes the rights as they are now: a
                // grant made NoPurge stops this session purging at once, and
                // where that changes whether anything may be changed there,
                // the client is told (RFC 9051 §7.1: READ-ONLY / READ-WRITE).
                let mut told = None;
                if let State::Authenticated { selected: Some(selected), .. } = &mut self.state
                    && let Some(now) = selected.target.open.under(&opened)
                {
                    let rights = now.rights();
                    selected.target.open = now;
                    let read_only = selected.examined || rights.change_nothing();
                    if read_only != selected.read_only {
                        selected.read_only = read_only;
                        let flags = crate::cmd::flag_list(&selected.keywords);
                        let permanent = if read_only {
                            String::new()
                        } else {
                            crate::cmd::permanent_flags(&flags, rights)
                        };
                        told = Some((read_only, permanent));
                    }
                }
                if let Some((read_only, permanent)) = told {
                    let code = if read_only { "READ-ONLY" } else { "READ-WRITE" };
                    self.conn.send(&untagged(&format!("OK [PERMANENTFLAGS ({permanent})] Flags permitted")));
                    self.conn.send(&untagged(&format!("OK [{code}] Your rights here changed")));
                }
                self.access_stale = false;
                true
            }
            Err(NameError::NonExistent) => {
                tracing::info!(session = self.id, folder = %selected.target.name, "access removed; closing");
                let line = format!("BYE Access to {} was removed", selected.target.name);
                self.conn.send(&untagged(&line));
                false
            }
            Err(NameError::Core(err)) => {
                tracing::error!(session = self.id, error = %err, "rights check failed");
                self.conn.send(&untagged("BYE Temporary problem, try again later"));
                false
            }
        }
    }

    /// Runs one decoded command; `search_return` is its RFC 4731 RETURN
    /// clause, read before imap-codec saw the line.
    async fn command(
        &mut self,
        command: Command<'static>,
        search_return: Option<crate::esearch::ReturnOptions>,
    ) -> Flow {
        let tag = command.tag.inner().to_string();
        if !self.still_allowed().await {
            return Flow::Close;
        }
        let authenticated = matches!(self.state, State::Authenticated { .. });
        match command.body {
            CommandBody::Capability => self.capability(&tag),
            CommandBody::Noop => self.noop(&tag, "NOOP").await,
            CommandBody::Logout => return self.logout(&tag),
            CommandBody::Id { .. } => self.id(&tag),
            CommandBody::StartTLS => return self.starttls(&tag).await,
            CommandBody::Compress { .. } if authenticated => return self.compress(&tag).await,
            CommandBody::Login { username, password } if !authenticated => {
                self.login(&tag, username.as_ref(), password.declassify().as_ref()).await
            }
            CommandBody::Authenticate { mechanism, initial_response } if !authenticated => {
                let initial = initial_response.map(|r| r.declassify().to_vec());
                return self.authenticate(&tag, mechanism, initial).await;
            }
            CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
                self.fail(status(Some(&tag), Status::Bad, None, "Already signed in"));
            }
            CommandBody::Namespace if authenticated => self.namespace(&tag),
            CommandBody::Idle if authenticated => return self.idle(&tag).await,
            CommandBody::GetQuotaRoot { mailbox } if authenticated => {
                self.get_quota_root(&tag, &self.mailbox_name(&mailbox)).await
            }
            CommandBody::GetQuota { root } if authenticated => {
                self.get_quota(&tag, &String::from_utf8_lossy(root.as_ref())).await
            }
            CommandBody::SetQuota { .. } if authenticated => {
                self.fail(status(
                    Some(&tag),
                    Status::No,
                    Some("NOPERM"),
                    "Quotas are set by the administrator",
                ));
            }
            CommandBody::List { reference, mailbox_wildcard } if authenticated => {
                self.list(
                    &tag,
                    &self.mailbox_name(&reference),
                    &self.name_from_client(
                        String::from_utf8_lossy(mailbox_wildcard_bytes(&mailbox_wildcard)).into_owned(),
                    ),
                    false,
                )
                .await
            }
            CommandBody::Lsub { reference, mailbox_wildcard } if authenticated => {
                self.list(
                    &tag,
                    &self.mailbox_name(&reference),
                    &self.name_from_client(
                        String::from_utf8_lossy(mailbox_wildcard_bytes(&mailbox_wildcard)).into_owned(),
                    ),
                    true,
                )
                .await
            }
            CommandBody::Select { mailbox, parameters } if authenticated => {
                let resync = match self.select_parameters(&parameters) {
                    Ok(resync) => resync,
                    Err(reason) => {
                        self.fail(status(Some(&tag), Status::Bad, None, reason));
                        return Flow::Continue;
                    }
                };
                self.select(&tag, &self.mailbox_name(&mailbox), false, resync).await
            }
            CommandBody::Examine { mailbox, parameters } if authenticated => {
                let resync = match self.select_parameters(&parameters) {
                    Ok(resync) => resync,
                    Err(reason) => {
                        self.fail(status(Some(&tag), Status::Bad, None, reason));
                        return Flow::Continue;
                    }
                };
                self.select(&tag, &self.mailbox_name(&mailbox), true, resync).await
            }
            CommandBody::Status { mailbox, item_names } if authenticated => {
                self.status(&tag, &self.mailbox_name(&mailbox), &item_names, false).await
            }
            CommandBody::Create { mailbox } if authenticated => {
                self.create(&tag, &self.mailbox_name(&mailbox)).await
            }
            CommandBody::Delete { mailbox } if authenticated => {
                self.delete(&tag, &self.mailbox_name(&mailbox)).await
            }
            CommandBody::Rename { from, to } if authenticated => {
                self.rename(&tag, &self.mailbox_name(&from), &self.mailbox_name(&to)).await
            }
            CommandBody::Subscribe { mailbox } if authenticated => {
                self.subscribe(&tag, &self.mailbox_name(&mailbox), true).await
            }
            CommandBody::Unsubscribe { mailbox } if authenticated => {
                self.subscribe(&tag, &self.mailbox_name(&mailbox), false).await
            }
            CommandBody::Close if self.selected().is_some() => self.close(&tag, true).await,
            CommandBody::Unselect if self.selected().is_some() => self.close(&tag, false).await,
            CommandBody::Check if self.selected().is_some() => self.noop(&tag, "CHECK").await,
            CommandBody::Fetch { sequence_set, macro_or_item_names, uid, modifiers }
                if self.selected().is_some() =>
            {
                use imap_codec::imap_types::command::FetchModifier;
                let mut changed_since = None;
                let mut vanished = false;
                for modifier in &modifiers {
                    match modifier {
                        FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                        FetchModifier::Vanished if self.qresync && uid => vanished = true,
                        FetchModifier::Vanished => {
                            let text = "VANISHED needs UID FETCH with QRESYNC enabled";
                            self.fail(status(Some(&tag), Status::Bad, None, text));
                            return Flow::Continue;
                        }
                    }
                }
                if vanished {
                    let Some(since) = changed_since else {
                        self.fail(status(Some(&tag), Status::Bad, None, "VANISHED needs CHANGEDSINCE"));
                        return Flow::Continue;
                    };
                    self.report_vanished_earlier(since, Some(&sequence_set)).await;
                }
                self.fetch(&tag, &sequence_set, macro_or_item_names, uid, changed_since).await
            }
            CommandBody::Store { sequence_set, kind, response, flags, uid, modifiers }
                if self.selected().is_some() =>
            {
                use imap_codec::imap_types::command::StoreModifier;
                let unchanged_since = modifiers.iter().map(|StoreModifier::UnchangedSince(n)| *n).next();
                let request = crate::cmd::StoreRequest {
                    set: sequence_set,
                    kind,
                    response,
                    flags,
                    by_uid: uid,
                    unchanged_since,
                };
                self.store(&tag, request).await
            }
            CommandBody::Enable { capabilities } if authenticated => self.enable(&tag, capabilities.as_ref()),
            CommandBody::Expunge if self.selected().is_some() => self.expunge(&tag, None).await,
            CommandBody::ExpungeUid { sequence_set } if self.selected().is_some() => {
                self.expunge(&tag, Some(&sequence_set)).await
            }
            CommandBody::Copy { sequence_set, mailbox, uid } if self.selected().is_some() => {
                self.copy(&tag, &sequence_set, &self.mailbox_name(&mailbox), uid, false).await
            }
            CommandBody::Move { sequence_set, mailbox, uid } if self.selected().is_some() => {
                self.copy(&tag, &sequence_set, &self.mailbox_name(&mailbox), uid, true).await
            }
            CommandBody::Search { charset, criteria, uid } if self.selected().is_some() => {
                let charset = charset.as_ref().map(|c| c.as_ref());
                self.search(&tag, charset, criteria.as_ref(), uid, search_return).await
            }
            CommandBody::Sort { sort_criteria, charset, search_criteria, uid }
                if self.selected().is_some() =>
            {
                let (criteria, charset, search) =
                    (sort_criteria.as_ref(), charset.as_ref(), search_criteria.as_ref());
                self.sort(&tag, criteria, charset, search, uid, search_return).await
            }
            CommandBody::Thread { algorithm, charset, search_criteria, uid } if self.selected().is_some() => {
                self.thread(&tag, &algorithm, charset.as_ref(), search_criteria.as_ref(), uid).await
            }
            CommandBody::Append { mailbox, flags, date, message } if authenticated => {
                use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
                let bytes = match &message {
                    LiteralOrLiteral8::Literal(literal) => literal.data().to_vec(),
                    LiteralOrLiteral8::Literal8(literal) => literal.data.to_vec(),
                };
                let date = date.map(|d| d.as_ref().timestamp());
                self.append(&tag, &self.mailbox_name(&mailbox), &flags, date, bytes).await
            }
            CommandBody::Fetch { .. }
            | CommandBody::Store { .. }
            | CommandBody::Expunge
            | CommandBody::ExpungeUid { .. }
            | CommandBody::Copy { .. }
            | CommandBody::Move { .. }
            | CommandBody::Search { .. }
            | CommandBody::Sort { .. }
            | CommandBody::Thread { .. }
                if authenticated =>
            {
                self.fail(status(Some(&tag), Status::Bad, None, "No mailbox selected"));
            }
            CommandBody::Close | CommandBody::Unselect | CommandBody::Check if authenticated => {
                self.fail(status(Some(&tag), Status::Bad, None, "No mailbox selected"));
            }
            body => {
                let name = body.name();
                if authenticated {
                    self.fail(status(Some(&tag), Status::Bad, None, &format!("{name} is not supported yet")));
                } else {
                    self.sign_in_first(&tag, name);
                }
            }
        }
        Flow::Continue
    }
}

fn mailbox_wildcard_bytes<'a>(wildcard: &'a imap_codec::imap_types::mailbox::ListMailbox<'_>) -> &'a [u8] {
    use imap_codec::imap_types::mailbox::ListMailbox;
    match wildcard {
        ListMailbox::Token(token) => token.as_ref(),
        ListMailbox::String(string) => string.as_ref(),
    }
}

/// The tag of an unparsable command, if it has a well-formed one.
fn tag_of(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n')?;
    let tag = &bytes[..end];
    let valid = !tag.is_empty()
        && tag.iter().all(|&b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+' | b']')
        });
    valid.then(|| String::from_utf8_lossy(tag).into_owned())
}

pub(crate) async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests {
    use super::tag_of;

    #[test]
    fn tags_of_unparsable_commands() {
        assert_eq!(tag_of(b"a1 FROB\r\n").as_deref(), Some("a1"));
        assert_eq!(tag_of(b"* FROB\r\n"), None);
        assert_eq!(tag_of(b"\r\n"), None);
    }
}
