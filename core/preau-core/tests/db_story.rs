//! The identity model's story, told against a real database: SQLite by default, PostgreSQL too
//! when `PREAU_TEST_DATABASE_URL` is set (`cargo xtask test` runs both).

use chrono::NaiveDate;
use preau_core::calendar::{DayStatus, Holiday};
use preau_core::db::identity::{
    Establishment, Function, GroupKind, NewClassGroup, NewEstablishment, NewUser, PeriodKind,
    Relationship, StaffFilter,
};
use preau_core::db::{Db, DbError, Tx};
use preau_core::identity::{ActivationCode, EstablishmentKind, Profile, Role};
use preau_core::testing::TestDb;

const NOW: i64 = 1_795_000_000_000;
const YEAR: &str = "2026-2027";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn establishment(uai: u32, name: &str, kind: EstablishmentKind) -> NewEstablishment {
    NewEstablishment {
        kind,
        ..preau_core::testing::college(uai, name)
    }
}

fn person(first: &str, last: &str) -> NewUser {
    NewUser {
        first_name: first.into(),
        last_name: last.into(),
        ..NewUser::default()
    }
}

async fn tx(db: &Db) -> Tx {
    db.begin(NOW).await.expect("begin")
}

/// Collège Condorcet, the establishment most stories happen in.
async fn college(w: &mut Tx) -> Establishment {
    w.create_establishment(&establishment(
        750_652,
        "Collège Condorcet",
        EstablishmentKind::College,
    ))
    .await
    .expect("college")
}

/// A class of this school year.
async fn class(w: &mut Tx, establishment_id: &str, code: &str, name: &str) -> String {
    w.create_class_group(&NewClassGroup {
        establishment_id: establishment_id.to_string(),
        school_year_id: YEAR.into(),
        kind: GroupKind::Class,
        code: code.into(),
        name: name.into(),
        level: Some(name.split(' ').next().unwrap_or(name).into()),
    })
    .await
    .expect("class")
}

#[tokio::test]
async fn establishments_are_unique_by_uai() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = w
        .create_establishment(&establishment(
            750_652,
            "Collège Condorcet",
            EstablishmentKind::College,
        ))
        .await
        .expect("create");
    let again = w
        .create_establishment(&establishment(750_652, "Autre", EstablishmentKind::Lycee))
        .await;
    assert!(matches!(again, Err(DbError::Conflict(m)) if m.contains("0750652B")));
    w.commit().await.expect("commit");

    let found =
        t.db.establishment(&college.uai)
            .await
            .expect("read")
            .expect("exists");
    assert_eq!(found.name, "Collège Condorcet");
    assert_eq!(found.kind, EstablishmentKind::College);

    let mut w = tx(&t.db).await;
    let mut unknown = establishment(750_001, "Nulle part", EstablishmentKind::Ecole);
    unknown.holiday_calendar_id = "zone-z".into();
    assert!(
        matches!(w.create_establishment(&unknown).await, Err(DbError::Invalid(m)) if m.contains("zone-z"))
    );
}

