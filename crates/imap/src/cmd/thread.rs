//! THREAD and UID THREAD (RFC 5256 §3) with the ORDEREDSUBJECT and
//! REFERENCES algorithms (§2.2), and REFS (draft-ietf-morg-inthread §4:
//! REFERENCES without the grouping by subject, threads ordered by their
//! latest arrival), over the messages a search finds: a conversation view
//! computed by the server, which clients on slow links ask for instead of
//! fetching every header.

use std::collections::HashMap;

use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;

use super::search::Hit;

/// References of one message that are read, the last ones: a chain of
/// ancestors longer than this is rare in real mail, and a message can't
/// make the server build (and walk) a chain of tens of thousands of
/// placeholders.
const MAX_REFERENCES: usize = 100;
use super::sort::sent_date;
use crate::base_subject;
use crate::respond::{Status, status, untagged};
use crate::session::Session;

/// A node of the thread tree: a message found, or a dummy standing for a
/// message referred to but not found.
#[derive(Debug, Default)]
struct Node {
    /// Index into the hits.
    hit: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// The message ids in a `Message-ID:`, `References:` or `In-Reply-To:`
/// value, in order: `<...>` items when there are any, else the words
/// (the decoded summary may have dropped the brackets).
fn message_ids(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start..].find('>') else { break };
        let id = rest[start + 1..start + len].trim();
        if !id.is_empty() {
            ids.push(id.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    if ids.is_empty() {
        ids = value
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|w| w.trim_matches(['<', '>']))
            .filter(|w| w.contains('@'))
            .map(str::to_string)
            .collect();
    }
    ids
}

struct Forest<'a> {
    hits: &'a [Hit],
    nodes: Vec<Node>,
}

impl<'a> Forest<'a> {
    fn new(hits: &'a [Hit]) -> Self {
        Forest { hits, nodes: Vec::new() }
    }

    fn add(&mut self, hit: Option<usize>) -> usize {
        self.nodes.push(Node { hit, ..Node::default() });
        self.nodes.len() - 1
    }

