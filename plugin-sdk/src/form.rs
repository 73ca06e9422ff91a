//! Decoding a submitted form (`request.form`, `request.uploads`) into typed values, with
//! per-field errors in the reader's language, and putting the submission back into the form's
//! view after a refusal (the fields' `value` and `error`).
//!
//! ```ignore
//! struct Devoir { titre: String, echeance: NaiveDate, pages: Option<i64>, note: bool }
//!
//! let decoded = FormData::new(&req).decode(|f| Devoir {
//!     titre: f.text("titre").required().max_chars(200).value(),
//!     echeance: f.date("echeance").required().value(),
//!     pages: f.integer("pages").range(1, 500).get(),
//!     note: f.checkbox("note"),
//! });
//! match decoded {
//!     Ok(devoir) => { /* store it */ Ok(Response::redirect_to("/")) }
//!     // The same form, with what was typed and a message under each wrong field.
//!     Err(submitted) => page_with(devoir_form(lang).with_submission(&submitted)).respond(),
//! }
//! ```
//!
//! Each accessor reads one field, records at most one error for it, and gives its value:
//! `get()` an `Option` (absent or refused: `None`), `value()` the value or a default when
//! absent or refused. The value of a refused form is never used: [`FormData::decode`] answers
//! the errors instead. Text is trimmed; an empty field counts as absent.
//!
//! Files a form sent are already in the plugin's file store when the plugin runs (the core
//! put them under `uploads/…`): a plugin that refuses the form should delete them
//! (`api::files::delete`) or keep their paths in hidden fields.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::calendar::parse_date;
use crate::i18n::Lang;
use crate::view::{FieldType, Form, Level, Node, notice};
use crate::{Request, Upload};

/// A refused field: its name and the message, in French and in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// The message in French.
    pub fr: String,
    /// The message in English.
    pub en: String,
}

impl FieldError {
    /// The message as `lang` reads.
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.fr, &self.en)
    }
}

/// A submitted form being decoded: its values, its files, the reader's language and the errors
/// found so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormData {
    lang: Lang,
    values: Vec<(String, String)>,
    uploads: Vec<Upload>,
    errors: Vec<FieldError>,
}

impl FormData {
    /// The form of `req` (its body fields and files), in its reader's language.
    pub fn new(req: &Request) -> FormData {
        FormData::from_pairs(req.lang(), req.form.clone(), req.uploads.clone())
    }

    /// The query of `req`, for a form sent with `GET` (a search, a filter).
    pub fn from_query(req: &Request) -> FormData {
        FormData::from_pairs(req.lang(), req.query.clone(), Vec::new())
    }

    /// Values and files as given (tests, or a form assembled by hand).
    pub fn from_pairs(lang: Lang, values: Vec<(String, String)>, uploads: Vec<Upload>) -> FormData {
        FormData {
            lang,
            values,
            uploads,
            errors: Vec::new(),
        }
    }

    /// The reader's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The first value sent for `name`, as sent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value sent for `name` (checkbox groups, multiple selections), as sent.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The trimmed value of `name`, `None` when absent or empty.
    fn present(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// One line of text (no control character).
    pub fn text(&mut self, name: &str) -> TextField<'_> {
        TextField::new(self, name, false)
    }

