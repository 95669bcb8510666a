//! A hand-built LRU cache with a time-to-live: the learning version of what moka does in production.
//!
//! A `HashMap` finds an entry in O(1); a doubly linked list keeps entries in order of use, so the least recently
//! used one — the one to evict when the cache is full — is always at the tail. The list lives in a `Vec` (a slab)
//! and links are indices, not pointers: no `unsafe`, no `Rc<RefCell<…>>`, and nodes sit close together in memory.
//!
//! - **+** bounded memory: at most `capacity` entries, the coldest evicted first;
//! - **+** an entry older than `ttl` is treated as missing, so stale data lives at most `ttl`;
//! - **−** one lock around the whole structure (see `store.rs`): every `get` *writes* (it moves the entry to the
//!   front), so even reads contend. moka shards its structures and batches the recency updates to avoid that;
//! - **−** no stampede protection: concurrent misses of one key all load it. That is the `single-flight` lesson.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

const NONE: usize = usize::MAX;

struct Node<K, V> {
    key: K,
    value: V,
    expires_at: Instant,
    prev: usize,
    next: usize,
}

/// A least-recently-used cache of at most `capacity` entries, each valid for `ttl`.
pub struct Lru<K, V> {
    map: HashMap<K, usize>,
    nodes: Vec<Node<K, V>>,
    free: Vec<usize>,
    head: usize,
    tail: usize,
    capacity: usize,
    ttl: Duration,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    /// An empty cache.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        assert!(capacity > 0, "an LRU needs room for at least one entry");
        Lru {
            map: HashMap::with_capacity(capacity),
            nodes: Vec::with_capacity(capacity),
            free: Vec::new(),
            head: NONE,
            tail: NONE,
            capacity,
            ttl,
        }
    }

    /// Number of entries (expired ones included until they are looked up or evicted).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value of `key` if present and fresh at `now`, marking it most recently used. An expired entry is removed.
    pub fn get(&mut self, key: &K, now: Instant) -> Option<V> {
        let index = *self.map.get(key)?;
        if self.nodes[index].expires_at <= now {
            self.remove(key);
            return None;
        }
        self.unlink(index);
        self.push_front(index);
        Some(self.nodes[index].value.clone())
    }

    /// Stores `value` under `key`, fresh from `now`. Returns the key evicted to make room, if one was.
    pub fn insert(&mut self, key: K, value: V, now: Instant) -> Option<K> {
        let expires_at = now + self.ttl;
        if let Some(&index) = self.map.get(&key) {
            let node = &mut self.nodes[index];
            node.value = value;
            node.expires_at = expires_at;
            self.unlink(index);
            self.push_front(index);
            return None;
        }
        let evicted = if self.map.len() >= self.capacity {
            let coldest = self.tail;
            let old = self.nodes[coldest].key.clone();
            self.remove(&old);
            Some(old)
        } else {
            None
        };
        let node = Node {
            key: key.clone(),
            value,
            expires_at,
            prev: NONE,
            next: NONE,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        };
        self.push_front(index);
        self.map.insert(key, index);
        evicted
    }

    /// Removes `key`; true if it was present.
    pub fn remove(&mut self, key: &K) -> bool {
        match self.map.remove(key) {
            Some(index) => {
                self.unlink(index);
                self.free.push(index);
                true
            }
            None => false,
        }
    }

    fn unlink(&mut self, index: usize) {
        let (prev, next) = (self.nodes[index].prev, self.nodes[index].next);
        if prev == NONE {
            self.head = next
        } else {
            self.nodes[prev].next = next
        }
        if next == NONE {
            self.tail = prev
        } else {
            self.nodes[next].prev = prev
        }
        self.nodes[index].prev = NONE;
        self.nodes[index].next = NONE;
    }

    fn push_front(&mut self, index: usize) {
        self.nodes[index].next = self.head;
        self.nodes[index].prev = NONE;
        if self.head != NONE {
            self.nodes[self.head].prev = index;
        }
        self.head = index;
        if self.tail == NONE {
            self.tail = index;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let now = Instant::now();
        let mut lru = Lru::new(2, Duration::from_secs(60));
        assert_eq!(lru.insert("a", 1, now), None);
        assert_eq!(lru.insert("b", 2, now), None);
        assert_eq!(lru.get(&"a", now), Some(1)); // a is now the most recent
        assert_eq!(lru.insert("c", 3, now), Some("b"));
        assert_eq!(lru.get(&"b", now), None);
        assert_eq!(
            (lru.get(&"a", now), lru.get(&"c", now), lru.len()),
            (Some(1), Some(3), 2)
        );
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let now = Instant::now();
        let mut lru = Lru::new(4, Duration::from_millis(100));
        lru.insert(1, "x", now);
        assert_eq!(lru.get(&1, now + Duration::from_millis(99)), Some("x"));
        assert_eq!(lru.get(&1, now + Duration::from_millis(100)), None);
        assert!(lru.is_empty(), "an expired entry is removed when found");
    }

    #[test]
    fn reinserting_and_removing_keep_the_list_consistent() {
        let now = Instant::now();
        let mut lru = Lru::new(3, Duration::from_secs(60));
        for round in 0..1000u32 {
            let key = round % 7;
            if round % 3 == 0 {
                lru.remove(&key);
            } else {
                lru.insert(key, round, now);
            }
            assert!(lru.len() <= 3);
        }
        // Walking the list from head to tail visits exactly the entries in the map.
        let mut seen = 0;
        let mut at = lru.head;
        while at != NONE {
            assert_eq!(lru.map[&lru.nodes[at].key], at);
            at = lru.nodes[at].next;
            seen += 1;
        }
        assert_eq!(seen, lru.len());
    }
}
