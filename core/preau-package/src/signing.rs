//! Publisher keys and detached signatures.
//!
//! A signature covers a canonical *statement* about one package: its id, version, sha256 and size,
//! its host API range and the digest of the capabilities and permissions it asks for (so an
//! establishment's approval and the publisher's signature name the same thing). The statement is
//! canonical JSON (sorted keys, no spaces); `PKG.preau.sig` holds it with the signer's public key
//! and the ed25519 signature. Keys are text: `ed25519:<base64>` (public) and
//! `preau-ed25519-secret:<base64>` (secret, written 0600 by `preau plugin keygen`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::archive::Package;
use crate::{PackageError, PackageResult};

/// The format name every statement carries.
pub const STATEMENT_FORMAT: &str = "preau-package-signature/1";
const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "preau-ed25519-secret:";

/// What a publisher signs about a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    pub format: String,
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub size: u64,
    pub host_api: String,
    pub capabilities_digest: String,
}

impl Statement {
    /// The statement for `package`.
    pub fn of(package: &Package) -> Statement {
        Statement {
            format: STATEMENT_FORMAT.to_owned(),
            id: package.manifest.id.clone(),
            version: package.manifest.version.to_string(),
            sha256: package.sha256.clone(),
            size: package.size,
            host_api: package.manifest.host_api.to_string(),
            capabilities_digest: package.manifest.capabilities_digest(),
        }
    }

    /// Canonical bytes: JSON with sorted keys and no whitespace.
    pub fn canonical(&self) -> Vec<u8> {
        // Through a serde_json::Value, whose maps are sorted.
        serde_json::to_value(self)
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_default()
    }
}

/// The content of a `.sig` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFile {
    pub statement: Statement,
    pub public_key: String,
    pub signature: String,
}

/// A publisher's secret key.
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(***, public {})", self.public().to_text())
    }
}

/// A publisher's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> PackageResult<SecretKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            PackageError::signature(format!("aléa indisponible / no randomness: {e}"))
        })?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// `preau-ed25519-secret:<base64>`.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(self.0.to_bytes()))
    }

    pub fn from_text(text: &str) -> PackageResult<SecretKey> {
        let bytes = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                PackageError::signature("clé secrète illisible / unreadable secret key")
            })?;
        Ok(SecretKey(SigningKey::from_bytes(&bytes)))
    }

    /// Signs `package`: the content of its `.sig` file.
    pub fn sign(&self, package: &Package) -> SignatureFile {
        let statement = Statement::of(package);
        let signature = self.0.sign(&statement.canonical());
        SignatureFile {
            statement,
            public_key: self.public().to_text(),
            signature: B64.encode(signature.to_bytes()),
        }
    }
}

impl PublicKey {
    /// `ed25519:<base64>`, as `preau.toml` lists trusted keys.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_PREFIX}{}", B64.encode(self.0.to_bytes()))
    }

    pub fn from_text(text: &str) -> PackageResult<PublicKey> {
        text.trim()
            .strip_prefix(PUBLIC_PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .map(PublicKey)
            .ok_or_else(|| {
                PackageError::signature(format!(
                    "clé publique illisible / unreadable public key « {text} »"
                ))
            })
    }
}

/// Where the detached signature of the package at `package` lives: `PACKAGE.sig` beside it.
pub fn signature_path(package: &std::path::Path) -> std::path::PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".sig");
    std::path::PathBuf::from(name)
}

/// Checks that `sig_text` is a valid signature of `package` by one of `trusted`: the key is
/// trusted, the signature verifies (strictly) over the canonical statement, and the statement
/// describes exactly this package. Returns the signer's key.
pub fn verify(
    package: &Package,
    sig_text: &str,
    trusted: &[PublicKey],
) -> PackageResult<PublicKey> {
    let file: SignatureFile = serde_json::from_str(sig_text).map_err(|e| {
        PackageError::signature(format!(
            "fichier de signature illisible / unreadable signature file: {e}"
        ))
    })?;
    let key = PublicKey::from_text(&file.public_key)?;
    if !trusted.contains(&key) {
        return Err(PackageError::signature(format!(
            "clé {} non approuvée dans preau.toml / key not trusted in preau.toml",
            key.to_text()
        )));
    }
    let signature = B64
        .decode(&file.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or_else(|| PackageError::signature("signature illisible / unreadable signature"))?;
    key.0
        .verify_strict(&file.statement.canonical(), &signature)
        .map_err(|_| PackageError::signature("signature invalide / invalid signature"))?;
    let expected = Statement::of(package);
    if file.statement != expected {
        let what = if file.statement.sha256 != expected.sha256
            || file.statement.size != expected.size
        {
            "le paquet a été modifié après sa signature / the package was modified after it was signed"
        } else {
            "la signature décrit un autre paquet / the signature describes another package"
        };
        return Err(PackageError::signature(what));
    }
    Ok(key)
}