#[tokio::test]
async fn logins_are_folded_numbered_and_never_reused() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let a = w
        .create_user(&person("Jean", "Dupont"))
        .await
        .expect("first");
    let b = w
        .create_user(&person("Jean", "DUPONT"))
        .await
        .expect("second");
    let c = w
        .create_user(&person("Jéan", "Dupont"))
        .await
        .expect("third");
    let other = w
        .create_user(&person("Jean", "Dupontel"))
        .await
        .expect("prefix is another base");
    let zoe = w
        .create_user(&person("Zoé", "Lœuillet"))
        .await
        .expect("accents");
    w.commit().await.expect("commit");
    assert_eq!(
        [&a.login, &b.login, &c.login, &other.login, &zoe.login],
        [
            "jean.dupont",
            "jean.dupont1",
            "jean.dupont2",
            "jean.dupontel",
            "zoe.loeuillet"
        ]
    );

    // An account that goes away keeps its login issued: the next Jean Dupont gets a new number.
    let mut w = tx(&t.db).await;
    w.delete_user(&b.id).await.expect("purge");
    let d = w
        .create_user(&person("Jean", "Dupont"))
        .await
        .expect("fourth");
    w.commit().await.expect("commit");
    assert_eq!(d.login, "jean.dupont3");
    assert!(
        t.db.user_by_login("jean.dupont1")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn directory_ids_are_unique_and_activation_codes_are_stored_hashed() {
    let t = TestDb::new().await;
    let code = ActivationCode::generate();
    let mut w = tx(&t.db).await;
    let u = w
        .create_user(&NewUser {
            external_id: Some("AAF-1".into()),
            activation_code: Some(code.clone()),
            ..person("Léa", "Martin")
        })
        .await
        .expect("create");
    assert!(u.activated_at.is_none());
    let dup = w
        .create_user(&NewUser {
            external_id: Some("AAF-1".into()),
            ..person("Léo", "Martin")
        })
        .await;
    assert!(matches!(dup, Err(DbError::Conflict(m)) if m.contains("AAF-1")));
    w.rollback().await.expect("rollback");
    // The rolled-back transaction left nothing behind, not even the issued login.
    assert!(
        t.db.user_by_login("lea.martin")
            .await
            .expect("read")
            .is_none()
    );
    // Committed, the code is stored as its keyed digest only.
    let mut w = tx(&t.db).await;
    let u = w
        .create_user(&NewUser {
            activation_code: Some(code.clone()),
            ..person("Léa", "Martin")
        })
        .await
        .expect("create");
    w.commit().await.expect("commit");
    let stored =
        t.db.credentials(&u.login)
            .await
            .expect("read")
            .and_then(|c| c.activation_digest)
            .expect("a digest");
    assert!(stored.starts_with("hmac-sha256:") && !stored.contains(code.as_str()));
    assert!(code.matches(t.db.code_key(), &u.id, &stored));
}

#[tokio::test]
async fn one_person_can_hold_two_profiles_but_not_the_same_one_twice() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let teacher = w
        .create_user(&person("Claire", "Petit"))
        .await
        .expect("user");
    w.attach(
        &teacher.id,
        &college.id,
        Profile::Enseignant,
        Some("National_ENS"),
        &[],
    )
    .await
    .expect("teacher");
    w.attach(
        &teacher.id,
        &college.id,
        Profile::Parent,
        Some("National_TUT"),
        &[],
    )
    .await
    .expect("also a parent there");
    let again = w
        .attach(&teacher.id, &college.id, Profile::Enseignant, None, &[])
        .await;
    assert!(matches!(again, Err(DbError::Conflict(m)) if m.contains("enseignant")));
    w.commit().await.expect("commit");

    let attachments = t.db.attachments_of(&teacher.id).await.expect("read");
    let profiles: Vec<_> = attachments.iter().map(|a| a.profile).collect();
    assert_eq!(profiles, [Profile::Enseignant, Profile::Parent]);
    assert!(attachments.iter().all(|a| a.uai == college.uai));
}

#[tokio::test]
async fn roles_need_the_right_scope() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let admin = w
        .create_user(&person("Sam", "Bernard"))
        .await
        .expect("user");
    assert!(matches!(
        w.grant_role(&admin.id, Role::AdminLocal, None).await,
        Err(DbError::Invalid(_))
    ));
    assert!(matches!(
        w.grant_role(&admin.id, Role::AdminCollectivite, Some(&college.id))
            .await,
        Err(DbError::Invalid(_))
    ));
    w.grant_role(&admin.id, Role::AdminLocal, Some(&college.id))
        .await
        .expect("local");
    w.grant_role(&admin.id, Role::AdminCollectivite, None)
        .await
        .expect("global");
    assert!(matches!(
        w.grant_role(&admin.id, Role::AdminCollectivite, None).await,
        Err(DbError::Conflict(_))
    ));
    w.commit().await.expect("commit");
    let roles = t.db.roles_of(&admin.id).await.expect("read");
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0].role, Role::AdminCollectivite);
    assert_eq!(roles[0].uai, None);
    assert_eq!(roles[1].uai.as_ref(), Some(&college.uai));
}

