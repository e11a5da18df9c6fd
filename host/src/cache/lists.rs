//! The memory tiers' storage: every entry in one arena, found through one
//! hash table, and linked into one of `N` LRU lists (the tiers' segments).
//!
//! A lookup is one probe of one table whatever list holds the key, and the
//! caller hashes the key once, for the table and for the admission filter
//! alike. Moving an entry to the front of its list, or to another list, is
//! a few index writes: no allocation, no second map. An entry is addressed
//! by its slot in the arena, valid until the next removal (a removal moves
//! the arena's last entry into the freed slot, so the arena stays dense).

use hashbrown::HashTable;

use super::entry::Entry;

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

/// Bytes charged per entry on top of its key and value (the arena slot,
/// the table slot, the `Arc` header).
pub const ENTRY_OVERHEAD: usize = 64;

/// What an entry of `key` and `entry` is charged.
pub fn cost(key: &str, entry: &Entry) -> usize {
    key.len() + entry.value.len() + ENTRY_OVERHEAD
}

struct Node {
    key: Box<str>,
    entry: Entry,
    hash: u64,
    /// Towards the most recently used end of the list; `NIL` at the head.
    prev: u32,
    /// Towards the least recently used end; `NIL` at the tail.
    next: u32,
    list: u8,
}

/// One list's ends and totals.
#[derive(Clone, Copy)]
struct List {
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    len: usize,
    bytes: usize,
}

const EMPTY: List = List { head: NIL, tail: NIL, len: 0, bytes: 0 };

/// Entries on `N` LRU lists, each key on at most one.
pub struct Lists<const N: usize> {
    nodes: Vec<Node>,
    /// Slots, keyed by their node's hash.
    table: HashTable<u32>,
    lists: [List; N],
}

impl<const N: usize> Lists<N> {
    /// No entries.
    pub fn new() -> Self {
        Lists { nodes: Vec::new(), table: HashTable::new(), lists: [EMPTY; N] }
    }

    /// The slot of `key`, whose hash is `hash`.
    pub fn find(&self, hash: u64, key: &str) -> Option<u32> {
        self.table.find(hash, |&slot| *self.nodes[slot as usize].key == *key).copied()
    }

    /// The list `slot` is on.
    pub fn list(&self, slot: u32) -> usize {
        usize::from(self.nodes[slot as usize].list)
    }

    /// The entry at `slot`.
    pub fn entry(&self, slot: u32) -> &Entry {
        &self.nodes[slot as usize].entry
    }

    /// The key at `slot`.
    pub fn key(&self, slot: u32) -> &str {
        &self.nodes[slot as usize].key
    }

    /// The hash of the key at `slot`.
    pub fn hash(&self, slot: u32) -> u64 {
        self.nodes[slot as usize].hash
    }

    /// Entries on `list`.
    pub fn len(&self, list: usize) -> usize {
        self.lists[list].len
    }

    /// Bytes charged on `list`.
    pub fn bytes(&self, list: usize) -> usize {
        self.lists[list].bytes
    }

    /// The least recently used slot of `list`.
    pub fn lru(&self, list: usize) -> Option<u32> {
        let tail = self.lists[list].tail;
        (tail != NIL).then_some(tail)
    }

    /// Make `slot` the most recently used of its list.
    pub fn touch(&mut self, slot: u32) {
        let list = self.list(slot);
        if self.lists[list].head != slot {
            self.unlink(slot);
            self.link_front(slot, list);
        }
    }

    /// Move `slot` to the front of `list`.
    pub fn move_to(&mut self, slot: u32, list: usize) {
        self.unlink(slot);
        let cost = self.cost(slot);
        self.lists[self.list(slot)].bytes -= cost;
        self.lists[list].bytes += cost;
        self.link_front(slot, list);
    }

    /// Add `key` (absent, of hash `hash`) at the front of `list`.
    pub fn push(&mut self, hash: u64, key: Box<str>, entry: Entry, list: usize) -> u32 {
        let slot = u32::try_from(self.nodes.len()).ok().filter(|&s| s != NIL).expect("fewer than 2^32 - 1 entries");
        self.lists[list].bytes += cost(&key, &entry);
        self.nodes.push(Node { key, entry, hash, prev: NIL, next: NIL, list: 0 });
        let nodes = &self.nodes;
        self.table.insert_unique(hash, slot, |&s| nodes[s as usize].hash);
        self.link_front(slot, list);
        slot
    }

    /// Put `entry` in place of `slot`'s, and make it the most recently used.
    pub fn replace(&mut self, slot: u32, entry: Entry) {
        let list = self.list(slot);
        self.lists[list].bytes -= self.cost(slot);
        self.nodes[slot as usize].entry = entry;
        self.lists[list].bytes += self.cost(slot);
        self.touch(slot);
    }