    /// Whether `maybe_ancestor` is `node` or above it: linking it under
    /// `node` would make a loop. A node without children is nobody's
    /// ancestor, so the usual case (a new message) needs no walk.
    fn is_ancestor(&self, maybe_ancestor: usize, mut node: usize) -> bool {
        if self.nodes[maybe_ancestor].children.is_empty() {
            return maybe_ancestor == node;
        }
        // Parent links never form a cycle (every link is checked), so this ends.
        loop {
            if node == maybe_ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.nodes[child].parent.take() {
            self.nodes[parent].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.unlink(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The message a node stands for, and the date it sorts by: its own,
    /// or — for a placeholder — its earliest child's. Placeholders left
    /// after pruning hold messages (or, merged by subject, placeholders
    /// that do), so two levels are enough.
    fn representative(&self, node: usize) -> Option<(i64, u32, usize)> {
        let own = |n: usize| self.nodes[n].hit.map(|h| (sent_date(&self.hits[h]), self.hits[h].seq, h));
        own(node).or_else(|| {
            self.nodes[node]
                .children
                .iter()
                .filter_map(|&c| {
                    own(c).or_else(|| self.nodes[c].children.iter().filter_map(|&g| own(g)).min())
                })
                .min()
        })
    }

    fn date(&self, node: usize) -> (i64, u32) {
        self.representative(node).map_or((i64::MAX, u32::MAX), |(date, seq, _)| (date, seq))
    }

    /// The latest arrival (INTERNALDATE, then message number) of the
    /// messages in the thread below `root` (without recursion).
    fn latest_arrival(&self, root: usize) -> (i64, u32) {
        let mut latest = (i64::MIN, 0);
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if let Some(hit) = self.nodes[node].hit {
                latest = latest.max((self.hits[hit].internal_date, self.hits[hit].seq));
            }
            stack.extend(self.nodes[node].children.iter().copied());
        }
        latest
    }

    /// Orders every node's children by date, below `root` (without
    /// recursion: a thread can be thousands of messages deep).
    fn sort_children(&mut self, root: usize) {
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            let mut children = std::mem::take(&mut self.nodes[node].children);
            children.sort_by_key(|&c| self.date(c));
            stack.extend(children.iter().copied());
            self.nodes[node].children = children;
        }
    }

    /// RFC 5256 §4's thread-list syntax for one node: "n", "n m", "n (a)(b)",
    /// and a placeholder's children each in parentheses (without recursion).
    fn render(&self, root: usize, numbers: &dyn Fn(usize) -> u32, out: &mut String) {
        enum Step {
            Node(usize),
            Text(&'static str),
        }
        let mut stack = vec![Step::Node(root)];
        while let Some(step) = stack.pop() {
            let node = match step {
                Step::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Step::Node(node) => node,
            };
            let children = &self.nodes[node].children;
            if let Some(hit) = self.nodes[node].hit {
                out.push_str(&numbers(hit).to_string());
                if !children.is_empty() {
                    out.push(' ');
                }
                if let [only] = children.as_slice() {
                    stack.push(Step::Node(*only));
                    continue;
                }
            }
            // Pushed in reverse: the stack gives them back in order.
            for &child in children.iter().rev() {
                stack.push(Step::Text(")"));
                stack.push(Step::Node(child));
                stack.push(Step::Text("("));
            }
        }
    }
}

/// ORDEREDSUBJECT (RFC 5256 §2.2): by base subject, then date; in each
/// group the first message is the parent of the others.
fn ordered_subject(forest: &mut Forest<'_>) -> Vec<usize> {
    let hits = forest.hits;
    let mut order: Vec<usize> = (0..hits.len()).collect();
    let subjects: Vec<&str> = hits.iter().map(|h| base_subject::of_summary(&h.summary).0.as_str()).collect();
    order.sort_by(|&a, &b| {
        subjects[a]
            .cmp(subjects[b])
            .then((sent_date(&hits[a]), hits[a].seq).cmp(&(sent_date(&hits[b]), hits[b].seq)))
    });
    let mut roots = Vec::new();
    let mut current: Option<(usize, &str)> = None;
    for index in order {
        let node = forest.add(Some(index));
        match current {
            Some((root, subject)) if subject == subjects[index] => forest.link(root, node),
            _ => {
                roots.push(node);
                current = Some((node, subjects[index]));
            }
        }
    }
    roots
}

/// REFERENCES (RFC 5256 §2.2, after Zawinski's algorithm): parent links
/// from `References:` (or `In-Reply-To:`), dummies for messages not found,
/// pruned ([`linked`]); then roots with the same base subject gathered.
fn references(forest: &mut Forest<'_>) -> Vec<usize> {
    let pruned = linked(forest);
    group_by_subject(forest, pruned)
}

/// REFERENCES' steps 1 to 4 (RFC 5256 §2.2), which REFS uses alone: parent
/// links from `References:` (or the first id of `In-Reply-To:`), dummies
/// for messages not found, pruned; children and roots by date.
fn linked(forest: &mut Forest<'_>) -> Vec<usize> {
    let hits = forest.hits;
    let mut by_id: HashMap<String, usize> = HashMap::new();
    // Step 1: a node per message id; a message without one, or repeating
    // one, gets a node of its own.
    for (index, hit) in hits.iter().enumerate() {
        let id = message_ids(hit.summary.field("Message-ID")).into_iter().next();
        let node = match id {
            Some(id) => match by_id.get(&id) {
                Some(&existing) if forest.nodes[existing].hit.is_none() => {
                    forest.nodes[existing].hit = Some(index);
                    existing
                }
                Some(_) => forest.add(Some(index)),
                None => {
                    let node = forest.add(Some(index));
                    by_id.insert(id, node);
                    node
                }
            },
            None => forest.add(Some(index)),
        };
        let mut refs = message_ids(hit.summary.field("References"));
        if refs.is_empty() {
            refs = message_ids(hit.summary.field("In-Reply-To")).into_iter().take(1).collect();
        }
        // The last ones: the parent is the last reference.
        let refs = &refs[refs.len().saturating_sub(MAX_REFERENCES)..];
        // 1A: each reference is the parent of the next, unless linked already
        // or it would make a loop.
        let mut previous: Option<usize> = None;
        for reference in refs {
            let container = match by_id.get(reference) {
                Some(&c) => c,
                None => {
                    let c = forest.add(None);
                    by_id.insert(reference.clone(), c);
                    c
                }
            };
            if let Some(parent) = previous
                && forest.nodes[container].parent.is_none()
                && !forest.is_ancestor(container, parent)
            {
                forest.link(parent, container);
            }
            previous = Some(container);
        }
        // 1B: the message's parent is its last reference (not itself, no loop).
        match previous {
            Some(parent) if parent != node && !forest.is_ancestor(node, parent) => forest.link(parent, node),
            _ => forest.unlink(node),
        }
    }
    // Step 3: placeholders pruned. One below the root set gives its
    // children to its parent; then a placeholder in the root set with no
    // child goes, with one child gives it its place, with several stays.
    for node in 0..forest.nodes.len() {
        if forest.nodes[node].hit.is_some() {
            continue;
        }
        let Some(parent) = forest.nodes[node].parent else { continue };
        let children = std::mem::take(&mut forest.nodes[node].children);
        forest.unlink(node);
        for child in children {
            forest.nodes[child].parent = None;
            forest.link(parent, child);
        }
    }
    // The root set as it stands now: promoting a child below changes it.
    let roots: Vec<usize> = (0..forest.nodes.len()).filter(|&n| forest.nodes[n].parent.is_none()).collect();
    let mut pruned = Vec::new();
    for node in roots {
        match (forest.nodes[node].hit, forest.nodes[node].children.as_slice()) {
            (Some(_), _) => pruned.push(node),
            (None, []) => {}
            (None, [only]) => {
                let only = *only;
                forest.unlink(only);
                pruned.push(only);
            }
            (None, _) => pruned.push(node),
        }
    }
    // Children by date first: a placeholder stands for its earliest child.
    for &root in &pruned {
        forest.sort_children(root);
    }
    // Step 4: roots by date.
    pruned.sort_by_key(|&n| forest.date(n));
    pruned
}

/// REFERENCES' step 5 (RFC 5256 §2.2): roots with the same base subject
/// gathered.
fn group_by_subject(forest: &mut Forest<'_>, pruned: Vec<usize>) -> Vec<usize> {
    let hits = forest.hits;
    // Roots with the same base subject gathered, around the root
    // the table prefers: a dummy, else one that isn't a reply.
    let subject_of = |forest: &Forest<'_>, node: usize| {
        forest
            .representative(node)
            .map(|(_, _, h)| base_subject::of_summary(&hits[h].summary).clone())
            .unwrap_or_default()
    };
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut result = Vec::new();
    for &root in &pruned {
        let (subject, _) = subject_of(forest, root);
        if subject.is_empty() {
            result.push(root);
            continue;
        }
        match group_of.get(&subject) {
            Some(&g) => groups[g].1.push(root),
            None => {
                group_of.insert(subject.clone(), groups.len());
                groups.push((subject, vec![root]));
            }
        }
    }
    for (_, members) in groups {
        let rank = |forest: &Forest<'_>, n: usize| {
            let dummy = forest.nodes[n].hit.is_none();
            (!dummy, subject_of(forest, n).1)
        };
        let chosen = members.iter().copied().min_by_key(|&n| rank(forest, n)).unwrap_or(members[0]);
        let mut target = chosen;
        for root in members.into_iter().filter(|&r| r != chosen) {
            let target_dummy = forest.nodes[target].hit.is_none();
            let root_dummy = forest.nodes[root].hit.is_none();
            let target_reply = subject_of(forest, target).1;
            let root_reply = subject_of(forest, root).1;
            if target_dummy && root_dummy {
                for child in std::mem::take(&mut forest.nodes[root].children) {
                    forest.nodes[child].parent = None;
                    forest.link(target, child);
                }
            } else if target_dummy {
                forest.link(target, root);
            } else if root_dummy {
                forest.link(root, target);
                target = root;
            } else if root_reply && !target_reply {
                forest.link(target, root);
            } else if target_reply && !root_reply {
                forest.link(root, target);
                target = root;
            } else {
                let dummy = forest.add(None);
                forest.link(dummy, target);
                forest.link(dummy, root);
                target = dummy;
            }
        }
        result.push(target);
    }
    result
}

/// The threading algorithms THREAD knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    OrderedSubject,
    References,
    Refs,
}

