//! « Mots de la classe » (Class notes): a small wall for each class, the example plugin of
//! `docs/writing-a-plugin.md`. Pupils and teachers read and write short notes for their classes;
//! the listing shows the newest first, a dashboard widget the latest three, and pupils are
//! notified of their teachers' notes.
//!
//! - `classes`: the signed-in person's classes, from the directory;
//! - `mots`: the documents (a note, and a counter per class that numbers them);
//! - `pages`: the home page, the listing and the widget;
//! - `ecrire`: the form, its validation, and the notification.

mod classes;
mod ecrire;
mod mots;
mod pages;

use preau_plugin_sdk::prelude::*;

struct Bonjour;

impl Plugin for Bonjour {
    /// Every route of `plugin.toml`, to its handler. The core has already checked that the
    /// person is signed in and holds the route's permission.
    fn handle(req: Request) -> Result<Response, Failure> {
        Router::new()
            .get("/", |req, _| pages::accueil(req))
            .get("/mots", |req, _| pages::liste(req))
            .get("/ecrire", |req, _| ecrire::afficher(req))
            .post("/ecrire", |req, _| ecrire::enregistrer(req))
            .handle(&req)
    }

    /// The dashboard widget `derniers-mots` (the only one `plugin.toml` declares).
    fn widget(req: WidgetRequest) -> Result<String, Failure> {
        match req.widget.as_str() {
            "derniers-mots" => pages::widget(&req),
            other => Err(Failure::not_found(
                &format!("pas de widget « {other} »"),
                &format!("no widget '{other}'"),
            )),
        }
    }
}

preau_plugin_sdk::export!(Bonjour);
