//! Translations of the citizen's screens: one Fluent file per language under `i18n/`, embedded in
//! the binary. Templates ask a [`Tr`] for their words; the same messages reach the page's scripts
//! as a JSON data block (`<script type="application/json" id="messages">`, which the browser never
//! runs, so the strict CSP stays as it is), read by `static/i18n.js`.
//!
//! Swedish is the source and the fallback: a message missing in another language shows in
//! Swedish rather than as an id. The test `web/tests/i18n.rs` makes that impossible to ship: every
//! language has every Swedish message with the same variables, and every id a template, handler
//! or script names exists.
//!
//! Scripts get each message as its text with `{$name}` where a variable goes, or, for a message
//! that is one choice on a number (`{ $minutes -> [one] … *[other] … }`), the variants by plural
//! category; `i18n.js` does the rest with `Intl.PluralRules`. Nothing else of Fluent is offered to
//! scripts (a test checks every message fits).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use serde_json::{Map, Value};

/// A language of the booth, in the order its language screen offers them: Swedish first, then
/// the languages most spoken among people who read Swedish poorly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
    Ar,
    Fi,
    So,
    Fa,
}

impl Lang {
    pub const ALL: [Lang; 6] = [Lang::Sv, Lang::En, Lang::Ar, Lang::Fi, Lang::So, Lang::Fa];

    /// The BCP 47 tag, as in `<html lang>` and `?lang=`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Sv => "sv",
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::Fi => "fi",
            Lang::So => "so",
            Lang::Fa => "fa",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// Arabic and Persian are written right to left.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar | Lang::Fa => "rtl",
            _ => "ltr",
        }
    }

    /// The Fluent file, as embedded.
    pub fn source(self) -> &'static str {
        match self {
            Lang::Sv => include_str!("../i18n/sv.ftl"),
            Lang::En => include_str!("../i18n/en.ftl"),
            Lang::Ar => include_str!("../i18n/ar.ftl"),
            Lang::Fi => include_str!("../i18n/fi.ftl"),
            Lang::So => include_str!("../i18n/so.ftl"),
            Lang::Fa => include_str!("../i18n/fa.ftl"),
        }
    }
}

/// Why a file or a message does not fit: for the test, and for the log at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

struct Language {
    bundle: FluentBundle<FluentResource>,
    /// What scripts get, as JSON safe inside a `<script>` element.
    script_json: String,
}

struct Catalog {
    languages: Vec<(Lang, Language)>,
}

impl Catalog {
    fn get(&self, lang: Lang) -> &Language {
        // `load` builds one entry per `Lang::ALL`, so the search cannot fail; the first entry
        // (Swedish) stands in rather than a panic.
        self.languages
            .iter()
            .find(|(l, _)| *l == lang)
            .or(self.languages.first())
            .map(|(_, language)| language)
            .expect("the catalog holds every language")
    }
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        languages: Lang::ALL.into_iter().map(|l| (l, load(l))).collect(),
    })
}

/// Parses a language's file into its bundle. A broken file (which the tests keep out of a
/// build) is used as far as it parses, and said in the log.
fn load(lang: Lang) -> Language {
    let resource = parse(lang).unwrap_or_else(|(resource, problems)| {
        for p in &problems {
            tracing::error!(lang = lang.code(), problem = %p.0, "translation file");
        }
        resource
    });
    let script_json = match script_messages(&resource) {
        Ok(messages) => json_for_script(&Value::Object(messages)),
        Err(problems) => {
            for p in &problems {
                tracing::error!(lang = lang.code(), problem = %p.0, "translation for scripts");
            }
            "{}".to_owned()
        }
    };
    let mut bundle = FluentBundle::new_concurrent(vec![lang_id(lang)]);
    // Names and times inserted into a right-to-left sentence keep their own direction: Fluent
    // wraps each in Unicode isolation marks (on by default; said here because it matters).
    bundle.set_use_isolating(true);
    if let Err(errors) = bundle.add_resource(resource) {
        for e in errors {
            tracing::error!(lang = lang.code(), error = %e, "translation file");
        }
    }
    Language {
        bundle,
        script_json,
    }
}

fn lang_id(lang: Lang) -> unic_langid::LanguageIdentifier {
    // Every code of `Lang` is a valid language tag; "und" is the well-formed fallback.
    lang.code()
        .parse()
        .unwrap_or_else(|_| unic_langid::LanguageIdentifier::default())
}

/// The language's file parsed, or what is wrong with it (and what parsed).
#[allow(clippy::result_large_err)] // the error carries the partial resource, as Fluent's does
fn parse(lang: Lang) -> Result<FluentResource, (FluentResource, Vec<Problem>)> {
    FluentResource::try_new(lang.source().to_owned()).map_err(|(resource, errors)| {
        let problems = errors
            .into_iter()
            .map(|e| Problem(format!("{}.ftl: {e:?}", lang.code())))
            .collect();
        (resource, problems)
    })
}

