//! The demo establishment, generated deterministically: Collège Condorcet (Paris 8e) with 24
//! classes from 6e to 3e, about 600 students and 1,000 parents (siblings, separated parents, a
//! step-parent who is not a legal guardian, a parent who is also a teacher), 50 teachers with
//! their assignments, vie scolaire and administrative staff, a head and a deputy, a local admin,
//! a partner, the collectivité admin; and Lycée Jules-Ferry, which shares some families.
//!
//! Names and structure come from a seeded generator, so every run builds the same directory;
//! secrets do not: activation codes come from the system's random source, and every activated
//! account shares one password hashed once (hashing 1,900 passwords would take minutes).

mod names;

use chrono::{Datelike, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::calendar::school_year_id;
use crate::calendar::shipped::ShippedCalendar;
use crate::db::identity::{
    Function, GroupKind, NewClassGroup, NewEstablishment, NewUser, PeriodKind, Relationship,
};
use crate::db::{Db, DbError, DbResult, Tx};
use crate::identity::{ActivationCode, EstablishmentKind, EstablishmentState, Profile, Role, Uai};

/// The seed of the demo's generator: change it and every name changes.
const SEED: u64 = 0x00C0_11E6_E000_2026;
/// UAI numbers of the two demo establishments (fictional, with valid keys).
const COLLEGE_UAI: u32 = 750_652;
const LYCEE_UAI: u32 = 750_700;

/// One account of the demo, as `--accounts-json` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub login: String,
    pub display_name: String,
    pub attachments: Vec<DemoAttachment>,
    pub roles: Vec<DemoRole>,
    /// Set for the few accounts left to activate (first-connection flow).
    pub activation_code: Option<String>,
}

/// An attachment in the accounts file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DemoAttachment {
    pub uai: Uai,
    pub profile: Profile,
}

/// A role in the accounts file: `{"role":"admin_local","uai":…}` or `{"role":"admin_collectivite"}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DemoRole {
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uai: Option<Uai>,
}

/// What the generator built.
#[derive(Debug, Clone, Serialize)]
pub struct Demo {
    pub school_year: String,
    pub accounts: Vec<DemoAccount>,
}

impl Demo {
    /// One representative account per profile and role, for the banner: the first activated
    /// account holding it (for parents, one with children in both establishments).
    pub fn showcase(&self) -> Vec<(&'static str, &DemoAccount)> {
        let mut out = Vec::new();
        let activated = |a: &&DemoAccount| a.activation_code.is_none();
        for p in Profile::ALL {
            let found = if *p == Profile::Parent {
                self.accounts.iter().filter(activated).find(|a| {
                    a.attachments
                        .iter()
                        .filter(|x| x.profile == Profile::Parent)
                        .count()
                        > 1
                })
            } else {
                self.accounts.iter().filter(activated).find(|a| {
                    a.attachments.len() == 1 && a.attachments[0].profile == *p && a.roles.is_empty()
                })
            };
            if let Some(a) = found {
                out.push((p.as_str(), a));
            }
        }
        for r in Role::ALL {
            if let Some(a) = self
                .accounts
                .iter()
                .filter(activated)
                .find(|a| a.roles.iter().any(|x| x.role == *r))
            {
                out.push((r.as_str(), a));
            }
        }
        if let Some(a) = self.accounts.iter().find(|a| a.activation_code.is_some()) {
            out.push(("à activer / to activate", a));
        }
        out
    }
}

struct School {
    id: String,
    uai: Uai,
    classes: Vec<String>,
    subjects: Vec<String>,
}

