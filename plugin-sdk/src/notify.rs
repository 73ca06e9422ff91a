//! Notifications to people of the establishment (the `notifications` import): a title, a body
//! and a link inside the plugin, to accounts or to the members of a class or group.
//!
//! ```ignore
//! Notification::new("Nouveau devoir en mathématiques")
//!     .body("Exercices 4 et 5 p. 82, pour lundi.")
//!     .link("/devoirs/42")
//!     .to_members_as("c-4b", &[Profile::Eleve])?
//!     .send()?;
//! ```
//!
//! [`Notification::check`] applies the host's rules first (1 to 1,000 recipients, a one-line
//! title of 1 to 200 characters, a body of at most 2,000, a link inside the plugin of at most
//! 1,024 bytes), so a refusal is known without a call. The core then checks that the current
//! user may write to every recipient (for a call with a user) and that each is a member of the
//! establishment. Notifications are best effort: the core may answer `unavailable` when it
//! cannot store them.

use crate::api::directory::{self, Profile};
use crate::api::notifications as wit;
use crate::view::is_local_path;

/// Most recipients of one notification.
pub const MAX_RECIPIENTS: usize = 1_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 2_000;
/// Longest link, in bytes.
pub const MAX_LINK_BYTES: usize = 1_024;

/// Why nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// Malformed (an empty list, a multi-line title, a link outside the plugin…); `field`
    /// names it.
    #[error("{field} : {message}")]
    Invalid {
        /// `recipients`, `title`, `body` or `link`.
        field: String,
        /// Why, French then English.
        message: String,
    },
    /// Over a cap; `field` names it.
    #[error("{field} : {message}")]
    TooLarge {
        /// `recipients`, `title`, `body` or `link`.
        field: String,
        /// Why, French then English.
        message: String,
    },
    /// The current user may not write to a recipient (named), or the plugin may not notify.
    #[error("notification refusée / notification denied: {0}")]
    Denied(String),
    /// The core could not answer; the notification may be sent in a later call.
    #[error("notifications indisponibles / notifications unavailable: {0}")]
    Unavailable(String),
    /// The directory did not give the members of the class or group.
    #[error("annuaire / directory: {0}")]
    Directory(String),
}

impl From<wit::Error> for NotifyError {
    fn from(e: wit::Error) -> NotifyError {
        match e {
            wit::Error::Invalid(r) => NotifyError::Invalid {
                field: r.field,
                message: r.message,
            },
            wit::Error::TooLarge(r) => NotifyError::TooLarge {
                field: r.field,
                message: r.message,
            },
            wit::Error::Denied(m) => NotifyError::Denied(m),
            wit::Error::Unavailable(m) => NotifyError::Unavailable(m),
        }
    }
}

impl From<NotifyError> for crate::Failure {
    /// 403 when denied, 500 otherwise (a notification the plugin built wrong, or the core).
    fn from(e: NotifyError) -> crate::Failure {
        crate::Failure {
            status: if matches!(e, NotifyError::Denied(_)) {
                403
            } else {
                500
            },
            message: e.to_string(),
        }
    }
}

/// A notification being built: the same for every recipient.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notification {
    recipients: Vec<String>,
    title: String,
    body: String,
    link: Option<String>,
}

impl Notification {
    /// A notification titled `title` (one line of plain text, French first if bilingual).
    pub fn new(title: impl Into<String>) -> Notification {
        Notification {
            title: title.into(),
            ..Notification::default()
        }
    }

    /// Its body: plain text, line breaks allowed.
    pub fn body(mut self, body: impl Into<String>) -> Notification {
        self.body = body.into();
        self
    }

    /// Where it leads: a path inside the plugin (`/devoirs/42`).
    pub fn link(mut self, path: impl Into<String>) -> Notification {
        self.link = Some(path.into());
        self
    }

    /// Adds recipients (account ids); a duplicate is notified once.
    pub fn to<S: Into<String>>(mut self, accounts: impl IntoIterator<Item = S>) -> Notification {
        for account in accounts {
            let account = account.into();
            if !self.recipients.contains(&account) {
                self.recipients.push(account);
            }
        }
        self
    }

    /// Adds every member of the class or group `class_group` (its id), as the directory gives
    /// them to the current user.
    pub fn to_members(self, class_group: &str) -> Result<Notification, NotifyError> {
        self.to_members_as(class_group, &[])
    }

    /// Adds the members of `class_group` holding one of `profiles` (all when empty): the pupils
    /// of a class, its teachers…
    pub fn to_members_as(
        self,
        class_group: &str,
        profiles: &[Profile],
    ) -> Result<Notification, NotifyError> {
        let members = directory::members(class_group).map_err(|e| {
            NotifyError::Directory(match e {
                directory::Error::Denied(m)
                | directory::Error::NotFound(m)
                | directory::Error::Unavailable(m) => m,
            })
        })?;
        Ok(self.to(members
            .into_iter()
            .filter(|p| profiles.is_empty() || p.profiles.iter().any(|q| profiles.contains(q)))
            .map(|p| p.id)))
    }

