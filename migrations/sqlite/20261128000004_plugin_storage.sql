-- Plugin storage: documents, their index entries and the accounts they concern, and the metadata of
-- plugin files (their bytes live on disk, one directory per plugin and establishment).
-- Every row is scoped by (plugin, establishment_id): the core adds both to every statement, so a
-- plugin can never name another plugin's or another establishment's data.
-- Keys and paths compare bytewise on both engines (COLLATE "C" on PostgreSQL); index values are
-- order-preserving byte strings (see core/preau-core/src/store/encoding.rs).

CREATE TABLE plugin_documents (
    plugin TEXT NOT NULL,                      -- 'publisher:name'
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    collection TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    revision BIGINT NOT NULL,                  -- opaque, new at every write
    body TEXT NOT NULL,                        -- a JSON object
    size BIGINT NOT NULL,                      -- bytes of body
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (plugin, establishment_id, collection, doc_key)
);

CREATE TABLE plugin_index_entries (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    index_name TEXT NOT NULL,
    value BLOB NOT NULL,
    doc_key TEXT NOT NULL,
    unique_value BLOB,                       -- = value on unique indexes, NULL otherwise
    PRIMARY KEY (plugin, establishment_id, collection, index_name, value, doc_key)
);
-- Partial, so that it holds unique indexes only and never looks like a way to a document's
-- entries to the planner.
CREATE UNIQUE INDEX plugin_index_entries_unique
    ON plugin_index_entries (plugin, establishment_id, collection, index_name, unique_value)
    WHERE unique_value IS NOT NULL;
-- A document's entries, to replace them. doc_key leads: without statistics yet (a fresh table
-- filling fast), PostgreSQL's generic plans otherwise scan a whole scope through another index.
CREATE INDEX plugin_index_entries_by_doc
    ON plugin_index_entries (doc_key, collection, establishment_id, plugin);

-- The accounts a document is about: what the export and deletion of a person's data reach.
CREATE TABLE plugin_document_subjects (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (plugin, establishment_id, collection, doc_key, user_id)
);
CREATE INDEX plugin_document_subjects_by_user
    ON plugin_document_subjects (user_id, plugin);

-- The definition each index was last built with: an index whose declaration changed is rebuilt.
CREATE TABLE plugin_indexes (
    plugin TEXT NOT NULL,
    collection TEXT NOT NULL,
    index_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (plugin, collection, index_name)
);

CREATE TABLE plugin_files (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL REFERENCES establishments(id),
    path TEXT NOT NULL,                   -- the plugin's name for the file, checked
    blob_id TEXT NOT NULL,                     -- the file on disk, named by the core
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (plugin, establishment_id, path)
);

CREATE TABLE plugin_file_subjects (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL,
    path TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (plugin, establishment_id, path, user_id)
);
CREATE INDEX plugin_file_subjects_by_user
    ON plugin_file_subjects (user_id, plugin);

-- Bytes and files held per (plugin, establishment), updated in the same transaction as
-- plugin_files, so that a quota check is one conditional UPDATE on both engines.
CREATE TABLE plugin_file_usage (
    plugin TEXT NOT NULL,
    establishment_id TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    files BIGINT NOT NULL,
    PRIMARY KEY (plugin, establishment_id)
);
