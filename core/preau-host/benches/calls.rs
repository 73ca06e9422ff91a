//! The plugin runtime's costs, on the `trivial` test plugin (a fixed view, nothing imported): one
//! call end to end (admission, new Store, instantiate, call, view check, drop) with the pooling
//! allocator and on demand, and with the pool when the instance is made ahead of the call in
//! the background (`HostConfig::warm_instances`); loading a component by compiling it versus
//! from the precompiled cache; calls per second with two threads and the resident memory of a
//! live instance (both printed). For comparison, the same call on `hello`, which imports five `preau:plugin`
//! interfaces. The services are `Unavailable` (the route asks none).
//! Run: `cargo bench -p preau-host --bench calls`.

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use preau_host::{
    CallContext, CallLimits, Grants, HostConfig, Plugin, RouteRequest, Runtime, Services,
    Unavailable,
};

/// One call of the `/` route, as the core would make it.
async fn call(
    plugin: &Plugin,
    runtime: &Runtime,
    services: &Arc<dyn Services>,
    grants: &Arc<Grants>,
) {
    let ctx = CallContext::new("essai:hello", "0750652C", None, "bench");
    let route = RouteRequest {
        method: "GET".into(),
        path: "/".into(),
        ..RouteRequest::default()
    };
    plugin
        .handle(
            runtime,
            ctx,
            services.clone(),
            grants.clone(),
            CallLimits::default(),
            route,
        )
        .await
        .expect("call");
}

fn calls(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let component = preau_host::testing::test_plugin("trivial");
    let cache = tempfile::tempdir().expect("cache");
    let services: Arc<dyn Services> = Arc::new(Unavailable);
    let grants = Arc::new(Grants::default());
    let mut group = c.benchmark_group("host");
    for (name, pooling, warm_instances) in [
        ("call_pooling", true, 0),
        ("call_pooling_made_ahead", true, 16),
        ("call_on_demand", false, 0),
    ] {
        let runtime = Runtime::new(&HostConfig {
            cache_dir: Some(cache.path().to_path_buf()),
            pooling,
            warm_instances,
            ..HostConfig::default()
        })
        .expect("runtime");
        assert_eq!(
            runtime.is_pooling(),
            pooling,
            "the pooling allocator is available here"
        );
        let plugin = rt.block_on(runtime.load(&component)).expect("load");
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { call(&plugin, &runtime, &services, &grants).await })
        });
        if pooling {
            // Calls per second with two threads, 20,000 calls.
            let (runtime, plugin) = (Arc::new(runtime), Arc::new(plugin));
            let started = Instant::now();
            rt.block_on(async {
                let tasks: Vec<_> = (0..2)
                    .map(|_| {
                        let (runtime, plugin) = (runtime.clone(), plugin.clone());
                        let (services, grants) = (services.clone(), grants.clone());
                        tokio::spawn(async move {
                            for _ in 0..10_000 {
                                call(&plugin, &runtime, &services, &grants).await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            });
            let rate = 20_000.0 / started.elapsed().as_secs_f64();
            eprintln!("host/{name}: {rate:.0} calls per second, 2 threads");
        }
    }
    {
        let runtime = Runtime::new(&HostConfig {
            warm_instances: 0,
            ..HostConfig::default()
        })
        .expect("runtime");
        let hello = preau_host::testing::test_plugin("hello");
        let plugin = rt.block_on(runtime.load(&hello)).expect("load");
        group.bench_function("call_pooling_hello", |b| {
            b.to_async(&rt)
                .iter(|| async { call(&plugin, &runtime, &services, &grants).await })
        });
    }
    // Memory per live instance: the resident set before and after holding 50 idle instances.
    {
        let runtime = Runtime::new(&HostConfig {
            pooling: true,
            ..HostConfig::default()
        })
        .expect("runtime");
        let plugin = rt.block_on(runtime.load(&component)).expect("load");
        let rss = || -> u64 {
            let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
            statm
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(0)
                * 4096
        };
        // Fresh pool slots: what instantiation itself makes resident.
        let before = rss();
        let live: Vec<_> = (0..50)
            .map(|_| {
                rt.block_on(plugin.instantiate_idle(&runtime, 64 << 20))
                    .expect("instance")
            })
            .collect();
        let after = rss();
        eprintln!(
            "host/resident_bytes_per_live_instance (pooling, 50 held): {}",
            after.saturating_sub(before) / live.len() as u64
        );
        drop(live);
    }
    let runtime = Runtime::new(&HostConfig::default()).expect("runtime");
    group.sample_size(10);
    group.bench_function("load_compile", |b| {
        b.to_async(&rt)
            .iter(|| async { runtime.load(&component).await.expect("load") })
    });
    let cached = Runtime::new(&HostConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..HostConfig::default()
    })
    .expect("runtime");
    group.sample_size(50);
    group.bench_function("load_cached", |b| {
        b.to_async(&rt)
            .iter(|| async { cached.load(&component).await.expect("load") })
    });
    group.finish();
}

criterion_group!(benches, calls);
criterion_main!(benches);
