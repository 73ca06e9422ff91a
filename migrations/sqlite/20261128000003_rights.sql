-- Rights: a grant gives a profile a permission of a service in one establishment. The family
-- (consultation, communication, publication) is a label on the permission, declared by its service.

CREATE TABLE grants (
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    service TEXT NOT NULL,          -- 'core', or a plugin id 'publisher:name'
    permission TEXT NOT NULL,
    profile TEXT NOT NULL CHECK (profile IN ('eleve', 'parent', 'enseignant', 'personnel', 'direction', 'invite')),
    PRIMARY KEY (establishment_id, service, permission, profile)
);

-- Which (establishment, service) pairs have had their default grants installed, so that a head's
-- removal of a default grant is not undone by the next start.
CREATE TABLE grant_defaults_applied (
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    service TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (establishment_id, service)
);

-- Every change to the grant matrix: who, what, when.
CREATE TABLE grant_changes (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    by_user_id TEXT,
    establishment_id TEXT NOT NULL,
    service TEXT NOT NULL,
    permission TEXT NOT NULL,
    profile TEXT NOT NULL,
    granted BOOLEAN NOT NULL
);
CREATE INDEX grant_changes_establishment ON grant_changes(establishment_id, at);
