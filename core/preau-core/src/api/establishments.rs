//! `GET /api/v1/establishments/{uai}/classes` and `…/users`: an establishment's classes and
//! groups, and its directory of adults (teachers, direction, personnel, local admins).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, CurrentUser};
use crate::access::Access;
use crate::auth::client::ClientInfo;
use crate::auth::reset::{ResetError, ResetKind, reset_account};
use crate::calendar::school_year_id;
use crate::db::identity::{ClassGroup, Establishment, StaffEntry, StaffFilter};
use crate::identity::{Profile, Uai};
use crate::rights::{DIRECTORY_ADULTS, DIRECTORY_CLASSES, authorize};

/// Default and largest page sizes of paginated lists.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page of a list: `next` is the `after` to ask for the following page.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The answer of `…/classes`.
#[derive(Debug, Serialize)]
pub struct Classes {
    pub uai: Uai,
    pub school_year: String,
    pub items: Vec<ClassGroup>,
}

/// Query of `…/users`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersQuery {
    pub profile: Option<String>,
    pub after: Option<String>,
    pub limit: Option<String>,
}

async fn establishment(state: &AppState, uai: &str) -> Result<Establishment, ApiError> {
    let unknown = || {
        ApiError::not_found(
            format!("Aucun établissement ne porte le code UAI « {uai} »."),
            format!("No establishment has UAI `{uai}`."),
        )
    };
    let uai = Uai::parse(uai).map_err(|_| unknown())?;
    state.db.establishment(&uai).await?.ok_or_else(unknown)
}

/// Handler of `GET /api/v1/establishments/{uai}/classes`: for holders of `core:annuaire.classes`
/// there (by default every profile but guests) and the admins.
pub async fn classes(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uai): Path<String>,
) -> Result<Json<Classes>, ApiError> {
    let establishment = establishment(&state, &uai).await?;
    let access = Access::load(&state.db, &user.user_id).await?;
    if !authorize(&state.db, &access, &establishment.id, &DIRECTORY_CLASSES).await? {
        return Err(ApiError::forbidden());
    }
    let year = school_year_id(state.clock.today());
    let items = state.db.class_groups_in(&establishment.id, &year).await?;
    Ok(Json(Classes {
        uai: establishment.uai,
        school_year: year,
        items,
    }))
}

/// Handler of `GET /api/v1/establishments/{uai}/users?profile=…&after=…&limit=…`: the
/// establishment's adults, for holders of `core:annuaire.adultes` there (by default teachers,
/// staff and direction) and the admins; refused to students, parents and guests. `profile` is `enseignant`, `direction`, `personnel` or `admin_local`.
pub async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(uai): Path<String>,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Result<Json<Page<StaffEntry>>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(
            format!("Paramètres invalides (profile, after, limit) : {e}"),
            format!("Invalid parameters (profile, after, limit): {e}"),
        )
    })?;
    let establishment = establishment(&state, &uai).await?;
    let access = Access::load(&state.db, &user.user_id).await?;
    if !authorize(&state.db, &access, &establishment.id, &DIRECTORY_ADULTS).await? {
        return Err(ApiError::forbidden());
    }
    let filter = match query.profile.as_deref() {
        None | Some("") => StaffFilter::All,
        Some("admin_local") => StaffFilter::LocalAdmins,
        Some(p) => match p.parse::<Profile>() {
            Ok(p) if p.sees_staff_directory() => StaffFilter::Profile(p),
            _ => {
                return Err(ApiError::bad_request(
                    format!(
                        "Profil « {p} » non listé ici : enseignant, direction, personnel ou admin_local."
                    ),
                    format!(
                        "Profile `{p}` is not listed here: enseignant, direction, personnel or admin_local."
                    ),
                ));
            }
        },
    };
    let limit = parse_limit(query.limit.as_deref())?;
    let mut items = state
        .db
        .staff_directory(
            &establishment.id,
            filter,
            query.after.as_deref().filter(|a| !a.is_empty()),
            limit + 1,
        )
        .await?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|e| e.user.id.clone())
    } else {
        None
    };
    Ok(Json(Page { items, next }))
}

/// Reads `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn parse_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    match limit {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                format!("« limit » doit être un entier de 1 à {MAX_LIMIT} (reçu « {s} »)."),
                format!("`limit` must be an integer from 1 to {MAX_LIMIT} (got `{s}`)."),
            )),
        },
    }
}

/// Body of `POST /api/v1/establishments/{uai}/users/{id}/reset`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    pub kind: ResetKind,
}

/// Answer of a reset: the secret to hand over, shown once.
#[derive(Debug, Serialize)]
pub struct ResetAnswer {
    pub kind: ResetKind,
    pub secret: String,
}

/// Handler of `POST /api/v1/establishments/{uai}/users/{id}/reset`: a new activation code or a
/// temporary password for someone in the caller's reset scope (see `rights::reset`).
pub async fn reset(
    State(state): State<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    Path((uai, target)): Path<(String, String)>,
    body: Result<Json<ResetBody>, JsonRejection>,
) -> Result<Json<ResetAnswer>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::bad_request(
            format!(
                "Corps attendu : {{\"kind\": \"activation_code\" | \"temporary_password\"}} ({e})."
            ),
            format!(
                "Expected body: {{\"kind\": \"activation_code\" | \"temporary_password\"}} ({e})."
            ),
        )
    })?;
    let establishment = establishment(&state, &uai).await?;
    let access = Access::load(&state.db, &user.user_id).await?;
    let secret = reset_account(
        &state.db,
        &state.clock,
        &user.user_id,
        &access,
        &establishment.id,
        &target,
        body.kind,
        &client,
    )
    .await
    .map_err(|e| match e {
        ResetError::Forbidden => ApiError::forbidden(),
        ResetError::Db(e) => e.into(),
    })?;
    Ok(Json(ResetAnswer {
        kind: body.kind,
        secret: secret.expose().to_string(),
    }))
}
