//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9): flags, dates, sizes,
//! ENVELOPE and BODYSTRUCTURE from the summary parsed at delivery, and body
//! sections cut from the stored message by its MIME offsets. Fetching a body
//! without `.PEEK` sets `\Seen` — shared by every member (Exchange's
//! default, SPEC §5).

use imap_codec::imap_types::fetch::{Macro, MacroOrMessageDataItemNames, MessageDataItemName, Section};
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_core::mail::{Flags, MessageSummary, StoredMessage, SystemFlag};
use mailroom_core::store::FlagChange;

use crate::render;
use crate::respond::{Status, status};
use crate::sequence::pick;
use crate::session::Session;

/// Flags as IMAP writes them, with `\Recent` for a message recent in the
/// session (RFC 3501 §2.3.2).
pub(crate) fn flag_list(flags: &Flags, recent: bool) -> String {
    let mut names = Vec::new();
    if recent {
        names.push("\\Recent".to_string());
    }
    for (flag, name) in [
        (SystemFlag::Seen, "\\Seen"),
        (SystemFlag::Answered, "\\Answered"),
        (SystemFlag::Flagged, "\\Flagged"),
        (SystemFlag::Deleted, "\\Deleted"),
        (SystemFlag::Draft, "\\Draft"),
    ] {
        if flags.has(flag) {
            names.push(name.to_string());
        }
    }
    names.extend(flags.keywords.iter().cloned());
    format!("({})", names.join(" "))
}

