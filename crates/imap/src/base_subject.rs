//! The base subject of RFC 5256 §2.1, which SORT SUBJECT orders by and
//! THREAD groups by: the subject without "Re:", "Fwd:", "[list]" blobs,
//! "(fwd)" trailers and "[fwd: ...]" wrappers, whitespace collapsed, in
//! upper case (the i;ascii-casemap collation compares ASCII letters without
//! case; other characters compare as they are).

/// [`base_subject`] of a summary's `Subject:` field, worked out once per
/// summary (summaries are shared, so once per body in the process).
pub(crate) fn of_summary(summary: &mailroom_core::mail::MessageSummary) -> &(String, bool) {
    summary.base_subject.get_or_init(|| base_subject(summary.field("Subject")))
}

/// The base subject of a decoded subject, and whether extracting it removed
/// a reply or forward marker (RFC 5256 §2.1: THREAD=REFERENCES step 5 wants
/// to know).
pub(crate) fn base_subject(subject: &str) -> (String, bool) {
    // Step 1: whitespace runs (folding included) become one space.
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut reply = false;
    loop {
        // Step 2: trailers "(fwd)" and whitespace, repeatedly.
        loop {
            let trimmed = s.trim_end();
            let lower = trimmed.to_ascii_lowercase();
            if lower.ends_with("(fwd)") {
                s = trimmed[..trimmed.len() - 5].to_string();
                reply = true;
            } else {
                s = trimmed.to_string();
                break;
            }
        }
        // Steps 3–5: leaders ("Re:", "[blob] Fwd:", spaces) and blobs.
        loop {
            let before = s.len();
            if let Some(rest) = strip_leader(&s) {
                reply = true;
                s = rest.to_string();
            }
            s = s.trim_start().to_string();
            if let Some(rest) = strip_blob(&s)
                && !rest.trim().is_empty()
            {
                s = rest.to_string();
            }
            if s.len() == before {
                break;
            }
        }
        // Step 6: "[fwd: subject]" is a forward of "subject".
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && lower.ends_with(']') {
            s = s[5..s.len() - 1].to_string();
            reply = true;
            continue;
        }
        break;
    }
    (s.to_ascii_uppercase(), reply)
}

/// `*subj-blob subj-refwd`: the text after one "Re:" / "Fw:" / "Fwd:"
/// leader, possibly with blobs before it and a blob between the word and
/// its colon; `None` if the subject doesn't start with one.
fn strip_leader(s: &str) -> Option<&str> {
    let mut rest = s;
    while let Some(after) = strip_blob(rest) {
        rest = after;
    }
    let lower = rest.to_ascii_lowercase();
    let word = if lower.starts_with("re") {
        2
    } else if lower.starts_with("fwd") {
        3
    } else if lower.starts_with("fw") {
        2
    } else {
        return None;
    };
    let mut after = rest[word..].trim_start_matches([' ', '\t']);
    if let Some(blobless) = strip_blob(after) {
        after = blobless;
    }
    after.strip_prefix(':')
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP`: the text after one blob.
fn strip_blob(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find([']', '['])?;
    if inner.as_bytes()[end] != b']' {
        return None;
    }
    Some(inner[end + 1..].trim_start_matches([' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        for (subject, base, reply) in [
            ("Hello", "HELLO", false),
            ("Re: Hello", "HELLO", true),
            ("RE: re: Fwd:  Hello  world", "HELLO WORLD", true),
            ("Re[2]: Hello", "HELLO", true),
            ("[list] Re: Hello", "HELLO", true),
            ("[list] Hello", "HELLO", false),
            ("[only a blob]", "[ONLY A BLOB]", false),
            ("Hello (fwd)", "HELLO", true),
            ("[Fwd: Re: Hello]", "HELLO", true),
            ("Fw: [fwd: Hello] (fwd)", "HELLO", true),
            ("Rebate offer", "REBATE OFFER", false),
            ("", "", false),
            ("Grüße", "GRüßE", false),
        ] {
            assert_eq!(base_subject(subject), (base.to_string(), reply), "{subject:?}");
        }
    }
}
