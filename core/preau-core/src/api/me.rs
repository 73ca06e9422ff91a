//! `GET /api/v1/me`: who the authenticated person is — attachments, roles, classes, teaching
//! assignments, and for a parent each child with their schools and classes.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{ApiError, AppState, CurrentUser};
use crate::calendar::school_year_id;
use crate::db::identity::{AttachmentView, Child, ClassGroupRef, RoleView, TeachingAssignment};
use crate::identity::Profile;

/// The answer of `/api/v1/me`.
#[derive(Debug, Serialize)]
pub struct Me {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
    pub school_year: String,
    pub attachments: Vec<AttachmentView>,
    pub roles: Vec<RoleView>,
    pub classes: Vec<ClassGroupRef>,
    pub teaching_assignments: Vec<TeachingAssignment>,
    pub children: Vec<Child>,
}

/// Handler of `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Me>, ApiError> {
    let year = school_year_id(state.clock.today());
    let attachments = state.db.attachments_of(&user.user_id).await?;
    // Only ask what the person's profiles can have (a parent has no teaching, a teacher no class).
    let has = |p: Profile| attachments.iter().any(|a| a.profile == p);
    let classes = if has(Profile::Eleve) {
        state.db.class_groups_of(&user.user_id, &year).await?
    } else {
        Vec::new()
    };
    let teaching_assignments = if has(Profile::Enseignant) {
        state
            .db
            .teaching_assignments_of(&user.user_id, &year)
            .await?
    } else {
        Vec::new()
    };
    let children = if has(Profile::Parent) {
        state.db.children_of(&user.user_id, &year).await?
    } else {
        Vec::new()
    };
    Ok(Json(Me {
        display_name: format!("{} {}", user.first_name, user.last_name),
        roles: state.db.roles_of(&user.user_id).await?,
        attachments,
        classes,
        teaching_assignments,
        children,
        school_year: year,
        id: user.user_id,
        login: user.login,
        first_name: user.first_name,
        last_name: user.last_name,
    }))
}