    /// Text on several lines (line breaks and tabs allowed).
    pub fn textarea(&mut self, name: &str) -> TextField<'_> {
        TextField::new(self, name, true)
    }

    /// A whole number.
    pub fn integer(&mut self, name: &str) -> IntegerField<'_> {
        IntegerField {
            name: name.to_owned(),
            form: self,
            required: false,
            range: None,
        }
    }

    /// A day, `YYYY-MM-DD`.
    pub fn date(&mut self, name: &str) -> DateField<'_> {
        DateField {
            name: name.to_owned(),
            form: self,
            required: false,
            range: None,
        }
    }

    /// A time, `HH:MM` (or `HH:MM:SS`).
    pub fn time(&mut self, name: &str) -> TimeField<'_> {
        TimeField {
            name: name.to_owned(),
            form: self,
            required: false,
        }
    }

    /// A day and time, `YYYY-MM-DDTHH:MM` (or with seconds).
    pub fn datetime(&mut self, name: &str) -> DateTimeField<'_> {
        DateTimeField {
            name: name.to_owned(),
            form: self,
            required: false,
        }
    }

    /// Whether the checkbox `name` was checked (sent, with any value but empty).
    pub fn checkbox(&self, name: &str) -> bool {
        self.raw(name).is_some_and(|v| !v.is_empty())
    }

    /// One of `options` (their values).
    pub fn select<'o>(&mut self, name: &str, options: &'o [&'o str]) -> SelectField<'_, 'o> {
        SelectField {
            name: name.to_owned(),
            form: self,
            options,
            required: false,
        }
    }

    /// A file sent in field `name`.
    pub fn file(&mut self, name: &str) -> FileField<'_> {
        FileField {
            name: name.to_owned(),
            form: self,
            required: false,
            max_bytes: None,
            content_types: Vec::new(),
        }
    }

    /// Records an error on `field` (a rule of the plugin: "la fin précède le début"); a field
    /// keeps its first error only.
    pub fn add_error(&mut self, field: &str, fr: impl Into<String>, en: impl Into<String>) {
        if self.error(field).is_none() {
            self.errors.push(FieldError {
                field: field.to_owned(),
                fr: fr.into(),
                en: en.into(),
            });
        }
    }

    /// The errors found, in the order of the fields read.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The error of `field`.
    pub fn error(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    /// Whether no error was found.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// Reads the fields with `read`; its result when no field was refused, or this form with
    /// its errors (for [`Form::with_submission`]).
    pub fn decode<T>(mut self, read: impl FnOnce(&mut FormData) -> T) -> Result<T, FormData> {
        let value = read(&mut self);
        if self.is_valid() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// A notice saying how many fields to correct, when some were refused: to put above the
    /// form.
    pub fn errors_notice(&self) -> Option<Node> {
        let n = self.errors.len();
        if n == 0 {
            return None;
        }
        let text = match (self.lang, n) {
            (Lang::Fr, 1) => "Un champ est à corriger.".to_owned(),
            (Lang::Fr, n) => format!("{n} champs sont à corriger."),
            (Lang::En, 1) => "One field needs correcting.".to_owned(),
            (Lang::En, n) => format!("{n} fields need correcting."),
        };
        Some(notice(Level::Error, text))
    }

    fn refuse(&mut self, field: &str, fr: String, en: String) {
        self.add_error(field, fr, en);
    }

    fn required(&mut self, field: &str) {
        self.refuse(
            field,
            "Ce champ est obligatoire.".into(),
            "This field is required.".into(),
        );
    }
}

impl Form {
    /// The form again after a refused submission: each field shows what was sent (files
    /// excepted; a checkbox is checked when it was) and its error in the reader's language.
    pub fn with_submission(mut self, submitted: &FormData) -> Form {
        for field in self.fields_mut() {
            let name = field.name().to_owned();
            match field.kind() {
                FieldType::File => field.set_value(None),
                FieldType::Checkbox => {
                    field.set_value(submitted.checkbox(&name).then(|| "on".to_owned()));
                }
                _ => {
                    if let Some(sent) = submitted.raw(&name) {
                        field.set_value(Some(sent.to_owned()));
                    }
                }
            }
            field.set_error(
                submitted
                    .error(&name)
                    .map(|e| e.message(submitted.lang()).to_owned()),
            );
        }
        self
    }
}

/// A text field being read.
#[derive(Debug)]
pub struct TextField<'f> {
    form: &'f mut FormData,
    name: String,
    multiline: bool,
    required: bool,
    min: Option<usize>,
    max: Option<usize>,
}

