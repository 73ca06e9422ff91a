//! The JSON API handlers, called directly with an authenticated user (sessions and bearer tokens
//! arrive with the accounts issue), on both engines.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use preau_core::api::establishments::{UsersQuery, classes, users};
use preau_core::api::me::me;
use preau_core::api::{AppState, CurrentUser};
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::auth::SessionKind;
use preau_core::db::identity::{GroupKind, NewClassGroup, NewUser, Relationship};
use preau_core::identity::{Profile, Role};
use preau_core::testing::TestDb;

struct World {
    _t: TestDb,
    state: AppState,
    uai: String,
    student: String,
    parent: String,
    teacher: String,
    outsider: String,
    admin: String,
}

async fn world() -> World {
    let t = TestDb::new().await;
    let day = ClockOverride::parse("2026-11-30").expect("date");
    let clock = Clock::new(chrono_tz::Europe::Paris, Some(day));
    let config = Config::load(None, Vec::new()).expect("defaults");
    let db = t.db.clone();
    let mut w = db.begin(clock.now_ms()).await.expect("begin");
    let e = w
        .create_establishment(&preau_core::testing::college(750_652, "Collège Condorcet"))
        .await
        .expect("establishment");
    let mut person = async |first: &str, last: &str| {
        w.create_user(&NewUser {
            first_name: first.into(),
            last_name: last.into(),
            ..NewUser::default()
        })
        .await
        .expect("user")
        .id
    };
    let student = person("Inès", "Haddad").await;
    let parent = person("Nadia", "Haddad").await;
    let teacher = person("Paul", "Moreau").await;
    let outsider = person("Olga", "Petrov").await;
    let admin = person("Anne", "Admin").await;
    let extra: Vec<String> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(person("Prof", &format!("Numéro {i}")).await);
        }
        v
    };
    w.attach(&student, &e.id, Profile::Eleve, None, &[])
        .await
        .expect("attach");
    w.attach(&parent, &e.id, Profile::Parent, None, &[])
        .await
        .expect("attach");
    w.attach(&teacher, &e.id, Profile::Enseignant, None, &[])
        .await
        .expect("attach");
    for id in &extra {
        w.attach(id, &e.id, Profile::Enseignant, None, &[])
            .await
            .expect("attach");
    }
    w.grant_role(&admin, Role::AdminLocal, Some(&e.id))
        .await
        .expect("role");
    w.link_family(&parent, &student, true, Relationship::Mother)
        .await
        .expect("family");
    let class = w
        .create_class_group(&NewClassGroup {
            establishment_id: e.id.clone(),
            school_year_id: "2026-2027".into(),
            kind: GroupKind::Class,
            code: "5B".into(),
            name: "5e B".into(),
            level: Some("5e".into()),
        })
        .await
        .expect("class");
    w.add_member(&class, &student).await.expect("member");
    let maths = w
        .upsert_subject(&e.id, "061300", "Mathématiques")
        .await
        .expect("subject");
    w.assign_teaching(&teacher, &class, &maths)
        .await
        .expect("assign");
    w.commit().await.expect("commit");
    World {
        state: AppState::new(db, clock, Arc::new(config)),
        uai: e.uai.to_string(),
        _t: t,
        student,
        parent,
        teacher,
        outsider,
        admin,
    }
}

/// The authenticated user as the extractor would build it from a session.
fn as_user(id: &str) -> CurrentUser {
    CurrentUser {
        user_id: id.to_string(),
        session: String::new(),
        kind: SessionKind::Bearer,
        establishment_id: None,
        login: String::new(),
        first_name: String::new(),
        last_name: String::new(),
    }
}

/// The same, with the account's login and names read from the database.
async fn signed_in(w: &World, id: &str) -> CurrentUser {
    let account = w.state.db.user(id).await.expect("read").expect("account");
    CurrentUser {
        login: account.login,
        first_name: account.first_name,
        last_name: account.last_name,
        ..as_user(id)
    }
}

fn query(
    profile: Option<&str>,
    after: Option<&str>,
    limit: Option<&str>,
) -> Result<Query<UsersQuery>, QueryRejection> {
    Ok(Query(UsersQuery {
        profile: profile.map(str::to_string),
        after: after.map(str::to_string),
        limit: limit.map(str::to_string),
    }))
}

