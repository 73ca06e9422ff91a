//! The establishment's services console, for its head (`direction` profile) and its local admin
//! (and the collectivité admin): `GET /e/{uai}/services` lists the installed services and what
//! runs here; `GET /e/{uai}/services/{publisher}/{name}` shows one — what it asks for
//! (capabilities, permissions, limits, signature), the approval step, an update waiting for
//! approval, the grant matrix (profile × permission) and the journal of changes;
//! `POST …/approuver` enables it approving the version shown, `POST …/desactiver` disables it
//! (its data stays), `POST …/droits` saves the grant matrix. Every action goes through
//! `plugins::Lifecycle` or `Db::set_grant`, which journal who did what and when.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use preau_package::Manifest;
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render};
use super::i18n::{Lang, Tr};
use super::session::{CsrfForm, SignedIn};
use crate::access::{Access, EstablishmentAccess};
use crate::api::AppState;
use crate::db::identity::Establishment;
use crate::identity::{Profile, Uai};
use crate::plugins::{Lifecycle, LifecycleError, Resolution};

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage {
    frame: Frame,
    establishment: String,
    services: Vec<ServiceLine>,
}

struct ServiceLine {
    href: String,
    name: String,
    description: String,
    status: String,
}

#[derive(Template)]
#[template(path = "console_service.html")]
struct ServicePage {
    frame: Frame,
    action: String,
    name: String,
    description: String,
    status: String,
    enabled: bool,
    /// The version an approval would approve, and what it asks for.
    proposed_version: String,
    asks_title: String,
    approve_label: String,
    asks: Vec<String>,
    unsigned: bool,
    needs_approval: bool,
    permissions: Vec<PermissionRow>,
    profiles: Vec<(String, String)>,
    journal: Vec<String>,
    open_href: String,
}

struct PermissionRow {
    id: String,
    label: String,
    family: String,
    /// (profile id, checked, field name).
    cells: Vec<(String, bool, String)>,
}

/// Whether the person may run the console of the establishment: its admin, or a head.
pub(crate) fn may_manage(access: &Access, establishment_id: &str) -> bool {
    match access.in_establishment(establishment_id) {
        EstablishmentAccess::Admin => true,
        EstablishmentAccess::Member { profiles, admin } => {
            admin || profiles.contains(&Profile::Direction)
        }
        EstablishmentAccess::None => false,
    }
}

/// The establishment and the checked person, or the page's refusal.
async fn guard(
    state: &AppState,
    user: &SignedIn,
    uai: &str,
) -> Result<(Establishment, Access), PageError> {
    let lang = user.visitor.tr.lang;
    let uai: Uai = uai.parse().map_err(|_| PageError::not_found(lang))?;
    let establishment = state
        .db
        .establishment(&uai)
        .await
        .map_err(|e| PageError::from_db(e, lang))?
        .ok_or_else(|| PageError::not_found(lang))?;
    let access = Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    if !may_manage(&access, &establishment.id) {
        return Err(PageError::forbidden(lang));
    }
    Ok((establishment, access))
}

fn lifecycle(state: &AppState, user: &SignedIn) -> Lifecycle {
    Lifecycle::new(
        state.db.clone(),
        state.clock,
        &state.config.data_dir,
        Vec::new(),
        &user.session.login,
    )
}

fn pick(lang: Lang, text: &preau_package::manifest::Text) -> String {
    match lang {
        Lang::Fr => text.fr.clone(),
        Lang::En => text.en.clone(),
    }
}

fn lifecycle_error(e: LifecycleError, lang: Lang) -> PageError {
    match e {
        LifecycleError::UnknownPlugin(_) | LifecycleError::UnknownVersion { .. } => {
            PageError::not_found(lang)
        }
        LifecycleError::Refused(m) => PageError::bad_request(lang, &m),
        other => {
            tracing::error!(error = %other, "console: lifecycle failed");
            PageError::internal(lang)
        }
    }
}

fn status_text(tr: &Tr, resolution: Option<&Resolution>) -> String {
    match resolution {
        None => tr.t("console-status-off"),
        Some(Resolution::Running {
            version,
            awaiting: None,
        }) => tr.t_with("console-status-on", &[("version", &version.to_string())]),
        Some(Resolution::Running {
            version,
            awaiting: Some(newer),
        }) => tr.t_with(
            "console-status-awaiting",
            &[
                ("version", &version.to_string()),
                ("newer", &newer.to_string()),
            ],
        ),
        Some(Resolution::AwaitingApproval { .. }) => tr.t("console-status-approval"),
    }
}

