//! The naming rules shared by manifests (here) and the core's plugin storage, so that a name the
//! manifest accepts is one the storage accepts.

/// Lowercase ASCII letters and digits with single hyphens inside, 1 to 64 bytes (`ville-paris`).
pub fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A plugin id: `publisher:name`, both kebab-case.
pub fn is_plugin_id(s: &str) -> bool {
    s.split_once(':')
        .is_some_and(|(publisher, name)| is_kebab(publisher) && is_kebab(name))
}

/// Collection, index and widget names: lowercase ASCII letters, digits, `-` and `_`, starting
/// with a letter, at most 64 bytes.
pub fn is_name(s: &str) -> bool {
    s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A document's top-level field: ASCII letters, digits and `_`, not starting with a digit, 1 to
/// 64 bytes.
pub fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
