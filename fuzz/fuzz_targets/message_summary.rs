//! Delivery of arbitrary message bytes: the summary parsed once at delivery
//! never panics, its part offsets stay inside the message, and it survives
//! the JSON round trip the store puts it through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_core::mail::{BodyPart, MessageSummary};

fn offsets_inside(part: &BodyPart, len: usize) {
    let (h, b, e) = (part.header_offset as usize, part.body_offset as usize, part.end_offset as usize);
    assert!(h <= b && b <= e && e <= len, "offsets {h} {b} {e} outside a message of {len}");
    for child in &part.parts {
        offsets_inside(child, len);
    }
    if let Some(embedded) = &part.message {
        offsets_inside(&embedded.body, len);
    }
}

fuzz_target!(|data: &[u8]| {
    let summary = mailroom_mime::summarize(data);
    offsets_inside(&summary.body, data.len());
    let json = serde_json::to_vec(&summary).expect("a summary serializes");
    let back: MessageSummary = serde_json::from_slice(&json).expect("and parses back");
    assert_eq!(back, summary);
});
