//! Compile once, then load the precompiled artefact: `{cache_dir}/{sha256}-{engine}.cwasm`, where
//! `engine` is the engine's compatibility hash (wasmtime version and every setting that changes
//! the code). A `.sha256` file beside each artefact is checked before it is deserialized, so a
//! truncated or altered file is recompiled, never loaded.

use std::hash::{Hash, Hasher};
use std::path::Path;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::HostError;

pub struct Compiled {
    pub component: Component,
    pub sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The engine's compatibility fingerprint (deterministic: SipHash with fixed keys).
fn engine_fingerprint(engine: &Engine) -> String {
    #[expect(
        deprecated,
        reason = "SipHasher's fixed keys are what makes the name deterministic"
    )]
    let mut hasher = std::hash::SipHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

pub async fn load_or_compile(
    engine: &Engine,
    dir: Option<&Path>,
    bytes: &[u8],
) -> Result<Compiled, HostError> {
    let sha256 = sha256_hex(bytes);
    let engine = engine.clone();
    let bytes = bytes.to_vec();
    let dir = dir.map(Path::to_path_buf);
    let hash = sha256.clone();
    let component = tokio::task::spawn_blocking(move || -> Result<Component, HostError> {
        let Some(dir) = dir else {
            return Component::new(&engine, &bytes)
                .map_err(|e| HostError::Component(format!("{e:#}")));
        };
        let name = format!("{hash}-{}", engine_fingerprint(&engine));
        let artefact = dir.join(format!("{name}.cwasm"));
        let check = dir.join(format!("{name}.sha256"));
        if let (Ok(precompiled), Ok(expected)) =
            (std::fs::read(&artefact), std::fs::read_to_string(&check))
            && sha256_hex(&precompiled) == expected.trim()
            && let Ok(component) = deserialize(&engine, &precompiled)
        {
            return Ok(component);
        }
        let precompiled = engine
            .precompile_component(&bytes)
            .map_err(|e| HostError::Component(format!("{e:#}")))?;
        std::fs::create_dir_all(&dir)?;
        // Written aside under a unique name, then renamed: readers see a whole file or none,
        // and two compilations of the same component (threads or processes) never share a
        // temporary file.
        write_atomically(&dir, &artefact, &precompiled)?;
        write_atomically(&dir, &check, sha256_hex(&precompiled).as_bytes())?;
        deserialize(&engine, &precompiled)
    })
    .await
    .map_err(|e| HostError::Engine(e.to_string()))??;
    Ok(Compiled { component, sha256 })
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Deserializes a precompiled component that this process (or another node with the same
/// engine) wrote into the cache and whose SHA-256 was just checked.
fn deserialize(engine: &Engine, precompiled: &[u8]) -> Result<Component, HostError> {
    // SAFETY: wasmtime requires the bytes to come from `Engine::precompile_component` of a
    // compatible engine. They do: the file is named after this engine's compatibility hash, it
    // lives in the operator's data directory (not reachable by plugins or users), and its
    // SHA-256 matched the one written with it. wasmtime also checks the header and version.
    #[allow(
        unsafe_code,
        reason = "the one audited deserialization of our own precompiled artefacts"
    )]
    let component = unsafe { Component::deserialize(engine, precompiled) };
    component.map_err(|e| HostError::Component(format!("{e:#}")))
}
