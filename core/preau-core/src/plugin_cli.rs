//! `preau plugin …`: the package commands that need no instance (pack, keygen, sign). The
//! lifecycle commands (install, list, remove, enable, disable) join them with the plugin host.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
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
                let sig = write_signature(&package, &out, &key)?;
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
            let sig = write_signature(&unpacked, &package, &key)?;
            println!("{}", sig.display());
            Ok(())
        }
    }
}

/// `FILE.pub`.
fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes `PACKAGE.sig`, signed with the secret key in `key`.
fn write_signature(package: &preau_package::Package, path: &Path, key: &Path) -> Result<PathBuf> {
    let text = std::fs::read_to_string(key)
        .with_context(|| format!("lecture / reading {}", key.display()))?;
    let key = SecretKey::from_text(&text)?;
    let sig = serde_json::to_string_pretty(&key.sign(package))?;
    let mut name = path.as_os_str().to_owned();
    name.push(".sig");
    let sig_path = PathBuf::from(name);
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