/// `GET /e/{uai}/services`.
pub async fn list(
    State(state): State<AppState>,
    user: SignedIn,
    Path(uai): Path<String>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let (establishment, access) = guard(&state, &user, &uai).await?;
    let lifecycle = lifecycle(&state, &user);
    let overview = lifecycle
        .overview()
        .await
        .map_err(|e| lifecycle_error(e, tr.lang))?;
    let mut services = Vec::new();
    for plugin in overview {
        let Some(newest) = plugin.versions.last() else {
            continue;
        };
        let Ok(manifest) = Manifest::parse(&newest.manifest) else {
            continue;
        };
        let here = plugin
            .establishments
            .iter()
            .find(|(u, _)| *u == establishment.uai.as_str())
            .map(|(_, r)| r);
        let (publisher, name) = plugin.id.split_once(':').unwrap_or_default();
        services.push(ServiceLine {
            href: format!("/e/{}/services/{publisher}/{name}", establishment.uai),
            name: pick(tr.lang, &manifest.name),
            description: pick(tr.lang, &manifest.description),
            status: status_text(&tr, here),
        });
    }
    let frame = Frame::signed_in_with(
        &state,
        &user.visitor,
        &user.session,
        &access,
        &tr.t("console-title"),
        "console",
    )
    .await?;
    let page = ConsolePage {
        frame,
        establishment: establishment.name.clone(),
        services,
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}

/// What a version asks for, one line each, for the approval step.
fn asks(tr: &Tr, manifest: &Manifest) -> Vec<String> {
    let c = &manifest.capabilities;
    let mut out = Vec::new();
    if c.files_quota_mib > 0 {
        out.push(tr.t_with(
            "console-ask-files",
            &[("mib", &c.files_quota_mib.to_string())],
        ));
    }
    if !c.outbound_hosts.is_empty() {
        let hosts: Vec<&str> = c.outbound_hosts.iter().map(String::as_str).collect();
        out.push(tr.t_with("console-ask-outbound", &[("hosts", &hosts.join(", "))]));
    }
    if c.public_routes {
        out.push(tr.t("console-ask-public"));
    }
    if c.token_routes {
        out.push(tr.t("console-ask-token"));
    }
    if c.sso {
        out.push(tr.t("console-ask-sso"));
    }
    for p in &manifest.permissions {
        let defaults: Vec<String> = p
            .defaults
            .iter()
            .map(|d| tr.t(&format!("profile-{d}")))
            .collect();
        out.push(tr.t_with(
            "console-ask-permission",
            &[
                ("label", &pick(tr.lang, &p.label)),
                ("family", &p.family),
                ("defaults", &defaults.join(", ")),
            ],
        ));
    }
    out
}

/// `GET /e/{uai}/services/{publisher}/{name}`.
pub async fn service(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let lang = tr.lang;
    let (establishment, access) = guard(&state, &user, &uai).await?;
    let id = format!("{publisher}:{name}");
    let lifecycle = lifecycle(&state, &user);
    let overview = lifecycle
        .overview()
        .await
        .map_err(|e| lifecycle_error(e, lang))?;
    let plugin = overview
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| PageError::not_found(lang))?;
    let here = plugin
        .establishments
        .iter()
        .find(|(u, _)| *u == establishment.uai.as_str())
        .map(|(_, r)| r.clone());
    let (package, signed) = lifecycle
        .proposed(&id, None)
        .await
        .map_err(|e| lifecycle_error(e, lang))?;
    let manifest = package.manifest;
    // Approval is needed when nothing runs, or when the newest version asks for more.
    let needs_approval = match &here {
        None | Some(Resolution::AwaitingApproval { .. }) => true,
        Some(Resolution::Running { awaiting, .. }) => awaiting.is_some(),
    };
    // The grant matrix of the running version (or of the newest, before any approval).
    let running_manifest = match &here {
        Some(Resolution::Running { version, .. }) => plugin
            .versions
            .iter()
            .find(|v| v.version == version.to_string())
            .and_then(|v| Manifest::parse(&v.manifest).ok())
            .unwrap_or_else(|| manifest.clone()),
        _ => manifest.clone(),
    };
    let matrix = state
        .db
        .grant_matrix(&establishment.id, &id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let permissions = running_manifest
        .permissions
        .iter()
        .map(|p| PermissionRow {
            id: p.id.clone(),
            label: pick(lang, &p.label),
            family: p.family.clone(),
            cells: Profile::ALL
                .iter()
                .map(|profile| {
                    (
                        profile.as_str().to_owned(),
                        matrix
                            .iter()
                            .any(|(perm, pr)| *perm == p.id && pr == profile),
                        format!("{}|{}", p.id, profile.as_str()),
                    )
                })
                .collect(),
        })
        .collect();
    let profiles = Profile::ALL
        .iter()
        .map(|p| {
            (
                p.as_str().to_owned(),
                tr.t(&format!("profile-{}", p.as_str())),
            )
        })
        .collect();
    let mut journal: Vec<(i64, String)> = state
        .db
        .plugin_journal(&id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?
        .into_iter()
        .filter(|j| j.establishment_id.as_deref() == Some(establishment.id.as_str()))
        .map(|j| {
            (
                j.at,
                format!(
                    "{} — {} : {} {}",
                    when(&state, j.at),
                    j.actor,
                    j.action,
                    j.version.unwrap_or_default()
                ),
            )
        })
        .collect();
    for (at, by, permission, profile, granted) in state
        .db
        .grant_changes_of(&establishment.id, &id, 50)
        .await
        .map_err(|e| PageError::from_db(e, lang))?
    {
        let key = if granted {
            "console-journal-granted"
        } else {
            "console-journal-withdrawn"
        };
        journal.push((
            at,
            format!(
                "{} — {} : {}",
                when(&state, at),
                by.unwrap_or_else(|| "système / system".into()),
                tr.t_with(
                    key,
                    &[
                        ("permission", &permission),
                        ("profile", &tr.t(&format!("profile-{profile}"))),
                    ]
                )
            ),
        ));
    }
    journal.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let frame = Frame::signed_in_with(
        &state,
        &user.visitor,
        &user.session,
        &access,
        &pick(lang, &manifest.name),
        "console",
    )
    .await?;
    let page = ServicePage {
        frame,
        action: format!("/e/{}/services/{publisher}/{name}", establishment.uai),
        name: pick(lang, &manifest.name),
        description: pick(lang, &manifest.description),
        status: status_text(&tr, here.as_ref()),
        enabled: here.is_some(),
        asks_title: tr.t_with(
            "console-asks",
            &[("version", &manifest.version.to_string())],
        ),
        approve_label: tr.t_with(
            if here.is_some() {
                "console-approve-update"
            } else {
                "console-approve"
            },
            &[("version", &manifest.version.to_string())],
        ),
        proposed_version: manifest.version.to_string(),
        asks: asks(&tr, &manifest),
        unsigned: !signed,
        needs_approval,
        permissions,
        profiles,
        journal: journal.into_iter().map(|(_, l)| l).take(100).collect(),
        open_href: format!("/e/{}/apps/{publisher}/{name}", establishment.uai),
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}

/// "30/11/2026 14:05" in the collectivité's time zone.
fn when(state: &AppState, at_ms: i64) -> String {
    state.clock.format_ms(at_ms, "%d/%m/%Y %H:%M")
}

#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    version: String,
}

/// `POST …/approuver`: enables the service, approving the version that was shown.
pub async fn approve(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
    CsrfForm(form): CsrfForm<ApproveForm>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let (establishment, _) = guard(&state, &user, &uai).await?;
    let id = format!("{publisher}:{name}");
    let lifecycle = lifecycle(&state, &user);
    let (package, _) = lifecycle
        .proposed(&id, None)
        .await
        .map_err(|e| lifecycle_error(e, lang))?;
    // What is approved is what was shown: a version installed meanwhile must be shown first.
    if package.manifest.version.to_string() != form.version {
        return Err(PageError::bad_request(
            lang,
            "une nouvelle version a été installée entre-temps : relisez ce qu'elle demande / a new version was installed meanwhile: review what it asks for",
        ));
    }
    lifecycle
        .enable(&id, &establishment.uai, None)
        .await
        .map_err(|e| lifecycle_error(e, lang))?;
    state.plugins.invalidate();
    Ok(back(&establishment.uai, &publisher, &name))
}

/// `POST …/desactiver`: disables the service here (its data stays).
pub async fn disable(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let (establishment, _) = guard(&state, &user, &uai).await?;
    lifecycle(&state, &user)
        .disable(&format!("{publisher}:{name}"), &establishment.uai)
        .await
        .map_err(|e| lifecycle_error(e, lang))?;
    state.plugins.invalidate();
    Ok(back(&establishment.uai, &publisher, &name))
}

/// `POST …/droits`: the grant matrix, every checked `permission|profile` cell granted, every
/// other cell of the running version's permissions withdrawn; only changes are written.
pub async fn grants(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let (establishment, _) = guard(&state, &user, &uai).await?;
    let id = format!("{publisher}:{name}");
    let Some(loaded) = state
        .plugins
        .running(&establishment.id, &id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console: plugin cannot be loaded");
            PageError::internal(lang)
        })?
    else {
        return Err(PageError::bad_request(
            lang,
            "activez d'abord le service / enable the service first",
        ));
    };
    let checked: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "cell")
        .map(|(_, v)| v.as_str())
        .collect();
    let current = state
        .db
        .grant_matrix(&establishment.id, &id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    for p in &loaded.manifest.permissions {
        for profile in Profile::ALL {
            let cell = format!("{}|{}", p.id, profile.as_str());
            let want = checked.contains(&cell.as_str());
            let has = current
                .iter()
                .any(|(perm, pr)| *perm == p.id && pr == profile);
            if want != has {
                state
                    .db
                    .set_grant(
                        &establishment.id,
                        &id,
                        &p.id,
                        *profile,
                        want,
                        Some(&user.session.user_id),
                        state.clock.now_ms(),
                    )
                    .await
                    .map_err(|e| PageError::from_db(e, lang))?;
            }
        }
    }
    Ok(back(&establishment.uai, &publisher, &name))
}

fn back(uai: &Uai, publisher: &str, name: &str) -> Response {
    PageError::redirect(format!("/e/{uai}/services/{publisher}/{name}"), Lang::Fr).into_response()
}