    /// Take `slot` out; the arena's last entry moves into its place.
    pub fn remove(&mut self, slot: u32) -> (Box<str>, Entry) {
        self.unlink(slot);
        let list = self.list(slot);
        self.lists[list].bytes -= self.cost(slot);
        let hash = self.hash(slot);
        if let Ok(found) = self.table.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        let last = (self.nodes.len() - 1) as u32;
        if last != slot {
            // Every reference to `last` now names `slot`.
            let (prev, next, moved) = {
                let n = &self.nodes[last as usize];
                (n.prev, n.next, usize::from(n.list))
            };
            if let Some(s) = self.table.find_mut(self.nodes[last as usize].hash, |&s| s == last) {
                *s = slot;
            }
            match prev {
                NIL => self.lists[moved].head = slot,
                p => self.nodes[p as usize].next = slot,
            }
            match next {
                NIL => self.lists[moved].tail = slot,
                n => self.nodes[n as usize].prev = slot,
            }
        }
        let node = self.nodes.swap_remove(slot as usize);
        (node.key, node.entry)
    }

    /// The keys (and their hashes) for which `pred` holds.
    pub fn keys_where(&self, pred: &dyn Fn(&str) -> bool) -> Vec<(u64, Box<str>)> {
        self.nodes.iter().filter(|n| pred(&n.key)).map(|n| (n.hash, n.key.clone())).collect()
    }

    /// Forget everything.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.table.clear();
        self.lists = [EMPTY; N];
    }

    fn cost(&self, slot: u32) -> usize {
        let n = &self.nodes[slot as usize];
        cost(&n.key, &n.entry)
    }

    /// Take `slot` off its list (its bytes stay counted there).
    fn unlink(&mut self, slot: u32) {
        let (prev, next, list) = {
            let n = &self.nodes[slot as usize];
            (n.prev, n.next, usize::from(n.list))
        };
        match prev {
            NIL => self.lists[list].head = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.lists[list].tail = prev,
            n => self.nodes[n as usize].prev = prev,
        }
        self.lists[list].len -= 1;
    }

    /// Put `slot` at the front of `list` (its bytes already counted there).
    fn link_front(&mut self, slot: u32, list: usize) {
        let head = self.lists[list].head;
        {
            let n = &mut self.nodes[slot as usize];
            n.prev = NIL;
            n.next = head;
            n.list = list as u8;
        }
        match head {
            NIL => self.lists[list].tail = slot,
            h => self.nodes[h as usize].prev = slot,
        }
        self.lists[list].head = slot;
        self.lists[list].len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> Entry {
        Entry { value: b"v".as_slice().into(), expires_at: 0 }
    }

    /// `list`'s keys, most recently used first, walked through the links.
    fn walk(l: &Lists<2>, list: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = l.lists[list].head;
        while at != NIL {
            out.push(l.key(at).to_string());
            at = l.nodes[at as usize].next;
        }
        let mut back = Vec::new();
        let mut at = l.lists[list].tail;
        while at != NIL {
            back.push(l.key(at).to_string());
            at = l.nodes[at as usize].prev;
        }
        back.reverse();
        assert_eq!(out, back, "links agree both ways");
        assert_eq!(out.len(), l.len(list));
        out
    }

    #[test]
    fn moves_and_removals_keep_links_table_and_bytes_right() {
        let mut l = Lists::<2>::new();
        let h = |k: &str| k.len() as u64 * 7919; // collisions on purpose
        for k in ["a", "b", "c", "dd"] {
            l.push(h(k), k.into(), e(), 0);
        }
        assert_eq!(walk(&l, 0), ["dd", "c", "b", "a"]);
        let a = l.find(h("a"), "a").unwrap();
        l.touch(a);
        assert_eq!(walk(&l, 0), ["a", "dd", "c", "b"]);
        let c = l.find(h("c"), "c").unwrap();
        l.move_to(c, 1);
        assert_eq!((walk(&l, 0), walk(&l, 1)), (vec!["a".to_string(), "dd".into(), "b".into()], vec!["c".to_string()]));
        assert_eq!(l.bytes(1), 2 + ENTRY_OVERHEAD);
        // Removing "a" moves the arena's last entry ("dd") into its slot.
        let (key, _) = l.remove(l.find(h("a"), "a").unwrap());
        assert_eq!(&*key, "a");
        assert_eq!(walk(&l, 0), ["dd", "b"]);
        for k in ["b", "c", "dd"] {
            let slot = l.find(h(k), k).unwrap();
            assert_eq!(l.key(slot), k);
        }
        assert_eq!(l.find(h("a"), "a"), None);
        assert_eq!(l.lru(0).map(|s| l.key(s).to_string()), Some("b".into()));
        assert_eq!(l.bytes(0), 2 + 3 + 2 * ENTRY_OVERHEAD);
        l.replace(l.find(h("b"), "b").unwrap(), Entry { value: b"longer".as_slice().into(), expires_at: 0 });
        assert_eq!(walk(&l, 0), ["b", "dd"]);
        assert_eq!(l.bytes(0), 7 + 3 + 2 * ENTRY_OVERHEAD);
        l.clear();
        assert_eq!((l.len(0), l.len(1), l.bytes(0), l.find(h("b"), "b")), (0, 0, 0, None));
    }
}
