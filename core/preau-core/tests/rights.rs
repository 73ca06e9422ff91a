//! Rights through the real router, on both engines: the authorization matrix (each profile and
//! role × each route), grant changes effective at once, the communication rules on real data,
//! and a parent reaching exactly their own children.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use preau_core::access::Access;
use preau_core::api::AppState;
use preau_core::auth::password;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::identity::{Function, GroupKind, NewClassGroup, NewUser, Relationship};
use preau_core::identity::{Profile, Role};
use preau_core::rights::{
    CORE, CORE_PERMISSIONS, DIRECTORY_ADULTS, DIRECTORY_CLASSES, authorize_named, permissions_in,
};
use preau_core::server;
use preau_core::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "Marelle-42!";
const WHO: [&str; 11] = [
    "eleve",
    "parent",
    "enseignant",
    "autre_enseignant",
    "personnel",
    "direction",
    "invite",
    "admin_local",
    "admin_collectivite",
    "ailleurs",
    "sibling_parent",
];

struct World {
    t: TestDb,
    app: Router,
    college: String,
    uai: String,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

async fn world() -> World {
    let t = TestDb::new().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let mut w = t.db.begin(0).await.expect("begin");
    let mut schools = Vec::new();
    for n in [750_652, 750_700] {
        schools.push(
            w.create_establishment(&preau_core::testing::college(
                n,
                &format!("Établissement {n}"),
            ))
            .await
            .expect("establishment"),
        );
    }
    let (college, other) = (&schools[0], &schools[1]);
    let mut ids = BTreeMap::new();
    for (i, who) in WHO.iter().enumerate() {
        let u = w
            .create_user(&NewUser {
                first_name: format!("Personne{i}"),
                last_name: who.replace('_', " "),
                password_hash: Some(hash.clone()),
                charter_version: Some(1),
                ..NewUser::default()
            })
            .await
            .expect("user");
        ids.insert(*who, u.id);
    }
    let id = |who: &str| ids[who].clone();
    let cpe = [Function {
        code: "EDU".into(),
        label: "Éducation".into(),
    }];
    for (who, profile) in [
        ("eleve", Profile::Eleve),
        ("parent", Profile::Parent),
        ("enseignant", Profile::Enseignant),
        ("autre_enseignant", Profile::Enseignant),
        ("personnel", Profile::Personnel),
        ("direction", Profile::Direction),
        ("invite", Profile::Invite),
        ("sibling_parent", Profile::Parent),
    ] {
        let functions: &[Function] = if who == "personnel" { &cpe } else { &[] };
        w.attach(&id(who), &college.id, profile, None, functions)
            .await
            .expect("attach");
    }
    w.attach(&id("ailleurs"), &other.id, Profile::Enseignant, None, &[])
        .await
        .expect("attach");
    w.grant_role(&id("admin_local"), Role::AdminLocal, Some(&college.id))
        .await
        .expect("role");
    w.grant_role(&id("admin_collectivite"), Role::AdminCollectivite, None)
        .await
        .expect("role");
    // A classmate whose parent is another family.
    let classmate = w
        .create_user(&NewUser {
            first_name: "Camarade".into(),
            last_name: "Voisin".into(),
            ..NewUser::default()
        })
        .await
        .expect("classmate");
    w.attach(&classmate.id, &college.id, Profile::Eleve, None, &[])
        .await
        .expect("attach");
    w.link_family(&id("parent"), &id("eleve"), true, Relationship::Father)
        .await
        .expect("link");
    w.link_family(
        &id("sibling_parent"),
        &classmate.id,
        true,
        Relationship::Mother,
    )
    .await
    .expect("link");
    let class = w
        .create_class_group(&NewClassGroup {
            establishment_id: college.id.clone(),
            school_year_id: "2026-2027".into(),
            kind: GroupKind::Class,
            code: "5B".into(),
            name: "5e B".into(),
            level: Some("5e".into()),
        })
        .await
        .expect("class");
    w.add_member(&class, &id("eleve")).await.expect("member");
    w.add_member(&class, &classmate.id).await.expect("member");
    let maths = w
        .upsert_subject(&college.id, "061300", "Mathématiques")
        .await
        .expect("subject");
    w.assign_teaching(&id("enseignant"), &class, &maths)
        .await
        .expect("assign");
    w.commit().await.expect("commit");

    let clock = Clock::new(
        chrono_tz::Europe::Paris,
        Some(ClockOverride::parse("2026-11-30").expect("day")),
    );
    let app = server::router(AppState::new(
        t.db.clone(),
        clock,
        Arc::new(Config::load(None, Vec::new()).expect("defaults")),
    ));
    let mut tokens = BTreeMap::new();
    for who in WHO {
        let login =
            t.db.user(&ids[who])
                .await
                .expect("read")
                .expect("user")
                .login;
        let request = Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"login": login, "password": PASSWORD}).to_string(),
            ))
            .expect("request");
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{who}: {body}");
        tokens.insert(who, body["token"].as_str().expect("token").to_string());
    }
    World {
        uai: college.uai.to_string(),
        college: college.id.clone(),
        t,
        app,
        ids,
        tokens,
    }
}

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn status_of(w: &World, who: &str, path: &str) -> StatusCode {
    let mut request = Request::get(path);
    if let Some(token) = w.tokens.get(who) {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    call(&w.app, request.body(Body::empty()).expect("request"))
        .await
        .0
}

#[tokio::test]
async fn authorization_matrix() {
    let w = world().await;
    let classes = format!("/api/v1/establishments/{}/classes", w.uai);
    let users = format!("/api/v1/establishments/{}/users", w.uai);
    const OK: StatusCode = StatusCode::OK;
    const NO: StatusCode = StatusCode::FORBIDDEN;
    // who → (/me, /me/sessions, …/classes, …/users)
    let matrix: [(&str, [StatusCode; 4]); 12] = [
        ("eleve", [OK, OK, OK, NO]),
        ("parent", [OK, OK, OK, NO]),
        ("sibling_parent", [OK, OK, OK, NO]),
        ("enseignant", [OK, OK, OK, OK]),
        ("autre_enseignant", [OK, OK, OK, OK]),
        ("personnel", [OK, OK, OK, OK]),
        ("direction", [OK, OK, OK, OK]),
        ("invite", [OK, OK, NO, NO]),
        ("admin_local", [OK, OK, OK, OK]),
        ("admin_collectivite", [OK, OK, OK, OK]),
        ("ailleurs", [OK, OK, NO, NO]),
        ("anonyme", [StatusCode::UNAUTHORIZED; 4]),
    ];
    for (who, expected) in matrix {
        let got = [
            status_of(&w, who, "/api/v1/me").await,
            status_of(&w, who, "/api/v1/me/sessions").await,
            status_of(&w, who, &classes).await,
            status_of(&w, who, &users).await,
        ];
        assert_eq!(got, expected, "{who}");
    }
}

/// What the dashboard reads at once answers exactly as the one-permission check, for every
/// person, establishment and core permission, before and after a grant change; a person's
/// attachments and roles, read in one query, are those the world gave them.
#[tokio::test]
async fn permissions_read_at_once_agree_with_each_check() {
    let w = world().await;
    let other =
        w.t.db
            .establishments()
            .await
            .expect("establishments")
            .into_iter()
            .find(|e| e.id != w.college)
            .expect("other")
            .id;
    let agree = |step: &'static str| {
        let w = &w;
        let other = other.clone();
        async move {
            for who in WHO {
                let access = Access::load(&w.t.db, &w.ids[who]).await.expect("access");
                // The one query `Access::load` makes reads the world as `world()` built it.
                let positions: (Attached, Held) = (
                    access
                        .attachments
                        .iter()
                        .map(|a| {
                            let functions: Vec<&str> =
                                a.functions.iter().map(|f| f.code.as_str()).collect();
                            (a.establishment_id.as_str(), a.profile, functions)
                        })
                        .collect(),
                    access
                        .roles
                        .iter()
                        .map(|r| (r.role, r.establishment_id.as_deref(), r.uai.is_some()))
                        .collect(),
                );
                let college = w.college.as_str();
                let expected: (Attached, Held) = match who {
                    "eleve" => (vec![(college, Profile::Eleve, vec![])], vec![]),
                    "parent" | "sibling_parent" => {
                        (vec![(college, Profile::Parent, vec![])], vec![])
                    }
                    "enseignant" | "autre_enseignant" => {
                        (vec![(college, Profile::Enseignant, vec![])], vec![])
                    }
                    "personnel" => (vec![(college, Profile::Personnel, vec!["EDU"])], vec![]),
                    "direction" => (vec![(college, Profile::Direction, vec![])], vec![]),
                    "invite" => (vec![(college, Profile::Invite, vec![])], vec![]),
                    "ailleurs" => (vec![(other.as_str(), Profile::Enseignant, vec![])], vec![]),
                    "admin_local" => (vec![], vec![(Role::AdminLocal, Some(college), true)]),
                    "admin_collectivite" => (vec![], vec![(Role::AdminCollectivite, None, false)]),
                    unknown => panic!("{unknown} missing from the expectations"),
                };
                assert_eq!(positions, expected, "{who}");
                for establishment in [w.college.as_str(), other.as_str()] {
                    let all = permissions_in(&w.t.db, &access, establishment)
                        .await
                        .expect("permissions");
                    for p in CORE_PERMISSIONS {
                        let one = authorize_named(&w.t.db, &access, establishment, p.service, p.id)
                            .await
                            .expect("authorize");
                        assert_eq!(all.allows(p.service, p.id), one, "{step}: {who} {}", p.id);
                    }
                    assert!(!all.allows("exemple:inconnu", "voir") || one_of_admins(who));
                }
            }
        }
    };
    agree("defaults").await;
    w.t.db
        .set_grant(
            &w.college,
            CORE,
            DIRECTORY_CLASSES.id,
            Profile::Parent,
            false,
            None,
            1,
        )
        .await
        .expect("withdraw");
    w.t.db
        .set_grant(
            &w.college,
            CORE,
            DIRECTORY_ADULTS.id,
            Profile::Eleve,
            true,
            None,
            2,
        )
        .await
        .expect("grant");
    agree("after a change").await;
}

