//! A plugin's view (`view/1.x`, checked by the host: `docs/view-schema.md`) as accessible HTML,
//! for the portal frame: headings follow the nesting, tables have captions and header cells,
//! form fields have labels, their help and their error tied with `aria-describedby`, notices are
//! live regions, the week and month views are lists and tables a screen reader can walk. Every
//! string is escaped; `user-text` goes through ammonia's allow-list; every link is prefixed with
//! the plugin's base path (the host already refused links leaving the plugin).

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use crate::portal::i18n::Lang;

/// What the renderer needs besides the view.
pub struct RenderContext<'a> {
    /// `/e/{uai}/apps/{publisher}/{name}`.
    pub base: &'a str,
    /// The session's CSRF token, put in every POST form (empty: none).
    pub csrf: &'a str,
    pub lang: Lang,
    /// Prefix of element ids (several views on one page: the dashboard's widgets).
    pub id_prefix: &'a str,
    /// The level of the view's own title (`1` for a page, `3` inside a dashboard card).
    pub title_level: usize,
}

/// The view's body as HTML (its title is the page's `<h1>`, which the frame renders).
pub fn body(view: &Value, cx: &RenderContext<'_>) -> String {
    let mut r = Renderer {
        out: String::with_capacity(4096),
        cx,
        ids: 0,
    };
    if let Some(nodes) = view.get("body").and_then(Value::as_array) {
        r.nodes(nodes, cx.title_level + 1);
    }
    r.out
}

/// The view's title.
pub fn title(view: &Value) -> &str {
    view.get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A plugin path under the plugin's base (`/` is the base itself).
pub fn href(base: &str, path: &str) -> String {
    if path == "/" {
        base.to_owned()
    } else {
        format!("{base}{path}")
    }
}

/// `s` escaped for HTML text and quoted attribute values.
pub fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Text written by users, cleaned: ammonia's allow-list of tags and attributes (no script, no
/// style, no event handler, no `javascript:` URL), links made `rel="noopener noreferrer"`.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

struct Renderer<'a> {
    out: String,
    cx: &'a RenderContext<'a>,
    ids: usize,
}

fn str_of<'v>(node: &'v Value, field: &str) -> &'v str {
    node.get(field).and_then(Value::as_str).unwrap_or_default()
}

