//! The events the core delivers to plugins (`events` export): their kinds, with the exact names
//! `docs/plugin-api.md` lists, and what each carries. A kind is a string on the WIT side, so a
//! minor version of the API may add kinds; plugins ignore those they do not know.

/// The kind of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// An account was created in the establishment. Subject: the account; payload:
    /// `{"profiles": ["eleve"]}`.
    AccountCreated,
    /// An account left the establishment or was deleted. Subject: the account; payload `{}`.
    /// (Erasure of what the plugin keeps about the person is `user-data.delete`.)
    AccountDeleted,
    /// Pupils joined or left a class. Subject: the class; payload:
    /// `{"added": [account ids], "removed": [account ids]}`.
    ClassMembersChanged,
    /// People joined or left a group. Subject: the group; payload as for classes.
    GroupMembersChanged,
    /// A school year started (1 August). No subject; payload `{"school-year": "2026-2027"}`.
    SchoolYearStarted,
    /// The establishment enabled the plugin. No subject; payload `{}`.
    PluginEnabled,
    /// The establishment disabled the plugin (its data is kept). No subject; payload `{}`.
    PluginDisabled,
}

impl EventKind {
    /// Every kind, in the order of `docs/plugin-api.md`.
    pub const ALL: &'static [EventKind] = &[
        EventKind::AccountCreated,
        EventKind::AccountDeleted,
        EventKind::ClassMembersChanged,
        EventKind::GroupMembersChanged,
        EventKind::SchoolYearStarted,
        EventKind::PluginEnabled,
        EventKind::PluginDisabled,
    ];

    /// The exact name a plugin receives.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::AccountCreated => "account.created",
            EventKind::AccountDeleted => "account.deleted",
            EventKind::ClassMembersChanged => "class.members-changed",
            EventKind::GroupMembersChanged => "group.members-changed",
            EventKind::SchoolYearStarted => "school-year.started",
            EventKind::PluginEnabled => "plugin.enabled",
            EventKind::PluginDisabled => "plugin.disabled",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event for one plugin in one establishment (the call's context names both; its request id
/// is the delivery's id).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// The account or class-group it is about, when it is about one.
    pub subject: Option<String>,
    /// A JSON object with the kind's fields.
    pub payload: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_in_the_plugin_api_page() {
        let page = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/plugin-api.md"),
        )
        .expect("docs/plugin-api.md");
        for kind in EventKind::ALL {
            assert!(
                page.contains(&format!("`{kind}`")),
                "{kind} is missing from docs/plugin-api.md"
            );
        }
    }
}