/// Attachments as (establishment id, profile, function codes).
type Attached<'a> = Vec<(&'a str, Profile, Vec<&'a str>)>;
/// Roles as (role, establishment id, whether a UAI comes with it).
type Held<'a> = Vec<(Role, Option<&'a str>, bool)>;

fn one_of_admins(who: &str) -> bool {
    who == "admin_local" || who == "admin_collectivite"
}

#[tokio::test]
async fn grant_changes_take_effect_at_once_and_are_recorded() {
    let w = world().await;
    let classes = format!("/api/v1/establishments/{}/classes", w.uai);
    let users = format!("/api/v1/establishments/{}/users", w.uai);
    let by = Some(w.ids["direction"].as_str());
    w.t.db
        .set_grant(
            &w.college,
            CORE,
            DIRECTORY_CLASSES.id,
            Profile::Parent,
            false,
            by,
            1,
        )
        .await
        .expect("withdraw");
    assert_eq!(
        status_of(&w, "parent", &classes).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status_of(&w, "eleve", &classes).await, StatusCode::OK);
    w.t.db
        .set_grant(
            &w.college,
            CORE,
            DIRECTORY_ADULTS.id,
            Profile::Parent,
            true,
            by,
            2,
        )
        .await
        .expect("grant");
    assert_eq!(status_of(&w, "parent", &users).await, StatusCode::OK);
    let matrix = w.t.db.grant_matrix(&w.college, CORE).await.expect("matrix");
    assert!(matrix.contains(&(DIRECTORY_ADULTS.id.to_string(), Profile::Parent)));
    assert!(!matrix.contains(&(DIRECTORY_CLASSES.id.to_string(), Profile::Parent)));
    // A local admin keeps every right whatever the matrix says.
    for profile in Profile::ALL {
        w.t.db
            .set_grant(
                &w.college,
                CORE,
                DIRECTORY_ADULTS.id,
                *profile,
                false,
                by,
                3,
            )
            .await
            .expect("withdraw");
    }
    assert_eq!(status_of(&w, "admin_local", &users).await, StatusCode::OK);
    assert_eq!(
        status_of(&w, "direction", &users).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn communication_rules_on_real_data() {
    let w = world().await;
    let id = |who: &str| w.ids[who].clone();
    let may = |from: &str, to: &str| {
        let (from, to, college) = (id(from), id(to), w.college.clone());
        let db = w.t.db.clone();
        async move { db.may_write(&from, &to, &college).await.expect("rules") }
    };
    assert!(
        may("eleve", "enseignant").await,
        "a student writes to their class's teacher"
    );
    assert!(
        !may("eleve", "autre_enseignant").await,
        "not to another teacher"
    );
    assert!(
        may("parent", "enseignant").await,
        "a parent writes to their child's teacher"
    );
    assert!(!may("parent", "autre_enseignant").await);
    assert!(
        may("parent", "eleve").await && may("eleve", "parent").await,
        "parent and own child"
    );
    assert!(
        !may("sibling_parent", "eleve").await,
        "not another family's child"
    );
    assert!(
        may("eleve", "personnel").await && may("invite", "direction").await,
        "everyone writes to staff"
    );
    assert!(may("autre_enseignant", "eleve").await && may("personnel", "parent").await);
    assert!(!may("eleve", "invite").await);
    assert!(
        !may("ailleurs", "eleve").await,
        "nobody from outside the establishment"
    );
}

#[tokio::test]
async fn a_parent_reaches_exactly_their_own_children() {
    let w = world().await;
    let request = Request::get("/api/v1/me")
        .header("authorization", format!("Bearer {}", w.tokens["parent"]))
        .body(Body::empty())
        .expect("request");
    let (_, me) = call(&w.app, request).await;
    let children: Vec<&str> = me["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter_map(|c| c["user"]["id"].as_str())
        .collect();
    assert_eq!(children, [w.ids["eleve"].as_str()]);
}

async fn reset(w: &World, actor: &str, target: &str, kind: &str) -> (StatusCode, Value) {
    let request = Request::post(format!(
        "/api/v1/establishments/{}/users/{}/reset",
        w.uai, w.ids[target]
    ))
    .header("authorization", format!("Bearer {}", w.tokens[actor]))
    .header("content-type", "application/json")
    .body(Body::from(json!({"kind": kind}).to_string()))
    .expect("request");
    call(&w.app, request).await
}

#[tokio::test]
async fn account_resets_follow_each_role_s_scope() {
    let w = world().await;
    const OK: StatusCode = StatusCode::OK;
    const NO: StatusCode = StatusCode::FORBIDDEN;
    // Refusals first: a successful reset ends the target's sessions (and tokens).
    let cases = [
        // A teacher: the students of their classes only.
        ("enseignant", "parent", NO),
        ("autre_enseignant", "eleve", NO),
        // Vie scolaire: students and parents, not teachers.
        ("personnel", "enseignant", NO),
        // Nobody else, never oneself, never across establishments.
        ("eleve", "parent", NO),
        ("invite", "eleve", NO),
        ("parent", "eleve", NO),
        ("direction", "direction", NO),
        ("ailleurs", "eleve", NO),
        ("direction", "ailleurs", NO),
        // Allowed: vie scolaire for a parent, the direction and the admins for anyone there.
        ("personnel", "sibling_parent", OK),
        ("direction", "autre_enseignant", OK),
        ("admin_local", "invite", OK),
        ("admin_collectivite", "personnel", OK),
    ];
    for (actor, target, expected) in cases {
        let (status, body) = reset(&w, actor, target, "temporary_password").await;
        assert_eq!(status, expected, "{actor} resets {target}: {body}");
    }
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_and_a_new_code_reactivates() {
    let w = world().await;
    // The teacher gives their student a temporary password: the student's sessions end.
    let (status, body) = reset(&w, "enseignant", "eleve", "temporary_password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let temporary = body["secret"].as_str().expect("secret").to_string();
    assert_eq!(body["kind"], "temporary_password");
    assert_eq!(
        status_of(&w, "eleve", "/api/v1/me").await,
        StatusCode::UNAUTHORIZED
    );
    let login =
        w.t.db
            .user(&w.ids["eleve"])
            .await
            .expect("read")
            .expect("user")
            .login;
    let request = Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"login": login, "password": temporary}).to_string(),
        ))
        .expect("request");
    let (status, answer) = call(&w.app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["must_change_password"], true);
    let token = answer["token"].as_str().expect("token");
    let request = Request::get("/api/v1/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let (status, refused) = call(&w.app, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused["error"]["code"], "password_change_required");

    // Vie scolaire gives a parent a new activation code: the account is to activate again.
    let (status, body) = reset(&w, "personnel", "parent", "activation_code").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = preau_core::identity::ActivationCode::parse(body["secret"].as_str().expect("code"))
        .expect("a code");
    let login =
        w.t.db
            .user(&w.ids["parent"])
            .await
            .expect("read")
            .expect("user")
            .login;
    let credentials =
        w.t.db
            .credentials(&login)
            .await
            .expect("read")
            .expect("account");
    assert!(credentials.password_hash.is_none());
    // Stored keyed (HMAC under the database handle's key), never as the code itself.
    let stored = credentials.activation_digest.expect("a digest");
    assert!(stored.starts_with("hmac-sha256:"), "{stored}");
    assert!(code.matches(w.t.db.code_key(), &w.ids["parent"], &stored));
    let traces = w.t.db.traces_of(&w.ids["parent"], 5).await.expect("traces");
    assert_eq!(traces[0].event, "password_reset");
}

#[tokio::test]
async fn a_reset_never_reaches_someone_more_powerful_than_the_actor() {
    let w = world().await;
    // A teacher who is also a parent in the collège is not "a parent" for vie scolaire.
    let mut tx = w.t.db.begin(0).await.expect("begin");
    tx.attach(
        &w.ids["autre_enseignant"],
        &w.college,
        Profile::Parent,
        None,
        &[],
    )
    .await
    .expect("attach");
    // Last year's class: its teacher no longer reaches the student.
    let old = tx
        .create_class_group(&NewClassGroup {
            establishment_id: w.college.clone(),
            school_year_id: "2025-2026".into(),
            kind: GroupKind::Class,
            code: "6B".into(),
            name: "6e B".into(),
            level: Some("6e".into()),
        })
        .await
        .expect("old class");
    tx.add_member(&old, &w.ids["eleve"]).await.expect("member");
    let subject = tx
        .upsert_subject(&w.college, "020700", "Français")
        .await
        .expect("subject");
    tx.assign_teaching(&w.ids["autre_enseignant"], &old, &subject)
        .await
        .expect("assign");
    tx.commit().await.expect("commit");

    let (status, _) = reset(&w, "personnel", "autre_enseignant", "temporary_password").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the CPE cannot take over a teacher who is also a parent"
    );
    let (status, _) = reset(&w, "autre_enseignant", "eleve", "temporary_password").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "last year's teacher no longer reaches the student"
    );
    let (status, _) = reset(&w, "direction", "admin_local", "temporary_password").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an admin is reset by the collectivité only"
    );
    // This year's teacher still can.
    let (status, _) = reset(&w, "enseignant", "eleve", "activation_code").await;
    assert_eq!(status, StatusCode::OK);
}
