//! The cache of precompiled components: several loads of one component racing into an empty
//! cache all succeed (each writes its own temporary file before the rename), and an artefact that
//! was altered on disk is compiled again rather than loaded.

use preau_host::{HostConfig, Runtime};

use crate::plugins;

fn runtime(dir: &std::path::Path) -> Runtime {
    Runtime::new(&HostConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..HostConfig::default()
    })
    .expect("runtime")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_into_an_empty_cache_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = plugins::component("hello");
    let runtime = std::sync::Arc::new(runtime(dir.path()));
    let loads: Vec<_> = (0..8)
        .map(|_| {
            let (runtime, bytes) = (runtime.clone(), bytes.clone());
            tokio::spawn(async move { runtime.load(&bytes).await.map(|_| ()) })
        })
        .collect();
    for load in loads {
        load.await
            .expect("join")
            .expect("every racing load succeeds");
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read cache")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        2,
        "one artefact and its checksum, no leftovers: {names:?}"
    );
    assert!(names[0].ends_with(".cwasm") && names[1].ends_with(".sha256"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_artefact_is_compiled_again_not_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = plugins::component("hello");
    runtime(dir.path()).load(&bytes).await.expect("first load");
    let artefact = std::fs::read_dir(dir.path())
        .expect("read cache")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .expect("artefact written");
    let mut altered = std::fs::read(&artefact).expect("read artefact");
    let middle = altered.len() / 2;
    altered[middle] ^= 0xff;
    std::fs::write(&artefact, &altered).expect("alter artefact");

    runtime(dir.path())
        .load(&bytes)
        .await
        .expect("the altered artefact is replaced by a fresh compilation");
    assert_ne!(
        std::fs::read(&artefact).expect("read artefact"),
        altered,
        "the artefact was rewritten"
    );
}
