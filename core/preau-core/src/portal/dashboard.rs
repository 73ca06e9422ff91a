//! `GET /`: the dashboard — the person's establishments and roles, their classes (students),
//! their teaching (teachers), each child with school and class (parents), and the services area:
//! the widgets of the plugins enabled in the current establishment (`apps::widgets`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::PageError;
use super::frame::{Frame, render, role_label};
use super::session::SignedIn;
use crate::access::Access;
use crate::api::AppState;
use crate::apps::widgets::{self, WidgetCard};
use crate::calendar::school_year_id;
use crate::identity::Profile;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    frame: Frame,
    hello: String,
    establishments: Vec<String>,
    roles: Vec<String>,
    classes: Vec<String>,
    teaching: Vec<String>,
    children: Vec<ChildCard>,
    widgets: Vec<WidgetCard>,
}

struct ChildCard {
    name: String,
    lines: Vec<String>,
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let id = &user.session.user_id;
    let year = school_year_id(state.clock.today());
    let access = Access::load(&state.db, id).await.map_err(db_err)?;
    let mut establishments: Vec<String> = Vec::new();
    for a in &access.attachments {
        let profile = tr.t(&format!("profile-{}", a.profile.as_str()));
        match establishments
            .iter_mut()
            .find(|e| e.starts_with(&a.establishment_name))
        {
            Some(line) => line.push_str(&format!(", {profile}")),
            None => establishments.push(format!("{} — {profile}", a.establishment_name)),
        }
    }
    let roles = access.roles.iter().map(|r| role_label(&tr, r)).collect();
    // Only ask what the person's profiles can have (a parent has no teaching, a teacher no class).
    let has = |p: Profile| access.attachments.iter().any(|a| a.profile == p);
    let classes = if has(Profile::Eleve) {
        state.db.class_groups_of(id, &year).await.map_err(db_err)?
    } else {
        Vec::new()
    }
    .into_iter()
    .map(|c| c.name)
    .collect();
    let teaching = if has(Profile::Enseignant) {
        state
            .db
            .teaching_assignments_of(id, &year)
            .await
            .map_err(db_err)?
    } else {
        Vec::new()
    }
    .into_iter()
    .map(|t| format!("{} — {}", t.class_group.name, t.subject.label))
    .collect();
    let children = if has(Profile::Parent) {
        state.db.children_of(id, &year).await.map_err(db_err)?
    } else {
        Vec::new()
    }
    .into_iter()
    .map(|c| ChildCard {
        name: format!("{} {}", c.user.first_name, c.user.last_name),
        lines: c
            .attachments
            .iter()
            .map(|a| {
                let classes: Vec<&str> = a.classes.iter().map(|g| g.name.as_str()).collect();
                if classes.is_empty() {
                    tr.t_with(
                        "dashboard-child-no-class",
                        &[("establishment", &a.establishment_name)],
                    )
                } else {
                    tr.t_with(
                        "dashboard-child-in",
                        &[
                            ("class", &classes.join(", ")),
                            ("establishment", &a.establishment_name),
                        ],
                    )
                }
            })
            .collect(),
    })
    .collect();
    // The services' widgets of the session's establishment, fetched together, each in its budget.
    let current = user
        .session
        .establishment_id
        .as_deref()
        .and_then(|e| access.attachments.iter().find(|a| a.establishment_id == e))
        .or_else(|| access.attachments.first());
    let widgets = match current {
        Some(a) => {
            widgets::for_dashboard(
                &state,
                &access,
                id,
                &a.establishment_id,
                a.uai.as_str(),
                tr.lang,
            )
            .await
        }
        None => Vec::new(),
    };
    let frame = Frame::signed_in_with(
        &state,
        &user.visitor,
        &user.session,
        &access,
        &tr.t("dashboard-title"),
        "home",
    )
    .await?;
    let page = DashboardPage {
        frame,
        hello: tr.t_with("dashboard-hello", &[("name", &user.session.first_name)]),
        establishments,
        roles,
        classes,
        teaching,
        children,
        widgets,
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}
