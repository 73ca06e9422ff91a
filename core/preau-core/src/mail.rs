//! Outgoing mail through the configured SMTP server (`[smtp]`), with `lettre`: password-reset
//! links and forgotten logins. Without `[smtp]`, nothing is sent and the pages that would send
//! mail say so.

use lettre::message::header::ContentType;
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpSecurity};

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("adresse invalide / invalid address `{0}`")]
    Address(String),
    #[error("message invalide / invalid message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("envoi impossible / cannot send: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// A connection recipe to the SMTP server (it connects when sending).
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer of `[smtp]`.
    pub fn new(config: &SmtpConfig) -> Result<Mailer, MailError> {
        let builder = match config.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?
            }
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
        };
        let mut builder = builder.port(config.port);
        if let Some(user) = config.username.as_ref().filter(|u| !u.is_empty()) {
            let password = config
                .password
                .as_ref()
                .map(|p| p.expose().to_string())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        let from = config
            .from
            .parse()
            .map_err(|_| MailError::Address(config.from.clone()))?;
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends a plain-text message.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_string()))?;
        // `Body::new` picks the transfer encoding the text needs (7bit, quoted-printable, base64).
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(Body::new(body)),
            )?;
        self.transport.send(message).await?;
        Ok(())
    }
}
