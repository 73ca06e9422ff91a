//! The version rule of the plugin API: a component built against `preau:plugin@1.0.0` keeps
//! loading and answering on a host that offers a later minor version. The host here is built from
//! a throw-away `1.1.0` WIT: the 1.0 interfaces the component imports and exports (`documents`
//! reduced to the type `notifications` uses), plus new functions and a new interface. The
//! component is the `hello` test plugin, built against `plugin-sdk/wit`; its route showing the
//! clock, a widget and a user-data export answer through the 1.1 definitions.

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod v11 {
    wasmtime::component::bindgen!({
        inline: r#"
            package preau:plugin@1.1.0;

            interface http-types {
                record request {
                    request-id: string,
                    method: string,
                    path: string,
                    query: list<tuple<string, string>>,
                    form: list<tuple<string, string>>,
                    user: option<string>,
                    establishment: string,
                    language: string,
                    uploads: list<upload>,
                }
                record upload { field: string, path: string, filename: string, content-type: string, size: u64 }
                enum raw-kind { calendar, atom, csv }
                record raw-answer { kind: raw-kind, body: string, filename: option<string> }
                variant response { view(string), redirect(string), raw(raw-answer), download(string) }
                record failure { status: u16, message: string }
            }

            interface handler {
                use http-types.{request, response, failure};
                handle: func(req: request) -> result<response, failure>;
            }

            interface widgets {
                use http-types.{failure};
                record widget-request {
                    request-id: string,
                    widget: string,
                    user: option<string>,
                    establishment: string,
                    language: string,
                }
                render: func(req: widget-request) -> result<string, failure>;
            }

            interface events {
                use http-types.{failure};
                record event {
                    request-id: string,
                    kind: string,
                    establishment: string,
                    subject: option<string>,
                    payload: string,
                }
                handle: func(ev: event) -> result<_, failure>;
            }

            interface user-data {
                use http-types.{failure};
                record subject-request { request-id: string, establishment: string, subject: string }
                %export: func(req: subject-request) -> result<string, failure>;
                delete: func(req: subject-request) -> result<_, failure>;
            }

            interface log {
                enum level { debug, info, warn, error }
                log: func(level: level, message: string);
                /// New in 1.1 (throw-away).
                log-fields: func(level: level, message: string, fields: list<tuple<string, string>>);
            }

            interface clock {
                now: func() -> string;
                today: func() -> string;
                /// New in 1.1 (throw-away).
                week-number: func() -> u8;
            }

            interface calendar {
                record school-year { label: string, start: string, end: string }
                record period { name: string, name-en: string, start: string, end: string }
                record holiday { name: string, name-en: string, start: string, end: string }
                variant error { invalid-date(string), not-found(string), unavailable(string) }
                school-year-of: func(day: option<string>) -> result<school-year, error>;
                periods: func(day: option<string>) -> result<list<period>, error>;
                holidays: func(day: option<string>) -> result<list<holiday>, error>;
                next-school-day: func(day: string) -> result<string, error>;
                is-school-day: func(day: string) -> result<bool, error>;
            }

            interface directory {
                enum profile { eleve, parent, enseignant, personnel, direction, invite }
                record person { id: string, display-name: string, profiles: list<profile> }
                enum group-kind { class, group }
                record class-group { id: string, kind: group-kind, code: string, name: string }
                record subject { code: string, name: string }
                record teaching { class-group: class-group, subject: subject }
                variant error { denied(string), not-found(string), unavailable(string) }
                current-user: func() -> result<person, error>;
                classes: func() -> result<list<class-group>, error>;
                groups: func() -> result<list<class-group>, error>;
                children: func() -> result<list<person>, error>;
                teachings: func() -> result<list<teaching>, error>;
                members: func(class-group: string) -> result<list<person>, error>;
            }

            interface rights {
                holds: func(permission: string) -> bool;
                may-write-to: func(user: string) -> bool;
            }

            /// Only its `refusal`, which `notifications` uses, matters to this test.
            interface documents {
                record refusal { field: string, message: string }
            }

            interface notifications {
                use documents.{refusal};
                record notification {
                    recipients: list<string>,
                    title: string,
                    body: string,
                    link: option<string>,
                }
                variant error {
                    invalid(refusal),
                    too-large(refusal),
                    denied(string),
                    unavailable(string),
                }
                notify: func(notification: notification) -> result<_, error>;
            }

            /// New in 1.1 (throw-away).
            interface weather {
                today: func() -> string;
            }

            world plugin {
                import log;
                import clock;
                import calendar;
                import directory;
                import rights;
                import notifications;
                import weather;
                export handler;
                export widgets;
                export events;
                export user-data;
            }
        "#,
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

struct Host {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl v11::preau::plugin::http_types::Host for Host {}

impl v11::preau::plugin::log::Host for Host {
    async fn log(&mut self, _level: v11::preau::plugin::log::Level, _message: String) {}
    async fn log_fields(
        &mut self,
        _level: v11::preau::plugin::log::Level,
        _message: String,
        _fields: Vec<(String, String)>,
    ) {
    }
}

impl v11::preau::plugin::clock::Host for Host {
    async fn now(&mut self) -> String {
        "2027-03-01T09:00:00+01:00".into()
    }
    async fn today(&mut self) -> String {
        "2027-03-01".into()
    }
    async fn week_number(&mut self) -> u8 {
        9
    }
}

mod v11_stubs {
    //! The imports the test does not exercise: every answer is "unavailable" or "no".
    use super::Host;
    use super::v11::preau::plugin::{calendar, directory, documents, notifications, rights};

    impl documents::Host for Host {}

    impl calendar::Host for Host {
        async fn school_year_of(
            &mut self,
            _: Option<String>,
        ) -> Result<calendar::SchoolYear, calendar::Error> {
            Err(calendar::Error::Unavailable(String::new()))
        }
        async fn periods(
            &mut self,
            _: Option<String>,
        ) -> Result<Vec<calendar::Period>, calendar::Error> {
            Err(calendar::Error::Unavailable(String::new()))
        }
        async fn holidays(
            &mut self,
            _: Option<String>,
        ) -> Result<Vec<calendar::Holiday>, calendar::Error> {
            Err(calendar::Error::Unavailable(String::new()))
        }
        async fn next_school_day(&mut self, _: String) -> Result<String, calendar::Error> {
            Err(calendar::Error::Unavailable(String::new()))
        }
        async fn is_school_day(&mut self, _: String) -> Result<bool, calendar::Error> {
            Err(calendar::Error::Unavailable(String::new()))
        }
    }

    impl directory::Host for Host {
        async fn current_user(&mut self) -> Result<directory::Person, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
        async fn classes(&mut self) -> Result<Vec<directory::ClassGroup>, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
        async fn groups(&mut self) -> Result<Vec<directory::ClassGroup>, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
        async fn children(&mut self) -> Result<Vec<directory::Person>, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
        async fn teachings(&mut self) -> Result<Vec<directory::Teaching>, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
        async fn members(&mut self, _: String) -> Result<Vec<directory::Person>, directory::Error> {
            Err(directory::Error::Unavailable(String::new()))
        }
    }

    impl rights::Host for Host {
        async fn holds(&mut self, _: String) -> bool {
            false
        }
        async fn may_write_to(&mut self, _: String) -> bool {
            false
        }
    }

    impl notifications::Host for Host {
        async fn notify(
            &mut self,
            _: notifications::Notification,
        ) -> Result<(), notifications::Error> {
            Err(notifications::Error::Unavailable(String::new()))
        }
    }
}

impl v11::preau::plugin::weather::Host for Host {
    async fn today(&mut self) -> String {
        "soleil".into()
    }
}

#[tokio::test]
async fn a_component_built_for_1_0_runs_on_a_1_1_host() {
    let component_bytes = preau_host::testing::test_plugin("hello");
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).expect("engine");
    let component =
        wasmtime::component::Component::new(&engine, &component_bytes).expect("component");
    let mut linker: Linker<Host> = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("wasi");
    v11::Plugin::add_to_linker::<_, HasSelf<Host>>(&mut linker, |h| h).expect("1.1 host");
    let mut store = Store::new(
        &engine,
        Host {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        },
    );
    let plugin = v11::Plugin::instantiate_async(&mut store, &component, &linker)
        .await
        .expect("a 1.0 component instantiates on the 1.1 host");
    let request = v11::exports::preau::plugin::handler::Request {
        request_id: "compat".into(),
        method: "GET".into(),
        path: "/api/clock".into(),
        query: vec![],
        form: vec![],
        uploads: vec![],
        user: None,
        establishment: "0750652C".into(),
        language: "fr".into(),
    };
    let answer = plugin
        .preau_plugin_handler()
        .call_handle(&mut store, &request)
        .await
        .expect("call");
    match answer {
        Ok(v11::exports::preau::plugin::handler::Response::View(view)) => {
            assert!(
                view.contains("maintenant 2027-03-01T09:00:00+01:00"),
                "the 1.1 clock answered: {view}"
            );
        }
        other => panic!("unexpected answer: {other:?}"),
    }
    let widget = v11::exports::preau::plugin::widgets::WidgetRequest {
        request_id: "compat-widget".into(),
        widget: "aujourd-hui".into(),
        user: Some("u-moi".into()),
        establishment: "0750652C".into(),
        language: "fr".into(),
    };
    let view = plugin
        .preau_plugin_widgets()
        .call_render(&mut store, &widget)
        .await
        .expect("call")
        .expect("the widget");
    assert!(view.contains("2027-03-01 pour u-moi"), "{view}");
    let subject = v11::exports::preau::plugin::user_data::SubjectRequest {
        request_id: "compat-export".into(),
        establishment: "0750652C".into(),
        subject: "u-leo".into(),
    };
    let export = plugin
        .preau_plugin_user_data()
        .call_export(&mut store, &subject)
        .await
        .expect("call")
        .expect("the export");
    assert!(export.contains("u-leo"), "{export}");
}