impl Session {
    pub(crate) async fn thread(
        &mut self,
        tag: &str,
        algorithm: &ThreadingAlgorithm<'_>,
        charset: &str,
        search: &[SearchKey<'static>],
        by_uid: bool,
    ) {
        let algorithm = match algorithm {
            ThreadingAlgorithm::OrderedSubject => Algorithm::OrderedSubject,
            ThreadingAlgorithm::References => Algorithm::References,
            ThreadingAlgorithm::Other(other) if other.as_ref().eq_ignore_ascii_case("REFS") => {
                Algorithm::Refs
            }
            ThreadingAlgorithm::Other(other) => {
                let text = format!(
                    "Unknown threading algorithm {} (known: ORDEREDSUBJECT REFERENCES REFS)",
                    other.as_ref()
                );
                self.fail(status(Some(tag), Status::Bad, None, &text));
                return;
            }
        };
        let Some(hits) = self.matching(tag, Some(charset), search, true).await else { return };
        let mut forest = Forest::new(&hits);
        let mut roots = match algorithm {
            Algorithm::OrderedSubject => ordered_subject(&mut forest),
            Algorithm::References => references(&mut forest),
            Algorithm::Refs => linked(&mut forest),
        };
        for &root in &roots {
            forest.sort_children(root);
        }
        if algorithm == Algorithm::Refs {
            // draft-ietf-morg-inthread §4: threads by their latest arrival,
            // so the one a message just joined comes last.
            roots.sort_by_cached_key(|&n| forest.latest_arrival(n));
        } else {
            roots.sort_by_key(|&n| forest.date(n));
        }
        let numbers = |hit: usize| if by_uid { hits[hit].uid.0 } else { hits[hit].seq };
        let mut line = String::from("THREAD ");
        for root in roots {
            line.push('(');
            forest.render(root, &numbers, &mut line);
            line.push(')');
        }
        self.conn.send(&untagged(line.trim_end()));
        let command = if by_uid { "UID THREAD" } else { "THREAD" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_with_and_without_brackets() {
        assert_eq!(message_ids("<a@x> <b@y>\r\n <c@z>"), ["a@x", "b@y", "c@z"]);
        assert_eq!(message_ids("a@x, b@y"), ["a@x", "b@y"]);
        assert!(message_ids("").is_empty());
        assert_eq!(message_ids("<unterminated@x"), ["unterminated@x"]);
    }
}