impl<'f> TextField<'f> {
    fn new(form: &'f mut FormData, name: &str, multiline: bool) -> TextField<'f> {
        TextField {
            form,
            name: name.to_owned(),
            multiline,
            required: false,
            min: None,
            max: None,
        }
    }

    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// At least `n` characters (once trimmed), when present.
    pub fn min_chars(mut self, n: usize) -> Self {
        self.min = Some(n);
        self
    }

    /// At most `n` characters (once trimmed).
    pub fn max_chars(mut self, n: usize) -> Self {
        self.max = Some(n);
        self
    }

    /// The trimmed text; `None` when absent, empty or refused.
    pub fn get(self) -> Option<String> {
        let TextField {
            form,
            name,
            multiline,
            required,
            min,
            max,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let chars = value.chars().count();
        let control = value
            .chars()
            .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
        if control {
            form.refuse(
                &name,
                "Caractère de contrôle ou saut de ligne non permis.".into(),
                "Control characters and line breaks are not allowed.".into(),
            );
        } else if let Some(min) = min.filter(|m| chars < *m) {
            form.refuse(
                &name,
                format!("Au moins {min} caractères."),
                format!("At least {min} characters."),
            );
        } else if let Some(max) = max.filter(|m| chars > *m) {
            form.refuse(
                &name,
                format!("Au plus {max} caractères ({chars} saisis)."),
                format!("At most {max} characters ({chars} typed)."),
            );
        } else {
            return Some(value);
        }
        None
    }

    /// The trimmed text, or an empty string.
    pub fn value(self) -> String {
        self.get().unwrap_or_default()
    }
}

/// A whole-number field being read.
#[derive(Debug)]
pub struct IntegerField<'f> {
    form: &'f mut FormData,
    name: String,
    required: bool,
    range: Option<(i64, i64)>,
}

impl IntegerField<'_> {
    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// From `min` to `max`, both included.
    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.range = Some((min, max));
        self
    }

    /// The number; `None` when absent or refused.
    pub fn get(self) -> Option<i64> {
        let IntegerField {
            form,
            name,
            required,
            range,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let Ok(n) = value.parse::<i64>() else {
            form.refuse(
                &name,
                "Un nombre entier est attendu.".into(),
                "A whole number is expected.".into(),
            );
            return None;
        };
        if let Some((min, max)) = range.filter(|(min, max)| n < *min || n > *max) {
            form.refuse(
                &name,
                format!("Un nombre de {min} à {max} est attendu."),
                format!("A number from {min} to {max} is expected."),
            );
            return None;
        }
        Some(n)
    }

    /// The number, or 0.
    pub fn value(self) -> i64 {
        self.get().unwrap_or_default()
    }
}

/// A day field being read.
#[derive(Debug)]
pub struct DateField<'f> {
    form: &'f mut FormData,
    name: String,
    required: bool,
    range: Option<(NaiveDate, NaiveDate)>,
}

impl DateField<'_> {
    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// From `first` to `last`, both included.
    pub fn between(mut self, first: NaiveDate, last: NaiveDate) -> Self {
        self.range = Some((first, last));
        self
    }

    /// The day; `None` when absent or refused.
    pub fn get(self) -> Option<NaiveDate> {
        let DateField {
            form,
            name,
            required,
            range,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let Some(day) = parse_date(&value) else {
            form.refuse(
                &name,
                "Une date au format AAAA-MM-JJ est attendue.".into(),
                "A date in YYYY-MM-DD format is expected.".into(),
            );
            return None;
        };
        if let Some((first, last)) = range.filter(|(f, l)| day < *f || day > *l) {
            form.refuse(
                &name,
                format!(
                    "Une date du {} au {} est attendue.",
                    Lang::Fr.short_date(first),
                    Lang::Fr.short_date(last)
                ),
                format!(
                    "A date from {} to {} is expected.",
                    Lang::En.short_date(first),
                    Lang::En.short_date(last)
                ),
            );
            return None;
        }
        Some(day)
    }

    /// The day, or 1970-01-01 when absent or refused (a default never used: see
    /// [`FormData::decode`]).
    pub fn value(self) -> NaiveDate {
        self.get().unwrap_or_default()
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let shaped = |fmt: &str, len: usize| {
        (s.len() == len)
            .then(|| NaiveTime::parse_from_str(s, fmt).ok())
            .flatten()
    };
    shaped("%H:%M", 5).or_else(|| shaped("%H:%M:%S", 8))
}

/// A time field being read.
#[derive(Debug)]
pub struct TimeField<'f> {
    form: &'f mut FormData,
    name: String,
    required: bool,
}