/// Builds the demo in one transaction. `password_hash` is the argon2id hash every activated
/// account gets; `today` decides the school year.
pub async fn generate(
    db: &Db,
    now_ms: i64,
    today: NaiveDate,
    password_hash: &str,
) -> DbResult<Demo> {
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(SEED),
        password_hash: password_hash.to_string(),
        accounts: Vec::new(),
        year: school_year_id(today),
        activations_left_parents: 12,
        activations_left_students: 6,
    };
    let mut tx = db.begin(now_ms).await?;
    tx.set_collectivite("Ville de Paris").await?;
    let wave = tx
        .create_wave(
            "Vague 1 — rentrée 2026",
            NaiveDate::from_ymd_opt(2026, 9, 1),
        )
        .await?;
    let college = g
        .school(
            &mut tx,
            COLLEGE_UAI,
            "Collège Condorcet",
            EstablishmentKind::College,
            "Paris 8e",
            &wave,
            &["6e", "5e", "4e", "3e"],
            &["A", "B", "C", "D", "E", "F"],
        )
        .await?;
    let lycee = g
        .school(
            &mut tx,
            LYCEE_UAI,
            "Lycée Jules-Ferry",
            EstablishmentKind::Lycee,
            "Paris 9e",
            &wave,
            &["2nde", "1re", "Tle"],
            &["1", "2"],
        )
        .await?;

    // Periods: trimestres at the collège, semestres at the lycée, cut at the holidays.
    g.periods(&mut tx, &college, &lycee).await?;

    // Staff first, so that a teacher can also be a parent.
    let college_teachers = g.teachers(&mut tx, &college, 50).await?;
    let lycee_teachers = g.teachers(&mut tx, &lycee, 20).await?;
    g.staff(&mut tx, &college).await?;
    g.staff(&mut tx, &lycee).await?;

    // Families: 600 students over 24 classes at the collège (25 each), older siblings at the lycée.
    g.families(&mut tx, &college, &lycee, 25, &college_teachers)
        .await?;
    g.lycee_students(&mut tx, &lycee, 22).await?;

    g.assign(&mut tx, &college, &college_teachers).await?;
    g.assign(&mut tx, &lycee, &lycee_teachers).await?;

    // The collectivité's administrator and a partner.
    let admin = g.person(&mut tx, "Solène", "Marchetti", false).await?;
    tx.grant_role(&admin.0, Role::AdminCollectivite, None)
        .await?;
    g.role(admin.1, Role::AdminCollectivite, None);
    let partner = g.person(&mut tx, "Hugo", "Delorme", false).await?;
    g.attach(&mut tx, &partner, &college, Profile::Invite, None, &[])
        .await?;

    tx.commit().await?;
    db.analyze().await?;
    Ok(Demo {
        school_year: g.year,
        accounts: g.accounts,
    })
}

struct Generator {
    rng: ChaCha8Rng,
    password_hash: String,
    accounts: Vec<DemoAccount>,
    year: String,
    activations_left_parents: u32,
    activations_left_students: u32,
}

