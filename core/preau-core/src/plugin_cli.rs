//! `preau plugin …`: the package commands that need no instance (pack, keygen, sign), and the
//! lifecycle commands that act on one (install, list, remove, enable, disable; the rules live in
//! `preau_core::plugins::lifecycle`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use preau_core::config::Config;
use preau_core::db::Db;
use preau_core::identity::Uai;
use preau_core::plugins::{Lifecycle, Resolution};
use preau_package::signing::SecretKey;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Packs the plugin in DIR (its plugin.toml and the files it names; nothing is built) into
    /// a .preau file, signed when --key is given.
    Pack {
        dir: PathBuf,
        /// The package to write (default: ID-VERSION.preau in the current directory).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// A publisher secret key (from `preau plugin keygen`): also writes FILE.sig.
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
    },
    /// Creates a publisher key pair: FILE (secret, readable by you only) and FILE.pub.
    Keygen {
        #[arg(value_name = "FILE")]
        out: PathBuf,
    },
    /// Signs a package: writes PACKAGE.sig next to it.
    Sign {
        package: PathBuf,
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
    },
    /// Installs a package (its signature is FILE.sig, by a key trusted in preau.toml).
    Install {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Accepts a package without a trusted signature (development only; journaled).
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Lists the installed plugins, their versions and where they run.
    List,
    /// Removes ID (every version) or ID@VERSION.
    Remove {
        #[arg(value_name = "ID[@VERSION]")]
        plugin: String,
        /// Also erases every document and file the plugin holds, in every establishment.
        #[arg(long)]
        purge_data: bool,
    },
    /// Enables ID in an establishment, approving the capabilities of the newest installed
    /// version (or of --version, which the establishment then stays on).
    Enable {
        id: String,
        #[arg(long, value_name = "UAI")]
        establishment: String,
        #[arg(long, value_name = "VERSION")]
        version: Option<semver::Version>,
        /// Approves: without it, the command only shows what would be approved.
        #[arg(long)]
        yes: bool,
    },
    /// Disables ID in an establishment (its data stays).
    Disable {
        id: String,
        #[arg(long, value_name = "UAI")]
        establishment: String,
    },
}

impl PluginCommand {
    /// Whether the command works on files only (no configuration, no database).
    pub fn is_package_only(&self) -> bool {
        matches!(
            self,
            PluginCommand::Pack { .. } | PluginCommand::Keygen { .. } | PluginCommand::Sign { .. }
        )
    }
}

/// Who runs a lifecycle command, for the journal: the operating-system account.
fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "inconnu".into());
    format!("cli:{user}")
}

/// Runs a lifecycle command on the instance of `config` and `db`.
pub async fn run_lifecycle(command: PluginCommand, config: &Config, db: &Db) -> Result<()> {
    let clock = config.clock();
    let lifecycle = Lifecycle::new(
        db.clone(),
        clock,
        &config.data_dir,
        config.plugins.trusted(),
        &actor(),
    );
    match command {
        PluginCommand::Install {
            file,
            allow_unsigned,
        } => {
            let installed = lifecycle.install(&file, allow_unsigned).await?;
            let signed = match &installed.signed_by {
                Some(key) => format!("signé par / signed by {key}"),
                None => "NON SIGNÉ, développement seulement / UNSIGNED, development only".into(),
            };
            if installed.new {
                println!(
                    "{} {} installé / installed ({signed})",
                    installed.id, installed.version
                );
            } else {
                println!(
                    "{} {} était déjà installé / was already installed",
                    installed.id, installed.version
                );
            }
            Ok(())
        }
        PluginCommand::List => {
            let plugins = lifecycle.overview().await?;
            if plugins.is_empty() {
                println!("Aucune extension installée / no plugin installed");
            }
            for p in plugins {
                println!("{}", p.id);
                for v in &p.versions {
                    let signed = v.signed_by.as_deref().unwrap_or("non signé / unsigned");
                    println!(
                        "  {}  installé le / installed {}  par / by {}  {signed}",
                        v.version,
                        format_ms(&clock, v.installed_at),
                        v.installed_by
                    );
                }
                for (uai, resolution) in &p.establishments {
                    println!("  {uai}: {}", describe(resolution));
                }
            }
            Ok(())
        }
        PluginCommand::Remove { plugin, purge_data } => {
            let (id, version) = match plugin.split_once('@') {
                Some((id, v)) => (
                    id,
                    Some(semver::Version::parse(v).with_context(|| {
                        format!("version illisible / unreadable version « {v} »")
                    })?),
                ),
                None => (plugin.as_str(), None),
            };
            let removed = lifecycle.remove(id, version.as_ref(), purge_data).await?;
            println!(
                "{id} : version(s) retirée(s) / removed version(s): {}",
                removed.join(", ")
            );
            Ok(())
        }
        PluginCommand::Enable {
            id,
            establishment,
            version,
            yes,
        } => {
            let uai: Uai = establishment
                .parse()
                .map_err(|e: preau_core::identity::UaiError| anyhow::anyhow!("{e}"))?;
            let (package, signed) = lifecycle.proposed(&id, version.as_ref()).await?;
            println!("{id} {} demande / asks for:", package.manifest.version);
            for line in capabilities(&package.manifest) {
                println!("  {line}");
            }
            println!(
                "  limites effectives / effective limits: {}",
                preau_core::plugins::limits::describe(&preau_core::plugins::limits::effective(
                    &config.plugins,
                    &package.manifest
                ))
            );
            if !signed {
                println!(
                    "  ATTENTION : version installée sans signature (développement) / \
                     WARNING: version installed unsigned (development)"
                );
            }
            if !yes {
                bail!(
                    "rien n'est approuvé : relancez avec --yes pour approuver ces capacités dans {uai} / \
                     nothing approved: run again with --yes to approve these capabilities in {uai}"
                );
            }
            let (_, resolution) = lifecycle.enable(&id, &uai, version.as_ref()).await?;
            println!(
                "{id} activé dans / enabled in {uai}: {}",
                describe(&resolution)
            );
            Ok(())
        }
        PluginCommand::Disable { id, establishment } => {
            let uai: Uai = establishment
                .parse()
                .map_err(|e: preau_core::identity::UaiError| anyhow::anyhow!("{e}"))?;
            if lifecycle.disable(&id, &uai).await? {
                println!(
                    "{id} désactivé dans / disabled in {uai} (ses données restent / its data stays)"
                );
            } else {
                println!("{id} n'était pas activé dans / was not enabled in {uai}");
            }
            Ok(())
        }
        PluginCommand::Pack { .. } | PluginCommand::Keygen { .. } | PluginCommand::Sign { .. } => {
            run(command)
        }
    }
}