#[tokio::test]
async fn a_parent_sees_children_in_two_establishments() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let lycee = w
        .create_establishment(&establishment(
            750_700,
            "Lycée Jules-Ferry",
            EstablishmentKind::Lycee,
        ))
        .await
        .expect("lycee");
    let parent = w
        .create_user(&person("Nadia", "Haddad"))
        .await
        .expect("parent");
    let younger = w
        .create_user(&person("Inès", "Haddad"))
        .await
        .expect("child");
    let older = w
        .create_user(&person("Yanis", "Haddad"))
        .await
        .expect("child");
    for (child, school) in [(&younger, &college), (&older, &lycee)] {
        w.attach(
            &child.id,
            &school.id,
            Profile::Eleve,
            Some("National_ELV"),
            &[],
        )
        .await
        .expect("student");
        w.attach(
            &parent.id,
            &school.id,
            Profile::Parent,
            Some("National_TUT"),
            &[],
        )
        .await
        .expect("parent");
        w.link_family(&parent.id, &child.id, true, Relationship::Mother)
            .await
            .expect("link");
    }
    let class = class(&mut w, &college.id, "5B", "5e B").await;
    w.add_member(&class, &younger.id).await.expect("member");
    // A parent is not a student: refused.
    assert!(matches!(
        w.add_member(&class, &parent.id).await,
        Err(DbError::Invalid(_))
    ));
    assert!(matches!(
        w.link_family(&parent.id, &parent.id, true, Relationship::Other)
            .await,
        Err(DbError::Invalid(_))
    ));
    w.commit().await.expect("commit");

    let children = t.db.children_of(&parent.id, YEAR).await.expect("children");
    let names: Vec<_> = children
        .iter()
        .map(|c| c.user.first_name.as_str())
        .collect();
    assert_eq!(names, ["Inès", "Yanis"]);
    assert_eq!(children[0].attachments.len(), 1);
    assert_eq!(children[0].attachments[0].uai, college.uai);
    assert_eq!(children[0].attachments[0].classes[0].name, "5e B");
    assert_eq!(children[1].attachments[0].uai, lycee.uai);
    assert!(children[1].attachments[0].classes.is_empty());
    assert!(children.iter().all(|c| c.legal_guardian));
    let parents = t.db.parents_of(&younger.id).await.expect("parents");
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].id, parent.id);
}

#[tokio::test]
async fn teaching_assignments_stay_within_the_establishment() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let other = w
        .create_establishment(&establishment(
            750_700,
            "Lycée Jules-Ferry",
            EstablishmentKind::Lycee,
        ))
        .await
        .expect("lycee");
    let teacher = w
        .create_user(&person("Paul", "Moreau"))
        .await
        .expect("teacher");
    let outsider = w
        .create_user(&person("Rémi", "Roux"))
        .await
        .expect("outsider");
    w.attach(
        &teacher.id,
        &college.id,
        Profile::Enseignant,
        Some("National_ENS"),
        &[],
    )
    .await
    .expect("attach");
    w.attach(
        &outsider.id,
        &other.id,
        Profile::Enseignant,
        Some("National_ENS"),
        &[],
    )
    .await
    .expect("attach");
    let maths = w
        .upsert_subject(&college.id, "061300", "Mathématiques")
        .await
        .expect("subject");
    let same = w
        .upsert_subject(&college.id, "061300", "MATHEMATIQUES")
        .await
        .expect("rename");
    assert_eq!(maths, same);
    let foreign_subject = w
        .upsert_subject(&other.id, "061300", "Mathématiques")
        .await
        .expect("subject");
    let class = class(&mut w, &college.id, "4A", "4e A").await;
    w.assign_teaching(&teacher.id, &class, &maths)
        .await
        .expect("assign");
    assert!(matches!(
        w.assign_teaching(&teacher.id, &class, &maths).await,
        Err(DbError::Conflict(_))
    ));
    assert!(matches!(
        w.assign_teaching(&outsider.id, &class, &maths).await,
        Err(DbError::Invalid(_))
    ));
    assert!(matches!(
        w.assign_teaching(&teacher.id, &class, &foreign_subject)
            .await,
        Err(DbError::Invalid(_))
    ));
    w.commit().await.expect("commit");

    let mine =
        t.db.teaching_assignments_of(&teacher.id, YEAR)
            .await
            .expect("read");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].class_group.name, "4e A");
    assert_eq!(mine[0].subject.label, "MATHEMATIQUES");
    let for_class = t.db.teaching_assignments_for(&class).await.expect("read");
    assert_eq!(for_class[0].teacher.id, teacher.id);
    assert!(
        t.db.teaching_assignments_of(&teacher.id, "2025-2026")
            .await
            .expect("read")
            .is_empty()
    );
}

