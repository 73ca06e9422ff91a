//! The host side of `clock`, `calendar`, `directory`, `rights`, `notifications` and `sso`: the
//! plugin's arguments are checked and bounded here (dates parsed, ids and texts capped, links
//! kept inside the plugin, the `sso` grant), then the question goes to the core's [`Services`]
//! with the call's context, and the answer comes back as the interface's WIT types and errors.
//!
//! [`Services`]: crate::Services

use chrono::NaiveDate;

use crate::bindings::preau::plugin::documents::Refusal;
use crate::bindings::preau::plugin::{calendar, clock, directory, notifications, rights, sso};
use crate::limits::{
    MAX_BODY_CHARS, MAX_ID_BYTES, MAX_LINK_BYTES, MAX_RECIPIENTS, MAX_SSO_ATTRIBUTES,
    MAX_SSO_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_BYTES,
};
use crate::state::{State, cut};
use crate::{CasService, Notification, ServiceError};

// --- clock ---

impl clock::Host for State {
    async fn now(&mut self) -> String {
        let now = self.env.services.now(&self.env.ctx);
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    async fn today(&mut self) -> String {
        let now = self.env.services.now(&self.env.ctx);
        now.date_naive().format("%Y-%m-%d").to_string()
    }
}

// --- calendar ---

/// `YYYY-MM-DD`, a real day of the calendar.
pub(crate) fn parse_day(text: &str) -> Result<NaiveDate, calendar::Error> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| {
            calendar::Error::InvalidDate(format!(
                "« {} » n'est pas une date AAAA-MM-JJ / is not a YYYY-MM-DD date",
                cut(text, 40)
            ))
        })
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl State {
    fn calendar_error(&self, e: ServiceError) -> calendar::Error {
        match e {
            ServiceError::NotFound(what) => calendar::Error::NotFound(what),
            ServiceError::Invalid { message, .. } => calendar::Error::InvalidDate(message),
            other => calendar::Error::Unavailable(self.unavailable("calendar", &other)),
        }
    }

    /// `day`, or today when absent.
    fn day_or_today(&self, day: Option<String>) -> Result<NaiveDate, calendar::Error> {
        match day {
            Some(text) => parse_day(&text),
            None => Ok(self.env.services.now(&self.env.ctx).date_naive()),
        }
    }
}

impl calendar::Host for State {
    async fn school_year_of(
        &mut self,
        day: Option<String>,
    ) -> Result<calendar::SchoolYear, calendar::Error> {
        let day = self.day_or_today(day)?;
        match self.env.services.school_year(&self.env.ctx, day).await {
            Ok(y) => Ok(calendar::SchoolYear {
                label: y.label,
                start: self::day(y.start),
                end: self::day(y.end),
            }),
            Err(e) => Err(self.calendar_error(e)),
        }
    }

    async fn periods(
        &mut self,
        day: Option<String>,
    ) -> Result<Vec<calendar::Period>, calendar::Error> {
        let day = self.day_or_today(day)?;
        match self.env.services.periods(&self.env.ctx, day).await {
            Ok(periods) => Ok(periods
                .into_iter()
                .map(|p| calendar::Period {
                    name: p.name,
                    name_en: p.name_en,
                    start: self::day(p.start),
                    end: self::day(p.end),
                })
                .collect()),
            Err(e) => Err(self.calendar_error(e)),
        }
    }

    async fn holidays(
        &mut self,
        day: Option<String>,
    ) -> Result<Vec<calendar::Holiday>, calendar::Error> {
        let day = self.day_or_today(day)?;
        match self.env.services.holidays(&self.env.ctx, day).await {
            Ok(holidays) => Ok(holidays
                .into_iter()
                .map(|h| calendar::Holiday {
                    name: h.name,
                    name_en: h.name_en,
                    start: self::day(h.start),
                    end: self::day(h.end),
                })
                .collect()),
            Err(e) => Err(self.calendar_error(e)),
        }
    }

