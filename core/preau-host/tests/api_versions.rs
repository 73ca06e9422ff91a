//! The version rule of the plugin API: a component built against `preau:plugin@1.0.0` keeps
//! loading and answering on a host that offers a later minor version. The host here is built from
//! a throw-away `1.1.0` WIT (the 1.0 interfaces plus a new function and a new interface), and the
//! component is the `hello` test plugin, built against `plugin-sdk/wit`.

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
                }
                variant response { view(string), redirect(string) }
                record failure { status: u16, message: string }
            }

            interface handler {
                use http-types.{request, response, failure};
                handle: func(req: request) -> result<response, failure>;
            }

            interface log {
                enum level { debug, info, warn, error }
                log: func(level: level, message: string);
                /// New in 1.1 (throw-away).
                log-fields: func(level: level, message: string, fields: list<tuple<string, string>>);
            }

            /// New in 1.1 (throw-away).
            interface weather {
                today: func() -> string;
            }

            world plugin {
                import log;
                import weather;
                export handler;
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
        path: "/compat".into(),
        query: vec![],
        form: vec![],
        user: None,
        establishment: "0750652C".into(),
    };
    let answer = plugin
        .preau_plugin_handler()
        .call_handle(&mut store, &request)
        .await
        .expect("call");
    match answer {
        Ok(v11::exports::preau::plugin::handler::Response::View(view)) => {
            assert!(view.contains("Bonjour /compat"), "{view}");
        }
        other => panic!("unexpected answer: {other:?}"),
    }
}