impl TimeField<'_> {
    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The time; `None` when absent or refused.
    pub fn get(self) -> Option<NaiveTime> {
        let TimeField {
            form,
            name,
            required,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let time = parse_time(&value);
        if time.is_none() {
            form.refuse(
                &name,
                "Une heure au format HH:MM est attendue.".into(),
                "A time in HH:MM format is expected.".into(),
            );
        }
        time
    }

    /// The time, or midnight when absent or refused.
    pub fn value(self) -> NaiveTime {
        self.get().unwrap_or_default()
    }
}

/// A day-and-time field being read.
#[derive(Debug)]
pub struct DateTimeField<'f> {
    form: &'f mut FormData,
    name: String,
    required: bool,
}

impl DateTimeField<'_> {
    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The day and time; `None` when absent or refused.
    pub fn get(self) -> Option<NaiveDateTime> {
        let DateTimeField {
            form,
            name,
            required,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let parsed = value
            .split_once('T')
            .and_then(|(d, t)| Some(parse_date(d)?.and_time(parse_time(t)?)));
        if parsed.is_none() {
            form.refuse(
                &name,
                "Une date et une heure au format AAAA-MM-JJTHH:MM sont attendues.".into(),
                "A date and time in YYYY-MM-DDTHH:MM format are expected.".into(),
            );
        }
        parsed
    }

    /// The day and time, or 1970-01-01T00:00 when absent or refused.
    pub fn value(self) -> NaiveDateTime {
        self.get().unwrap_or_default()
    }
}

/// A choice among options being read.
#[derive(Debug)]
pub struct SelectField<'f, 'o> {
    form: &'f mut FormData,
    name: String,
    options: &'o [&'o str],
    required: bool,
}

impl<'o> SelectField<'_, 'o> {
    /// Refused when absent or empty.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The option chosen; `None` when absent or refused (not one of the options).
    pub fn get(self) -> Option<&'o str> {
        let SelectField {
            form,
            name,
            options,
            required,
        } = self;
        let Some(value) = form.present(&name) else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let chosen = options.iter().find(|o| **o == value).copied();
        if chosen.is_none() {
            form.refuse(
                &name,
                "Choisissez une des options proposées.".into(),
                "Choose one of the options offered.".into(),
            );
        }
        chosen
    }

    /// The option chosen, or an empty string.
    pub fn value(self) -> &'o str {
        self.get().unwrap_or_default()
    }
}

/// A file field being read.
#[derive(Debug)]
pub struct FileField<'f> {
    form: &'f mut FormData,
    name: String,
    required: bool,
    max_bytes: Option<u64>,
    content_types: Vec<String>,
}

