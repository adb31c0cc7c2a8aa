//! DATA/BDAT assembly on arbitrary input: whatever the client sends, what
//! would be stored has only CRLF line endings, respects the limits, and the
//! end of data is only ever `<CRLF>.<CRLF>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_smtp::body::BodyBuilder;

const MAX_SIZE: usize = 4096;
const MAX_LINE: usize = 100;
/// Longer lines are discarded by the connection before the builder sees them.
const READ_LIMIT: usize = 150;

fn check(stored: &[u8]) {
    assert!(stored.len() <= MAX_SIZE);
    let mut previous = 0u8;
    for &b in stored {
        if b == b'\n' {
            assert_eq!(previous, b'\r', "bare LF stored");
        }
        previous = b;
    }
    assert!(stored.is_empty() || stored.ends_with(b"\r\n"));
    for line in stored.split(|&b| b == b'\n') {
        assert!(line.len() <= MAX_LINE, "line over the limit stored");
    }
}

fuzz_target!(|data: &[u8]| {
    // As DATA lines (split after each LF, as the connection reads them).
    let mut body = BodyBuilder::new(MAX_SIZE, MAX_LINE);
    let mut ended = false;
    let mut rest = data;
    let mut after_crlf = true;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').map(|i| i + 1).unwrap_or(rest.len());
        let (line, tail) = rest.split_at(end);
        rest = tail;
        if !line.ends_with(b"\n") {
            break; // a partial last line never reaches the builder
        }
        if line.len() > READ_LIMIT {
            // What the connection reports for a line it had to throw away.
            body.line_too_long(line.ends_with(b"\r\n"));
            after_crlf = line.ends_with(b"\r\n");
            continue;
        }
        let is_end = body.push_data_line(line);
        // Only "." CRLF right after a CRLF ends the data.
        assert_eq!(is_end, after_crlf && line == b".\r\n");
        after_crlf = line.ends_with(b"\r\n");
        if is_end {
            ended = true;
            break;
        }
    }
    let _ = ended;
    if let Ok(stored) = body.finish_data() {
        check(&stored);
    }
    // As BDAT chunks: the input split in two at its first byte's value.
    let split = data.first().map(|&b| b as usize % (data.len() + 1)).unwrap_or(0);
    let mut chunks = BodyBuilder::new(MAX_SIZE, MAX_LINE);
    for chunk in [&data[..split], &data[split..]] {
        if chunks.accepts(chunk.len()) {
            chunks.push_chunk(chunk);
        }
    }
    if let Ok(stored) = chunks.finish_chunks() {
        check(&stored);
    }
});
