//! Values read from the database and reused for a short while, by key: what every request needs
//! and what changes a few times a year (an establishment by UAI, the plugins running in an
//! establishment). A value older than the time to live is read again by its next user; nothing
//! is kept for a key that was not found, so the map never holds more entries than there are
//! keys that exist.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Values by key, each as read at most `ttl` ago.
#[derive(Debug)]
pub struct Recent<K, V> {
    ttl: Duration,
    read: Mutex<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash, V> Recent<K, V> {
    /// An empty map whose values are reused for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Recent {
            ttl,
            read: Mutex::new(HashMap::new()),
        }
    }

    /// The map, even if a thread panicked holding the lock (each entry is replaced whole).
    fn lock(&self) -> MutexGuard<'_, HashMap<K, (Instant, Arc<V>)>> {
        self.read.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `key`, if it was read less than the time to live ago.
    pub fn fresh<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let read = self.lock();
        let (at, value) = read.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Keeps `value`, read just now, for `key`.
    pub fn keep(&self, key: K, value: Arc<V>) {
        self.lock().insert(key, (Instant::now(), value));
    }

    /// Forgets every value (after a change made by this process).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_reused_within_its_time_to_live_and_read_again_after() {
        let recent: Recent<String, u32> = Recent::new(Duration::from_secs(3600));
        assert!(recent.fresh("a").is_none());
        let kept = Arc::new(7);
        recent.keep("a".to_owned(), kept.clone());
        let again = recent.fresh("a").expect("fresh");
        assert!(Arc::ptr_eq(&kept, &again));
        recent.clear();
        assert!(recent.fresh("a").is_none(), "cleared");

        // With no time to live, nothing kept is ever fresh.
        let stale: Recent<String, u32> = Recent::new(Duration::ZERO);
        stale.keep("a".to_owned(), Arc::new(8));
        assert!(stale.fresh("a").is_none());
    }
}