/// The demo's plugins: packs `dir` when it is a plugin directory (it holds a `plugin.toml`), or
/// else every plugin directory of `dir`, signs each package with a publisher key generated in
/// the demo's data directory (never committed; kept for the next demo on the same directory),
/// installs them trusting that key, and with `enable` enables them in every establishment.
/// Returns (id, version) of each.
pub async fn install_demo_plugins(
    config: &Config,
    db: &Db,
    dir: &Path,
    enable: bool,
) -> Result<Vec<(String, String)>> {
    let key_path = config.data_dir.join("demo-publisher.key");
    let key = if key_path.exists() {
        read_secret(&key_path)?
    } else {
        let key = SecretKey::generate()?;
        write_secret(&key_path, &key.to_text())?;
        key
    };
    let mut trusted = config.plugins.trusted();
    trusted.push(key.public());
    let clock = config.clock();
    let lifecycle = Lifecycle::new(
        db.clone(),
        clock,
        &config.data_dir,
        trusted,
        "démonstration / demo",
    );
    let packages = config.data_dir.join("demo-packages");
    std::fs::create_dir_all(&packages)
        .with_context(|| format!("création / creating {}", packages.display()))?;
    let mut dirs: Vec<PathBuf> = if dir.join("plugin.toml").is_file() {
        vec![dir.to_path_buf()]
    } else {
        std::fs::read_dir(dir)
            .with_context(|| format!("lecture / reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("plugin.toml").is_file())
            .collect()
    };
    dirs.sort();
    let establishments = db.establishments().await?;
    let mut done = Vec::new();
    for plugin_dir in dirs {
        let bytes = preau_package::pack(&plugin_dir)
            .with_context(|| format!("paquet / package {}", plugin_dir.display()))?;
        let package = preau_package::unpack(&bytes)?;
        let path = packages.join(format!(
            "{}-{}.preau",
            package.manifest.id.replace(':', "-"),
            package.manifest.version
        ));
        std::fs::write(&path, &bytes)
            .with_context(|| format!("écriture / writing {}", path.display()))?;
        write_signature(&package, &path, &key)?;
        let installed = lifecycle.install(&path, false).await?;
        if enable {
            for e in &establishments {
                lifecycle.enable(&installed.id, &e.uai, None).await?;
            }
        }
        done.push((installed.id, installed.version.to_string()));
    }
    Ok(done)
}

/// What runs in an establishment, for people.
fn describe(resolution: &Resolution) -> String {
    match resolution {
        Resolution::Running {
            version,
            awaiting: None,
        } => format!("version {version} en service / running"),
        Resolution::Running {
            version,
            awaiting: Some(newer),
        } => format!(
            "version {version} en service ; mise à jour {newer} en attente d'approbation / running; update {newer} awaiting approval"
        ),
        Resolution::AwaitingApproval { newest } => match newest {
            Some(v) => format!(
                "arrêtée : la version {v} attend une approbation / stopped: version {v} awaits approval"
            ),
            None => "arrêtée : aucune version installée / stopped: no version installed".into(),
        },
    }
}

/// The capabilities and permissions an operator approves, one per line.
fn capabilities(manifest: &preau_package::Manifest) -> Vec<String> {
    let c = &manifest.capabilities;
    let mut lines = Vec::new();
    if !c.outbound_hosts.is_empty() {
        let hosts: Vec<&str> = c.outbound_hosts.iter().map(String::as_str).collect();
        lines.push(format!(
            "accès réseau / outbound HTTP: {}",
            hosts.join(", ")
        ));
    }
    if c.files_quota_mib > 0 {
        lines.push(format!("fichiers / files: {} Mio / MiB", c.files_quota_mib));
    }
    if c.sso {
        lines.push("services CAS / CAS services (sso)".into());
    }
    if c.public_routes {
        lines.push("pages publiques / public routes".into());
    }
    if c.token_routes {
        lines.push("accès par jeton / token routes".into());
    }
    for p in &manifest.permissions {
        lines.push(format!(
            "permission {} ({}) : {} / {}",
            p.id, p.family, p.label.fr, p.label.en
        ));
    }
    if lines.is_empty() {
        lines.push("aucune / none".into());
    }
    lines
}

fn format_ms(clock: &preau_core::clock::Clock, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&clock.tz())
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn run(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::Pack { dir, out, key } => {
            let bytes = preau_package::pack(&dir)?;
            let package = preau_package::unpack(&bytes)?;
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!(
                    "{}-{}.preau",
                    package.manifest.id.replace(':', "-"),
                    package.manifest.version
                ))
            });
            std::fs::write(&out, &bytes)
                .with_context(|| format!("écriture / writing {}", out.display()))?;
            println!(
                "{} ({} octets / bytes, sha256 {})",
                out.display(),
                package.size,
                package.sha256
            );
            if let Some(key) = key {
                let sig = write_signature(&package, &out, &read_secret(&key)?)?;
                println!("{}", sig.display());
            }
            Ok(())
        }
        PluginCommand::Keygen { out } => {
            if out.exists() {
                bail!("{} existe déjà / already exists", out.display());
            }
            let key = SecretKey::generate()?;
            write_secret(&out, &key.to_text())?;
            let public = public_path(&out);
            std::fs::write(&public, format!("{}\n", key.public().to_text()))
                .with_context(|| format!("écriture / writing {}", public.display()))?;
            println!(
                "Clé secrète / secret key: {} (à garder / keep it safe)\nClé publique / public key: {}\n{}",
                out.display(),
                public.display(),
                key.public().to_text()
            );
            Ok(())
        }
        PluginCommand::Sign { package, key } => {
            let bytes = std::fs::read(&package)
                .with_context(|| format!("lecture / reading {}", package.display()))?;
            let unpacked = preau_package::unpack(&bytes)?;
            let sig = write_signature(&unpacked, &package, &read_secret(&key)?)?;
            println!("{}", sig.display());
            Ok(())
        }
        PluginCommand::Install { .. }
        | PluginCommand::List
        | PluginCommand::Remove { .. }
        | PluginCommand::Enable { .. }
        | PluginCommand::Disable { .. } => {
            bail!("cette commande agit sur une instance / this command acts on an instance")
        }
    }
}

/// `FILE.pub`.
fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Reads the secret key in `key`.
fn read_secret(key: &Path) -> Result<SecretKey> {
    let text = std::fs::read_to_string(key)
        .with_context(|| format!("lecture / reading {}", key.display()))?;
    Ok(SecretKey::from_text(&text)?)
}

/// Writes `PACKAGE.sig`, the signature of `package` (stored at `path`) by `key`.
fn write_signature(
    package: &preau_package::Package,
    path: &Path,
    key: &SecretKey,
) -> Result<PathBuf> {
    let sig = serde_json::to_string_pretty(&key.sign(package))?;
    let sig_path = preau_package::signing::signature_path(path);
    std::fs::write(&sig_path, sig + "\n")
        .with_context(|| format!("écriture / writing {}", sig_path.display()))?;
    Ok(sig_path)
}

/// Creates `path` readable and writable by its owner only, and writes `text` to it.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("création / creating {}", path.display()))?;
    file.write_all(format!("{text}\n").as_bytes())?;
    Ok(())
}