impl FileField<'_> {
    /// Refused when no file was sent.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// At most `n` bytes.
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// Only these content types: exact (`application/pdf`) or a family (`image/*`).
    pub fn content_types(mut self, types: &[&str]) -> Self {
        self.content_types = types.iter().map(|t| t.to_ascii_lowercase()).collect();
        self
    }

    /// The file (where the core stored it, its name, type and size); `None` when absent or
    /// refused.
    pub fn get(self) -> Option<Upload> {
        let FileField {
            form,
            name,
            required,
            max_bytes,
            content_types,
        } = self;
        let Some(upload) = form
            .uploads
            .iter()
            .find(|u| u.field == name && !u.filename.is_empty())
            .cloned()
        else {
            if required {
                form.required(&name);
            }
            return None;
        };
        let content_type = upload
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let accepted = content_types.is_empty()
            || content_types.iter().any(|t| match t.strip_suffix("/*") {
                Some(family) => content_type
                    .split_once('/')
                    .is_some_and(|(f, _)| f == family),
                None => *t == content_type,
            });
        if let Some(max) = max_bytes.filter(|m| upload.size > *m) {
            let kib = max.div_ceil(1024);
            form.refuse(
                &name,
                format!("Fichier trop volumineux (au plus {kib} Kio)."),
                format!("File too large (at most {kib} KiB)."),
            );
            return None;
        }
        if !accepted {
            form.refuse(
                &name,
                format!("Type de fichier non accepté ({content_type})."),
                format!("File type not accepted ({content_type})."),
            );
            return None;
        }
        Some(upload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Field, Page};
    use serde_json::json;

    fn form(lang: Lang, pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(
            lang,
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            vec![Upload {
                field: "piece".into(),
                path: "uploads/0190/sujet.pdf".into(),
                filename: "sujet.pdf".into(),
                content_type: "application/pdf".into(),
                size: 2048,
            }],
        )
    }

    #[derive(Debug, PartialEq)]
    struct Devoir {
        titre: String,
        echeance: NaiveDate,
        pages: Option<i64>,
        heure: Option<NaiveTime>,
        classe: String,
        note: bool,
        piece: Option<String>,
    }

    fn decode(f: FormData) -> Result<Devoir, FormData> {
        f.decode(|f| Devoir {
            titre: f
                .text("titre")
                .required()
                .min_chars(2)
                .max_chars(10)
                .value(),
            echeance: f.date("echeance").required().value(),
            pages: f.integer("pages").range(1, 500).get(),
            heure: f.time("heure").get(),
            classe: f
                .select("classe", &["4B", "4C"])
                .required()
                .value()
                .to_owned(),
            note: f.checkbox("note"),
            piece: f
                .file("piece")
                .max_bytes(4096)
                .content_types(&["application/pdf", "image/*"])
                .get()
                .map(|u| u.path),
        })
    }

    #[test]
    fn a_good_submission_gives_typed_values() {
        let f = form(
            Lang::Fr,
            &[
                ("titre", "  Ex. 4  "),
                ("echeance", "2026-12-01"),
                ("pages", "12"),
                ("heure", "08:30"),
                ("classe", "4C"),
                ("note", "on"),
            ],
        );
        assert_eq!(
            decode(f),
            Ok(Devoir {
                titre: "Ex. 4".into(),
                echeance: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
                pages: Some(12),
                heure: NaiveTime::from_hms_opt(8, 30, 0),
                classe: "4C".into(),
                note: true,
                piece: Some("uploads/0190/sujet.pdf".into()),
            })
        );
    }

    #[test]
    fn a_bad_submission_gives_one_error_per_field_in_the_readers_language() {
        let sent = [
            ("titre", "beaucoup trop long"),
            ("echeance", "2026-02-30"),
            ("pages", "douze"),
            ("heure", "8h30"),
            ("classe", "6A"),
        ];
        let errors = decode(form(Lang::Fr, &sent)).expect_err("refused");
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["titre", "echeance", "pages", "heure", "classe"]);
        assert_eq!(
            errors.error("titre").map(|e| e.message(Lang::Fr)),
            Some("Au plus 10 caractères (18 saisis).")
        );
        assert_eq!(
            errors.error("pages").map(|e| e.message(Lang::En)),
            Some("A whole number is expected.")
        );
        let missing = decode(form(Lang::En, &[("pages", "0")])).expect_err("refused");
        assert_eq!(
            missing.error("titre").map(|e| e.message(missing.lang())),
            Some("This field is required.")
        );
        assert_eq!(
            missing.error("pages").map(|e| e.fr.as_str()),
            Some("Un nombre de 1 à 500 est attendu.")
        );
        assert!(missing.error("heure").is_none(), "optional and absent");
    }

    #[test]
    fn text_rules() {
        let mut f = form(
            Lang::Fr,
            &[
                ("a", "un\ndeux"),
                ("b", "un\ndeux"),
                ("c", "   "),
                ("d", "x"),
            ],
        );
        assert_eq!(f.text("a").get(), None);
        assert_eq!(f.textarea("b").get(), Some("un\ndeux".into()));
        assert_eq!(f.text("c").get(), None);
        assert_eq!(f.text("d").min_chars(2).get(), None);
        let fields: Vec<&str> = f.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["a", "d"], "an empty optional field is no error");
        assert_eq!(f.all("a"), ["un\ndeux"]);
    }

    #[test]
    fn dates_times_and_ranges() {
        let day = |s| parse_date(s).expect("date");
        let mut f = form(
            Lang::En,
            &[
                ("a", "2026-09-01"),
                ("b", "2027-09-01"),
                ("t", "08:30:15"),
                ("dt", "2026-11-30T08:00"),
                ("bad", "2026-11-30 08:00"),
            ],
        );
        let year = (day("2026-09-01"), day("2027-07-04"));
        assert_eq!(
            f.date("a").between(year.0, year.1).get(),
            Some(day("2026-09-01"))
        );
        assert_eq!(f.date("b").between(year.0, year.1).get(), None);
        assert_eq!(
            f.error("b").map(|e| e.en.as_str()),
            Some("A date from 01/09/2026 to 04/07/2027 is expected.")
        );
        assert_eq!(f.time("t").get(), NaiveTime::from_hms_opt(8, 30, 15));
        assert_eq!(
            f.datetime("dt").get(),
            day("2026-11-30").and_hms_opt(8, 0, 0)
        );
        assert_eq!(f.datetime("bad").get(), None);
        assert_eq!(f.time("absent").required().value(), NaiveTime::default());
        assert_eq!(f.errors().len(), 3);
    }

    #[test]
    fn file_rules() {
        let mut f = form(Lang::Fr, &[]);
        assert!(f.file("piece").max_bytes(1024).get().is_none());
        assert_eq!(
            f.error("piece").map(|e| e.fr.as_str()),
            Some("Fichier trop volumineux (au plus 1 Kio).")
        );
        let mut f = form(Lang::Fr, &[]);
        assert!(f.file("piece").content_types(&["image/*"]).get().is_none());
        assert_eq!(
            f.error("piece").map(|e| e.en.as_str()),
            Some("File type not accepted (application/pdf).")
        );
        let mut f = form(Lang::Fr, &[]);
        assert!(f.file("autre").required().get().is_none());
        assert!(f.file("autre").get().is_none());
        assert_eq!(f.errors().len(), 1);
    }

    #[test]
    fn a_custom_error_and_the_notice() {
        let mut f = form(Lang::Fr, &[]);
        assert!(f.errors_notice().is_none());
        f.add_error(
            "fin",
            "La fin précède le début.",
            "The end is before the start.",
        );
        f.add_error("fin", "autre", "other");
        assert_eq!(f.errors().len(), 1);
        assert_eq!(
            f.errors_notice(),
            Some(notice(Level::Error, "Un champ est à corriger."))
        );
        f.add_error("debut", "a", "b");
        let f = FormData {
            lang: Lang::En,
            ..f
        };
        assert_eq!(
            f.errors_notice(),
            Some(notice(Level::Error, "2 fields need correcting."))
        );
    }

    #[test]
    fn the_form_comes_back_with_values_and_errors() {
        let view = |lang: Lang| {
            Form::post("/devoirs", "Enregistrer")
                .field(Field::text("titre", "Titre").required())
                .field(Field::date("echeance", "Échéance").value("2026-12-01"))
                .field(Field::checkbox("note", "Noté").checked(true))
                .field(Field::file("piece", "Pièce jointe"))
                .field(Field::select("classe", "Classe", [("4B", "4e B")]))
                .field(Field::hidden("revision", "7"))
                .with_submission(
                    &decode(form(
                        lang,
                        &[("titre", "x"), ("echeance", "demain"), ("classe", "4B")],
                    ))
                    .expect_err("refused"),
                )
        };
        let json = Page::new("t")
            .push(view(Lang::Fr))
            .to_value()
            .expect("valid view");
        assert_eq!(
            json["body"][0]["fields"],
            json!([
                {"name": "titre", "label": "Titre", "type": "text", "required": true, "value": "x",
                 "error": "Au moins 2 caractères."},
                {"name": "echeance", "label": "Échéance", "type": "date", "value": "demain",
                 "error": "Une date au format AAAA-MM-JJ est attendue."},
                {"name": "note", "label": "Noté", "type": "checkbox"},
                {"name": "piece", "label": "Pièce jointe", "type": "file"},
                {"name": "classe", "label": "Classe", "type": "select", "value": "4B",
                 "options": [{"value": "4B", "label": "4e B"}]},
                {"name": "revision", "label": "revision", "type": "hidden", "value": "7"},
            ])
        );
        let english = Page::new("t")
            .push(view(Lang::En))
            .to_value()
            .expect("valid view");
        assert_eq!(
            english["body"][0]["fields"][0]["error"],
            json!("At least 2 characters.")
        );
    }
}