#[tokio::test]
async fn class_members_are_in_french_alphabetical_order() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let class = class(&mut w, &college.id, "6A", "6e A").await;
    for (first, last) in [
        ("Zoé", "Zidane"),
        ("Élodie", "Éluard"),
        ("adam", "de Vries"),
        ("Bob", "Durand"),
        ("Ana", "Duval"),
    ] {
        let u = w.create_user(&person(first, last)).await.expect("user");
        w.attach(&u.id, &college.id, Profile::Eleve, None, &[])
            .await
            .expect("attach");
        w.add_member(&class, &u.id).await.expect("member");
    }
    w.commit().await.expect("commit");
    let names: Vec<_> =
        t.db.members_of(&class)
            .await
            .expect("members")
            .into_iter()
            .map(|u| u.last_name)
            .collect();
    assert_eq!(names, ["de Vries", "Durand", "Duval", "Éluard", "Zidane"]);
    let classes =
        t.db.class_groups_in(&college.id, YEAR)
            .await
            .expect("classes");
    assert_eq!(classes[0].member_count, 5);
}

#[tokio::test]
async fn staff_directory_filters_and_pages() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let cpe = Function {
        code: "EDU".into(),
        label: "Éducation".into(),
    };
    let mut ids = Vec::new();
    for (first, last, profile) in [
        ("Alice", "Aubert", Profile::Enseignant),
        ("Bruno", "Blanc", Profile::Personnel),
        ("Chloé", "Caron", Profile::Direction),
        ("Denis", "Dumas", Profile::Enseignant),
        ("Eva", "Eleve", Profile::Eleve),
        ("Fabrice", "Fabre", Profile::Parent),
    ] {
        let u = w.create_user(&person(first, last)).await.expect("user");
        let functions = if last == "Blanc" {
            std::slice::from_ref(&cpe)
        } else {
            &[]
        };
        w.attach(&u.id, &college.id, profile, None, functions)
            .await
            .expect("attach");
        ids.push(u.id);
    }
    let admin = w
        .create_user(&person("Gaëlle", "Garnier"))
        .await
        .expect("admin");
    w.grant_role(&admin.id, Role::AdminLocal, Some(&college.id))
        .await
        .expect("role");
    w.commit().await.expect("commit");

    let all =
        t.db.staff_directory(&college.id, StaffFilter::All, None, 100)
            .await
            .expect("all");
    let names: Vec<_> = all.iter().map(|e| e.user.last_name.as_str()).collect();
    assert_eq!(names, ["Aubert", "Blanc", "Caron", "Dumas", "Garnier"]);
    assert_eq!(all[1].functions, [cpe]);
    assert!(all[4].admin_local && all[4].profiles.is_empty());

    let teachers =
        t.db.staff_directory(
            &college.id,
            StaffFilter::Profile(Profile::Enseignant),
            None,
            100,
        )
        .await
        .expect("teachers");
    assert_eq!(teachers.len(), 2);
    assert!(matches!(
        t.db.staff_directory(&college.id, StaffFilter::Profile(Profile::Eleve), None, 100)
            .await,
        Err(DbError::Invalid(_))
    ));

    let page1 =
        t.db.staff_directory(&college.id, StaffFilter::All, None, 2)
            .await
            .expect("page 1");
    let page2 =
        t.db.staff_directory(&college.id, StaffFilter::All, Some(&page1[1].user.id), 2)
            .await
            .expect("page 2");
    let page3 =
        t.db.staff_directory(&college.id, StaffFilter::All, Some(&page2[1].user.id), 2)
            .await
            .expect("page 3");
    let paged: Vec<_> = [page1, page2, page3]
        .concat()
        .into_iter()
        .map(|e| e.user.last_name)
        .collect();
    assert_eq!(paged, ["Aubert", "Blanc", "Caron", "Dumas", "Garnier"]);
}