impl Renderer<'_> {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn text(&mut self, s: &str) {
        escape(&mut self.out, s);
    }

    fn new_id(&mut self, what: &str) -> String {
        self.ids += 1;
        format!("{}{what}-{}", self.cx.id_prefix, self.ids)
    }

    fn heading(&mut self, level: usize, id: Option<&str>, text: &str) {
        let level = level.clamp(2, 6);
        self.push(&format!("<h{level}"));
        if let Some(id) = id {
            self.push(&format!(" id=\"{id}\""));
        }
        self.push(">");
        self.text(text);
        self.push(&format!("</h{level}>"));
    }

    fn link(&mut self, node: &Value, class: &str, download: bool) {
        let target = href(self.cx.base, str_of(node, "href"));
        self.push("<a href=\"");
        self.text(&target);
        self.push("\"");
        if !class.is_empty() {
            self.push(&format!(" class=\"{class}\""));
        }
        if download {
            self.push(" download");
        }
        self.push(">");
        self.text(str_of(node, "label"));
        self.push("</a>");
    }

    fn nodes(&mut self, nodes: &[Value], level: usize) {
        for node in nodes {
            self.node(node, level);
        }
    }

    fn node(&mut self, node: &Value, level: usize) {
        let body = |n: &Value, f: &str| n.get(f).and_then(Value::as_array).cloned();
        match str_of(node, "kind") {
            "section" => {
                let title = str_of(node, "title");
                if title.is_empty() {
                    self.push("<section>");
                    if let Some(b) = body(node, "body") {
                        self.nodes(&b, level);
                    }
                } else {
                    let id = self.new_id("s");
                    self.push(&format!("<section aria-labelledby=\"{id}\">"));
                    self.heading(level, Some(&id), title);
                    if let Some(b) = body(node, "body") {
                        self.nodes(&b, level + 1);
                    }
                }
                self.push("</section>");
            }
            "text" => {
                self.push("<p>");
                self.text(str_of(node, "text"));
                self.push("</p>");
            }
            "user-text" => {
                self.push("<div class=\"user-text\">");
                let clean = sanitize(str_of(node, "html"));
                self.push(&clean);
                self.push("</div>");
            }
            "list" => {
                let tag = if node.get("ordered").and_then(Value::as_bool) == Some(true) {
                    "ol"
                } else {
                    "ul"
                };
                self.push(&format!("<{tag} class=\"view-list\">"));
                for item in body(node, "items").unwrap_or_default() {
                    self.push("<li>");
                    self.inline(&item, level);
                    self.push("</li>");
                }
                self.push(&format!("</{tag}>"));
            }
            "table" => self.table(node, level),
            "card" => {
                self.push("<article class=\"card\">");
                self.heading(level, None, str_of(node, "title"));
                if let Some(b) = body(node, "body") {
                    self.nodes(&b, level + 1);
                }
                if let Some(link) = node.get("link") {
                    self.push("<p>");
                    self.link(link, "", false);
                    self.push("</p>");
                }
                self.push("</article>");
            }
            "notice" => {
                let level_name = str_of(node, "level");
                let role = if level_name == "error" {
                    "alert"
                } else {
                    "status"
                };
                self.push(&format!(
                    "<div class=\"view-notice view-notice-{level_name}\" role=\"{role}\">"
                ));
                self.text(str_of(node, "text"));
                self.push("</div>");
            }
            "link" => {
                self.push("<p>");
                self.link(node, "", false);
                self.push("</p>");
            }
            "download" => {
                self.push("<p>");
                self.link(node, "download", true);
                self.push("</p>");
            }
            "form" => self.form(node),
            "week" => self.week(node, level),
            "month" => self.month(node),
            // The host refused every other kind; nothing else can arrive.
            _ => {}
        }
    }

    /// A node inside a list item or a table cell: text without a paragraph around it.
    fn inline(&mut self, node: &Value, level: usize) {
        match str_of(node, "kind") {
            "text" => self.text(str_of(node, "text")),
            "link" => self.link(node, "", false),
            "download" => self.link(node, "download", true),
            _ => self.node(node, level),
        }
    }

    fn table(&mut self, node: &Value, level: usize) {
        self.push("<div class=\"table-wrap\"><table><caption>");
        self.text(str_of(node, "caption"));
        self.push("</caption><thead><tr>");
        let columns = node
            .get("columns")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &columns {
            self.push("<th scope=\"col\">");
            self.text(c.as_str().unwrap_or_default());
            self.push("</th>");
        }
        self.push("</tr></thead><tbody>");
        for row in node
            .get("rows")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            self.push("<tr>");
            for (i, cell) in row
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                // The first cell names the row.
                let (open, close) = if i == 0 {
                    ("<th scope=\"row\">", "</th>")
                } else {
                    ("<td>", "</td>")
                };
                self.push(open);
                match cell.as_str() {
                    Some(s) => self.text(s),
                    None => self.inline(cell, level),
                }
                self.push(close);
            }
            self.push("</tr>");
        }
        self.push("</tbody></table></div>");
    }

    fn form(&mut self, node: &Value) {
        let method = str_of(node, "method");
        let fields = node
            .get("fields")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let multipart = fields.iter().any(|f| str_of(f, "type") == "file");
        let action = href(self.cx.base, str_of(node, "action"));
        self.push(&format!(
            "<form class=\"stack view-form\" method=\"{method}\" action=\""
        ));
        self.text(&action);
        self.push("\"");
        if multipart && method == "post" {
            self.push(" enctype=\"multipart/form-data\"");
        }
        self.push(">");
        if method == "post" && !self.cx.csrf.is_empty() {
            self.push("<input type=\"hidden\" name=\"_csrf\" value=\"");
            let csrf = self.cx.csrf;
            self.text(csrf);
            self.push("\">");
        }
        for field in &fields {
            self.field(field);
        }
        self.push("<div><button class=\"primary\" type=\"submit\">");
        self.text(str_of(node, "submit"));
        self.push("</button></div></form>");
    }

    fn field(&mut self, field: &Value) {
        let kind = str_of(field, "type");
        let name = str_of(field, "name");
        let value = str_of(field, "value");
        let required = field.get("required").and_then(Value::as_bool) == Some(true);
        let help = str_of(field, "help");
        let error = str_of(field, "error");
        if kind == "hidden" {
            self.push("<input type=\"hidden\" name=\"");
            self.text(name);
            self.push("\" value=\"");
            self.text(value);
            self.push("\">");
            return;
        }
        let id = self.new_id("f");
        let mut described = Vec::new();
        if !help.is_empty() {
            described.push(format!("{id}-help"));
        }
        if !error.is_empty() {
            described.push(format!("{id}-error"));
        }
        // Shared attributes of the control: name, id, required, description, invalid.
        let mut attrs = String::new();
        attrs.push_str(" name=\"");
        escape(&mut attrs, name);
        attrs.push_str(&format!("\" id=\"{id}\""));
        if required {
            attrs.push_str(" required");
        }
        if !described.is_empty() {
            attrs.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
        }
        if !error.is_empty() {
            attrs.push_str(" aria-invalid=\"true\"");
        }
        let label = str_of(field, "label");
        let required_mark = if required {
            match self.cx.lang {
                Lang::Fr => " <span class=\"required\">(obligatoire)</span>",
                Lang::En => " <span class=\"required\">(required)</span>",
            }
        } else {
            ""
        };
        let options = field
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match kind {
            "checkbox" => {
                self.push("<div class=\"field check\">");
                self.push(&format!("<input type=\"checkbox\"{attrs}"));
                if value == "on" {
                    self.push(" checked");
                }
                self.push(&format!("><label for=\"{id}\">"));
                self.text(label);
                self.push(required_mark);
                self.push("</label>");
            }
            "radio" => {
                self.push("<fieldset class=\"field\"");
                if !described.is_empty() {
                    self.push(&format!(" aria-describedby=\"{}\"", described.join(" ")));
                }
                self.push("><legend>");
                self.text(label);
                self.push(required_mark);
                self.push("</legend>");
                for (i, option) in options.iter().enumerate() {
                    let v = str_of(option, "value");
                    self.push("<div class=\"check\"><input type=\"radio\" name=\"");
                    self.text(name);
                    self.push(&format!("\" id=\"{id}-{i}\" value=\""));
                    self.text(v);
                    self.push("\"");
                    if v == value {
                        self.push(" checked");
                    }
                    if required {
                        self.push(" required");
                    }
                    self.push(&format!("><label for=\"{id}-{i}\">"));
                    self.text(str_of(option, "label"));
                    self.push("</label></div>");
                }
            }
            _ => {
                self.push(&format!("<div class=\"field\"><label for=\"{id}\">"));
                self.text(label);
                self.push(required_mark);
                self.push("</label>");
                match kind {
                    "textarea" => {
                        self.push(&format!("<textarea rows=\"6\"{attrs}>"));
                        self.text(value);
                        self.push("</textarea>");
                    }
                    "select" => {
                        self.push(&format!("<select{attrs}>"));
                        for option in &options {
                            let v = str_of(option, "value");
                            self.push("<option value=\"");
                            self.text(v);
                            self.push("\"");
                            if v == value {
                                self.push(" selected");
                            }
                            self.push(">");
                            self.text(str_of(option, "label"));
                            self.push("</option>");
                        }
                        self.push("</select>");
                    }
                    other => {
                        let input = match other {
                            "datetime" => "datetime-local",
                            "number" | "date" | "time" | "file" => other,
                            _ => "text",
                        };
                        self.push(&format!("<input type=\"{input}\"{attrs}"));
                        if input != "file" {
                            self.push(" value=\"");
                            self.text(value);
                            self.push("\"");
                        }
                        self.push(">");
                    }
                }
            }
        }
        if !help.is_empty() {
            self.push(&format!("<p class=\"hint\" id=\"{id}-help\">"));
            self.text(help);
            self.push("</p>");
        }
        if !error.is_empty() {
            self.push(&format!("<p class=\"field-error\" id=\"{id}-error\">"));
            self.text(error);
            self.push("</p>");
        }
        self.push(if kind == "radio" {
            "</fieldset>"
        } else {
            "</div>"
        });
    }

    /// Seven days from `start`, each a titled list of its events (those whose `start` begins
    /// with the day's date; times shown as given).
    fn week(&mut self, node: &Value, level: usize) {
        let Ok(start) = NaiveDate::parse_from_str(str_of(node, "start"), "%Y-%m-%d") else {
            return;
        };
        let events = node
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        self.push("<div class=\"week\">");
        for day in start.iter_days().take(7) {
            let key = day.format("%Y-%m-%d").to_string();
            let mine: Vec<&Value> = events
                .iter()
                .filter(|e| str_of(e, "start").starts_with(&key))
                .collect();
            self.push("<section class=\"week-day\">");
            self.heading(level, None, &long_date(day, self.cx.lang));
            if mine.is_empty() {
                self.push("<p class=\"hint\">");
                self.push(match self.cx.lang {
                    Lang::Fr => "Rien de prévu.",
                    Lang::En => "Nothing planned.",
                });
                self.push("</p>");
            } else {
                self.push("<ul>");
                for e in mine {
                    self.push("<li><span class=\"time\">");
                    self.text(time_part(str_of(e, "start")));
                    self.push("–");
                    self.text(time_part(str_of(e, "end")));
                    self.push("</span> ");
                    self.event_title(e);
                    self.push("</li>");
                }
                self.push("</ul>");
            }
            self.push("</section>");
        }
        self.push("</div>");
    }

    fn event_title(&mut self, e: &Value) {
        if e.get("href").is_some() {
            let link = serde_json::json!({"label": str_of(e, "title"), "href": str_of(e, "href")});
            self.link(&link, "", false);
        } else {
            self.text(str_of(e, "title"));
        }
    }

    /// A month as a table of weeks (Monday first), each day with its events.
    fn month(&mut self, node: &Value) {
        let Ok(first) =
            NaiveDate::parse_from_str(&format!("{}-01", str_of(node, "month")), "%Y-%m-%d")
        else {
            return;
        };
        let events = node
            .get("events")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let lang = self.cx.lang;
        self.push("<div class=\"table-wrap\"><table class=\"month\"><caption>");
        let caption = format!("{} {}", month_name(first.month(), lang), first.year());
        self.text(&caption);
        self.push("</caption><thead><tr>");
        for d in 0..7 {
            self.push(&format!(
                "<th scope=\"col\"><abbr title=\"{}\">{}</abbr></th>",
                day_name(d, lang),
                &day_name(d, lang)[..3]
            ));
        }
        self.push("</tr></thead><tbody>");
        let offset = first.weekday().num_days_from_monday() as usize;
        let days: Vec<NaiveDate> = first
            .iter_days()
            .take_while(|d| d.month() == first.month())
            .collect();
        let mut cells: Vec<Option<NaiveDate>> = vec![None; offset];
        cells.extend(days.into_iter().map(Some));
        while !cells.len().is_multiple_of(7) {
            cells.push(None);
        }
        for week in cells.chunks(7) {
            self.push("<tr>");
            for cell in week {
                match cell {
                    None => self.push("<td></td>"),
                    Some(day) => {
                        let key = day.format("%Y-%m-%d").to_string();
                        self.push(&format!("<td><span class=\"day\">{}</span>", day.day()));
                        let mine: Vec<&Value> =
                            events.iter().filter(|e| str_of(e, "date") == key).collect();
                        if !mine.is_empty() {
                            self.push("<ul>");
                            for e in mine {
                                self.push("<li>");
                                self.event_title(e);
                                self.push("</li>");
                            }
                            self.push("</ul>");
                        }
                        self.push("</td>");
                    }
                }
            }
            self.push("</tr>");
        }
        self.push("</tbody></table></div>");
    }
}

