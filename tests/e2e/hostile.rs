//! The plugin API on real components built in the test run. The hostile-plugin suite: each
//! route misbehaves in one way (a loop, a memory bomb, a panic, a bad view, a host not granted,
//! caps passed, an upload left unfinished, services asked or a stream opened at instantiation)
//! and the host stops it while the others keep being served; then the well-behaved `hello`
//! plugin, whose views show what the core's services (`FixedServices`) answered, and its widget,
//! event and user-data exports. Outcomes are asserted, not timings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use preau_host::{
    CallContext, CallError, CallLimits, Event, EventKind, HostConfig, Plugin, Response,
    RouteRequest, Runtime, Services, Unavailable,
};

use crate::plugins::{self, FixedServices};

/// A call to `path` with no services (they all answer "unavailable").
async fn call(
    plugin: &Plugin,
    runtime: &Runtime,
    path: &str,
    id: &str,
    limits: CallLimits,
) -> Result<Response, CallError> {
    call_with(plugin, runtime, Arc::new(Unavailable), path, id, limits).await
}

fn context(plugin: &str, id: &str) -> CallContext {
    CallContext::new(plugin, "0750652C", Some("u-moi".into()), id)
}

async fn call_with(
    plugin: &Plugin,
    runtime: &Runtime,
    services: Arc<dyn Services>,
    path: &str,
    id: &str,
    limits: CallLimits,
) -> Result<Response, CallError> {
    let route = RouteRequest {
        method: "GET".into(),
        path: path.to_owned(),
        ..RouteRequest::default()
    };
    plugin
        .handle(
            runtime,
            context("essai:plugin", id),
            services,
            plugins::grants(),
            limits,
            route,
        )
        .await
}

/// A runtime set up as `config` says, on the shared component cache, and the `hostile` plugin
/// loaded in it.
async fn runtime_with(config: HostConfig) -> (Runtime, Plugin) {
    let runtime = Runtime::new(&HostConfig {
        cache_dir: Some(plugins::cache_dir()),
        ..config
    })
    .expect("runtime");
    let hostile = runtime
        .load(&plugins::component("hostile"))
        .await
        .expect("load hostile");
    (runtime, hostile)
}

async fn setup() -> (Arc<Runtime>, Arc<Plugin>, Arc<Plugin>) {
    let (runtime, hostile) = runtime_with(HostConfig::default()).await;
    let hello = runtime
        .load(&plugins::component("hello"))
        .await
        .expect("load hello");
    (Arc::new(runtime), Arc::new(hostile), Arc::new(hello))
}

