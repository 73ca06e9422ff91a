//! The [`Plugin`] trait a plugin implements, the adapter [`Exported`] that turns it into the
//! component's four exports, and conveniences on the boundary types ([`Request`],
//! [`Response`], [`Failure`]).

use std::marker::PhantomData;

use crate::bindings::exports::preau::plugin::{events, handler, user_data, widgets};
use crate::i18n::Lang;
use crate::{Event, Failure, Request, Response, SubjectRequest, Upload, WidgetRequest};

/// A Préau plugin: what the core asks of it. Only [`handle`](Plugin::handle) is required; the
/// others answer as a plugin without widgets, events or data of its own should.
///
/// Every call runs in a fresh instance: nothing survives between two calls except what the
/// plugin stored (documents, files).
pub trait Plugin {
    /// Answers one request to one of the manifest's routes (see [`Router`](crate::routing::Router)).
    fn handle(req: Request) -> Result<Response, Failure>;

    /// Renders the dashboard widget `req.widget` (a `view/1.x` JSON document, as
    /// [`Page::to_json`](crate::view::Page::to_json) gives). By default: no widget (404).
    fn widget(req: WidgetRequest) -> Result<String, Failure> {
        Err(Failure::not_found(
            &format!("pas de widget « {} »", req.widget),
            &format!("no widget '{}'", req.widget),
        ))
    }

    /// Handles an event of the establishment (`ev.kind`, e.g. `account.created`). Kinds the
    /// plugin does not know must be ignored; an event may come twice. By default: ignored.
    fn event(ev: Event) -> Result<(), Failure> {
        let _ = ev;
        Ok(())
    }

    /// What the plugin keeps about `req.subject` outside its documents and files (which the
    /// core exports itself), as JSON. By default: nothing, `{}`.
    fn export_user_data(req: SubjectRequest) -> Result<String, Failure> {
        let _ = req;
        Ok("{}".into())
    }

    /// Forgets `req.subject` outside its documents and files (which the core deletes itself).
    /// By default: nothing to do.
    fn delete_user_data(req: SubjectRequest) -> Result<(), Failure> {
        let _ = req;
        Ok(())
    }
}

/// The component's exports for the plugin `P`: what [`export!`](crate::export) registers.
pub struct Exported<P>(PhantomData<P>);

impl<P: Plugin> handler::Guest for Exported<P> {
    fn handle(req: Request) -> Result<Response, Failure> {
        P::handle(req)
    }
}

impl<P: Plugin> widgets::Guest for Exported<P> {
    fn render(req: WidgetRequest) -> Result<String, Failure> {
        P::widget(req)
    }
}

impl<P: Plugin> events::Guest for Exported<P> {
    fn handle(ev: Event) -> Result<(), Failure> {
        P::event(ev)
    }
}

impl<P: Plugin> user_data::Guest for Exported<P> {
    fn export(req: SubjectRequest) -> Result<String, Failure> {
        P::export_user_data(req)
    }

    fn delete(req: SubjectRequest) -> Result<(), Failure> {
        P::delete_user_data(req)
    }
}

impl Failure {
    /// A failure with `status` (400, 403, 404 or 409; the host turns any other into 500) and
    /// the message `"{fr} / {en}"`.
    pub fn new(status: u16, fr: &str, en: &str) -> Failure {
        Failure {
            status,
            message: format!("{fr} / {en}"),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(fr: &str, en: &str) -> Failure {
        Failure::new(400, fr, en)
    }

    /// 403: the user may not do this.
    pub fn forbidden(fr: &str, en: &str) -> Failure {
        Failure::new(403, fr, en)
    }

    /// 404: no such thing.
    pub fn not_found(fr: &str, en: &str) -> Failure {
        Failure::new(404, fr, en)
    }

    /// 409: the state changed meanwhile (a conflict).
    pub fn conflict(fr: &str, en: &str) -> Failure {
        Failure::new(409, fr, en)
    }

    /// 500: the plugin could not answer.
    pub fn internal(fr: &str, en: &str) -> Failure {
        Failure::new(500, fr, en)
    }
}

impl Request {
    /// The reader's language (`language`: `fr` or `en`).
    pub fn lang(&self) -> Lang {
        Lang::from_code(&self.language)
    }

    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }

    /// The first value of form field `name`.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        first(&self.form, name)
    }

    /// The file sent in form field `name`, if any.
    pub fn upload(&self, name: &str) -> Option<&Upload> {
        self.uploads.iter().find(|u| u.field == name)
    }

    /// Whether the method is `method` (ASCII case aside).
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }
}

impl WidgetRequest {
    /// The reader's language (`language`: `fr` or `en`).
    pub fn lang(&self) -> Lang {
        Lang::from_code(&self.language)
    }
}

impl Response {
    /// Go to `path` (a path inside the plugin, `/…`): the answer to a successful form.
    pub fn redirect_to(path: impl Into<String>) -> Response {
        Response::Redirect(path.into())
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn request(method: &str, path: &str) -> Request {
        Request {
            request_id: "req-1".into(),
            method: method.into(),
            path: path.into(),
            query: vec![("semaine".into(), "2026-11-30".into())],
            form: vec![("titre".into(), "Ex. 4".into())],
            user: Some("u-1".into()),
            establishment: "0751234A".into(),
            language: "en".into(),
            uploads: vec![],
        }
    }

    #[test]
    fn failures_are_french_then_english() {
        let f = Failure::not_found("page inconnue", "unknown page");
        assert_eq!(f.status, 404);
        assert_eq!(f.message, "page inconnue / unknown page");
        assert_eq!(Failure::conflict("a", "b").status, 409);
    }

    #[test]
    fn request_accessors() {
        let req = request("post", "/devoirs");
        assert_eq!(req.lang(), Lang::En);
        assert_eq!(req.query_param("semaine"), Some("2026-11-30"));
        assert_eq!(req.form_value("titre"), Some("Ex. 4"));
        assert_eq!(req.form_value("absent"), None);
        assert!(req.is("POST"));
        assert!(req.upload("piece").is_none());
    }

    struct Minimal;
    impl Plugin for Minimal {
        fn handle(_: Request) -> Result<Response, Failure> {
            Ok(Response::redirect_to("/"))
        }
    }

    #[test]
    fn the_defaults_answer_like_a_plugin_without_widgets_events_or_data() {
        let subject = SubjectRequest {
            request_id: "r".into(),
            establishment: "0751234A".into(),
            subject: "u-1".into(),
        };
        assert_eq!(
            <Exported<Minimal> as user_data::Guest>::export(subject.clone()),
            Ok("{}".into())
        );
        assert_eq!(
            <Exported<Minimal> as user_data::Guest>::delete(subject),
            Ok(())
        );
        let widget = WidgetRequest {
            request_id: "r".into(),
            widget: "a-faire".into(),
            user: None,
            establishment: "0751234A".into(),
            language: "fr".into(),
        };
        let failure = <Exported<Minimal> as widgets::Guest>::render(widget).expect_err("404");
        assert_eq!(failure.status, 404);
        assert_eq!(
            <Exported<Minimal> as handler::Guest>::handle(request("GET", "/")),
            Ok(Response::Redirect("/".into()))
        );
    }
}
