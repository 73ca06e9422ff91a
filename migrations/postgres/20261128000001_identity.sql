-- Identity model: collectivité, establishments, accounts, attachments, roles, classes and groups,
-- family links, subjects, teaching assignments, school years and the school calendar.
-- Portable types, identical on SQLite and PostgreSQL: ids are UUID text, integers and instants are BIGINT
-- (instants in milliseconds since the Unix epoch), days are 'YYYY-MM-DD' text, flags are BOOLEAN.

CREATE TABLE collectivite (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE holiday_calendars (
    id TEXT PRIMARY KEY,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL
);

CREATE TABLE school_years (
    id TEXT PRIMARY KEY,            -- '2026-2027'
    starts_on TEXT NOT NULL,        -- 1 August
    ends_on TEXT NOT NULL           -- 31 July
);

CREATE TABLE calendar_school_years (
    calendar_id TEXT NOT NULL REFERENCES holiday_calendars(id),
    school_year_id TEXT NOT NULL REFERENCES school_years(id),
    first_day TEXT NOT NULL,        -- rentrée des élèves
    last_day TEXT NOT NULL,         -- last day of classes
    source TEXT NOT NULL CHECK (source IN ('shipped', 'admin')),
    PRIMARY KEY (calendar_id, school_year_id)
);

CREATE TABLE school_holidays (
    calendar_id TEXT NOT NULL REFERENCES holiday_calendars(id),
    school_year_id TEXT NOT NULL REFERENCES school_years(id),
    kind TEXT NOT NULL,             -- toussaint, noel, hiver, printemps, pont-ascension, other…
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    first_day_off TEXT NOT NULL,
    last_day_off TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('shipped', 'admin')),
    PRIMARY KEY (calendar_id, school_year_id, kind),
    CHECK (first_day_off <= last_day_off)
);

CREATE TABLE public_holidays (
    day TEXT NOT NULL,
    scope TEXT NOT NULL,            -- 'national', 'alsace-moselle' or a holiday calendar id
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('shipped', 'admin')),
    PRIMARY KEY (day, scope)
);

CREATE TABLE deployment_waves (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    planned_on TEXT
);

CREATE TABLE establishments (
    id TEXT PRIMARY KEY,
    uai TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ecole', 'college', 'lycee', 'lycee_professionnel')),
    city TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('planned', 'pilot', 'live', 'closed')),
    wave_id TEXT REFERENCES deployment_waves(id),
    holiday_calendar_id TEXT NOT NULL REFERENCES holiday_calendars(id),
    school_weekdays TEXT NOT NULL,  -- ISO weekdays with classes, e.g. '12345'
    created_at BIGINT NOT NULL
);

-- Every login ever issued: a login is never issued twice, even after its account is purged.
CREATE TABLE issued_logins (
    login TEXT COLLATE "C" PRIMARY KEY,
    issued_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES issued_logins(login),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    sort_key TEXT COLLATE "C" NOT NULL,        -- folded 'nom prenom', for ordering identically on both engines
    email TEXT,
    external_id TEXT UNIQUE,        -- the directory's stable key (ENTPersonJointure)
    password_hash TEXT,
    activation_digest TEXT,
    activated_at BIGINT,
    state TEXT NOT NULL CHECK (state IN ('active', 'departed', 'disabled')),
    departed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_sort_key ON users(sort_key);

-- The mapping between national profile codes (SSO and imports) and Préau profiles.
CREATE TABLE national_profiles (
    code TEXT PRIMARY KEY,
    profile TEXT NOT NULL CHECK (profile IN ('eleve', 'parent', 'enseignant', 'personnel', 'direction', 'invite')),
    label_fr TEXT NOT NULL
);
INSERT INTO national_profiles (code, profile, label_fr) VALUES
    ('National_ELV', 'eleve', 'Élève'),
    ('National_TUT', 'parent', 'Responsable légal'),
    ('National_ENS', 'enseignant', 'Enseignant'),
    ('National_DOC', 'enseignant', 'Professeur documentaliste'),
    ('National_DIR', 'direction', 'Personnel de direction'),
    ('National_EVS', 'personnel', 'Personnel de vie scolaire'),
    ('National_ETA', 'personnel', 'Personnel administratif, technique ou d''encadrement'),
    ('National_COL', 'personnel', 'Personnel de collectivité');

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    profile TEXT NOT NULL CHECK (profile IN ('eleve', 'parent', 'enseignant', 'personnel', 'direction', 'invite')),
    national_code TEXT REFERENCES national_profiles(code),
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, establishment_id, profile)
);
CREATE INDEX attachments_establishment ON attachments(establishment_id, profile);

-- Functions held through an attachment (AAF ENTPersonFonctions), e.g. EDU for the CPE.
CREATE TABLE attachment_functions (
    attachment_id TEXT NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (attachment_id, code)
);

CREATE TABLE role_assignments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin_local', 'admin_collectivite')),
    establishment_id TEXT REFERENCES establishments(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    CHECK ((role = 'admin_local') = (establishment_id IS NOT NULL))
);
CREATE UNIQUE INDEX role_assignments_local ON role_assignments(user_id, role, establishment_id)
    WHERE establishment_id IS NOT NULL;
CREATE UNIQUE INDEX role_assignments_global ON role_assignments(user_id, role)
    WHERE establishment_id IS NULL;

CREATE TABLE periods (
    id TEXT PRIMARY KEY,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    school_year_id TEXT NOT NULL REFERENCES school_years(id),
    kind TEXT NOT NULL CHECK (kind IN ('trimestre', 'semestre')),
    number BIGINT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    UNIQUE (establishment_id, school_year_id, kind, number),
    CHECK (starts_on <= ends_on)
);

-- Classes and groups, per establishment and school year.
CREATE TABLE class_groups (
    id TEXT PRIMARY KEY,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    school_year_id TEXT NOT NULL REFERENCES school_years(id),
    kind TEXT NOT NULL CHECK (kind IN ('class', 'group')),
    code TEXT NOT NULL,             -- the directory's code ('6A', '3LV2ESP')
    name TEXT NOT NULL,             -- shown to people ('6e A')
    level TEXT,                     -- '6e', '5e', … '2nde', '1re', 'Tle' for classes
    created_at BIGINT NOT NULL,
    UNIQUE (establishment_id, school_year_id, kind, code)
);

CREATE TABLE class_group_members (
    class_group_id TEXT NOT NULL REFERENCES class_groups(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (class_group_id, user_id)
);
CREATE INDEX class_group_members_user ON class_group_members(user_id);

CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    code TEXT NOT NULL,             -- the directory's code (BCN matière), e.g. '030201'
    label TEXT NOT NULL,
    UNIQUE (establishment_id, code)
);

CREATE TABLE teaching_assignments (
    id TEXT PRIMARY KEY,
    teacher_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    class_group_id TEXT NOT NULL REFERENCES class_groups(id) ON DELETE CASCADE,
    subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
    UNIQUE (teacher_id, class_group_id, subject_id)
);
CREATE INDEX teaching_assignments_class ON teaching_assignments(class_group_id);

CREATE TABLE family_links (
    parent_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    student_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    legal_guardian BOOLEAN NOT NULL,
    relationship TEXT NOT NULL CHECK (relationship IN ('mother', 'father', 'guardian', 'other')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (parent_id, student_id),
    CHECK (parent_id <> student_id)
);
CREATE INDEX family_links_student ON family_links(student_id);