#[tokio::test]
async fn calendar_comes_from_the_database_and_keeps_admin_corrections() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    w.commit().await.expect("commit");

    let cal = t.db.school_calendar(&college.uai).await.expect("calendar");
    assert_eq!(cal.next_school_day(d("2026-10-16")), Some(d("2026-11-02")));
    assert!(matches!(
        cal.day_status(d("2026-11-11")),
        DayStatus::PublicHoliday { .. }
    ));

    // The head's académie extends the Toussaint holidays by two days; a new start re-seeds the
    // shipped data, which must not undo the correction.
    t.db.set_school_holiday(
        "zone-c",
        &Holiday {
            school_year: YEAR.into(),
            kind: "toussaint".into(),
            label_fr: "Vacances de la Toussaint (prolongées)".into(),
            label_en: "Autumn holidays (extended)".into(),
            first_day_off: d("2026-10-18"),
            last_day_off: d("2026-11-03"),
        },
    )
    .await
    .expect("correct");
    t.db.migrate().await.expect("re-seed");
    let cal = t.db.school_calendar(&college.uai).await.expect("calendar");
    assert_eq!(cal.next_school_day(d("2026-10-16")), Some(d("2026-11-04")));

    let bad =
        t.db.set_school_holiday(
            "zone-z",
            &Holiday {
                school_year: YEAR.into(),
                kind: "toussaint".into(),
                label_fr: "x".into(),
                label_en: "x".into(),
                first_day_off: d("2026-10-18"),
                last_day_off: d("2026-11-03"),
            },
        )
        .await;
    assert!(matches!(bad, Err(DbError::Invalid(m)) if m.contains("zone-z")));
    assert!(
        t.db.holiday_calendar_ids()
            .await
            .expect("ids")
            .contains(&"zone-c".to_string())
    );
}

#[tokio::test]
async fn periods_follow_each_other() {
    let t = TestDb::new().await;
    let mut w = tx(&t.db).await;
    let college = college(&mut w).await;
    let trimestres = [
        (d("2026-09-01"), d("2026-11-30")),
        (d("2026-12-01"), d("2027-03-05")),
        (d("2027-03-06"), d("2027-07-03")),
    ];
    w.set_periods(&college.id, YEAR, PeriodKind::Trimestre, &trimestres)
        .await
        .expect("periods");
    let overlapping = [
        (d("2026-09-01"), d("2027-01-31")),
        (d("2027-01-15"), d("2027-07-03")),
    ];
    assert!(matches!(
        w.set_periods(&college.id, YEAR, PeriodKind::Semestre, &overlapping)
            .await,
        Err(DbError::Invalid(_))
    ));
    assert!(matches!(
        w.set_periods(&college.id, YEAR, PeriodKind::Semestre, &trimestres)
            .await,
        Err(DbError::Invalid(_))
    ));
    w.commit().await.expect("commit");
    let periods = t.db.periods(&college.id, YEAR).await.expect("read");
    assert_eq!(periods.len(), 3);
    assert_eq!(periods[2].starts_on, "2027-03-06");
}