/// `08:00` from `2026-11-30T08:00` (or the text as given).
fn time_part(s: &str) -> &str {
    s.split_once('T').map_or(s, |(_, t)| t)
}

fn day_name(monday_based: u32, lang: Lang) -> &'static str {
    const FR: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = (monday_based % 7) as usize;
    match lang {
        Lang::Fr => FR[i],
        Lang::En => EN[i],
    }
}

fn month_name(month: u32, lang: Lang) -> &'static str {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let i = (month.clamp(1, 12) - 1) as usize;
    match lang {
        Lang::Fr => FR[i],
        Lang::En => EN[i],
    }
}

/// "lundi 30 novembre 2026" / "Monday 30 November 2026".
pub fn long_date(day: NaiveDate, lang: Lang) -> String {
    format!(
        "{} {} {} {}",
        day_name(day.weekday().num_days_from_monday(), lang),
        day.day(),
        month_name(day.month(), lang),
        day.year()
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(body: Value) -> String {
        let view = json!({"schema": "view/1.0", "title": "T", "body": body});
        preau_host::view::check(&view).expect("a valid view");
        super::body(
            &view,
            &RenderContext {
                base: "/e/0750652B/apps/acme/devoirs",
                csrf: "tok",
                lang: Lang::Fr,
                id_prefix: "",
                title_level: 1,
            },
        )
    }

    #[test]
    fn text_is_escaped_and_user_text_sanitized() {
        let html = render(json!([
            {"kind": "text", "text": "<script>alert(1)</script> & \"q\""},
            {"kind": "user-text", "html": "<p onclick=\"x()\">ok <b>gras</b><script>evil()</script><a href=\"javascript:alert(1)\">l</a></p>"}
        ]));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("<b>gras</b>"));
    }

    #[test]
    fn links_and_forms_stay_under_the_plugin_and_carry_the_token() {
        let html = render(json!([
            {"kind": "link", "label": "Accueil", "href": "/"},
            {"kind": "download", "label": "Export", "href": "/export.csv"},
            {"kind": "form", "action": "/devoirs", "method": "post", "submit": "Enregistrer", "fields": [
                {"name": "titre", "label": "Titre", "type": "text", "required": true, "value": "a\"b", "error": "Trop court / Too short", "help": "Aide"},
                {"name": "piece", "label": "Pièce jointe", "type": "file"},
                {"name": "classe", "label": "Classe", "type": "select", "value": "4B",
                 "options": [{"value": "4A", "label": "4e A"}, {"value": "4B", "label": "4e B"}]}
            ]}
        ]));
        assert!(html.contains("<a href=\"/e/0750652B/apps/acme/devoirs\">Accueil</a>"));
        assert!(html.contains(
            "href=\"/e/0750652B/apps/acme/devoirs/export.csv\" class=\"download\" download"
        ));
        assert!(html.contains("action=\"/e/0750652B/apps/acme/devoirs/devoirs\""));
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert!(html.contains("name=\"_csrf\" value=\"tok\""));
        assert!(html.contains("value=\"a&quot;b\""));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("aria-describedby=\"f-1-help f-1-error\""));
        assert!(html.contains("<option value=\"4B\" selected>4e B</option>"));
    }

    #[test]
    fn tables_weeks_and_months_are_structured() {
        let html = render(json!([
            {"kind": "table", "caption": "Notes", "columns": ["Élève", "Note"], "rows": [["Ada", "18"]]},
            {"kind": "week", "start": "2026-11-30", "events": [
                {"title": "Salle 101", "start": "2026-11-30T08:00", "end": "2026-11-30T10:00"}]},
            {"kind": "month", "month": "2026-12", "events": [{"title": "Conseil", "date": "2026-12-01", "href": "/c/1"}]}
        ]));
        assert!(html.contains("<caption>Notes</caption>"));
        assert!(html.contains("<th scope=\"row\">Ada</th><td>18</td>"));
        assert!(html.contains("lundi 30 novembre 2026"));
        assert!(html.contains("08:00–10:00"));
        assert!(html.contains("<caption>décembre 2026</caption>"));
        // 1 December 2026 is a Tuesday: one empty Monday cell first.
        assert!(html.contains("<tbody><tr><td></td><td><span class=\"day\">1</span>"));
        assert!(html.contains("href=\"/e/0750652B/apps/acme/devoirs/c/1\""));
    }
}
