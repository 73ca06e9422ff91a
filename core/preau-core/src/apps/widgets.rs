//! The dashboard's services area: one widget per (enabled plugin, manifest widget) whose
//! permission the person holds in their current establishment, all fetched at once, each within
//! its plugin's `widget_ms`. A widget that is slow, fails, traps or answers an invalid view is
//! replaced by a discreet notice; the page never waits for more than the longest budget, and
//! never fails because of a plugin.

use futures_util::future::join_all;
use preau_host::{CallContext, Language};

use super::render::{self, RenderContext};
use crate::access::Access;
use crate::api::AppState;
use crate::portal::i18n::Lang;
use crate::rights::permissions_in;

/// One widget as the dashboard shows it.
#[derive(Debug, Clone)]
pub struct WidgetCard {
    pub title: String,
    /// The plugin's page, for the card's link.
    pub href: String,
    pub service: String,
    /// Rendered HTML of the widget's view, or `None` with `failed` when it could not be shown.
    pub html: Option<String>,
    pub failed: bool,
}

/// The widgets of `user` in the establishment (`establishment_id`, `uai`), in the order of
/// the plugins and of their manifests.
pub async fn for_dashboard(
    state: &AppState,
    access: &Access,
    user_id: &str,
    establishment_id: &str,
    uai: &str,
    lang: Lang,
) -> Vec<WidgetCard> {
    let enabled = match state.plugins.running_in(establishment_id).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "dashboard: enabled plugins unreadable");
            return Vec::new();
        }
    };
    // What to ask, once the permissions are known (one query for all of them).
    let permissions = match permissions_in(&state.db, access, establishment_id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "dashboard: permissions unreadable");
            return Vec::new();
        }
    };
    let mut asks = Vec::new();
    for e in enabled.iter() {
        let loaded = match state.plugins.load(e).await {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(err) => {
                tracing::error!(error = %err, plugin = e.enablement.plugin, "dashboard: plugin cannot be loaded");
                continue;
            }
        };
        for widget in &loaded.manifest.widgets {
            if permissions.allows(&loaded.manifest.id, &widget.permission) {
                asks.push((loaded.clone(), widget.clone()));
            }
        }
    }
    let calls = asks.iter().enumerate().map(|(i, (loaded, widget))| async move {
        let (publisher, name) = loaded.manifest.id.split_once(':').unwrap_or_default();
        let base = format!("/e/{uai}/apps/{publisher}/{name}");
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let ctx = CallContext::new(
            loaded.manifest.id.clone(),
            uai.to_owned(),
            Some(user_id.to_owned()),
            request_id,
        )
        .with_language(match lang {
            Lang::Fr => Language::Fr,
            Lang::En => Language::En,
        });
        let answer = state.plugins.widget(loaded, ctx, &widget.id).await;
        let html = match answer {
            Ok(view) => serde_json::from_str::<serde_json::Value>(&view)
                .ok()
                .map(|v| {
                    render::body(
                        &v,
                        &RenderContext {
                            base: &base,
                            // Widgets show; their forms (if any) post without a session token
                            // and are refused: a widget links to its page for changes.
                            csrf: "",
                            lang,
                            id_prefix: &format!("w{i}-"),
                            title_level: 2,
                        },
                    )
                }),
            Err(e) => {
                tracing::warn!(plugin = loaded.manifest.id, widget = widget.id, error = %e, "widget not shown");
                None
            }
        };
        let (title, service) = match lang {
            Lang::Fr => (widget.title.fr.clone(), loaded.manifest.name.fr.clone()),
            Lang::En => (widget.title.en.clone(), loaded.manifest.name.en.clone()),
        };
        WidgetCard {
            title,
            href: base,
            service,
            failed: html.is_none(),
            html,
        }
    });
    join_all(calls).await
}
