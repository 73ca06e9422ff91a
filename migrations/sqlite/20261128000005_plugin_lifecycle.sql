-- Plugin lifecycle: the installed packages, keyed by (plugin, version) so that several versions
-- sit side by side; the enablements per establishment, each with the capabilities digest an
-- operator approved, who approved and when; and a journal of every lifecycle action.
-- The package files themselves live in {data_dir}/plugins/{publisher}/{name}/{version}.preau.

CREATE TABLE plugin_installs (
    plugin TEXT NOT NULL,                    -- 'publisher:name'
    version TEXT NOT NULL,                   -- semver, as in the manifest
    package_sha256 TEXT NOT NULL,
    package_size BIGINT NOT NULL,
    component_sha256 TEXT NOT NULL,
    capabilities_digest TEXT NOT NULL,       -- Manifest::capabilities_digest
    manifest TEXT NOT NULL,                  -- plugin.toml as installed
    signed_by TEXT,                          -- the publisher's key; NULL: installed --allow-unsigned
    installed_by TEXT NOT NULL,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (plugin, version)
);

CREATE TABLE plugin_enablements (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    approved_digest TEXT NOT NULL,           -- runs the newest version with this digest
    pinned_version TEXT,                     -- or exactly this version (enable --version)
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (plugin, establishment_id)
);

CREATE TABLE plugin_journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('install', 'install_unsigned', 'remove', 'purge', 'enable', 'disable')),
    plugin TEXT NOT NULL,
    version TEXT,
    establishment_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX plugin_journal_by_plugin ON plugin_journal (plugin, at);