    async fn next_school_day(&mut self, day: String) -> Result<String, calendar::Error> {
        let day = parse_day(&day)?;
        match self.env.services.next_school_day(&self.env.ctx, day).await {
            Ok(next) => Ok(self::day(next)),
            Err(e) => Err(self.calendar_error(e)),
        }
    }

    async fn is_school_day(&mut self, day: String) -> Result<bool, calendar::Error> {
        let day = parse_day(&day)?;
        match self.env.services.is_school_day(&self.env.ctx, day).await {
            Ok(answer) => Ok(answer),
            Err(e) => Err(self.calendar_error(e)),
        }
    }
}

// --- directory ---

const NO_USER: &str = "aucun utilisateur connecté dans cet appel / no signed-in user in this call";

impl State {
    fn directory_error(&self, e: ServiceError) -> directory::Error {
        match e {
            ServiceError::Denied(why) => directory::Error::Denied(why),
            ServiceError::NotFound(what) => directory::Error::NotFound(what),
            other => directory::Error::Unavailable(self.unavailable("directory", &other)),
        }
    }

    fn directory_answer<T>(&self, answer: Result<T, ServiceError>) -> Result<T, directory::Error> {
        answer.map_err(|e| self.directory_error(e))
    }
}

impl directory::Host for State {
    async fn current_user(&mut self) -> Result<directory::Person, directory::Error> {
        if self.env.ctx.user().is_none() {
            return Err(directory::Error::NotFound(NO_USER.into()));
        }
        let answer = self.env.services.current_user(&self.env.ctx).await;
        self.directory_answer(answer)
    }

    async fn classes(&mut self) -> Result<Vec<directory::ClassGroup>, directory::Error> {
        if self.env.ctx.user().is_none() {
            return Err(directory::Error::NotFound(NO_USER.into()));
        }
        let answer = self.env.services.classes(&self.env.ctx).await;
        self.directory_answer(answer)
    }

    async fn groups(&mut self) -> Result<Vec<directory::ClassGroup>, directory::Error> {
        if self.env.ctx.user().is_none() {
            return Err(directory::Error::NotFound(NO_USER.into()));
        }
        let answer = self.env.services.groups(&self.env.ctx).await;
        self.directory_answer(answer)
    }

    async fn children(&mut self) -> Result<Vec<directory::Person>, directory::Error> {
        if self.env.ctx.user().is_none() {
            return Err(directory::Error::NotFound(NO_USER.into()));
        }
        let answer = self.env.services.children(&self.env.ctx).await;
        self.directory_answer(answer)
    }

    async fn teachings(&mut self) -> Result<Vec<directory::Teaching>, directory::Error> {
        if self.env.ctx.user().is_none() {
            return Err(directory::Error::NotFound(NO_USER.into()));
        }
        let answer = self.env.services.teachings(&self.env.ctx).await;
        self.directory_answer(answer)
    }

    async fn members(
        &mut self,
        class_group: String,
    ) -> Result<Vec<directory::Person>, directory::Error> {
        if class_group.is_empty() || class_group.len() > MAX_ID_BYTES {
            return Err(directory::Error::NotFound(format!(
                "classe ou groupe « {} » / class or group '{}'",
                cut(&class_group, MAX_ID_BYTES),
                cut(&class_group, MAX_ID_BYTES)
            )));
        }
        let answer = self.env.services.members(&self.env.ctx, class_group).await;
        self.directory_answer(answer)
    }
}

// --- rights ---

impl State {
    /// A rights answer: `false` unless the core said yes.
    fn granted(&self, answer: Result<bool, ServiceError>) -> bool {
        match answer {
            Ok(yes) => yes,
            Err(e) => {
                self.unavailable("rights", &e);
                false
            }
        }
    }
}

impl rights::Host for State {
    async fn holds(&mut self, permission: String) -> bool {
        if self.env.ctx.user().is_none() || permission.is_empty() || permission.len() > MAX_ID_BYTES
        {
            return false;
        }
        let answer = self.env.services.holds(&self.env.ctx, permission).await;
        self.granted(answer)
    }

