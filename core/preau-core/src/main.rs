//! The `preau` command: `serve` (the default), `migrate`, `demo`, `admin …` and `plugin …`. Every command that works on
//! an instance takes `--config FILE` (or `PREAU_CONFIG`) and `--data DIR`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use preau_core::api::AppState;
use preau_core::auth::setup::new_setup_link;
use preau_core::config::{Config, DatabaseUrl};
use preau_core::db::Db;
use preau_core::{demo, server};

mod plugin_cli;

#[derive(Parser)]
#[command(name = "preau", version, about = "Préau — Espace Numérique de Travail")]
struct Cli {
    #[command(flatten)]
    instance: InstanceArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
struct InstanceArgs {
    /// Configuration file (preau.toml); PREAU_* variables override it.
    #[arg(long, env = "PREAU_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory (overrides `data_dir`).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serves the instance (the default command).
    Serve,
    /// Applies the database migrations and exits.
    Migrate,
    /// Creates the demo establishments in a fresh database, prints their accounts, and serves.
    Demo(DemoArgs),
    /// Administration tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Plugins: packages (pack, keygen, sign) and their lifecycle (install, list, remove,
    /// enable, disable).
    #[command(subcommand)]
    Plugin(plugin_cli::PluginCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Prints a new single-use setup link (valid 24 hours) that creates a collectivité
    /// administrator; the previous unused links stop working.
    SetupLink,
    /// Publishes a new version of the charter (plain text, paragraphs separated by blank lines);
    /// everyone accepts it again at their next visit.
    PublishCharter {
        /// The French text.
        #[arg(long, value_name = "FILE")]
        fr: PathBuf,
        /// The English text.
        #[arg(long, value_name = "FILE")]
        en: PathBuf,
    },
}

/// Largest charter text accepted.
const MAX_CHARTER_BYTES: u64 = 64 * 1024;

fn read_charter(path: &std::path::Path) -> Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("lecture impossible / cannot read {}", path.display()))?
        .len();
    if size > MAX_CHARTER_BYTES {
        bail!(
            "{} dépasse {} Kio / is larger than {} KiB",
            path.display(),
            MAX_CHARTER_BYTES / 1024,
            MAX_CHARTER_BYTES / 1024
        );
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} n'est pas un texte UTF-8 / is not UTF-8 text",
            path.display()
        )
    })?;
    if text.trim().is_empty() {
        bail!("{} est vide / is empty", path.display());
    }
    Ok(text)
}

#[derive(Args)]
struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Password of every activated demo account (a random one is printed otherwise).
    #[arg(long)]
    password: Option<String>,
    /// Writes every demo account (login, name, attachments, roles, activation code) to FILE.
    #[arg(long, value_name = "FILE")]
    accounts_json: Option<PathBuf>,
    /// Builds the demo and exits without serving.
    #[arg(long)]
    no_serve: bool,
    /// Packs, signs (with a key generated in the data directory), installs and enables every
    /// plugin directory found in DIR (`cargo xtask demo` passes `plugins`).
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// The same without enabling: installs the plugin in DIR (or every plugin directory found
    /// in DIR), for a head to enable in the services console; may be repeated (`cargo xtask demo`
    /// passes `examples/hello-plugin`).
    #[arg(long, value_name = "DIR")]
    install_only: Vec<PathBuf>,
}

fn load_config(args: &InstanceArgs) -> Result<Config> {
    let mut config = Config::load(args.config.as_deref(), std::env::vars())?;
    if let Some(dir) = &args.data {
        config.data_dir = dir.clone();
    }
    Ok(config)
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn open_database(config: &Config) -> Result<Db> {
    let url = config.database_url();
    let key_path = config.activation_key_path();
    let codes = preau_core::identity::CodeKey::load_or_create(&key_path).with_context(|| {
        format!(
            "clé des codes d'activation / activation-code key {}",
            key_path.display()
        )
    })?;
    let db = Db::connect(&url, config.database.max_connections, codes)
        .await
        .with_context(|| {
            format!("connexion impossible à la base / cannot connect to the database {url}")
        })?;
    db.migrate().await.context("migrations")?;
    Ok(db)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        // Package commands work on files only: no configuration, no database.
        Some(Command::Plugin(command)) if command.is_package_only() => {
            return plugin_cli::run(command);
        }
        other => other,
    };
    let config = load_config(&cli.instance)?;
    init_logging(&config.log);
    match command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let db = open_database(&config).await?;
            serve(config, db, None).await
        }
        Command::Migrate => {
            let db = open_database(&config).await?;
            println!(
                "Base à jour / database up to date ({})",
                config.database_url()
            );
            db.close().await;
            Ok(())
        }
        Command::Demo(args) => run_demo(config, cli.instance.data.is_some(), args).await,
        Command::Plugin(command) => {
            let db = open_database(&config).await?;
            let result = plugin_cli::run_lifecycle(command, &config, &db).await;
            db.close().await;
            result
        }
        Command::Admin(AdminCommand::PublishCharter { fr, en }) => {
            let (fr, en) = (read_charter(&fr)?, read_charter(&en)?);
            let db = open_database(&config).await?;
            let version = db
                .publish_charter(&fr, &en, config.clock().now_ms())
                .await?;
            println!(
                "Charte publiée, version {version} : chacun l'acceptera à sa prochaine visite. / \
                 Charter published, version {version}: everyone accepts it at their next visit."
            );
            db.close().await;
            Ok(())
        }
        Command::Admin(AdminCommand::SetupLink) => {
            let db = open_database(&config).await?;
            if db.has_collectivite_admin().await? {
                eprintln!(
                    "Attention : la collectivité a déjà un administrateur ; ce lien en créera un autre. / \
                     Warning: the collectivité already has an administrator; this link creates another one."
                );
            }
            let link = new_setup_link(&db, &config.clock(), &config.public_base_url()).await?;
            println!("{link}");
            db.close().await;
            Ok(())
        }
    }
}

