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
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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

/// HTML shorter than this is cleaned in one piece.
const SPLIT_ABOVE: usize = 256 * 1024;

/// Cleans `html`. `cid_urls` maps a `Content-ID` to the URL that serves
/// that part; `remote_images` lets `http(s):` images through.
///
/// Large HTML is cleaned in pieces on several threads (html5ever parses at
/// some tens of MB/s: a 1 MB newsletter is most of the time its page
/// takes). It is cut only between top-level elements ([`split_points`]),
/// and every piece is cleaned on its own: each comes out balanced and
/// clean, so their concatenation is too — a cut in an odd place could
/// change how something looks, never what may run.
pub(crate) fn clean(html: &str, cid_urls: HashMap<String, String>, remote_images: bool) -> Cleaned {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    // Threads beyond the caller's come from a server-wide allowance of one
    // per core: many large messages opened at once are cleaned one piece
    // each rather than piling threads on the machine.
    let extra = if html.len() > SPLIT_ABOVE { HELPERS.take(threads - 1) } else { Helpers(0) };
    let cuts = if extra.0 > 0 { split_points(html, extra.0 + 1) } else { Vec::new() };
    if cuts.is_empty() {
        return clean_one(html, &cid_urls, remote_images);
    }
    let mut bounds = vec![0];
    bounds.extend(cuts);
    bounds.push(html.len());
    let pieces: Option<Vec<Cleaned>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (piece, cids) = (&html[w[0]..w[1]], &cid_urls);
                scope.spawn(move || clean_one(piece, cids, remote_images))
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    // A piece that failed is no reason to show less: all of it in one go.
    let Some(pieces) = pieces else { return clean_one(html, &cid_urls, remote_images) };
    let mut out = Cleaned {
        html: String::with_capacity(html.len()),
        remote_images_blocked: false,
        shown_cids: Default::default(),
    };
    for piece in pieces {
        out.html.push_str(&piece.html);
        out.remote_images_blocked |= piece.remote_images_blocked;
        out.shown_cids.extend(piece.shown_cids);
    }
    out
}

/// Helper threads in use for cleaning, server-wide.
static HELPERS: HelperPool = HelperPool(AtomicUsize::new(0));

struct HelperPool(AtomicUsize);

/// Helper threads taken from [`HELPERS`]; given back when dropped.
struct Helpers(usize);

impl HelperPool {
    /// Up to `wanted` helpers, as many as are free (of one per core).
    fn take(&'static self, wanted: usize) -> Helpers {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut taken = 0;
        let _ = self.0.fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
            taken = wanted.min(cores.saturating_sub(busy));
            Some(busy + taken)
        });
        Helpers(taken)
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        HELPERS.0.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// Elements whose end tag may be left out, or that have none: they don't
/// count towards the depth [`split_points`] tracks (`html` and `body` are
/// the top level itself).
const UNCOUNTED: [&str; 34] = [
    "html", "head", "body", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
    "optgroup", "colgroup", "caption", "rt", "rp", "area", "base", "br", "col", "embed", "hr", "img",
    "input", "link", "meta", "source", "track", "wbr", "param", "keygen",
];

/// Elements whose content is text, skipped whole.
const RAW_TEXT: [&str; 10] =
    ["script", "style", "textarea", "title", "xmp", "noscript", "iframe", "noembed", "noframes", "plaintext"];

