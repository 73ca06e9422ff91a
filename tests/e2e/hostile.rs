//! The hostile-plugin suite: real components built in the test run, each misbehaving in one way,
//! and the host stopping it while the others keep being served. Outcomes are asserted, not
//! timings.

use std::sync::Arc;
use std::time::Duration;

use preau_host::{CallError, CallLimits, HostConfig, Plugin, Request, Response, Runtime};

use crate::plugins;

fn request(path: &str, id: &str) -> Request {
    Request {
        request_id: id.to_owned(),
        method: "GET".into(),
        path: path.to_owned(),
        query: vec![],
        form: vec![],
        user: None,
        establishment: "0750652C".into(),
    }
}

async fn setup() -> (Arc<Runtime>, Arc<Plugin>, Arc<Plugin>) {
    let runtime = Runtime::new(&HostConfig {
        cache_dir: Some(plugins::cache_dir()),
        ..HostConfig::default()
    })
    .expect("runtime");
    let hostile = runtime
        .load(&plugins::component("hostile"))
        .await
        .expect("load hostile");
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
        Response::Redirect(r) => panic!("unexpected redirect to {r}"),
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
            hostile
                .handle(&runtime, request("/loop", "req-loop"), limits)
                .await
        })
    };
    // While it spins, the neighbour answers, again and again.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 0..5 {
        let answer = hello
            .handle(
                &runtime,
                request("/cahier", &format!("req-{n}")),
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
    let ok = hostile
        .handle(&runtime, request("/ok", "req-after"), CallLimits::default())
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
    let error = hostile
        .handle(&runtime, request("/bomb", "req-bomb"), limits)
        .await
        .expect_err("bomb");
    assert!(matches!(error, CallError::Memory { .. }), "{error:?}");
    assert!(error.to_string().contains("req-bomb"));
    assert!(
        hostile
            .handle(&runtime, request("/ok", "req-ok"), limits)
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_reported_with_the_request_id_and_leaks_nothing() {
    let (runtime, hostile, _) = setup().await;
    let error = hostile
        .handle(
            &runtime,
            request("/panic", "req-panic"),
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
    let error = hostile
        .handle(&runtime, request("/huge", "req-huge"), limits)
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
    let error = hostile
        .handle(&runtime, request("/malformed", "req-bad"), limits)
        .await
        .expect_err("malformed");
    assert!(
        matches!(error, CallError::ViewInvalid { .. }) && error.to_string().contains("JSON"),
        "{error}"
    );
    let error = hostile
        .handle(&runtime, request("/unknown-schema", "req-9"), limits)
        .await
        .expect_err("schema");
    assert!(
        matches!(error, CallError::ViewInvalid { .. }) && error.to_string().contains("view/9.0"),
        "{error}"
    );
    // A plugin's own failure keeps its status and message.
    let error = hostile
        .handle(&runtime, request("/nowhere", "req-404"), limits)
        .await
        .expect_err("404");
    assert!(
        matches!(error, CallError::Failure { status: 404, .. }),
        "{error:?}"
    );
}
