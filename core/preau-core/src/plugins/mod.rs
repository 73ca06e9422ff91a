//! Installed plugins and where they run: the lifecycle an operator drives with `preau plugin
//! install | list | remove | enable | disable` ([`lifecycle`]), and the rule that decides which
//! installed version an establishment runs ([`resolve`]); and what a plugin's calls get from the
//! core ([`services`]: the `preau_host::Services` implementation, [`outbound`]: its network,
//! [`limits`]: the limits its calls run within).
//!
//! Installs are keyed by (plugin, version); several versions sit side by side. An enablement
//! records what an establishment's operator approved: the capabilities digest of a version
//! (`Manifest::capabilities_digest`), who approved it and when. The establishment runs the newest
//! installed version whose digest is the approved one — an update asking for nothing new takes
//! effect at once, one asking for more waits for a new approval, and meanwhile the establishment
//! stays on the version it approved.

pub mod host;
pub mod lifecycle;
pub mod limits;
pub mod outbound;
pub mod services;

pub use lifecycle::{Lifecycle, LifecycleError, PluginOverview};

use crate::db::plugins::{EnablementRow, InstallRow, VersionRow};
pub use services::CoreServices;

/// The installed versions (any row naming its version and digest) as candidates.
pub(crate) fn candidates<R: VersionedRow>(rows: &[R]) -> Vec<Candidate> {
    rows.iter()
        .filter_map(|r| {
            Some(Candidate {
                version: semver::Version::parse(r.version()).ok()?,
                capabilities_digest: r.capabilities_digest().to_owned(),
            })
        })
        .collect()
}

/// What the enablement `e` runs among `candidates`.
pub(crate) fn resolution(candidates: &[Candidate], e: &EnablementRow) -> Resolution {
    match e.pinned_version.as_deref().map(semver::Version::parse) {
        None => resolve(candidates, &e.approved_digest, None),
        Some(Ok(pinned)) => resolve(candidates, &e.approved_digest, Some(&pinned)),
        // A pin that does not parse pins nothing that exists: nothing runs.
        Some(Err(_)) => Resolution::AwaitingApproval {
            newest: candidates
                .iter()
                .filter(|c| c.version.pre.is_empty())
                .map(|c| c.version.clone())
                .max(),
        },
    }
}

/// A row naming an installed version and its capabilities digest.
pub(crate) trait VersionedRow {
    fn version(&self) -> &str;
    fn capabilities_digest(&self) -> &str;
}

impl VersionedRow for InstallRow {
    fn version(&self) -> &str {
        &self.version
    }
    fn capabilities_digest(&self) -> &str {
        &self.capabilities_digest
    }
}

impl VersionedRow for VersionRow {
    fn version(&self) -> &str {
        &self.version
    }
    fn capabilities_digest(&self) -> &str {
        &self.capabilities_digest
    }
}

/// An installed version, as far as choosing one is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version: semver::Version,
    pub capabilities_digest: String,
}

/// What an establishment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// This version runs; `awaiting` is a newer installed version whose capabilities differ from
    /// the approved ones ("update awaiting approval").
    Running {
        version: semver::Version,
        awaiting: Option<semver::Version>,
    },
    /// No installed version matches what was approved (the approved one was removed, or the
    /// pinned version is gone): nothing runs until an operator approves again.
    AwaitingApproval { newest: Option<semver::Version> },
}

/// The version an enablement runs among `installed`: the pinned one if it is installed with the
/// approved digest, otherwise the newest release (pre-releases run only when pinned) installed
/// with the approved digest.
pub fn resolve(
    installed: &[Candidate],
    approved_digest: &str,
    pinned: Option<&semver::Version>,
) -> Resolution {
    let eligible = |c: &&Candidate| match pinned {
        Some(p) => &c.version == p,
        None => c.version.pre.is_empty(),
    };
    let newest = installed
        .iter()
        .filter(|c| c.version.pre.is_empty())
        .map(|c| &c.version)
        .max()
        .cloned();
    let matching = installed
        .iter()
        .filter(|c| c.capabilities_digest == approved_digest)
        .filter(eligible)
        .map(|c| &c.version)
        .max()
        .cloned();
    match matching {
        Some(version) => {
            let awaiting = if pinned.is_some() {
                None
            } else {
                newest.filter(|n| n > &version)
            };
            Resolution::Running { version, awaiting }
        }
        None => Resolution::AwaitingApproval { newest },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: &str, digest: &str) -> Candidate {
        Candidate {
            version: semver::Version::parse(v).expect("version"),
            capabilities_digest: digest.to_owned(),
        }
    }
    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("version")
    }

    #[test]
    fn the_newest_version_with_the_approved_capabilities_runs() {
        let installed = [c("1.0.0", "a"), c("1.1.0", "a"), c("1.0.5", "a")];
        assert_eq!(
            resolve(&installed, "a", None),
            Resolution::Running {
                version: v("1.1.0"),
                awaiting: None
            }
        );
    }

    #[test]
    fn an_update_asking_for_more_waits_and_the_approved_version_keeps_running() {
        let installed = [c("1.0.0", "a"), c("2.0.0", "b")];
        assert_eq!(
            resolve(&installed, "a", None),
            Resolution::Running {
                version: v("1.0.0"),
                awaiting: Some(v("2.0.0"))
            }
        );
    }

    #[test]
    fn a_pinned_version_runs_even_when_newer_ones_exist() {
        let installed = [c("1.0.0", "a"), c("1.1.0", "a")];
        assert_eq!(
            resolve(&installed, "a", Some(&v("1.0.0"))),
            Resolution::Running {
                version: v("1.0.0"),
                awaiting: None
            }
        );
    }

    #[test]
    fn a_pre_release_runs_only_when_pinned() {
        let installed = [c("1.0.0", "a"), c("1.1.0-beta.1", "a")];
        assert_eq!(
            resolve(&installed, "a", None),
            Resolution::Running {
                version: v("1.0.0"),
                awaiting: None
            }
        );
        assert_eq!(
            resolve(&installed, "a", Some(&v("1.1.0-beta.1"))),
            Resolution::Running {
                version: v("1.1.0-beta.1"),
                awaiting: None
            }
        );
    }

    #[test]
    fn nothing_runs_when_no_installed_version_matches_the_approval() {
        let installed = [c("2.0.0", "b")];
        assert_eq!(
            resolve(&installed, "a", None),
            Resolution::AwaitingApproval {
                newest: Some(v("2.0.0"))
            }
        );
        assert_eq!(
            resolve(&[c("1.0.0", "a")], "a", Some(&v("1.1.0"))),
            Resolution::AwaitingApproval {
                newest: Some(v("1.0.0"))
            }
        );
        assert_eq!(
            resolve(&[], "a", None),
            Resolution::AwaitingApproval { newest: None }
        );
    }
}