async fn serve(config: Config, db: Db, listen: Option<std::net::SocketAddr>) -> Result<()> {
    let listen = listen.unwrap_or(config.listen);
    let clock = config.clock();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("impossible d'écouter sur / cannot listen on {listen}"))?;
    let base = if config.public_url.is_some() {
        config.public_base_url()
    } else {
        format!("http://{listen}")
    };
    println!("Préau {} — {base}", env!("CARGO_PKG_VERSION"));
    println!("  santé / health: {base}/healthz");
    println!("  API: {base}/api/v1/  (docs/api.md)");
    if clock.is_shifted() {
        println!(
            "  horloge décalée / shifted clock: aujourd'hui / today = {}",
            clock.today()
        );
    }
    if !db.has_collectivite_admin().await? {
        let link = new_setup_link(&db, &clock, &base).await?;
        println!(
            "  Première installation / first run — ouvrez ce lien à usage unique (24 h) / open this single-use link (24 h):"
        );
        println!("  {link}");
    }
    let config = Arc::new(config);
    let state = AppState::new(db.clone(), clock, config.clone());
    let mailer = preau_core::notifications::spawn(db.clone(), clock, config.clone());
    let purges =
        preau_core::maintenance::spawn_periodic(db.clone(), clock, config, state.plugins.clone());
    let events =
        preau_core::events::EventWorker::new(db.clone(), clock, state.plugins.clone()).spawn();
    server::serve(listener, server::router(state))
        .await
        .context("serveur / server")?;
    events.abort();
    mailer.abort();
    purges.abort();
    db.close().await;
    Ok(())
}

async fn run_demo(mut config: Config, data_given: bool, args: DemoArgs) -> Result<()> {
    // A fresh data directory unless one was named; the configured database if one was set.
    if !data_given {
        let dir =
            std::env::temp_dir().join(format!("preau-demo-{}", uuid::Uuid::new_v4().simple()));
        config.data_dir = dir;
    }
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "dossier de données / data directory {}",
            config.data_dir.display()
        )
    })?;
    let url = config.database_url();
    let started = Instant::now();
    let db = open_database(&config).await?;
    if !db.is_empty().await? {
        bail!(
            "la base {url} n'est pas vide : la démonstration ne s'installe que dans une base neuve (--data DOSSIER_VIDE) / \
             database {url} is not empty: the demo only goes into a fresh database (--data EMPTY_DIR)"
        );
    }
    let password = args
        .password
        .clone()
        .unwrap_or_else(preau_core::auth::password::generate_temporary);
    let hash = preau_core::auth::password::hash(&password).context("argon2")?;
    let clock = config.clock();
    let demo = demo::generate(&db, clock.now_ms(), clock.today(), &hash).await?;
    let elapsed = started.elapsed();

    let engine = match url {
        DatabaseUrl::Sqlite(_) => format!("SQLite, {}", config.data_dir.display()),
        DatabaseUrl::Postgres(_) => format!("PostgreSQL, {url}"),
    };
    println!(
        "Démonstration prête / demo ready: {} comptes / accounts, {:.1} s ({engine})",
        demo.accounts.len(),
        elapsed.as_secs_f64()
    );
    println!("Année scolaire / school year {}", demo.school_year);
    if args.password.is_none() {
        println!(
            "Mot de passe de tous les comptes activés / password of every activated account: {password}"
        );
    }
    for (what, account) in demo.showcase() {
        let code = account
            .activation_code
            .as_deref()
            .map(|c| format!("  code d'activation / activation code {c}"))
            .unwrap_or_default();
        println!(
            "  {what:<24} {:<28} {}{code}",
            account.login, account.display_name
        );
    }
    if let Some(dir) = &args.plugins {
        for (id, version) in plugin_cli::install_demo_plugins(&config, &db, dir, true).await? {
            println!(
                "  extension / plugin {id} {version} : installée et activée partout / installed and enabled everywhere"
            );
        }
    }
    for dir in &args.install_only {
        for (id, version) in plugin_cli::install_demo_plugins(&config, &db, dir, false).await? {
            println!(
                "  extension / plugin {id} {version} : installée, à activer dans la console des services / installed, to enable in the services console"
            );
        }
    }
    if let Some(path) = &args.accounts_json {
        let json = serde_json::to_string_pretty(&demo.accounts)?;
        std::fs::write(path, json)
            .with_context(|| format!("écriture / writing {}", path.display()))?;
        println!(
            "Comptes écrits dans / accounts written to {}",
            path.display()
        );
    }
    if args.no_serve {
        db.close().await;
        return Ok(());
    }
    serve(config, db, Some(args.listen)).await
}
