//! Message HTML made safe to show inside our page (ammonia, a maintained
//! allow-list sanitiser): no script, no style, no forms, no event handlers,
//! no `javascript:` or `data:` links; links open in a new tab without a
//! referrer or an opener. Images an HTML part refers to by `cid:` are served
//! from the message; remote images are dropped unless the reader asked for
//! them (they tell the sender the message was read, and when). The page's
//! Content-Security-Policy backs this up: even a tag that slipped through
//! could load or run nothing from elsewhere.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Cleaned HTML by message body: bodies never change once stored, so a
/// message opened again (by its reader or another member) isn't cleaned
/// again. Bounded by entries and bytes; the oldest entry goes first. Who may
/// read a message is still asked of `core` on every request, before this.
#[derive(Debug, Default)]
pub(crate) struct CleanCache {
    entries: std::sync::Mutex<std::collections::VecDeque<(CacheKey, Arc<Cleaned>)>>,
}

type CacheKey = (mailroom_types::BlobId, bool, String);

const CACHE_ENTRIES: usize = 64;
const CACHE_BYTES: usize = 32 * 1024 * 1024;

impl CleanCache {
    /// The cleaned HTML of the body `blob` (with remote images or not, and
    /// its parts served under `base`), cleaning it with `clean` if it isn't kept.
    pub(crate) fn get_or_clean(
        &self,
        key: (mailroom_types::BlobId, bool, String),
        clean: impl FnOnce() -> Cleaned,
    ) -> Arc<Cleaned> {
        if let Some(hit) = self.lock().iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()) {
            return hit;
        }
        let cleaned = Arc::new(clean());
        let mut entries = self.lock();
        entries.push_back((key, cleaned.clone()));
        while entries.len() > CACHE_ENTRIES
            || entries.iter().map(|(_, c)| c.html.len()).sum::<usize>() > CACHE_BYTES
        {
            if entries.pop_front().is_none() {
                break;
            }
        }
        cleaned
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<(CacheKey, Arc<Cleaned>)>> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Clean HTML, whether remote images were held back, and which parts it
/// shows in place (by Content-ID): those aren't listed as attachments.
#[derive(Debug)]
pub(crate) struct Cleaned {
    pub html: String,
    pub remote_images_blocked: bool,
    pub shown_cids: std::collections::HashSet<String>,
}

/// Cleans `html`. `cid_urls` maps a `Content-ID` to the URL that serves
/// that part; `remote_images` lets `http(s):` images through.
pub(crate) fn clean(html: &str, cid_urls: HashMap<String, String>, remote_images: bool) -> Cleaned {
    let blocked = Arc::new(AtomicBool::new(false));
    let saw_remote = blocked.clone();
    let cids = Arc::new(cid_urls);
    let used = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let used_in_filter = used.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        // `cid:` gets past the scheme check only to be rewritten (or dropped) below.
        .url_schemes(["http", "https", "mailto", "cid"].into_iter().collect())
        .attribute_filter(move |element, attribute, value| {
            if element != "img" || attribute != "src" {
                if value.trim().to_ascii_lowercase().starts_with("cid:") {
                    return None;
                }
                return Some(Cow::Borrowed(value));
            }
            let lower = value.trim().to_ascii_lowercase();
            if let Some(cid) = lower.strip_prefix("cid:") {
                // Our own URL for the part (relative, so allowed).
                let original = &value.trim()[value.trim().len() - cid.len()..];
                let url = cids.get(original)?;
                if let Ok(mut used) = used_in_filter.lock() {
                    used.insert(original.to_string());
                }
                return Some(Cow::Owned(url.clone()));
            }
            if lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//") {
                if remote_images {
                    return Some(Cow::Borrowed(value));
                }
                saw_remote.store(true, Ordering::Relaxed);
                return None;
            }
            // data:, file:, relative paths (which would point at us): none.
            None
        });
    let html = builder.clean(html).to_string();
    drop(builder);
    let shown_cids = used.lock().map(|u| u.clone()).unwrap_or_default();
    Cleaned { html, remote_images_blocked: blocked.load(Ordering::Relaxed), shown_cids }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = r#"<p onclick="steal()">Hi<script>alert(1)</script></p>
<img src="x" onerror="alert(2)"><img src="https://tracker.example/p.gif"><img src="cid:logo@x">
<a href="javascript:alert(3)">click</a><a href="https://example.com/">site</a>
<form action="https://evil.example/"><input name="p"></form><style>body{display:none}</style>
<iframe src="https://evil.example/"></iframe><svg onload="alert(4)"></svg>
<img src="data:image/png;base64,AAAA"><img src="/mail/9/9/9/delete"><img src="CID:logo@x">"#;

    #[test]
    fn scripts_handlers_forms_and_remote_images_never_survive() {
        let cids = HashMap::from([("logo@x".to_string(), "/mail/1/2/3/part/4".to_string())]);
        let out = clean(HOSTILE, cids.clone(), false);
        let html = out.html.to_lowercase();
        for banned in [
            "<script",
            "onclick",
            "onerror",
            "onload",
            "javascript:",
            "<form",
            "<input",
            "<style",
            "<iframe",
            "tracker.example",
            "data:",
        ] {
            assert!(!html.contains(banned), "{banned} survived: {html}");
        }
        assert!(out.remote_images_blocked);
        assert!(html.contains(r#"src="/mail/1/2/3/part/4""#), "{html}");
        assert!(out.shown_cids.contains("logo@x"));
        // A relative source (which would GET one of our own pages) is dropped;
        // `CID:` in capitals is a cid: too.
        assert!(!html.contains("/mail/9/9/9"), "{html}");
        assert_eq!(html.matches(r#"src="/mail/1/2/3/part/4""#).count(), 2, "{html}");
        assert!(html.contains(r#"href="https://example.com/""#) && html.contains("noopener"), "{html}");
        assert!(html.contains(r#"target="_blank""#), "{html}");

        let allowed = clean(HOSTILE, cids, true);
        assert!(allowed.html.contains("https://tracker.example/p.gif"));
        assert!(!allowed.remote_images_blocked);
        assert!(!allowed.html.contains("<script"));
    }
}