fn expand(items: MacroOrMessageDataItemNames<'static>) -> Vec<MessageDataItemName<'static>> {
    use MessageDataItemName as I;
    match items {
        MacroOrMessageDataItemNames::Macro(Macro::Fast) => vec![I::Flags, I::InternalDate, I::Rfc822Size],
        MacroOrMessageDataItemNames::Macro(Macro::All) => {
            vec![I::Flags, I::InternalDate, I::Rfc822Size, I::Envelope]
        }
        MacroOrMessageDataItemNames::Macro(Macro::Full) => {
            vec![I::Flags, I::InternalDate, I::Rfc822Size, I::Envelope, I::Body]
        }
        MacroOrMessageDataItemNames::MessageDataItemNames(items) => items,
        // Macros added by later extensions: the common subset.
        MacroOrMessageDataItemNames::Macro(_) => vec![I::Flags, I::InternalDate, I::Rfc822Size],
    }
}

fn section_label(section: &Option<Section<'_>>) -> String {
    let path = |part: &imap_codec::imap_types::fetch::Part| {
        part.0.as_ref().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".")
    };
    let with = |part: &Option<imap_codec::imap_types::fetch::Part>, what: &str| match part {
        Some(p) => format!("{}.{what}", path(p)),
        None => what.to_string(),
    };
    let names = |list: &imap_codec::imap_types::core::Vec1<imap_codec::imap_types::core::AString<'_>>| {
        list.as_ref()
            .iter()
            .map(|n| String::from_utf8_lossy(n.as_ref()).to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match section {
        None => String::new(),
        Some(Section::Part(p)) => path(p),
        Some(Section::Header(p)) => with(p, "HEADER"),
        Some(Section::HeaderFields(p, list)) => format!("{} ({})", with(p, "HEADER.FIELDS"), names(list)),
        Some(Section::HeaderFieldsNot(p, list)) => {
            format!("{} ({})", with(p, "HEADER.FIELDS.NOT"), names(list))
        }
        Some(Section::Text(p)) => with(p, "TEXT"),
        Some(Section::Mime(p)) => format!("{}.MIME", path(p)),
    }
}

/// Whether the part a section names exists in the message (a section
/// without a part path always does).
pub(crate) fn section_exists(summary: &MessageSummary, section: &Section<'_>) -> bool {
    let path = |p: &imap_codec::imap_types::fetch::Part| -> Vec<u32> {
        p.0.as_ref().iter().map(|n| n.get()).collect()
    };
    let message_at = |p: &Option<imap_codec::imap_types::fetch::Part>| match p {
        None => true,
        Some(p) => render::part_at(&summary.body, &path(p)).is_some_and(|part| part.message.is_some()),
    };
    match section {
        Section::Part(p) | Section::Mime(p) => render::part_at(&summary.body, &path(p)).is_some(),
        Section::Header(p)
        | Section::Text(p)
        | Section::HeaderFields(p, _)
        | Section::HeaderFieldsNot(p, _) => message_at(p),
    }
}

/// The bytes a section names (empty when the part doesn't exist).
pub(crate) fn section_bytes(
    bytes: &[u8],
    summary: &MessageSummary,
    section: &Option<Section<'_>>,
) -> Vec<u8> {
    let slice = |from: u32, to: u32| {
        bytes.get(from as usize..(to as usize).min(bytes.len())).unwrap_or_default().to_vec()
    };
    let root = &summary.body;
    // The message a HEADER/TEXT section with a part path applies to.
    let message_at = |p: &Option<imap_codec::imap_types::fetch::Part>| match p {
        None => Some(root),
        Some(p) => {
            let path: Vec<u32> = p.0.as_ref().iter().map(|n| n.get()).collect();
            render::part_at(root, &path).and_then(|part| part.message.as_ref().map(|m| &m.body))
        }
    };
    let part_path = |p: &imap_codec::imap_types::fetch::Part| -> Vec<u32> {
        p.0.as_ref().iter().map(|n| n.get()).collect()
    };
    let names = |list: &imap_codec::imap_types::core::Vec1<imap_codec::imap_types::core::AString<'_>>| {
        list.as_ref().iter().map(|n| String::from_utf8_lossy(n.as_ref()).into_owned()).collect::<Vec<_>>()
    };
    match section {
        None => bytes.to_vec(),
        Some(Section::Part(p)) => render::part_at(root, &part_path(p))
            .map(|part| slice(part.body_offset, part.end_offset))
            .unwrap_or_default(),
        Some(Section::Header(p)) => {
            message_at(p).map(|m| slice(m.header_offset, m.body_offset)).unwrap_or_default()
        }
        Some(Section::HeaderFields(p, list)) => message_at(p)
            .map(|m| render::header_fields(&slice(m.header_offset, m.body_offset), &names(list), true))
            .unwrap_or_default(),
        Some(Section::HeaderFieldsNot(p, list)) => message_at(p)
            .map(|m| render::header_fields(&slice(m.header_offset, m.body_offset), &names(list), false))
            .unwrap_or_default(),
        Some(Section::Text(p)) => {
            message_at(p).map(|m| slice(m.body_offset, m.end_offset.max(m.body_offset))).unwrap_or_default()
        }
        Some(Section::Mime(p)) => render::part_at(root, &part_path(p))
            .map(|part| slice(part.header_offset, part.body_offset))
            .unwrap_or_default(),
    }
}

/// A message's EMAILID (RFC 8474): `M` and the first 96 bits of its body's
/// SHA-256 in hex — the same for every copy of the same content.
pub(crate) fn email_id(blob: &mailroom_types::BlobId) -> String {
    format!("M{}", &blob.to_hex()[..24])
}

/// Messages whose summaries one store call reads.
const FETCH_BATCH: usize = 256;
/// Header octets one store call reads at most (a header larger than this
/// is read alone).
const HEADER_BATCH_BYTES: u64 = 4 * 1024 * 1024;

fn binary_label(section: &[std::num::NonZeroU32]) -> String {
    section.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".")
}

/// The content BINARY[section] names, its transfer encoding undone (RFC
/// 3516 §4.2, RFC 9051 §6.4.5). An empty section is the whole message as
/// stored (a header has no transfer encoding); a part that doesn't exist is
/// empty, as for BODY[]. The part's declared encoding is always applied: an
/// identity for conforming multiparts and embedded messages, and right for
/// the ones that declare base64 anyway.
fn binary_content(
    bytes: &[u8],
    summary: &MessageSummary,
    section: &[std::num::NonZeroU32],
) -> Result<Vec<u8>, mailroom_mime::UnknownEncoding> {
    if section.is_empty() {
        return Ok(bytes.to_vec());
    }
    let path: Vec<u32> = section.iter().map(|n| n.get()).collect();
    let Some(part) = render::part_at(&summary.body, &path) else { return Ok(Vec::new()) };
    let content =
        bytes.get(part.body_offset as usize..(part.end_offset as usize).min(bytes.len())).unwrap_or_default();
    mailroom_mime::decode_transfer_encoding(&part.encoding, content)
}