/// Up to `pieces - 1` offsets, near even shares of `html`, where a start
/// tag begins at the top level: every element that needs an end tag opened
/// before it is closed before it, and the scan isn't inside a comment,
/// a raw-text element or a tag. HTML it can't follow (an element left open)
/// gives no cuts, and is cleaned in one piece.
fn split_points(html: &str, pieces: usize) -> Vec<usize> {
    let bytes = html.as_bytes();
    let share = html.len() / pieces;
    let mut cuts = Vec::new();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < bytes.len() && cuts.len() + 1 < pieces {
        let Some(lt) = memchr::memchr(b'<', &bytes[i..]) else { break };
        i += lt;
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            match memchr::memmem::find(&rest[4..], b"-->") {
                Some(end) => i += 4 + end + 3,
                None => break,
            }
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        let name_len = rest[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if name_len == 0 {
            i += 1;
            continue;
        }
        let name = html[i + name_start..i + name_start + name_len].to_ascii_lowercase();
        // The tag's end: the first `>` outside a quoted attribute value.
        let mut j = i + name_start + name_len;
        let mut quote = None;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (None, b'"' | b'\'') => quote = Some(bytes[j]),
                (Some(q), b) if b == q => quote = None,
                (None, b'>') => break,
                _ => {}
            }
            j += 1;
        }
        if j >= bytes.len() {
            break;
        }
        if !closing && depth == 0 && i >= share * (cuts.len() + 1) && !UNCOUNTED.contains(&name.as_str()) {
            cuts.push(i);
        }
        // `<div/>` leaves a div open in HTML; in SVG `<path/>` is closed,
        // but counting it open only means no cut after it.
        if !UNCOUNTED.contains(&name.as_str()) {
            depth += if closing { -1 } else { 1 };
            if depth < 0 {
                // A stray end tag: this isn't HTML the scan can follow.
                return Vec::new();
            }
        }
        if !closing && RAW_TEXT.contains(&name.as_str()) {
            // On to its end tag, in any case of letters.
            let mut at = j;
            loop {
                match memchr::memmem::find(&bytes[at..], b"</") {
                    Some(k)
                        if bytes[at + k + 2..].len() >= name.len()
                            && bytes[at + k + 2..at + k + 2 + name.len()]
                                .eq_ignore_ascii_case(name.as_bytes()) =>
                    {
                        at += k;
                        break;
                    }
                    Some(k) => at += k + 2,
                    None => return cuts,
                }
            }
            i = at;
            continue;
        }
        i = j + 1;
    }
    // A cut made at depth 0 stays good whatever follows it.
    cuts
}

/// Cleans one piece of HTML with ammonia.
fn clean_one(html: &str, cid_urls: &HashMap<String, String>, remote_images: bool) -> Cleaned {
    let blocked = Arc::new(AtomicBool::new(false));
    let saw_remote = blocked.clone();
    let cids = Arc::new(cid_urls.clone());
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
    fn large_html_is_cut_only_between_top_level_elements() {
        let row = |n: usize| format!("<table><tr><td><div>cell {n}<!-- <div> --></div><td>x</table>\n");
        let html: String = (0..100).map(row).collect();
        let cuts = split_points(&html, 4);
        assert_eq!(cuts.len(), 3, "{cuts:?}");
        for cut in &cuts {
            assert!(html[*cut..].starts_with("<table>"), "{}", &html[*cut..*cut + 20]);
        }
        // What the scan can't follow isn't cut: a stray end tag, a tag or
        // comment that never ends; nor inside a script's text.
        assert!(split_points(&format!("</div>{html}"), 2).is_empty());
        assert!(split_points("<div><p>never closed", 2).is_empty());
        let script = format!("<script>{}</script>{}", "<table>".repeat(50), "<b>y</b>".repeat(50));
        let cuts = split_points(&script, 2);
        assert_eq!(cuts.len(), 1, "past the script, the bold words are top level");
        assert!(cuts[0] > script.find("</script>").unwrap() && script[cuts[0]..].starts_with("<b>"));
        assert!(split_points(&format!("<div title=\"a>b\">{}</div>", "<p>x".repeat(100)), 2).is_empty());
        // Cut or not, what comes out is the same clean HTML.
        let big: String = (0..4000)
            .map(|n| {
                format!(
                    "{}<img src=\"https://t.example/{n}.gif\" onerror=\"x()\"><script>y()</script>",
                    row(n)
                )
            })
            .collect();
        assert!(big.len() > SPLIT_ABOVE);
        let whole = clean_one(&big, &HashMap::new(), false);
        assert!(!split_points(&big, 2).is_empty(), "it is cut");
        let pieces = clean(&big, HashMap::new(), false);
        assert_eq!(pieces.html, whole.html);
        assert!(pieces.remote_images_blocked);
        assert!(!pieces.html.contains("<script") && !pieces.html.contains("onerror"));
    }

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