    /// Its recipients.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The host's rules, checked here: what [`send`](Notification::send) would be refused for.
    pub fn check(&self) -> Result<(), NotifyError> {
        let invalid = |field: &str, message: &str| NotifyError::Invalid {
            field: field.into(),
            message: message.into(),
        };
        let too_large = |field: &str, message: String| NotifyError::TooLarge {
            field: field.into(),
            message,
        };
        if self.recipients.is_empty() {
            return Err(invalid("recipients", "aucun destinataire / no recipient"));
        }
        if self.recipients.len() > MAX_RECIPIENTS {
            return Err(too_large(
                "recipients",
                format!(
                    "plus de {MAX_RECIPIENTS} destinataires / more than {MAX_RECIPIENTS} recipients"
                ),
            ));
        }
        if self.recipients.iter().any(|r| r.is_empty() || r.len() > 64) {
            return Err(invalid(
                "recipients",
                "un identifiant de compte a 1 à 64 octets / an account id has 1 to 64 bytes",
            ));
        }
        let title_chars = self.title.chars().count();
        if title_chars == 0 || self.title.trim().is_empty() {
            return Err(invalid("title", "titre vide / empty title"));
        }
        if title_chars > MAX_TITLE_CHARS {
            return Err(too_large(
                "title",
                format!(
                    "plus de {MAX_TITLE_CHARS} caractères / more than {MAX_TITLE_CHARS} characters"
                ),
            ));
        }
        if self.title.chars().any(char::is_control) {
            return Err(invalid(
                "title",
                "une seule ligne, sans caractère de contrôle / one line, without control characters",
            ));
        }
        if self.body.chars().count() > MAX_BODY_CHARS {
            return Err(too_large(
                "body",
                format!(
                    "plus de {MAX_BODY_CHARS} caractères / more than {MAX_BODY_CHARS} characters"
                ),
            ));
        }
        if self
            .body
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(invalid("body", "caractère de contrôle / control character"));
        }
        if let Some(link) = &self.link {
            if link.len() > MAX_LINK_BYTES {
                return Err(too_large(
                    "link",
                    format!("plus de {MAX_LINK_BYTES} octets / more than {MAX_LINK_BYTES} bytes"),
                ));
            }
            if !is_local_path(link) {
                return Err(invalid(
                    "link",
                    "un chemin du service (« /… ») / a path of the service ('/…')",
                ));
            }
        }
        Ok(())
    }

    /// Checks it, then notifies every recipient, or none.
    pub fn send(&self) -> Result<(), NotifyError> {
        self.check()?;
        wit::notify(&wit::Notification {
            recipients: self.recipients.clone(),
            title: self.title.clone(),
            body: self.body.clone(),
            link: self.link.clone(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(n: &Notification) -> Option<String> {
        match n.check() {
            Ok(()) => None,
            Err(
                NotifyError::Invalid { field, message } | NotifyError::TooLarge { field, message },
            ) => {
                assert!(message.contains(" / "), "{message}");
                Some(field)
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_notification_follows_the_hosts_rules() {
        let ok = Notification::new("Nouveau devoir")
            .body("Exercices 4 et 5.\nPour lundi.")
            .link("/devoirs/42")
            .to(["u-1", "u-2"])
            .to(vec!["u-1".to_owned()]);
        assert_eq!(ok.recipients(), ["u-1", "u-2"], "duplicates once");
        assert_eq!(field_of(&ok), None);
        assert_eq!(field_of(&Notification::new("t")), Some("recipients".into()));
        assert_eq!(
            field_of(&Notification::new("t").to((0..=MAX_RECIPIENTS).map(|i| i.to_string()))),
            Some("recipients".into())
        );
        assert_eq!(
            field_of(&Notification::new("t").to(["x".repeat(65)])),
            Some("recipients".into())
        );
        assert_eq!(
            field_of(&Notification::new(" ").to(["u"])),
            Some("title".into())
        );
        assert_eq!(
            field_of(&Notification::new("a\nb").to(["u"])),
            Some("title".into())
        );
        assert_eq!(
            field_of(&Notification::new("t".repeat(201)).to(["u"])),
            Some("title".into())
        );
        assert_eq!(
            field_of(&Notification::new("t").body("b".repeat(2001)).to(["u"])),
            Some("body".into())
        );
        assert_eq!(
            field_of(&Notification::new("t").body("\u{7}").to(["u"])),
            Some("body".into())
        );
        assert_eq!(
            field_of(
                &Notification::new("t")
                    .link("https://ailleurs.example")
                    .to(["u"])
            ),
            Some("link".into())
        );
        assert_eq!(
            field_of(
                &Notification::new("t")
                    .link(format!("/{}", "a".repeat(1024)))
                    .to(["u"])
            ),
            Some("link".into())
        );
    }

    #[test]
    fn errors_become_failures() {
        let denied = NotifyError::from(wit::Error::Denied("Léo Martin".into()));
        assert_eq!(crate::Failure::from(denied).status, 403);
        let down = NotifyError::from(wit::Error::Unavailable("x".into()));
        assert_eq!(crate::Failure::from(down).status, 500);
    }
}
