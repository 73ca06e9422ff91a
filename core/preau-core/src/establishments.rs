//! The establishments that page URLs name by UAI (`/e/{uai}/…`), read from the database and
//! reused for a second: every plugin page starts with this lookup, and establishments change a
//! few times a year (an import, a closure), so one query per second per establishment is
//! enough. Only establishments found are kept: a new one is served at its first request, and
//! the map never holds more entries than the collectivité has establishments.

use std::sync::Arc;
use std::time::Duration;

use crate::db::identity::Establishment;
use crate::db::{Db, DbResult};
use crate::identity::Uai;
use crate::recent::Recent;

/// How long a lookup is reused: a rename or a closure made by an import is seen within it.
pub const TTL: Duration = Duration::from_secs(1);

/// Establishments by UAI, as read at most [`TTL`] ago.
#[derive(Debug)]
pub struct RecentEstablishments(Recent<Uai, Establishment>);

impl Default for RecentEstablishments {
    fn default() -> Self {
        RecentEstablishments(Recent::new(TTL))
    }
}

impl RecentEstablishments {
    /// The establishment `uai`, if it exists.
    pub async fn by_uai(&self, db: &Db, uai: &Uai) -> DbResult<Option<Arc<Establishment>>> {
        if let Some(found) = self.0.fresh(uai) {
            return Ok(Some(found));
        }
        let Some(establishment) = db.establishment(uai).await? else {
            return Ok(None);
        };
        let establishment = Arc::new(establishment);
        self.0.keep(uai.clone(), establishment.clone());
        Ok(Some(establishment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    #[tokio::test]
    async fn found_establishments_are_reused_and_missing_ones_are_asked_again() {
        let t = TestDb::new().await;
        let recent = RecentEstablishments::default();
        let uai = Uai::from_number(750_652).expect("uai");
        assert!(recent.by_uai(&t.db, &uai).await.expect("read").is_none());
        let mut w = t.db.begin(0).await.expect("begin");
        let created = w
            .create_establishment(&crate::testing::college(750_652, "Collège Condorcet"))
            .await
            .expect("create");
        w.commit().await.expect("commit");
        let id = created.id;
        let found = recent
            .by_uai(&t.db, &uai)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.id, id);
        // Within the TTL the same row is served without asking the database again.
        let again = recent
            .by_uai(&t.db, &uai)
            .await
            .expect("read")
            .expect("found");
        assert!(Arc::ptr_eq(&found, &again));
    }
}