    async fn may_write_to(&mut self, user: String) -> bool {
        if self.env.ctx.user().is_none() || user.is_empty() || user.len() > MAX_ID_BYTES {
            return false;
        }
        let answer = self.env.services.may_write_to(&self.env.ctx, user).await;
        self.granted(answer)
    }
}

// --- notifications ---

fn refusal(field: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        message: message.into(),
    }
}

/// Plain text: no control character except line breaks and tabs where `multiline`.
fn plain_text(s: &str, multiline: bool) -> bool {
    s.chars()
        .all(|c| !c.is_control() || (multiline && matches!(c, '\n' | '\t')))
}

/// The notification as the core gets it, or the refusal naming the field at fault.
pub(crate) fn check_notification(
    n: notifications::Notification,
) -> Result<Notification, notifications::Error> {
    use notifications::Error::{Invalid, TooLarge};
    if n.recipients.is_empty() {
        return Err(Invalid(refusal(
            "recipients",
            "au moins un destinataire / at least one recipient",
        )));
    }
    if n.recipients.len() > MAX_RECIPIENTS {
        return Err(TooLarge(refusal(
            "recipients",
            format!(
                "au plus {MAX_RECIPIENTS} destinataires, pas {} / at most {MAX_RECIPIENTS} recipients, not {}",
                n.recipients.len(),
                n.recipients.len()
            ),
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(n.recipients.len());
    let mut recipients = Vec::with_capacity(n.recipients.len());
    for (i, r) in n.recipients.into_iter().enumerate() {
        if r.is_empty() || r.len() > MAX_ID_BYTES || !plain_text(&r, false) {
            return Err(Invalid(refusal(
                format!("recipients[{i}]"),
                format!(
                    "un identifiant de compte de 1 à {MAX_ID_BYTES} octets / an account id of 1 to {MAX_ID_BYTES} bytes"
                ),
            )));
        }
        if seen.insert(r.clone()) {
            recipients.push(r);
        }
    }
    let title_chars = n.title.chars().count();
    if title_chars > MAX_TITLE_CHARS {
        return Err(TooLarge(refusal(
            "title",
            format!("au plus {MAX_TITLE_CHARS} caractères / at most {MAX_TITLE_CHARS} characters"),
        )));
    }
    if n.title.trim().is_empty() || !plain_text(&n.title, false) {
        return Err(Invalid(refusal(
            "title",
            "un texte d'une ligne, non vide / a non-empty line of text",
        )));
    }
    if n.body.chars().count() > MAX_BODY_CHARS {
        return Err(TooLarge(refusal(
            "body",
            format!("au plus {MAX_BODY_CHARS} caractères / at most {MAX_BODY_CHARS} characters"),
        )));
    }
    if !plain_text(&n.body, true) {
        return Err(Invalid(refusal(
            "body",
            "du texte sans caractère de contrôle / text without control characters",
        )));
    }
    if let Some(link) = &n.link {
        if link.len() > MAX_LINK_BYTES {
            return Err(TooLarge(refusal(
                "link",
                format!("au plus {MAX_LINK_BYTES} octets / at most {MAX_LINK_BYTES} bytes"),
            )));
        }
        if !crate::view::is_local_path(link) {
            return Err(Invalid(refusal(
                "link",
                "un chemin du service (« /… ») / a path of the service ('/…')",
            )));
        }
    }
    Ok(Notification {
        recipients,
        title: n.title,
        body: n.body,
        link: n.link,
    })
}

impl notifications::Host for State {
    async fn notify(
        &mut self,
        notification: notifications::Notification,
    ) -> Result<(), notifications::Error> {
        let notification = check_notification(notification)?;
        match self.env.services.notify(&self.env.ctx, notification).await {
            Ok(()) => Ok(()),
            Err(ServiceError::Denied(why)) => Err(notifications::Error::Denied(why)),
            Err(ServiceError::Invalid { field, message }) => {
                Err(notifications::Error::Invalid(refusal(field, message)))
            }
            Err(ServiceError::TooLarge { field, message }) => {
                Err(notifications::Error::TooLarge(refusal(field, message)))
            }
            Err(other) => Err(notifications::Error::Unavailable(
                self.unavailable("notifications", &other),
            )),
        }
    }
}

// --- sso ---

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_BYTES
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The CAS service as the core gets it, or the refusal naming the field at fault.
pub(crate) fn check_cas_service(s: sso::CasService) -> Result<CasService, sso::Error> {
    let invalid = |field: String, message: &str| sso::Error::Invalid(refusal(field, message));
    if !is_kebab(&s.id) {
        return Err(invalid(
            "id".into(),
            "kebab-case, 1 à 64 octets / kebab-case, 1 to 64 bytes",
        ));
    }
    if s.name.trim().is_empty()
        || s.name.chars().count() > MAX_SSO_NAME_CHARS
        || !plain_text(&s.name, false)
    {
        return Err(invalid(
            "name".into(),
            "un nom d'une ligne, 1 à 120 caractères / a one-line name of 1 to 120 characters",
        ));
    }
    let prefix = (s.service_prefix.len() <= MAX_URL_BYTES)
        .then(|| url::Url::parse(&s.service_prefix).ok())
        .flatten()
        .filter(|u| {
            u.scheme() == "https"
                && u.username().is_empty()
                && u.password().is_none()
                && matches!(u.host(), Some(url::Host::Domain(_)))
                && u.fragment().is_none()
        })
        .ok_or_else(|| {
            invalid(
                "service-prefix".into(),
                "une URL https sans identifiants, 2 048 octets au plus / an https URL without credentials, at most 2,048 bytes",
            )
        })?;
    if s.attributes.len() > MAX_SSO_ATTRIBUTES {
        return Err(invalid(
            "attributes".into(),
            "au plus 32 attributs / at most 32 attributes",
        ));
    }
    for (i, a) in s.attributes.iter().enumerate() {
        let ok = !a.is_empty()
            && a.len() <= MAX_ID_BYTES
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(invalid(
                format!("attributes[{i}]"),
                "1 à 64 lettres, chiffres, « _ » ou « - » / 1 to 64 letters, digits, '_' or '-'",
            ));
        }
    }
    Ok(CasService {
        id: s.id,
        name: s.name,
        service_prefix: prefix,
        attributes: s.attributes,
    })
}

impl sso::Host for State {
    async fn register_cas_service(&mut self, service: sso::CasService) -> Result<(), sso::Error> {
        if !self.env.grants.sso {
            return Err(sso::Error::Denied(
                "capacité « sso » non accordée / capability 'sso' not granted".into(),
            ));
        }
        let service = check_cas_service(service)?;
        match self
            .env
            .services
            .register_cas_service(&self.env.ctx, service)
            .await
        {
            Ok(()) => Ok(()),
            Err(ServiceError::Denied(why)) => Err(sso::Error::Denied(why)),
            Err(ServiceError::Invalid { field, message }) => {
                Err(sso::Error::Invalid(refusal(field, message)))
            }
            Err(other) => Err(sso::Error::Unavailable(self.unavailable("sso", &other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One change to a valid value, making it invalid.
    type Change<T> = Box<dyn Fn(&mut T)>;

    fn notification(recipients: usize) -> notifications::Notification {
        notifications::Notification {
            recipients: (0..recipients).map(|n| format!("u{n}")).collect(),
            title: "Devoir ajouté".into(),
            body: "Exercices 4 et 5\np. 82".into(),
            link: Some("/devoirs/42".into()),
        }
    }

    fn field(e: notifications::Error) -> String {
        match e {
            notifications::Error::Invalid(r) => format!("invalid {}", r.field),
            notifications::Error::TooLarge(r) => format!("too-large {}", r.field),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn dates_are_real_days_of_the_calendar() {
        assert_eq!(
            parse_day("2026-11-30").ok(),
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
        assert!(parse_day("2028-02-29").is_ok());
        for bad in [
            "2026-02-30",
            "2027-02-29",
            "2026-1-01",
            "+2026-01-1",
            "26-11-30",
            "2026/11/30",
            "",
            "2026-11-30T08:00",
        ] {
            assert!(
                matches!(parse_day(bad), Err(calendar::Error::InvalidDate(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_notification_is_bounded_field_by_field() {
        let ok = check_notification(notification(MAX_RECIPIENTS)).expect("at the cap");
        assert_eq!(ok.recipients.len(), MAX_RECIPIENTS);
        let over = check_notification(notification(MAX_RECIPIENTS + 1)).expect_err("over");
        assert_eq!(field(over), "too-large recipients");
        assert_eq!(
            field(check_notification(notification(0)).expect_err("none")),
            "invalid recipients"
        );
        let mut dup = notification(2);
        dup.recipients.push("u0".into());
        assert_eq!(
            check_notification(dup).expect("duplicates").recipients,
            ["u0", "u1"]
        );
        let cases: Vec<(Change<notifications::Notification>, &str)> = vec![
            (Box::new(|n| n.title = "é".repeat(201)), "too-large title"),
            (Box::new(|n| n.title = "  ".into()), "invalid title"),
            (Box::new(|n| n.title = "a\nb".into()), "invalid title"),
            (Box::new(|n| n.body = "x".repeat(2001)), "too-large body"),
            (Box::new(|n| n.body = "\u{7}".into()), "invalid body"),
            (
                Box::new(|n| n.link = Some("https://evil.example".into())),
                "invalid link",
            ),
            (Box::new(|n| n.link = Some("//evil".into())), "invalid link"),
            (
                Box::new(|n| n.link = Some(format!("/{}", "a".repeat(1024)))),
                "too-large link",
            ),
            (
                Box::new(|n| n.recipients[1] = "x".repeat(65)),
                "invalid recipients[1]",
            ),
        ];
        for (change, expected) in cases {
            let mut n = notification(3);
            change(&mut n);
            assert_eq!(field(check_notification(n).expect_err(expected)), expected);
        }
        let mut exact = notification(1);
        exact.title = "é".repeat(200);
        exact.body = "x".repeat(2000);
        check_notification(exact).expect("at the caps");
    }

    #[test]
    fn a_cas_service_is_checked_before_the_core_sees_it() {
        let service = || sso::CasService {
            id: "manuels-numeriques".into(),
            name: "Manuels numériques".into(),
            service_prefix: "https://manuels.example.org/cas/".into(),
            attributes: vec!["uid".into(), "ENTPersonProfils".into()],
        };
        let ok = check_cas_service(service()).expect("valid");
        assert_eq!(ok.service_prefix.host_str(), Some("manuels.example.org"));
        let field = |e: sso::Error| match e {
            sso::Error::Invalid(r) => r.field,
            other => format!("{other:?}"),
        };
        let cases: Vec<(Change<sso::CasService>, &str)> = vec![
            (Box::new(|s| s.id = "Manuels".into()), "id"),
            (Box::new(|s| s.id = "a--b".into()), "id"),
            (Box::new(|s| s.name = String::new()), "name"),
            (
                Box::new(|s| s.service_prefix = "http://manuels.example.org/".into()),
                "service-prefix",
            ),
            (
                Box::new(|s| s.service_prefix = "https://u:p@manuels.example.org/".into()),
                "service-prefix",
            ),
            (
                Box::new(|s| s.service_prefix = "https://10.0.0.1/".into()),
                "service-prefix",
            ),
            (
                Box::new(|s| s.attributes = vec!["a".into(); 33]),
                "attributes",
            ),
            (
                Box::new(|s| s.attributes = vec!["uid".into(), "a b".into()]),
                "attributes[1]",
            ),
        ];
        for (change, expected) in cases {
            let mut s = service();
            change(&mut s);
            assert_eq!(field(check_cas_service(s).expect_err(expected)), expected);
        }
    }
}
