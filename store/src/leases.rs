//! Harvest leases: on a store shared by several nodes, one node at a time harvests a source.
//!
//! A node takes a source's lease before a run ([`Store::take_lease`]), renews it while the
//! run goes on ([`Store::renew_lease`]) and gives it back at the end
//! ([`Store::release_lease`]). A lease that is not renewed expires, and the next node to
//! ask takes it over: the runs the old holder left `running` are marked `interrupted`, and
//! the new run resumes from the source's checkpoint, which every stored page keeps.
//!
//! Times are the nodes' clocks in milliseconds since the Unix epoch, passed in by the caller
//! (the nodes' clocks are assumed synchronised, as NTP keeps them, to well within a lease).
//! Every call is one write transaction, and writes run one at a time, so two nodes never
//! both take a lease.

use crate::db::args;
use crate::{Result, Store};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS harvest_leases (
    source TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
";

impl Store {
    /// Takes the lease of `source` for `node` until `expires_at` if it is free, expired or
    /// already `node`'s; true if `node` holds it now. Taking over from another node marks
    /// that node's unfinished runs of the source `interrupted`.
    pub fn take_lease(&self, source: &str, node: &str, now: i64, expires_at: i64) -> Result<bool> {
        self.db.write(|c| {
            let holder: Option<(String, i64)> = c.query_opt(
                "SELECT node, expires_at FROM harvest_leases WHERE source = ?1",
                args![source],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            match &holder {
                Some((other, until)) if other != node && *until > now => return Ok(false),
                Some((other, _)) if other == node => {}
                _ => {
                    // Free or expired: whatever run is still `running` lost its node.
                    c.execute(
                        "UPDATE harvest_runs SET status = 'interrupted',
                             finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                             error = COALESCE(error, 'its node stopped during the run')
                         WHERE source = ?1 AND status = 'running'",
                        args![source],
                    )?;
                }
            }
            c.execute(
                "INSERT INTO harvest_leases (source, node, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(source) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at",
                args![source, node, expires_at],
            )?;
            Ok(true)
        })
    }

    /// Extends `node`'s lease of `source` to `expires_at`; false if `node` no longer holds
    /// it (it expired and another node took it): the run must stop.
    pub fn renew_lease(&self, source: &str, node: &str, expires_at: i64) -> Result<bool> {
        self.db.write(|c| {
            let renewed = c.execute(
                "UPDATE harvest_leases SET expires_at = ?3 WHERE source = ?1 AND node = ?2",
                args![source, node, expires_at],
            )?;
            Ok(renewed == 1)
        })
    }

    /// Gives back `node`'s lease of `source` (nothing if another node holds it).
    pub fn release_lease(&self, source: &str, node: &str) -> Result<()> {
        self.db.write(|c| {
            c.execute(
                "DELETE FROM harvest_leases WHERE source = ?1 AND node = ?2",
                args![source, node],
            )
            .map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::RunStatus;
    use crate::testing::each_backend;

    #[test]
    fn one_node_holds_a_lease_until_it_expires_then_another_takes_over() {
        each_backend(|store| {
            assert!(store.take_lease("src", "a", 1_000, 2_000).unwrap());
            assert!(
                store.take_lease("src", "a", 1_500, 2_500).unwrap(),
                "the holder again"
            );
            assert!(!store.take_lease("src", "b", 2_000, 3_000).unwrap(), "held by a");
            assert!(
                store.take_lease("other", "b", 2_000, 3_000).unwrap(),
                "another source"
            );
            let run = store.start_run("src", false).unwrap();
            assert!(store.renew_lease("src", "a", 4_000).unwrap());
            // a stops renewing; once its lease has expired, b takes it over.
            assert!(!store.take_lease("src", "b", 3_999, 5_000).unwrap());
            assert!(store.take_lease("src", "b", 4_001, 6_000).unwrap());
            let runs = store.runs(Some("src"), 10).unwrap();
            assert_eq!((runs[0].id, runs[0].status), (run, RunStatus::Interrupted));
            assert!(!store.renew_lease("src", "a", 7_000).unwrap(), "a lost it");
            store.release_lease("src", "a").unwrap();
            assert!(
                !store.take_lease("src", "a", 4_500, 7_000).unwrap(),
                "a's release freed nothing"
            );
            store.release_lease("src", "b").unwrap();
            assert!(store.take_lease("src", "a", 4_500, 7_000).unwrap());
        });
    }
}