#[tokio::test]
async fn me_describes_a_parent_and_their_child() {
    let w = world().await;
    let answer = me(State(w.state.clone()), signed_in(&w, &w.parent).await)
        .await
        .expect("me")
        .0;
    let json = serde_json::to_value(&answer).expect("json");
    assert_eq!(json["display_name"], "Nadia Haddad");
    assert_eq!(json["school_year"], "2026-2027");
    assert_eq!(json["attachments"][0]["uai"], w.uai.as_str());
    assert_eq!(json["attachments"][0]["profile"], "parent");
    assert_eq!(json["children"][0]["user"]["first_name"], "Inès");
    assert_eq!(
        json["children"][0]["attachments"][0]["classes"][0]["name"],
        "5e B"
    );

    let teacher = me(State(w.state.clone()), as_user(&w.teacher))
        .await
        .expect("me")
        .0;
    assert_eq!(teacher.teaching_assignments.len(), 1);
    assert_eq!(
        teacher.teaching_assignments[0].subject.label,
        "Mathématiques"
    );
    let student = me(State(w.state.clone()), as_user(&w.student))
        .await
        .expect("me")
        .0;
    assert_eq!(student.classes[0].name, "5e B");
    let admin = me(State(w.state.clone()), as_user(&w.admin))
        .await
        .expect("me")
        .0;
    assert_eq!(
        serde_json::to_value(&admin.roles).expect("json")[0]["role"],
        "admin_local"
    );
}

#[tokio::test]
async fn staff_directory_is_refused_to_students_parents_and_outsiders() {
    let w = world().await;
    for who in [&w.student, &w.parent, &w.outsider] {
        let r = users(
            State(w.state.clone()),
            as_user(who),
            Path(w.uai.clone()),
            query(None, None, None),
        )
        .await;
        assert_eq!(r.expect_err("refused").status, 403);
    }
    for who in [&w.teacher, &w.admin] {
        let page = users(
            State(w.state.clone()),
            as_user(who),
            Path(w.uai.clone()),
            query(None, None, None),
        )
        .await
        .expect("allowed")
        .0;
        assert_eq!(page.items.len(), 5, "4 teachers and the local admin");
        assert!(page.next.is_none());
    }
}

#[tokio::test]
async fn staff_directory_pages_with_a_cursor() {
    let w = world().await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = users(
            State(w.state.clone()),
            as_user(&w.teacher),
            Path(w.uai.clone()),
            query(Some("enseignant"), after.as_deref(), Some("2")),
        )
        .await
        .expect("page")
        .0;
        seen.extend(page.items.into_iter().map(|e| e.user.last_name));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["Moreau", "Numéro 0", "Numéro 1", "Numéro 2"]);
}

#[tokio::test]
async fn bad_parameters_get_a_clear_error() {
    let w = world().await;
    for (profile, limit) in [
        (Some("eleve"), None),
        (Some("nobody"), None),
        (None, Some("0")),
        (None, Some("1000")),
        (None, Some("dix")),
    ] {
        let e = users(
            State(w.state.clone()),
            as_user(&w.teacher),
            Path(w.uai.clone()),
            query(profile, None, limit),
        )
        .await
        .expect_err("bad request");
        assert_eq!(e.status, 400);
        assert!(!e.fr.is_empty() && !e.en.is_empty());
    }
    for uai in ["0750652A", "nonsense", "'; DROP TABLE users; --"] {
        let e = classes(
            State(w.state.clone()),
            as_user(&w.teacher),
            Path(uai.to_string()),
        )
        .await
        .expect_err("unknown establishment");
        assert_eq!(e.status, 404);
    }
}

#[tokio::test]
async fn classes_are_for_members_of_the_establishment() {
    let w = world().await;
    let list = classes(
        State(w.state.clone()),
        as_user(&w.student),
        Path(w.uai.clone()),
    )
    .await
    .expect("member")
    .0;
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].member_count, 1);
    let r = classes(
        State(w.state.clone()),
        as_user(&w.outsider),
        Path(w.uai.clone()),
    )
    .await;
    assert_eq!(r.expect_err("outsider").status, 403);
}
