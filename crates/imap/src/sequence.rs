//! Sequence sets (RFC 9051 §9 `sequence-set`) against the selected folder:
//! message numbers or UIDs, `*` as the largest, ranges in either order.

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};
use mailroom_types::Uid;

fn value(v: &SeqOrUid, largest: u32) -> u32 {
    match v {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => largest,
    }
}

/// Whether `n` is in the set (`*` meaning `largest`).
pub(crate) fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    set.0.as_ref().iter().any(|s| match s {
        Sequence::Single(v) => value(v, largest) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a, largest), value(b, largest));
            (a.min(b)..=a.max(b)).contains(&n)
        }
    })
}

/// The selected messages a set names, as (message number, UID), ascending.
pub(crate) fn pick(set: &SequenceSet, uids: &crate::uidmap::UidMap, by_uid: bool) -> Vec<(u32, Uid)> {
    let Some(last) = uids.last() else { return Vec::new() };
    let largest = if by_uid { last.0 } else { uids.len() as u32 };
    uids.iter()
        .enumerate()
        .map(|(i, uid)| (i as u32 + 1, uid))
        .filter(|(seq, uid)| contains(set, if by_uid { uid.0 } else { *seq }, largest))
        .collect()
}

/// Message numbers in a set beyond the last one (RFC 9051 §6.4.5: BAD).
pub(crate) fn out_of_range(set: &SequenceSet, count: usize) -> bool {
    set.0.as_ref().iter().any(|s| {
        let too_big = |v: &SeqOrUid| matches!(v, SeqOrUid::Value(n) if n.get() as usize > count);
        match s {
            Sequence::Single(v) => too_big(v),
            Sequence::Range(a, b) => too_big(a) && too_big(b),
        }
    })
}

/// `1:3,7` from numbers (UIDs or message numbers) in the order given: runs
/// are joined only where they ascend by one, so the set expands back into
/// that order (RFC 5267 §3.2 asks this of a sorted result; a sorted list
/// comes out as short as it can be).
pub(crate) fn compact(numbers: &[u32]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && Some(numbers[i + 1]) == end.checked_add(1) {
            i += 1;
            end = numbers[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_uids_and_stars() {
        let uids = crate::uidmap::UidMap::from_sorted([Uid(3), Uid(7), Uid(9), Uid(20)]);
        let set = SequenceSet::try_from("2:3").unwrap();
        assert_eq!(pick(&set, &uids, false), [(2, Uid(7)), (3, Uid(9))]);
        let set = SequenceSet::try_from("8:*").unwrap();
        assert_eq!(pick(&set, &uids, true), [(3, Uid(9)), (4, Uid(20))]);
        let set = SequenceSet::try_from("*").unwrap();
        assert_eq!(pick(&set, &uids, false), [(4, Uid(20))]);
        let set = SequenceSet::try_from("30:25").unwrap();
        assert!(pick(&set, &uids, true).is_empty());
        assert!(out_of_range(&SequenceSet::try_from("5").unwrap(), 4));
        assert!(!out_of_range(&SequenceSet::try_from("4:*").unwrap(), 4));
    }

    #[test]
    fn compact_sets() {
        assert_eq!(super::compact(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(super::compact(&[]), "");
        assert_eq!(super::compact(&[5, 4, 6, 7, 2, 1]), "5,4,6:7,2,1", "in the order given");
        assert_eq!(super::compact(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }
}
