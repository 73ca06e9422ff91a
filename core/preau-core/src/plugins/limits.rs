//! The limits a plugin runs within: the operator's values (`[plugins.limits]`, then
//! `[plugins.limits_for."publisher:name"]`, over the defaults of the limits table), lowered by the
//! plugin's manifest (`Limits::effective`: each is the smaller), and their forms for the host
//! (`CallLimits`) and the storage (`store::Limits`).

use std::time::Duration;

use preau_package::Manifest;
use preau_package::manifest::Limits;

use crate::config::PluginsConfig;
use crate::store;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

fn bytes(n: u64, unit: u64) -> usize {
    usize::try_from(n.saturating_mul(unit)).unwrap_or(usize::MAX)
}

/// The limits `manifest`'s plugin runs within on this instance.
pub fn effective(config: &PluginsConfig, manifest: &Manifest) -> Limits {
    Limits::effective(config.operator_limits(&manifest.id), &manifest.limits)
}

/// What the host enforces on each call.
pub fn call_limits(limits: &Limits) -> preau_host::CallLimits {
    preau_host::CallLimits {
        deadline: Duration::from_millis(limits.call_ms),
        widget_deadline: Duration::from_millis(limits.widget_ms),
        memory_bytes: bytes(limits.memory_mib, MIB),
        view_bytes: bytes(limits.view_kib, KIB),
        upload_bytes: bytes(limits.upload_mib, MIB),
        outbound_timeout: Duration::from_millis(limits.outbound_timeout_ms),
    }
}

/// What the storage enforces: document and file sizes, and the file quota the manifest asked
/// for (`capabilities.files_quota_mib`; none without it).
pub fn store_limits(limits: &Limits, manifest: &Manifest) -> store::Limits {
    store::Limits {
        document_bytes: bytes(limits.document_kib, KIB),
        file_bytes: limits.upload_mib.saturating_mul(MIB),
        file_quota_bytes: manifest.capabilities.files_quota_mib.saturating_mul(MIB),
    }
}

/// One line per limit, for people (`preau plugin enable`).
pub fn describe(limits: &Limits) -> String {
    format!(
        "appel / call {} ms, widget {} ms, mémoire / memory {} Mio/MiB, vue / view {} Kio/KiB, \
         envoi / upload {} Mio/MiB, document {} Kio/KiB, réseau / outbound {} ms",
        limits.call_ms,
        limits.widget_ms,
        limits.memory_mib,
        limits.view_kib,
        limits.upload_mib,
        limits.document_kib,
        limits.outbound_timeout_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use preau_package::manifest::LimitOverrides;

    fn manifest(limits: &str) -> Manifest {
        Manifest::parse(&format!(
            r#"id = "ville:cantine"
version = "1.0.0"
licence = "MIT"
component = "c.wasm"
host_api = "^1.0"
[name]
fr = "Cantine"
en = "Canteen"
[description]
fr = "Les menus."
en = "Menus."
[capabilities]
files_quota_mib = 20
[limits]
{limits}
"#
        ))
        .expect("manifest")
    }

    #[test]
    fn the_operator_sets_and_the_manifest_only_lowers() {
        let mut config = PluginsConfig {
            limits: LimitOverrides {
                call_ms: Some(1500),
                ..LimitOverrides::default()
            },
            ..PluginsConfig::default()
        };
        config.limits_for.insert(
            "ville:cantine".into(),
            LimitOverrides {
                widget_ms: Some(800),
                ..LimitOverrides::default()
            },
        );
        // The manifest asks for more call time than the operator gives, and less memory.
        let m = manifest("call_ms = 5000\nmemory_mib = 16\nwidget_ms = 500");
        let l = effective(&config, &m);
        assert_eq!(l.call_ms, 1500, "the operator's value caps the manifest's");
        assert_eq!(
            l.widget_ms, 500,
            "a manifest may lower the plugin's own value"
        );
        assert_eq!(l.memory_mib, 16);
        assert_eq!(l.view_kib, 1024, "the table's default");
        // Another plugin gets the instance-wide values only.
        assert_eq!(config.operator_limits("ville:autre").widget_ms, 300);

        let call = call_limits(&l);
        assert_eq!(call.deadline, Duration::from_millis(1500));
        assert_eq!(call.memory_bytes, 16 << 20);
        let store = store_limits(&l, &m);
        assert_eq!(store.document_bytes, 256 * 1024);
        assert_eq!(store.file_bytes, 10 << 20);
        assert_eq!(store.file_quota_bytes, 20 << 20);
    }
}