fn title(response: Response) -> String {
    match response {
        Response::View(v) => serde_json::from_str::<serde_json::Value>(&v).expect("json")["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        other => panic!("unexpected answer {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_loop_ends_at_its_deadline_while_another_plugin_keeps_answering() {
    let (runtime, hostile, hello) = setup().await;
    let looping = {
        let (runtime, hostile) = (runtime.clone(), hostile.clone());
        tokio::spawn(async move {
            let limits = CallLimits {
                deadline: Duration::from_millis(1500),
                ..CallLimits::default()
            };
            call(&hostile, &runtime, "/loop", "req-loop", limits).await
        })
    };
    // While it spins, the neighbour answers, again and again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 0..5 {
        let answer = call(
            &hello,
            &runtime,
            "/cahier",
            &format!("req-{n}"),
            CallLimits::default(),
        )
        .await;
        assert_eq!(
            title(answer.expect("the neighbour answers")),
            "Bonjour /cahier"
        );
        assert!(
            !looping.is_finished(),
            "the loop is still running while the neighbour is served"
        );
    }
    let error = looping
        .await
        .expect("task")
        .expect_err("the loop is stopped");
    assert!(matches!(error, CallError::Deadline { .. }), "{error:?}");
    assert_eq!(error.request_id(), "req-loop");
    // And the hostile plugin itself serves its next request normally.
    let ok = call(
        &hostile,
        &runtime,
        "/ok",
        "req-after",
        CallLimits::default(),
    )
    .await;
    assert_eq!(title(ok.expect("fresh instance")), "Bonjour");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_bomb_traps_at_the_cap() {
    let (runtime, hostile, _) = setup().await;
    let limits = CallLimits {
        memory_bytes: 16 << 20,
        ..CallLimits::default()
    };
    let error = call(&hostile, &runtime, "/bomb", "req-bomb", limits)
        .await
        .expect_err("bomb");
    assert!(matches!(error, CallError::Memory { .. }), "{error:?}");
    assert!(error.to_string().contains("req-bomb"));
    assert!(
        call(&hostile, &runtime, "/ok", "req-ok", limits)
            .await
            .is_ok()
    );
}

/// The pooled memory a call used is reset before the next one, however it was used: stack,
/// heap, and memory grown beyond what the host keeps resident.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_never_reads_what_an_earlier_call_left_in_memory() {
    let (runtime, hostile, _) = setup().await;
    assert!(runtime.is_pooling(), "the pool is what this test checks");
    for n in 0..5 {
        let answer = call(
            &hostile,
            &runtime,
            "/memory-left",
            &format!("req-memory-{n}"),
            CallLimits::default(),
        )
        .await
        .expect("answer");
        let seen = title(answer);
        let (before, after) = seen.split_once(' ').expect("two counts");
        assert_eq!(
            before, "0",
            "call {n} read an earlier call's memory ({seen})"
        );
        // The scan does find markers: the call's own, once it left them.
        assert!(after.parse::<usize>().expect("count") > 100_000, "{seen}");
    }
}

/// Waits until `plugin`'s next instance, made in the background, is ready (or is not).
async fn wait_ready(plugin: &Plugin, ready: bool) {
    let since = Instant::now();
    while plugin.has_ready_instance() != ready {
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "the ready instance never {}",
            if ready { "came" } else { "went" }
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The instance a call runs in is made before it, in the background, with every service
/// refused (`warm.rs`); the call that takes it puts in its own context, services and limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_made_ahead_serves_the_call_that_takes_it_with_that_call_s_context() {
    let (runtime, hostile, hello) = setup().await;
    assert!(
        !hello.has_ready_instance(),
        "nothing made before a first call"
    );
    let services = FixedServices::new();
    let directory = |user: &'static str, id: &'static str| {
        let (runtime, hello, services) = (runtime.clone(), hello.clone(), services.clone());
        async move {
            let answer = hello
                .handle(
                    &runtime,
                    CallContext::new("essai:plugin", "0750652C", Some(user.into()), id),
                    services,
                    plugins::grants(),
                    CallLimits::default(),
                    RouteRequest {
                        method: "GET".into(),
                        path: "/api/directory".into(),
                        ..RouteRequest::default()
                    },
                )
                .await;
            view_text(answer)
        }
    };
    let first = directory("u-moi", "req-first").await;
    assert!(first.contains("moi : u-moi Camille Martin"), "{first}");
    wait_ready(&hello, true).await;
    // Making it asked the core nothing: the only contexts it saw are the first call's.
    let seen = |services: &FixedServices| {
        services
            .record
            .lock()
            .expect("record")
            .contexts
            .iter()
            .map(|(_, _, user, id)| (user.clone().unwrap_or_default(), id.clone()))
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        seen(&services),
        [("u-moi".to_owned(), "req-first".to_owned())].into(),
        "no service was reached while the instance was made"
    );
    let second = directory("u-autre", "req-second").await;
    assert!(second.contains("moi : u-autre Camille Martin"), "{second}");
    assert!(
        seen(&services).contains(&("u-autre".to_owned(), "req-second".to_owned())),
        "the ready instance called the core with the second call's context"
    );

    // A ready instance is made for the memory of the call before; a call with a smaller cap
    // does not take it, and runs within its own cap.
    let small = CallLimits {
        memory_bytes: 16 << 20,
        ..CallLimits::default()
    };
    assert_eq!(
        outcome(
            call(
                &hostile,
                &runtime,
                "/hold-32",
                "req-big",
                CallLimits::default()
            )
            .await
        ),
        "32 Mio"
    );
    wait_ready(&hostile, true).await;
    let error = call(&hostile, &runtime, "/hold-32", "req-small", small)
        .await
        .expect_err("32 MiB do not fit in 16");
    assert!(matches!(error, CallError::Memory { .. }), "{error:?}");
}

/// A ready instance nobody takes is dropped after `warm_idle`; with no places for ready
/// instances, none is made and every call makes its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_instances_are_dropped_when_idle_and_none_are_made_without_places() {
    let (runtime, hostile) = runtime_with(HostConfig {
        warm_idle: Duration::from_millis(200),
        ..HostConfig::default()
    })
    .await;
    assert_eq!(
        outcome(call(&hostile, &runtime, "/ok", "req-idle", CallLimits::default()).await),
        "Bonjour"
    );
    wait_ready(&hostile, true).await;
    wait_ready(&hostile, false).await;

    let (cold, hostile) = runtime_with(HostConfig {
        warm_instances: 0,
        ..HostConfig::default()
    })
    .await;
    for n in 0..3 {
        assert_eq!(
            outcome(
                call(
                    &hostile,
                    &cold,
                    "/ok",
                    &format!("req-cold-{n}"),
                    CallLimits::default()
                )
                .await
            ),
            "Bonjour"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!hostile.has_ready_instance());
    }
}

/// Code a component runs while it is instantiated (`tests/plugins/eager`'s `_initialize`) reaches
/// no service, whether its instance is made ahead of the call or by the call itself: what the
/// call then asks, it asks with the call's context. An upload opened at instantiation would be
/// finished by a call and stored under that caller's name: such an instance is refused, and
/// nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_run_at_instantiation_reaches_no_service_and_keeps_no_stream() {
    for warm_instances in [16, 0] {
        let runtime = Runtime::new(&HostConfig {
            cache_dir: Some(plugins::cache_dir()),
            warm_instances,
            ..HostConfig::default()
        })
        .expect("runtime");
        let eager = runtime
            .load(&plugins::component("eager"))
            .await
            .expect("load eager");
        let services = FixedServices::new();
        let mut ids = std::collections::BTreeSet::new();
        for n in 0..3 {
            if warm_instances > 0 && n > 0 {
                wait_ready(&eager, true).await;
            }
            let (start, now) = (format!("req-start-{n}"), format!("req-now-{n}"));
            let seen_at_start = title(
                call_with(
                    &eager,
                    &runtime,
                    services.clone(),
                    "/start",
                    &start,
                    CallLimits::default(),
                )
                .await
                .expect("/start"),
            );
            // At instantiation there is no user, and no service to ask.
            assert!(
                seen_at_start.starts_with("refusé : ") && !seen_at_start.contains("u-moi"),
                "warm {warm_instances}, call {n}: {seen_at_start}"
            );
            let seen_now = title(
                call_with(
                    &eager,
                    &runtime,
                    services.clone(),
                    "/now",
                    &now,
                    CallLimits::default(),
                )
                .await
                .expect("/now"),
            );
            assert_eq!(seen_now, "vu : u-moi", "warm {warm_instances}, call {n}");
            ids.insert(now);
        }
        let asked: std::collections::BTreeSet<String> = services
            .record
            .lock()
            .expect("record")
            .contexts
            .iter()
            .map(|(_, _, _, id)| id.clone())
            .collect();
        assert_eq!(asked, ids, "only the calls' own code reached the services");
    }

    let (runtime, _) = runtime_with(HostConfig::default()).await;
    let upload = runtime
        .load(&plugins::component("eager_upload"))
        .await
        .expect("load eager_upload");
    let services = FixedServices::new();
    for n in 0..2 {
        let error = call_with(
            &upload,
            &runtime,
            services.clone(),
            "/finish",
            &format!("req-finish-{n}"),
            CallLimits::default(),
        )
        .await
        .expect_err("an instance holding a stream is refused");
        assert!(
            matches!(&error, CallError::Trap { detail, .. } if detail.contains("opened a stream while starting")),
            "{error:?}"
        );
        assert!(!upload.has_ready_instance());
    }
    assert!(
        services.record.lock().expect("record").files_put.is_empty(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_the_request_id_and_leaks_nothing() {
    let (runtime, hostile, _) = setup().await;
    let error = call(
        &hostile,
        &runtime,
        "/panic",
        "req-panic",
        CallLimits::default(),
    )
    .await
    .expect_err("panic");
    assert!(matches!(error, CallError::Trap { .. }), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("req-panic"), "{shown}");
    assert!(
        !shown.contains("7c1e"),
        "the plugin's panic message does not reach the error: {shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_malformed_views_are_refused_by_name() {
    let (runtime, hostile, _) = setup().await;
    let limits = CallLimits::default();
    let error = call(&hostile, &runtime, "/huge", "req-huge", limits)
        .await
        .expect_err("huge");
    assert!(
        matches!(
            error,
            CallError::ViewTooLarge {
                limit: 1_048_576,
                ..
            }
        ),
        "{error:?}"
    );
    let error = call(&hostile, &runtime, "/malformed", "req-bad", limits)
        .await
        .expect_err("malformed");
    assert!(
        matches!(error, CallError::ViewInvalid { .. }) && error.to_string().contains("JSON"),
        "{error}"
    );
    let error = call(&hostile, &runtime, "/unknown-schema", "req-9", limits)
        .await
        .expect_err("schema");
    assert!(
        matches!(error, CallError::ViewInvalid { .. }) && error.to_string().contains("view/9.0"),
        "{error}"
    );
    // A plugin's own failure keeps its status and message.
    let error = call(&hostile, &runtime, "/nowhere", "req-404", limits)
        .await
        .expect_err("404");
    assert!(
        matches!(error, CallError::Failure { status: 404, .. }),
        "{error:?}"
    );
}

/// The title of a view, for routes that report what happened in it.
fn outcome(answer: Result<Response, CallError>) -> String {
    title(answer.expect("a view"))
}

/// The whole view as text, for routes that list what the services answered.
fn view_text(answer: Result<Response, CallError>) -> String {
    match answer.expect("a view") {
        Response::View(v) => {
            let value: serde_json::Value = serde_json::from_str(&v).expect("json");
            value["body"]
                .as_array()
                .map(|nodes| {
                    nodes
                        .iter()
                        .filter_map(|n| n["text"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default()
        }
        other => panic!("unexpected answer {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_host_not_granted_is_denied() {
    let (runtime, hostile, _) = setup().await;
    let services = FixedServices::new();
    let limits = CallLimits::default();
    let denied = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-denied",
            "req-evil",
            limits,
        )
        .await,
    );
    assert!(
        denied.contains("HostNotGranted") && denied.contains("\"evil.example.net\""),
        "{denied}"
    );
    assert!(
        services.fetched().is_empty(),
        "the core's fetch was never called for the denied host"
    );
    let granted = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-granted",
            "req-api",
            limits,
        )
        .await,
    );
    assert_eq!(granted, r#"200 {"manuels":3}"#);
    assert_eq!(
        services.fetched(),
        ["https://api.example.org/manuels?uai=0750652C"],
        "the granted host was fetched, once"
    );
    let record = services.record.lock().expect("record");
    assert_eq!(
        record.contexts.last(),
        Some(&(
            "essai:plugin".to_owned(),
            "0750652C".to_owned(),
            Some("u-moi".to_owned()),
            "req-api".to_owned()
        )),
        "the core got the call's context"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_refuse_too_many_recipients_a_too_large_request_body_and_too_large_responses() {
    let (runtime, hostile, _) = setup().await;
    let services = FixedServices::new();
    let limits = CallLimits::default();
    let many = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/notify-many",
            "req-spam",
            limits,
        )
        .await,
    );
    assert!(
        many.contains("TooLarge") && many.contains("\"recipients\"") && many.contains("1000"),
        "{many}"
    );
    let big = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-big-body",
            "req-big",
            limits,
        )
        .await,
    );
    assert!(big.contains("RequestTooLarge(1048576)"), "{big}");
    {
        let record = services.record.lock().expect("record");
        assert!(record.notified.is_empty(), "nothing was notified");
        assert!(record.fetched.is_empty(), "nothing was fetched");
    }

    // What the remote server answers is capped too: the body, the headers, the wait.
    let limits = CallLimits {
        outbound_timeout: Duration::from_millis(200),
        ..CallLimits::default()
    };
    let huge = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-huge-response",
            "req-gros",
            limits,
        )
        .await,
    );
    assert!(huge.ends_with("ResponseTooLarge(4194304)"), "{huge}");
    let headers = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-many-headers",
            "req-entetes",
            limits,
        )
        .await,
    );
    assert!(headers.ends_with("TooManyHeaders(100)"), "{headers}");
    let started = Instant::now();
    let slow = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/fetch-slow",
            "req-lent",
            limits,
        )
        .await,
    );
    assert!(slow.ends_with("Timeout"), "{slow}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_dropped_without_finish_creates_no_file() {
    let (runtime, hostile, _) = setup().await;
    let services = FixedServices::new();
    let limits = CallLimits::default();
    let abandoned = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/upload-abandoned",
            "req-drop",
            limits,
        )
        .await,
    );
    assert_eq!(abandoned, "abandoned after Ok(())");
    assert!(services.record.lock().expect("record").files_put.is_empty());
    let finished = outcome(
        call_with(
            &hostile,
            &runtime,
            services.clone(),
            "/upload-finished",
            "req-put",
            limits,
        )
        .await,
    );
    assert_eq!(finished, r#"Ok("fini.txt")"#);
    assert_eq!(
        services.record.lock().expect("record").files_put,
        ["fini.txt"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_without_the_grant_is_denied() {
    let (runtime, hostile, _) = setup().await;
    let answer = outcome(call(&hostile, &runtime, "/sso", "req-sso", CallLimits::default()).await);
    assert!(
        answer.contains("Denied") && answer.contains("sso"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_looping_widget_ends_at_the_widget_deadline_and_other_exports_are_checked() {
    let (runtime, hostile, _) = setup().await;
    let limits = CallLimits {
        widget_deadline: Duration::from_millis(300),
        deadline: Duration::from_secs(10),
        ..CallLimits::default()
    };
    let started = Instant::now();
    let error = hostile
        .widget(
            &runtime,
            context("essai:hostile", "req-widget"),
            Arc::new(Unavailable),
            plugins::grants(),
            limits,
            "boucle",
        )
        .await
        .expect_err("the widget loops");
    assert!(matches!(error, CallError::Deadline { .. }), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the widget's deadline applies, not the call's"
    );
    let event = Event {
        kind: EventKind::AccountCreated,
        subject: Some("u-new".into()),
        payload: serde_json::json!({"profiles": ["eleve"]}),
    };
    let error = hostile
        .event(
            &runtime,
            context("essai:hostile", "req-event"),
            Arc::new(Unavailable),
            plugins::grants(),
            limits,
            &event,
        )
        .await
        .expect_err("the event handler panics");
    assert!(matches!(error, CallError::Trap { .. }), "{error:?}");
    assert!(!format!("{error:?}").contains("7c1e"));
    let error = hostile
        .export_user_data(
            &runtime,
            context("essai:hostile", "req-export"),
            Arc::new(Unavailable),
            plugins::grants(),
            limits,
            "u-moi",
        )
        .await
        .expect_err("not JSON");
    assert!(
        matches!(error, CallError::ExportInvalid { .. })
            && error.to_string().contains("req-export"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_shows_what_the_services_answered() {
    let (runtime, _, hello) = setup().await;
    let services = FixedServices::new();
    let limits = CallLimits::default();
    let clock = view_text(
        call_with(
            &hello,
            &runtime,
            services.clone(),
            "/api/clock",
            "req-clock",
            limits,
        )
        .await,
    );
    assert_eq!(
        clock,
        "maintenant 2026-11-30T08:15:00+01:00\naujourd'hui 2026-11-30"
    );

    let calendar = view_text(
        call_with(
            &hello,
            &runtime,
            services.clone(),
            "/api/calendar",
            "req-cal",
            limits,
        )
        .await,
    );
    for expected in [
        "année 2026-2027 du 2026-08-01 au 2027-07-31",
        "période 1er trimestre / Term 1 : 2026-09-01 → 2026-11-30",
        "vacances Vacances de Noël : 2026-12-19 → 2027-01-03",
        r#"après le 2026-11-27 : Ok("2026-11-30")"#,
        "le 2026-11-28 : Ok(false)",
    ] {
        assert!(calendar.contains(expected), "{expected} in\n{calendar}");
    }
    let invalid = calendar
        .lines()
        .find(|l| l.starts_with("date invalide"))
        .expect("the invalid date line");
    assert!(
        invalid.contains("InvalidDate") && invalid.contains("2026-02-30"),
        "{invalid}"
    );

    let directory = view_text(
        call_with(
            &hello,
            &runtime,
            services.clone(),
            "/api/directory",
            "req-dir",
            limits,
        )
        .await,
    );
    for expected in [
        "moi : u-moi Camille Martin",
        "Enseignant",
        "classe 4e B (4B)",
        "groupe Latin 4e",
        "enfant Léo Martin",
        "enseigne Mathématiques en 4e B",
        "membre Léo Martin",
        "membre Inès Diallo",
    ] {
        assert!(directory.contains(expected), "{expected} in\n{directory}");
    }
    let unknown = directory
        .lines()
        .find(|l| l.starts_with("inconnu"))
        .expect("the unknown class line");
    assert!(
        unknown.contains("NotFound") && unknown.contains("nulle-part"),
        "{unknown}"
    );
    assert!(
        services.record.lock().expect("record").contexts.contains(&(
            "essai:plugin".to_owned(),
            "0750652C".to_owned(),
            Some("u-moi".to_owned()),
            "req-dir".to_owned()
        )),
        "the directory got the call's context"
    );

    let rights = view_text(
        call_with(
            &hello,
            &runtime,
            services.clone(),
            "/api/rights",
            "req-rights",
            limits,
        )
        .await,
    );
    assert_eq!(rights, "saisir true\nsupprimer false\nécrire true");
    // Without a signed-in user, nothing is granted and nobody is the current user.
    let anonymous = |path: &str, id: &str| {
        let route = RouteRequest {
            method: "GET".into(),
            path: path.into(),
            ..RouteRequest::default()
        };
        hello.handle(
            &runtime,
            CallContext::new("essai:plugin", "0750652C", None, id),
            services.clone(),
            plugins::grants(),
            limits,
            route,
        )
    };
    assert_eq!(
        view_text(anonymous("/api/rights", "req-anon").await),
        "saisir false\nsupprimer false\nécrire false"
    );
    let me = view_text(anonymous("/api/directory", "req-anon-dir").await);
    assert!(me.starts_with("moi : ") && me.contains("NotFound"), "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_renders_a_widget_handles_events_and_exports_user_data() {
    let (runtime, _, hello) = setup().await;
    let services = FixedServices::new();
    // Generous deadlines: this test checks answers, not speed (a debug host on a busy machine).
    let limits = CallLimits {
        widget_deadline: Duration::from_secs(2),
        ..CallLimits::default()
    };
    let widget = |name: &'static str| {
        hello.widget(
            &runtime,
            context("essai:hello", "req-widget"),
            services.clone(),
            plugins::grants(),
            limits,
            name,
        )
    };
    let view = widget("aujourd-hui").await.expect("the widget");
    assert!(view.contains("2026-11-30 pour u-moi"), "{view}");
    let error = widget("inconnu").await.expect_err("unknown widget");
    assert!(
        matches!(error, CallError::Failure { status: 404, .. }),
        "{error:?}"
    );

    let event = |kind: EventKind, subject: Option<&str>| Event {
        kind,
        subject: subject.map(str::to_owned),
        payload: serde_json::json!({"profiles": ["eleve"]}),
    };
    for (kind, subject) in [
        (EventKind::AccountCreated, Some("u-new")),
        (EventKind::PluginEnabled, None),
        (EventKind::SchoolYearStarted, None),
    ] {
        hello
            .event(
                &runtime,
                CallContext::new("essai:hello", "0750652C", None, "evt-1"),
                services.clone(),
                plugins::grants(),
                limits,
                &event(kind, subject),
            )
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    {
        let record = services.record.lock().expect("record");
        assert_eq!(
            record.notified.len(),
            1,
            "one welcome: {:?}",
            record.notified
        );
        let (recipients, title, body) = &record.notified[0];
        assert_eq!(recipients, &["u-new"]);
        assert_eq!(title, "Bienvenue");
        assert_eq!(body, r#"{"profiles":["eleve"]}"#);
    }

    let subject_call = |id: &str| CallContext::new("essai:hello", "0750652C", None, id);
    let exported = hello
        .export_user_data(
            &runtime,
            subject_call("rgpd-1"),
            services.clone(),
            plugins::grants(),
            limits,
            "u-leo",
        )
        .await
        .expect("export");
    assert_eq!(
        exported,
        serde_json::json!({
            "subject": "u-leo",
            "establishment": "0750652C",
            "préférences": {"couleur": "bleu"}
        })
    );
    hello
        .delete_user_data(
            &runtime,
            subject_call("rgpd-2"),
            services.clone(),
            plugins::grants(),
            limits,
            "u-leo",
        )
        .await
        .expect("delete");
    let error = hello
        .delete_user_data(
            &runtime,
            subject_call("rgpd-3"),
            services.clone(),
            plugins::grants(),
            limits,
            "refuse",
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(error, CallError::Failure { status: 409, .. }) && error.request_id() == "rgpd-3",
        "{error:?}"
    );
}
