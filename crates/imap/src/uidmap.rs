//! The selected folder's message numbers (RFC 9051 §2.3.1.2) as runs of
//! consecutive UIDs. A folder's UIDs are mostly one run with a few gaps
//! (expunges), so a session on a 100,000-message shared INBOX holds a few
//! bytes instead of a 400 KB list, and cloning it per command is free.

use mailroom_types::Uid;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UidMap {
    /// Inclusive, ascending, non-adjacent runs.
    runs: Vec<(u32, u32)>,
    len: usize,
}

impl UidMap {
    /// From UIDs in ascending order.
    pub fn from_sorted(uids: impl IntoIterator<Item = Uid>) -> Self {
        let mut map = UidMap::default();
        for uid in uids {
            map.push(uid);
        }
        map
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn last(&self) -> Option<Uid> {
        self.runs.last().map(|&(_, end)| Uid(end))
    }

    /// Adds a UID above every other one (new mail).
    pub fn push(&mut self, uid: Uid) {
        match self.runs.last_mut() {
            Some((_, end)) if uid.0 == *end + 1 => *end = uid.0,
            Some((_, end)) if uid.0 <= *end => return,
            _ => self.runs.push((uid.0, uid.0)),
        }
        self.len += 1;
    }

    /// How many UIDs lie in `after < uid <= through`.
    pub fn count_between(&self, after: Uid, through: Uid) -> usize {
        self.runs
            .iter()
            .map(|&(start, end)| {
                let (low, high) = (start.max(after.0.saturating_add(1)), end.min(through.0));
                if low <= high { (high - low + 1) as usize } else { 0 }
            })
            .sum()
    }

    /// The 0-based position of a UID (its message number minus one).
    pub fn position(&self, uid: Uid) -> Option<usize> {
        let mut before = 0;
        for &(start, end) in &self.runs {
            if uid.0 < start {
                return None;
            }
            if uid.0 <= end {
                return Some(before + (uid.0 - start) as usize);
            }
            before += (end - start + 1) as usize;
        }
        None
    }

    /// Removes a UID; its 0-based position before removal.
    pub fn remove(&mut self, uid: Uid) -> Option<usize> {
        let position = self.position(uid)?;
        let index = self.runs.iter().position(|&(start, end)| (start..=end).contains(&uid.0))?;
        let (start, end) = self.runs[index];
        match (uid.0 == start, uid.0 == end) {
            (true, true) => {
                self.runs.remove(index);
            }
            (true, false) => self.runs[index].0 = uid.0 + 1,
            (false, true) => self.runs[index].1 = uid.0 - 1,
            (false, false) => {
                self.runs[index].1 = uid.0 - 1;
                self.runs.insert(index + 1, (uid.0 + 1, end));
            }
        }
        self.len -= 1;
        Some(position)
    }

    pub fn iter(&self) -> impl Iterator<Item = Uid> + '_ {
        self.runs.iter().flat_map(|&(start, end)| (start..=end).map(Uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_positions_and_removal() {
        let mut map = UidMap::from_sorted([1, 2, 3, 5, 6, 9].map(Uid));
        assert_eq!(map.len(), 6);
        assert_eq!(map.runs, [(1, 3), (5, 6), (9, 9)]);
        assert_eq!(map.position(Uid(5)), Some(3));
        assert_eq!(map.position(Uid(4)), None);
        assert_eq!(map.remove(Uid(2)), Some(1));
        assert_eq!(map.runs, [(1, 1), (3, 3), (5, 6), (9, 9)]);
        assert_eq!(map.remove(Uid(9)), Some(4));
        assert_eq!(map.remove(Uid(9)), None);
        map.push(Uid(10));
        map.push(Uid(11));
        assert_eq!(map.iter().map(|u| u.0).collect::<Vec<_>>(), [1, 3, 5, 6, 10, 11]);
        assert_eq!(map.count_between(Uid(0), Uid(11)), 6);
        assert_eq!(map.count_between(Uid(3), Uid(10)), 3);
        assert_eq!(map.count_between(Uid(11), Uid(20)), 0);
        assert_eq!(map.count_between(Uid(6), Uid(5)), 0);
        assert_eq!((map.len(), map.last()), (6, Some(Uid(11))));
        let big = UidMap::from_sorted((1..=100_000).map(Uid));
        assert_eq!(big.runs.len(), 1, "one run for a folder without gaps");
    }
}
