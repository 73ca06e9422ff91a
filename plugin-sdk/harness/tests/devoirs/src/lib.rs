//! A small homework plugin written with `preau-plugin-sdk`: a list of homework by due date, a
//! form for teachers (validated, refilled after a refusal), one page per homework, a widget,
//! and a notification to the class's pupils. The harness's tests run it in a real host.

use preau_plugin_sdk::api::directory::{self, Profile};
use preau_plugin_sdk::api::rights;
use preau_plugin_sdk::calendar::{iso, parse_date, today};
use preau_plugin_sdk::form::FormData;
use preau_plugin_sdk::i18n::{Lang, capitalize, t};
use preau_plugin_sdk::notify::Notification;
use preau_plugin_sdk::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Devoir {
    titre: String,
    echeance: String,
    classe: String,
}

fn devoirs() -> Collection<Devoir> {
    Collection::new("devoirs")
}

fn devoir_form(lang: Lang, classes: &[(String, String)]) -> Form {
    Form::post("/devoirs", t(lang, "Enregistrer", "Save"))
        .field(Field::text("titre", t(lang, "Titre", "Title")).required())
        .field(Field::date("echeance", t(lang, "Pour le", "Due")).required())
        .field(Field::select("classe", t(lang, "Classe", "Class"), classes.to_vec()).required())
}

/// The classes the user teaches: (id, name).
fn my_classes() -> Vec<(String, String)> {
    let mut classes: Vec<(String, String)> = Vec::new();
    for teaching in directory::teachings().unwrap_or_default() {
        let c = teaching.class_group;
        if !classes.iter().any(|(id, _)| *id == c.id) {
            classes.push((c.id, c.name));
        }
    }
    classes
}

fn home(req: &Request, submitted: Option<FormData>) -> Result<Response, Failure> {
    let lang = req.lang();
    let from = today()?;
    let page = devoirs()
        .by_index("par-echeance")
        .from(from)
        .limit(50)
        .fetch()?;
    let mut list = list();
    for doc in &page.docs {
        let due = parse_date(&doc.value.echeance)
            .map(|d| lang.long_date(d))
            .unwrap_or_default();
        list = list.item(link(
            format!("{} — {due}", doc.value.titre),
            format!("/devoirs/{}", doc.key),
        ));
    }
    let mut view = Page::new(t(lang, "Devoirs", "Homework")).push(list);
    if rights::holds("devoirs.saisir") {
        let form = devoir_form(lang, &my_classes());
        view = match submitted {
            Some(data) => view
                .extend(data.errors_notice())
                .push(form.with_submission(&data)),
            None => view.push(form),
        };
    }
    view.respond()
}

fn create(req: &Request) -> Result<Response, Failure> {
    let classes = my_classes();
    let ids: Vec<&str> = classes.iter().map(|(id, _)| id.as_str()).collect();
    let decoded = FormData::new(req).decode(|f| Devoir {
        titre: f.text("titre").required().max_chars(100).value(),
        echeance: iso(f.date("echeance").required().value()),
        classe: f.select("classe", &ids).required().value().to_owned(),
    });
    let devoir = match decoded {
        Ok(devoir) => devoir,
        Err(submitted) => return home(req, Some(submitted)),
    };
    let key = format!("{}-{}", devoir.echeance, req.request_id);
    let author = req.user.clone().unwrap_or_default();
    devoirs().create(&key, &devoir, &[&author])?;
    Notification::new(format!("Nouveau devoir : {}", devoir.titre))
        .link(format!("/devoirs/{key}"))
        .to_members_as(&devoir.classe, &[Profile::Eleve])?
        .send()?;
    Ok(Response::redirect_to("/"))
}

fn show(req: &Request, params: &Params) -> Result<Response, Failure> {
    let lang = req.lang();
    let key: String = params.parse("id")?;
    let Some(doc) = devoirs().get(&key)? else {
        return Err(Failure::not_found("devoir inconnu", "unknown homework"));
    };
    let due = parse_date(&doc.value.echeance).ok_or_else(|| Failure::internal("date", "date"))?;
    Page::new(doc.value.titre)
        .push(text(capitalize(&lang.long_date(due))))
        .push(link(t(lang, "Retour", "Back"), "/"))
        .respond()
}

struct Devoirs;

impl Plugin for Devoirs {
    fn handle(req: Request) -> Result<Response, Failure> {
        Router::new()
            .get("/", |req, _| home(req, None))
            .post("/devoirs", |req, _| create(req))
            .get("/devoirs/{id}", show)
            .handle(&req)
    }

    fn widget(req: WidgetRequest) -> Result<String, Failure> {
        let lang = req.lang();
        let count = devoirs().query().limit(500).fetch()?.docs.len();
        Page::new(t(lang, "À faire", "To do"))
            .push(text(format!("{count}")))
            .render()
    }
}

preau_plugin_sdk::export!(Devoirs);