impl Generator {
    fn pick<'a>(&mut self, list: &'a [&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "a one-off builder call with named literals at its only call sites"
    )]
    async fn school(
        &mut self,
        tx: &mut Tx,
        uai: u32,
        name: &str,
        kind: EstablishmentKind,
        city: &str,
        wave: &str,
        levels: &[&str],
        letters: &[&str],
    ) -> DbResult<School> {
        let uai = Uai::from_number(uai).ok_or_else(|| DbError::Invalid("UAI".into()))?;
        let e = tx
            .create_establishment(&NewEstablishment {
                uai: uai.clone(),
                name: name.into(),
                kind,
                city: city.into(),
                state: EstablishmentState::Live,
                wave_id: Some(wave.to_string()),
                holiday_calendar_id: "zone-c".into(),
                school_weekdays: "12345".into(),
            })
            .await?;
        let mut classes = Vec::new();
        for level in levels {
            for letter in letters {
                let id = tx
                    .create_class_group(&NewClassGroup {
                        establishment_id: e.id.clone(),
                        school_year_id: self.year.clone(),
                        kind: GroupKind::Class,
                        code: format!("{level}{letter}").replace(' ', ""),
                        name: format!("{level} {letter}"),
                        level: Some((*level).to_string()),
                    })
                    .await?;
                classes.push(id);
            }
        }
        let mut subjects = Vec::new();
        let list: &[(&str, &str)] = if kind == EstablishmentKind::College {
            &COLLEGE_SUBJECTS
        } else {
            &LYCEE_SUBJECTS
        };
        for (code, label) in list {
            subjects.push(tx.upsert_subject(&e.id, code, label).await?);
        }
        Ok(School {
            id: e.id,
            uai,
            classes,
            subjects,
        })
    }

    async fn periods(&mut self, tx: &mut Tx, college: &School, lycee: &School) -> DbResult<()> {
        // The establishments are not committed yet: read the shipped calendar they follow
        // (the database holds the same data, freshly seeded).
        let cal = ShippedCalendar::load()
            .map_err(DbError::Invalid)?
            .school_calendar(
                "zone-c",
                [true, true, true, true, true, false, false],
                college.uai.departement(),
            );
        let Some(term) = cal
            .terms()
            .iter()
            .find(|t| t.school_year == self.year)
            .cloned()
        else {
            return Ok(()); // no calendar data for this year: no periods
        };
        let before = |kind: &str| {
            cal.holidays()
                .iter()
                .find(|h| h.school_year == self.year && h.kind == kind)
                .and_then(|h| h.first_day_off.pred_opt())
        };
        if let (Some(end1), Some(end2)) = (before("noel"), before("printemps")) {
            let next = |d: NaiveDate| d.succ_opt().unwrap_or(d);
            tx.set_periods(
                &college.id,
                &self.year,
                PeriodKind::Trimestre,
                &[
                    (term.first_day, end1),
                    (next(end1), end2),
                    (next(end2), term.last_day),
                ],
            )
            .await?;
        }
        let mid = NaiveDate::from_ymd_opt(term.first_day.year() + 1, 1, 31);
        if let Some(mid) = mid {
            tx.set_periods(
                &lycee.id,
                &self.year,
                PeriodKind::Semestre,
                &[
                    (term.first_day, mid),
                    (mid.succ_opt().unwrap_or(mid), term.last_day),
                ],
            )
            .await?;
        }
        Ok(())
    }

    /// Creates an account; returns (id, login). Activated with the demo password unless `pending`.
    async fn person(
        &mut self,
        tx: &mut Tx,
        first: &str,
        last: &str,
        pending: bool,
    ) -> DbResult<(String, usize)> {
        let code = pending.then(ActivationCode::generate);
        let user = tx
            .create_user(&NewUser {
                first_name: first.into(),
                last_name: last.into(),
                password_hash: (!pending).then(|| self.password_hash.clone()),
                charter_version: (!pending).then_some(1),
                activation_code: code.clone(),
                ..NewUser::default()
            })
            .await?;
        self.accounts.push(DemoAccount {
            display_name: user.display_name(),
            login: user.login,
            attachments: Vec::new(),
            roles: Vec::new(),
            activation_code: code.map(|c| c.as_str().to_string()),
        });
        Ok((user.id, self.accounts.len() - 1))
    }

    /// Attaches `who` (id, account index) and records it in the accounts file; attaching twice
    /// with the same profile (a parent of two siblings) is not an error here.
    async fn attach(
        &mut self,
        tx: &mut Tx,
        who: &(String, usize),
        school: &School,
        profile: Profile,
        code: Option<&str>,
        functions: &[Function],
    ) -> DbResult<()> {
        match tx
            .attach(&who.0, &school.id, profile, code, functions)
            .await
        {
            Ok(_) | Err(DbError::Conflict(_)) => {
                self.record(who.1, school, profile);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a student with the family's surname in `class` of `school`.
    async fn student(
        &mut self,
        tx: &mut Tx,
        school: &School,
        class: &str,
        surname: &str,
        pending: bool,
    ) -> DbResult<(String, usize)> {
        let first = if self.rng.random_range(0..2) == 0 {
            self.pick(names::GIRLS)
        } else {
            self.pick(names::BOYS)
        };
        let kid = self.person(tx, first, surname, pending).await?;
        self.attach(tx, &kid, school, Profile::Eleve, Some("National_ELV"), &[])
            .await?;
        tx.add_member(class, &kid.0).await?;
        Ok(kid)
    }

    fn record(&mut self, index: usize, school: &School, profile: Profile) {
        let a = DemoAttachment {
            uai: school.uai.clone(),
            profile,
        };
        if let Some(acc) = self.accounts.get_mut(index)
            && !acc.attachments.contains(&a)
        {
            acc.attachments.push(a);
        }
    }

    fn role(&mut self, index: usize, role: Role, uai: Option<&Uai>) {
        if let Some(acc) = self.accounts.get_mut(index) {
            acc.roles.push(DemoRole {
                role,
                uai: uai.cloned(),
            });
        }
    }

    async fn teachers(
        &mut self,
        tx: &mut Tx,
        school: &School,
        count: usize,
    ) -> DbResult<Vec<(String, usize)>> {
        let mut out = Vec::new();
        for i in 0..count {
            let first = if i % 2 == 0 {
                self.pick(names::ADULT_WOMEN)
            } else {
                self.pick(names::ADULT_MEN)
            };
            let last = self.pick(names::SURNAMES);
            let t = self.person(tx, first, last, false).await?;
            let functions = if i == count - 1 {
                vec![Function {
                    code: "DOC".into(),
                    label: "Documentation".into(),
                }]
            } else {
                vec![Function {
                    code: "ENS".into(),
                    label: "Enseignement".into(),
                }]
            };
            let national = if i == count - 1 {
                "National_DOC"
            } else {
                "National_ENS"
            };
            self.attach(
                tx,
                &t,
                school,
                Profile::Enseignant,
                Some(national),
                &functions,
            )
            .await?;
            out.push(t);
        }
        Ok(out)
    }

    async fn staff(&mut self, tx: &mut Tx, school: &School) -> DbResult<()> {
        let edu = Function {
            code: "EDU".into(),
            label: "Éducation".into(),
        };
        let adm = Function {
            code: "ADM".into(),
            label: "Administration".into(),
        };
        let dir = Function {
            code: "DIR".into(),
            label: "Direction".into(),
        };
        let people: [(Profile, &str, &Function); 7] = [
            (Profile::Direction, "National_DIR", &dir),
            (Profile::Direction, "National_DIR", &dir),
            (Profile::Personnel, "National_EVS", &edu), // CPE
            (Profile::Personnel, "National_EVS", &edu), // AED
            (Profile::Personnel, "National_EVS", &edu), // AED
            (Profile::Personnel, "National_ETA", &adm), // secrétariat
            (Profile::Personnel, "National_ETA", &adm), // gestion, local admin
        ];
        for (i, (profile, code, function)) in people.iter().enumerate() {
            let first = if i % 2 == 0 {
                self.pick(names::ADULT_WOMEN)
            } else {
                self.pick(names::ADULT_MEN)
            };
            let last = self.pick(names::SURNAMES);
            let p = self.person(tx, first, last, false).await?;
            self.attach(
                tx,
                &p,
                school,
                *profile,
                Some(code),
                std::slice::from_ref(*function),
            )
            .await?;
            if i == people.len() - 1 {
                tx.grant_role(&p.0, Role::AdminLocal, Some(&school.id))
                    .await?;
                self.role(p.1, Role::AdminLocal, Some(&school.uai));
            }
        }
        Ok(())
    }

    /// Families of the collège: each has one to three children there (siblings), one or two
    /// parents (some separated, with different surnames), sometimes a step-parent who is not a
    /// legal guardian, and sometimes an older child at the lycée.
    async fn families(
        &mut self,
        tx: &mut Tx,
        college: &School,
        lycee: &School,
        per_class: usize,
        teachers: &[(String, usize)],
    ) -> DbResult<()> {
        let seats = college.classes.len() * per_class;
        let mut placed = 0usize;
        let mut family = 0usize;
        while placed < seats {
            family += 1;
            let surname = self.pick(names::SURNAMES);
            let roll = self.rng.random_range(0..100);
            let children = if roll < 72 {
                1
            } else if roll < 95 {
                2
            } else {
                3
            };
            let older_at_lycee = self.rng.random_range(0..100) < 14;
            // Parents.
            let mut parents = Vec::new();
            let mother_name = if self.rng.random_range(0..100) < 12 {
                self.pick(names::SURNAMES)
            } else {
                surname
            };
            let single = self.rng.random_range(0..100) < 14;
            if family == 7 {
                // A parent who is also a teacher at the collège.
                let t = teachers[3].clone();
                parents.push((t, Relationship::Mother, true));
            } else {
                let pending = self.take_parent_activation();
                let first = self.pick(names::ADULT_WOMEN);
                parents.push((
                    self.person(tx, first, mother_name, pending).await?,
                    Relationship::Mother,
                    true,
                ));
            }
            if !single {
                let pending = self.take_parent_activation();
                let first = self.pick(names::ADULT_MEN);
                parents.push((
                    self.person(tx, first, surname, pending).await?,
                    Relationship::Father,
                    true,
                ));
            }
            if family.is_multiple_of(40) {
                let first = self.pick(names::ADULT_MEN);
                let last = self.pick(names::SURNAMES);
                parents.push((
                    self.person(tx, first, last, false).await?,
                    Relationship::Other,
                    false,
                ));
            }
            // Children at the collège, one class each.
            let mut kids = Vec::new();
            for _ in 0..children {
                if placed >= seats {
                    break;
                }
                let class = college.classes[(placed * 7 + family) % college.classes.len()].clone();
                let pending = self.take_student_activation();
                let kid = self.student(tx, college, &class, surname, pending).await?;
                kids.push((kid, college));
                placed += 1;
            }
            if older_at_lycee {
                let class = lycee.classes[family % lycee.classes.len()].clone();
                let kid = self.student(tx, lycee, &class, surname, false).await?;
                kids.push((kid, lycee));
            }
            for (parent, relationship, guardian) in &parents {
                for (kid, school) in &kids {
                    tx.link_family(&parent.0, &kid.0, *guardian, *relationship)
                        .await?;
                    self.attach(
                        tx,
                        parent,
                        school,
                        Profile::Parent,
                        Some("National_TUT"),
                        &[],
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Lycée students whose families have no child at the collège.
    async fn lycee_students(
        &mut self,
        tx: &mut Tx,
        lycee: &School,
        per_class: usize,
    ) -> DbResult<()> {
        for class in lycee.classes.clone() {
            for _ in 0..per_class {
                let surname = self.pick(names::SURNAMES);
                let kid = self.student(tx, lycee, &class, surname, false).await?;
                let parent_first = self.pick(names::ADULT_WOMEN);
                let parent = self.person(tx, parent_first, surname, false).await?;
                tx.link_family(&parent.0, &kid.0, true, Relationship::Mother)
                    .await?;
                self.attach(
                    tx,
                    &parent,
                    lycee,
                    Profile::Parent,
                    Some("National_TUT"),
                    &[],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Every class gets one teacher per subject, teachers sharing the load.
    async fn assign(
        &mut self,
        tx: &mut Tx,
        school: &School,
        teachers: &[(String, usize)],
    ) -> DbResult<()> {
        // The documentalist (last) teaches no class.
        let teaching = &teachers[..teachers.len().saturating_sub(1)];
        if teaching.is_empty() {
            return Ok(());
        }
        let per_subject = (teaching.len() / school.subjects.len()).max(1);
        for (s, subject) in school.subjects.iter().enumerate() {
            for (c, class) in school.classes.iter().enumerate() {
                let t = &teaching[(s * per_subject + c % per_subject) % teaching.len()];
                tx.assign_teaching(&t.0, class, subject).await?;
            }
        }
        Ok(())
    }

    fn take_parent_activation(&mut self) -> bool {
        let take = self.activations_left_parents > 0 && self.rng.random_range(0..30) == 0;
        if take {
            self.activations_left_parents -= 1;
        }
        take
    }

    fn take_student_activation(&mut self) -> bool {
        let take = self.activations_left_students > 0 && self.rng.random_range(0..60) == 0;
        if take {
            self.activations_left_students -= 1;
        }
        take
    }
}

/// Subjects of the collège (BCN-like codes).
const COLLEGE_SUBJECTS: [(&str, &str); 12] = [
    ("020700", "Français"),
    ("061300", "Mathématiques"),
    ("040700", "Histoire-géographie"),
    ("030201", "Anglais LV1"),
    ("030602", "Espagnol LV2"),
    ("062900", "Sciences de la vie et de la Terre"),
    ("063100", "Physique-chimie"),
    ("070100", "Technologie"),
    ("080100", "Arts plastiques"),
    ("080200", "Éducation musicale"),
    ("100100", "Éducation physique et sportive"),
    ("030102", "Allemand LV2"),
];

/// Subjects of the lycée.
const LYCEE_SUBJECTS: [(&str, &str); 8] = [
    ("020700", "Français"),
    ("061300", "Mathématiques"),
    ("040700", "Histoire-géographie"),
    ("030201", "Anglais LVA"),
    ("030602", "Espagnol LVB"),
    ("063100", "Physique-chimie"),
    ("062900", "Sciences de la vie et de la Terre"),
    ("100100", "Éducation physique et sportive"),
];