/// Every message of a language, with the variables its value uses, in file order; or what
/// does not parse.
pub fn messages(lang: Lang) -> Result<Vec<(String, Vec<String>)>, Vec<Problem>> {
    let resource = parse(lang).map_err(|(_, problems)| problems)?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for entry in resource.entries() {
        match entry {
            ast::Entry::Message(m) => {
                let mut vars = Vec::new();
                if let Some(value) = &m.value {
                    variables(value, &mut vars);
                } else {
                    problems.push(Problem(format!("{}: no value", m.id.name)));
                }
                if !m.attributes.is_empty() {
                    problems.push(Problem(format!(
                        "{}: attributes are not used; make a message of each",
                        m.id.name
                    )));
                }
                vars.sort();
                vars.dedup();
                out.push((m.id.name.to_owned(), vars));
            }
            ast::Entry::Term(t) => problems.push(Problem(format!(
                "-{}: terms are not offered to scripts; write the words out",
                t.id.name
            ))),
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The variables a pattern uses, in selectors and variants too.
fn variables(pattern: &ast::Pattern<&str>, out: &mut Vec<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, out: &mut Vec<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for v in variants {
                variables(&v.value, out);
            }
        }
        ast::Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut Vec<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => out.push(id.name.to_owned()),
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}

/// What scripts get of a language: every message, as text with `{$name}` holes or as plural
/// variants.
pub fn script_messages_of(lang: Lang) -> Result<Map<String, Value>, Vec<Problem>> {
    let resource = parse(lang).map_err(|(_, problems)| problems)?;
    script_messages(&resource)
}

fn script_messages(resource: &FluentResource) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut out = Map::new();
    let mut problems = Vec::new();
    for entry in resource.entries() {
        let ast::Entry::Message(m) = entry else {
            continue;
        };
        let Some(value) = &m.value else { continue };
        match script_message(value) {
            Ok(v) => {
                out.insert(m.id.name.to_owned(), v);
            }
            Err(why) => problems.push(Problem(format!("{}: {why}", m.id.name))),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// A message as `i18n.js` reads it: a string, or `{"select": var, "variants": {key: text},
/// "default": key}` for a message that is one choice on a variable.
fn script_message(pattern: &ast::Pattern<&str>) -> Result<Value, String> {
    if let [
        ast::PatternElement::Placeable {
            expression: ast::Expression::Select { selector, variants },
        },
    ] = pattern.elements.as_slice()
    {
        let ast::InlineExpression::VariableReference { id } = selector else {
            return Err("a choice must be on a variable".into());
        };
        let mut texts = BTreeMap::new();
        let mut default = None;
        for v in variants {
            let key = match &v.key {
                ast::VariantKey::Identifier { name } => (*name).to_owned(),
                ast::VariantKey::NumberLiteral { value } => (*value).to_owned(),
            };
            if v.default {
                default = Some(key.clone());
            }
            texts.insert(key, Value::String(flat(&v.value)?));
        }
        let mut object = Map::new();
        object.insert("select".into(), Value::String(id.name.to_owned()));
        object.insert(
            "variants".into(),
            Value::Object(texts.into_iter().collect()),
        );
        object.insert(
            "default".into(),
            Value::String(default.ok_or("a choice needs a default")?),
        );
        return Ok(Value::Object(object));
    }
    Ok(Value::String(flat(pattern)?))
}

/// Text and variables only: `Hej {$name}`.
fn flat(pattern: &ast::Pattern<&str>) -> Result<String, String> {
    let mut out = String::new();
    for element in &pattern.elements {
        match element {
            ast::PatternElement::TextElement { value } => out.push_str(value),
            ast::PatternElement::Placeable {
                expression: ast::Expression::Inline(inline),
            } => match inline {
                ast::InlineExpression::VariableReference { id } => {
                    out.push_str("{$");
                    out.push_str(id.name);
                    out.push('}');
                }
                ast::InlineExpression::StringLiteral { value } => out.push_str(value),
                ast::InlineExpression::NumberLiteral { value } => out.push_str(value),
                _ => return Err("only text, variables and literals reach scripts".into()),
            },
            ast::PatternElement::Placeable { .. } => {
                return Err("a choice must be the whole message".into());
            }
        }
    }
    Ok(out)
}

/// JSON that cannot end its `<script>` element or start markup: `<`, `>` and `&` escaped.
fn json_for_script(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The words of one page in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The `lang` attribute.
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The `dir` attribute.
    pub fn dir(&self) -> &'static str {
        self.lang.dir()
    }

    /// A message without variables.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// A message with one variable.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.to_owned());
        self.format(id, Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let catalog = catalog();
        for lang in [self.lang, Lang::Sv] {
            let bundle = &catalog.get(lang).bundle;
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                let text = bundle.format_pattern(pattern, args, &mut errors);
                for e in errors {
                    tracing::warn!(id, lang = lang.code(), error = %e, "translation");
                }
                return text.into_owned();
            }
        }
        tracing::error!(id, "no such message, not even in Swedish");
        id.to_owned()
    }

    /// Every message for the page's scripts, as JSON for a `<script type="application/json">`
    /// element (safe to insert unescaped).
    pub fn script_json(&self) -> &'static str {
        &catalog().get(self.lang).script_json
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_for_a_script_element_cannot_close_it() {
        let v = Value::String("</script><b>&".into());
        let json = json_for_script(&v);
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), v);
    }

    #[test]
    fn a_message_with_a_variable_reaches_scripts_with_its_hole() {
        let r = FluentResource::try_new(
            "a = Hej { $name }!\nb = { $n ->\n  [one] en\n *[other] { $n } st\n}\n".into(),
        )
        .unwrap();
        let m = script_messages(&r).unwrap();
        assert_eq!(m["a"], "Hej {$name}!");
        assert_eq!(m["b"]["select"], "n");
        assert_eq!(m["b"]["variants"]["other"], "{$n} st");
        assert_eq!(m["b"]["default"], "other");
    }

    #[test]
    fn right_to_left_for_arabic_and_persian_only() {
        let rtl: Vec<_> = Lang::ALL.into_iter().filter(|l| l.dir() == "rtl").collect();
        assert_eq!(rtl, [Lang::Ar, Lang::Fa]);
    }
}
