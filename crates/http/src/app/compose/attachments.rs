//! The files a message written in the web app carries: those uploaded
//! with the form (field [`FIELD`]), and those of the message forwarded or
//! the draft edited that stay ticked (`keep=in:N`, `keep=draft:N`, N the
//! part's number as the reader lists it). A kept file is read again from
//! its message when the form is sent, the person's rights checked again,
//! so a form can't name a part of a message they can't open.

use std::collections::BTreeSet;

use mailroom_core::directory::Recipient;
use mailroom_mime::readable::{part, readable};

use super::location_of;
use super::mime::FileToAttach;
use crate::multipart::is_media_type;
use crate::pages::Page;
use crate::problem::Problem;

/// The file input's name.
pub(super) const FIELD: &str = "attachment";

/// An attachment the form offers to keep.
#[derive(Clone, Debug)]
pub(crate) struct KeptFile {
    /// `in:N` or `draft:N`.
    pub value: String,
    pub name: String,
    pub size: String,
    pub checked: bool,
}

/// Which message a kept file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// The message forwarded (the form's `in`).
    Original,
    /// The draft being edited (the form's `draft`).
    Draft,
}

impl Source {
    /// The form field naming the message, which is also the prefix of a `keep` value.
    fn field(self) -> &'static str {
        match self {
            Source::Original => "in",
            Source::Draft => "draft",
        }
    }
}

/// The attachments of `message` a form offers to keep, each ticked.
/// Pictures shown inside an HTML text aren't offered: the forward quotes
/// the text, not the HTML.
pub(super) fn listed(message: &[u8], source: Source) -> Vec<KeptFile> {
    readable(message)
        .attachments
        .into_iter()
        .filter(|a| !a.inline)
        .map(|a| KeptFile {
            value: format!("{}:{}", source.field(), a.part),
            name: a.name,
            size: crate::app::message::size(a.size),
            checked: true,
        })
        .collect()
}

/// The parts of `source` the form keeps, each once.
fn wanted(page: &Page<'_>, source: Source) -> BTreeSet<usize> {
    let prefix = format!("{}:", source.field());
    page.form.all("keep").iter().filter_map(|v| v.strip_prefix(&prefix)?.parse().ok()).collect()
}

/// The files uploaded with the form.
pub(super) fn uploads(page: &Page<'_>) -> Vec<FileToAttach> {
    page.form
        .files(FIELD)
        .into_iter()
        .map(|upload| FileToAttach {
            name: upload.filename.clone(),
            content_type: upload.content_type.clone(),
            data: upload.data.clone(),
        })
        .collect()
}

/// Every file the form's message carries: the uploads, then the kept ones.
pub(super) async fn gather(page: &Page<'_>, me: &Recipient) -> Result<Vec<FileToAttach>, Problem> {
    let max = page.web.config.max_message_size();
    let mut files = uploads(page);
    let mut held = 0usize;
    for source in [Source::Original, Source::Draft] {
        let parts = wanted(page, source);
        if parts.is_empty() {
            continue;
        }
        let gone = || Problem::field(FIELD, "A file to keep is no longer there; attach it again.");
        let location = location_of(page.form.get(source.field())).ok_or_else(gone)?;
        let (_, _, body) =
            crate::app::message::opened_message(page, me, location).await.map_err(|_| gone())?;
        // The message and what is decoded from it, on the memory budget.
        held = held.saturating_add(body.len().saturating_mul(2));
        page.cover(held)?;
        // Decoding parts of a large message is CPU work: off the async
        // threads. What is decoded can't outgrow the largest message: past
        // it, the form is refused before more is held.
        let room = max.saturating_sub(files.iter().map(|f| f.data.len()).sum());
        let found = tokio::task::spawn_blocking(move || {
            let offered = readable(&body).attachments;
            let mut decoded = Vec::new();
            let mut total = 0usize;
            for index in parts {
                let listed = offered.iter().any(|a| a.part == index && !a.inline);
                let Some(part) = listed.then(|| part(&body, index)).flatten() else { return Err(false) };
                total = total.saturating_add(part.bytes.len());
                if total > room {
                    return Err(true);
                }
                decoded.push(part);
            }
            Ok(decoded)
        })
        .await
        .map_err(|_| gone())?
        .map_err(|too_large| if too_large { too_big(max) } else { gone() })?;
        files.extend(found.into_iter().map(|p| FileToAttach {
            content_type: if is_media_type(&p.content_type) {
                p.content_type
            } else {
                "application/octet-stream".into()
            },
            name: p.name,
            data: p.bytes.into(),
        }));
    }
    Ok(files)
}

/// The refusal of attachments that add up to more than `max`.
pub(super) fn too_big(max: usize) -> Problem {
    Problem::field(
        FIELD,
        format!(
            "The attachments add up to more than the most that may be sent, {}. Remove an attachment.",
            crate::app::message::size(max)
        ),
    )
}

/// The kept files a refused form offers again, ticked as they were sent.
pub(super) async fn still_offered(page: &Page<'_>, me: &Recipient) -> Vec<KeptFile> {
    let mut out = Vec::new();
    for source in [Source::Original, Source::Draft] {
        let offered = match source {
            Source::Original => page.form.get("mode") == "forward",
            Source::Draft => true,
        };
        let Some(location) = location_of(page.form.get(source.field())).filter(|_| offered) else { continue };
        let Ok((_, _, body)) = crate::app::message::opened_message(page, me, location).await else {
            continue;
        };
        let ticked = page.form.all("keep");
        out.extend(
            listed(&body, source).into_iter().map(|k| KeptFile { checked: ticked.contains(&k.value), ..k }),
        );
    }
    out
}