impl Session {
    /// The tagged NO ending a FETCH whose BINARY item names an encoding
    /// this server can't undo (RFC 3516 §4.3: `UNKNOWN-CTE`).
    fn binary_error(&mut self, tag: &str, seq: u32, err: mailroom_mime::UnknownEncoding) {
        let text = format!("Message {seq}: can't decode the {} transfer encoding", err.0);
        self.fail(status(Some(tag), Status::No, Some("UNKNOWN-CTE"), &text));
    }

    pub(crate) async fn fetch(
        &mut self,
        tag: &str,
        set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        by_uid: bool,
        changed_since: Option<u64>,
    ) {
        let Some(selected) = self.selected_for(tag, Some((set, by_uid)), false) else { return };
        let mut items = expand(items);
        if by_uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        // RFC 7162 §3.1.4: MODSEQ and CHANGEDSINCE enable CONDSTORE; once it
        // is on, FETCH responses carry the MODSEQ.
        if changed_since.is_some() || items.contains(&MessageDataItemName::ModSeq) {
            self.condstore = true;
        }
        if self.condstore && !items.contains(&MessageDataItemName::ModSeq) {
            items.push(MessageDataItemName::ModSeq);
        }
        let mut picked = pick(set, &selected.uids, by_uid);
        if let Some(window) = self.fetch_partial.take() {
            // RFC 9394 §3.3: only this window of the messages the set names.
            picked = window.window(&picked).to_vec();
        }
        let extra = self.fetch_extra;
        if !self.fetch_messages(Some(tag), &selected, &picked, &items, extra, changed_since).await {
            return;
        }
        let command = if by_uid { "UID FETCH" } else { "FETCH" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }

    /// The FETCH responses for `picked` (message numbers and UIDs) of the
    /// selected folder: a FETCH command's, or (without a tag) those NOTIFY
    /// sends for new messages (RFC 5465 §5.2). `false` when it stopped on
    /// an error, answered to the command or, without one, logged.
    pub(crate) async fn fetch_messages(
        &mut self,
        tag: Option<&str>,
        selected: &crate::session::Selected,
        picked: &[(u32, mailroom_types::Uid)],
        items: &[MessageDataItemName<'static>],
        extra: crate::fetch_items::Extra,
        changed_since: Option<u64>,
    ) -> bool {
        let items = items.to_vec();
        let folder = &selected.target.open;
        let mail = self.server.mail.clone();
        let wanted: Vec<_> = picked.iter().map(|(_, uid)| *uid).collect();
        // In UID order (the store's promise): found by binary search.
        let messages: Vec<StoredMessage> = match mail.messages_by_uid(folder, &wanted).await {
            Ok(list) => list,
            Err(err) => {
                self.fetch_failed(tag, &selected.target.name, err);
                return false;
            }
        };
        let needs_bytes = items.iter().any(|i| {
            matches!(
                i,
                MessageDataItemName::Rfc822
                    | MessageDataItemName::Rfc822Header
                    | MessageDataItemName::Rfc822Text
                    | MessageDataItemName::BodyExt { .. }
                    | MessageDataItemName::Binary { .. }
                    | MessageDataItemName::BinarySize { .. }
            )
        });
        // Items that need the top-level header and nothing after it (a
        // client listing a folder): the body is read only that far.
        let header_only = needs_bytes
            && items.iter().all(|i| match i {
                MessageDataItemName::Rfc822Header => true,
                MessageDataItemName::BodyExt { section, partial: None, .. } => matches!(
                    section,
                    Some(
                        Section::Header(None)
                            | Section::HeaderFields(None, _)
                            | Section::HeaderFieldsNot(None, _)
                    )
                ),
                MessageDataItemName::Rfc822
                | MessageDataItemName::Rfc822Text
                | MessageDataItemName::BodyExt { .. }
                | MessageDataItemName::Binary { .. }
                | MessageDataItemName::BinarySize { .. } => false,
                _ => true,
            });
        // The whole message (RFC822, BODY[]) is its bytes alone; anything
        // that names a part, the header's end or the structure needs the
        // summary.
        let needs_summary = items.iter().any(|i| {
            matches!(
                i,
                MessageDataItemName::Envelope
                    | MessageDataItemName::Body
                    | MessageDataItemName::BodyStructure
                    | MessageDataItemName::Rfc822Header
                    | MessageDataItemName::Rfc822Text
                    | MessageDataItemName::BodyExt { section: Some(_), .. }
                    | MessageDataItemName::Binary { .. }
                    | MessageDataItemName::BinarySize { .. }
            )
        });
        let marks_seen = !selected.read_only
            && items.iter().any(|i| {
                matches!(
                    i,
                    MessageDataItemName::Rfc822
                        | MessageDataItemName::Rfc822Text
                        | MessageDataItemName::BodyExt { peek: false, .. }
                        | MessageDataItemName::Binary { peek: false, .. }
                )
            });
        // In batches: one store call reads the summaries (and one, for a header
        // listing, the headers) of a batch, and a batch bounds the memory.
        for batch in picked.chunks(FETCH_BATCH) {
            // Expunged by another session since, or unchanged since CHANGEDSINCE: nothing to show.
            let shown: Vec<(u32, &StoredMessage)> = batch
                .iter()
                .filter_map(|&(seq, uid)| {
                    messages.binary_search_by_key(&uid, |m| m.uid).ok().map(|at| (seq, &messages[at]))
                })
                .filter(|(_, m)| changed_since.is_none_or(|since| m.modseq.0 > since))
                .collect();
            let (shown, summaries): (Vec<(u32, &StoredMessage)>, Vec<std::sync::Arc<MessageSummary>>) =
                if needs_summary {
                    let listed: Vec<&StoredMessage> = shown.iter().map(|(_, m)| *m).collect();
                    match mail.summaries(folder, &listed).await {
                        // Expunged since by another session: nothing to show.
                        Ok(found) => shown
                            .into_iter()
                            .zip(found)
                            .filter_map(|(shown, summary)| summary.map(|s| (shown, s)))
                            .unzip(),
                        Err(err) => {
                            self.fetch_failed(tag, &selected.target.name, err);
                            return false;
                        }
                    }
                } else {
                    let count = shown.len();
                    (shown, vec![std::sync::Arc::default(); count])
                };
            // Only the header is sent: only the headers are read, several
            // at a time up to a bound (a "header" can be a whole message
            // when it has no blank line).
            let mut headers: std::collections::VecDeque<Option<Vec<u8>>> = Default::default();
            for (i, &(seq, message)) in shown.iter().enumerate() {
                let summary = &summaries[i];
                let uid = message.uid;
                let bytes = if !needs_bytes {
                    Vec::new()
                } else if header_only {
                    if headers.is_empty() {
                        // From this message on, while the headers fit the
                        // bound; a header larger than it is read alone.
                        let size = |k: usize| u64::from(summaries[k].body.body_offset).min(shown[k].1.size);
                        let (mut end, mut total) = (i + 1, size(i));
                        while end < shown.len() && total + size(end) <= HEADER_BATCH_BYTES {
                            total += size(end);
                            end += 1;
                        }
                        let pairs: Vec<_> = (i..end).map(|k| (shown[k].1, &*summaries[k])).collect();
                        match mail.headers(folder, &pairs).await {
                            Ok(read) => headers.extend(read),
                            Err(err) => {
                                self.fetch_failed(tag, &selected.target.name, err);
                                return false;
                            }
                        }
                    }
                    match headers.pop_front().flatten() {
                        Some(bytes) => bytes,
                        None => continue,
                    }
                } else {
                    match mail.body(folder, message).await {
                        Ok(bytes) => bytes,
                        // Expunged since by another session: nothing to show.
                        Err(mailroom_core::CoreError::NotFound { .. }) => {
                            continue;
                        }
                        Err(err) => {
                            {
                                self.fetch_failed(tag, &selected.target.name, err);
                                return false;
                            };
                        }
                    }
                };
                // Decoded before anything is marked: a part that can't be
                // decoded fails the FETCH and leaves \Seen alone.
                let mut decoded = Vec::new();
                for name in &items {
                    if let MessageDataItemName::Binary { section, .. }
                    | MessageDataItemName::BinarySize { section } = name
                    {
                        match binary_content(&bytes, summary, section) {
                            Ok(data) => decoded.push(data),
                            Err(err) => {
                                match tag {
                                    Some(tag) => self.binary_error(tag, seq, err),
                                    None => {
                                        tracing::warn!(session = self.id, "notification FETCH: {}", err.0)
                                    }
                                }
                                return false;
                            }
                        }
                    }
                }
                let mut decoded = decoded.into_iter();
                let mut flags = message.flags.clone();
                let mut modseq = message.modseq;
                let mut flags_changed = false;
                if marks_seen && !flags.has(SystemFlag::Seen) {
                    let seen = Flags::default().with(SystemFlag::Seen);
                    if let Ok(outcome) = mail.store_flags(folder, &[uid], FlagChange::Add, &seen, None).await
                        && let Some(update) = outcome.updated.first()
                    {
                        flags = update.flags.clone();
                        modseq = update.modseq;
                        flags_changed = true;
                        self.note_own_change(modseq);
                    }
                }
                let mut out = format!("* {seq} FETCH (").into_bytes();
                let mut first = true;
                let mut item = |out: &mut Vec<u8>| {
                    if !first {
                        out.push(b' ');
                    }
                    first = false;
                };
                let mut wrote_flags = false;
                for name in &items {
                    item(&mut out);
                    match name {
                        MessageDataItemName::Uid => {
                            out.extend_from_slice(format!("UID {}", uid.0).as_bytes())
                        }
                        MessageDataItemName::Flags => {
                            wrote_flags = true;
                            out.extend_from_slice(
                                format!("FLAGS {}", flag_list(&flags, self.is_recent(uid))).as_bytes(),
                            )
                        }
                        MessageDataItemName::InternalDate => out.extend_from_slice(
                            format!("INTERNALDATE {}", render::internal_date(message.internal_date))
                                .as_bytes(),
                        ),
                        MessageDataItemName::Rfc822Size => {
                            out.extend_from_slice(format!("RFC822.SIZE {}", message.size).as_bytes())
                        }
                        MessageDataItemName::ModSeq => {
                            out.extend_from_slice(format!("MODSEQ ({})", modseq.0).as_bytes())
                        }
                        MessageDataItemName::Envelope => {
                            out.extend_from_slice(b"ENVELOPE ");
                            render::envelope(&mut out, &summary.envelope);
                        }
                        MessageDataItemName::Body => {
                            out.extend_from_slice(b"BODY ");
                            render::body_structure(&mut out, &summary.body, false);
                        }
                        MessageDataItemName::BodyStructure => {
                            out.extend_from_slice(b"BODYSTRUCTURE ");
                            render::body_structure(&mut out, &summary.body, true);
                        }
                        MessageDataItemName::Rfc822 => {
                            out.extend_from_slice(b"RFC822 ");
                            render::literal(&mut out, &bytes);
                        }
                        MessageDataItemName::Rfc822Header => {
                            out.extend_from_slice(b"RFC822.HEADER ");
                            let end = (summary.body.body_offset as usize).min(bytes.len());
                            render::literal(&mut out, &bytes[..end]);
                        }
                        MessageDataItemName::Rfc822Text => {
                            out.extend_from_slice(b"RFC822.TEXT ");
                            let start = (summary.body.body_offset as usize).min(bytes.len());
                            render::literal(&mut out, &bytes[start..]);
                        }
                        MessageDataItemName::BodyExt { section, partial, .. } => {
                            let data = section_bytes(&bytes, summary, section);
                            let label = section_label(section);
                            match partial {
                                Some((start, length)) => {
                                    let from = (*start as usize).min(data.len());
                                    let to = from.saturating_add(length.get() as usize).min(data.len());
                                    out.extend_from_slice(format!("BODY[{label}]<{start}> ").as_bytes());
                                    render::literal(&mut out, &data[from..to]);
                                }
                                None => {
                                    out.extend_from_slice(format!("BODY[{label}] ").as_bytes());
                                    render::literal(&mut out, &data);
                                }
                            }
                        }
                        MessageDataItemName::Binary { section, partial, .. } => {
                            let data = decoded.next().unwrap_or_default();
                            let label = binary_label(section);
                            let (from, to) = match partial {
                                Some((start, length)) => {
                                    let from = (*start as usize).min(data.len());
                                    (from, from.saturating_add(length.get() as usize).min(data.len()))
                                }
                                None => (0, data.len()),
                            };
                            let origin = partial.map(|(start, _)| format!("<{start}>")).unwrap_or_default();
                            out.extend_from_slice(format!("BINARY[{label}]{origin} ").as_bytes());
                            render::literal8(&mut out, &data[from..to]);
                        }
                        MessageDataItemName::BinarySize { section } => {
                            let data = decoded.next().unwrap_or_default();
                            let label = binary_label(section);
                            out.extend_from_slice(format!("BINARY.SIZE[{label}] {}", data.len()).as_bytes());
                        }
                    }
                }
                if flags_changed && !wrote_flags {
                    out.extend_from_slice(
                        format!(" FLAGS {}", flag_list(&flags, self.is_recent(uid))).as_bytes(),
                    );
                }
                if extra.email_id {
                    // RFC 8474 §5.1: the content's id, so a copy or a move
                    // keeps it; from the body's SHA-256 (96 bits of it).
                    out.extend_from_slice(format!(" EMAILID ({})", email_id(&message.blob)).as_bytes());
                }
                if extra.thread_id {
                    // RFC 8474 §5.2: no thread ids (SEARCH THREADID finds nothing).
                    out.extend_from_slice(b" THREADID NIL");
                }
                if extra.save_date {
                    out.extend_from_slice(
                        format!(" SAVEDATE {}", render::internal_date(message.saved_at)).as_bytes(),
                    );
                }
                if extra.preview {
                    // RFC 8970: the start of the text, from the body (read
                    // here if no other item needed it); never marks \Seen.
                    let body = if needs_bytes && !header_only {
                        None
                    } else {
                        match mail.body(folder, message).await {
                            Ok(read) => Some(read),
                            Err(err) => {
                                self.fetch_failed(tag, &selected.target.name, err);
                                return false;
                            }
                        }
                    };
                    let text = mailroom_mime::readable::preview(body.as_deref().unwrap_or(&bytes));
                    out.extend_from_slice(b" PREVIEW ");
                    render::string(&mut out, text.as_bytes());
                }
                out.extend_from_slice(b")\r\n");
                if wrote_flags || flags_changed {
                    self.announce_keywords(std::iter::once(&flags));
                }
                self.conn.send(&out);
                // A big FETCH streams: don't hold the whole response in memory.
                if self.conn.pending() > 256 * 1024 && self.conn.flush().await.is_err() {
                    return false;
                }
            }
        }
        true
    }

    /// A store failure in the middle of FETCH responses: the command's NO,
    /// or, for responses no command asked for, a line in the log.
    fn fetch_failed(&mut self, tag: Option<&str>, name: &str, err: mailroom_core::CoreError) {
        match tag {
            Some(tag) => self.store_error(tag, name, err),
            None => tracing::warn!(session = self.id, error = %err, "notification FETCH failed"),
        }
    }
}
