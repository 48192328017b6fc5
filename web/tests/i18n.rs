//! The translations cannot go missing silently: every language has exactly Swedish's messages
//! with the same variables; every message id a template, handler or script names exists; every
//! message exists for a reason (something names it); every message fits what scripts can show;
//! and BankID's own Swedish and English wording, which booking also holds, is the same here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use web::i18n::{self, Lang};

fn messages(lang: Lang) -> BTreeMap<String, Vec<String>> {
    i18n::messages(lang)
        .unwrap_or_else(|problems| panic!("{}.ftl: {problems:?}", lang.code()))
        .into_iter()
        .collect()
}

#[test]
fn every_language_has_every_swedish_message_with_the_same_variables() {
    let swedish = messages(Lang::Sv);
    assert!(swedish.len() > 100, "sv.ftl has the booth's messages");
    for lang in Lang::ALL {
        let other = messages(lang);
        let missing: Vec<_> = swedish
            .keys()
            .filter(|id| !other.contains_key(*id))
            .collect();
        assert!(missing.is_empty(), "{}.ftl lacks {missing:?}", lang.code());
        let extra: Vec<_> = other
            .keys()
            .filter(|id| !swedish.contains_key(*id))
            .collect();
        assert!(
            extra.is_empty(),
            "{}.ftl has messages sv.ftl has not: {extra:?}",
            lang.code()
        );
        for (id, vars) in &swedish {
            assert_eq!(
                &other[id],
                vars,
                "{}.ftl: {id} uses other variables than in Swedish",
                lang.code()
            );
        }
    }
}

#[test]
fn every_file_parses_and_reaches_scripts_whole() {
    for lang in Lang::ALL {
        let for_scripts = i18n::script_messages_of(lang)
            .unwrap_or_else(|problems| panic!("{}.ftl: {problems:?}", lang.code()));
        assert_eq!(for_scripts.len(), messages(lang).len(), "{}", lang.code());
    }
}

#[test]
fn no_message_is_left_untranslated_or_empty() {
    let swedish = i18n::script_messages_of(Lang::Sv).unwrap();
    for lang in Lang::ALL {
        let other = i18n::script_messages_of(lang).unwrap();
        for (id, text) in &other {
            assert!(
                !text.as_str().is_some_and(|t| t.trim().is_empty()),
                "{}.ftl: {id} is empty",
                lang.code()
            );
            // Names of things (BankID, Freja eID, "Video: {$name}") may read the same; a
            // whole sentence the same as in Swedish is a forgotten translation.
            let same = swedish.get(id) == Some(text);
            let sentence = text
                .as_str()
                .is_some_and(|t| t.split_whitespace().count() > 3);
            assert!(
                lang == Lang::Sv || !(same && sentence),
                "{}.ftl: {id} is still Swedish",
                lang.code()
            );
        }
    }
}

/// The ids named in `source`: every `prefix"id"` or `prefix'id'`, and where `prefix` is
/// followed by something other than a quote, that is an error (an id made at run time could
/// be one no file has).
fn named_ids(source: &str, prefix: &str, file: &str, out: &mut BTreeSet<String>) {
    let mut rest = source;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        // A bare `t(` inside a longer name (`split(`, `obj.set(`) is not a message.
        if prefix == "t(" && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let quote = rest.chars().next();
        assert!(
            matches!(quote, Some('\'' | '"')),
            "{file}: {prefix} with an id that is not a literal: {}",
            &rest[..rest.len().min(40)]
        );
        let quote = quote.unwrap_or('"');
        let end = rest[1..].find(quote).expect("a closing quote") + 1;
        out.insert(rest[1..end].to_owned());
    }
}

fn files(dir: &Path, ext: &str) -> Vec<(String, String)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every message id the templates (`tr.t("…")`), the handlers (`.t("…")`, `.t1("…"`) and the
/// scripts (`t('…')`) name.
fn used_ids() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    for (file, source) in files(&root.join("templates"), "html") {
        named_ids(&source, "tr.t(", &file, &mut used);
        named_ids(&source, "tr.t1(", &file, &mut used);
    }
    for (file, source) in files(&root.join("src"), "rs") {
        // i18n.rs defines the functions and its unit tests use made-up ids.
        if file.ends_with("i18n.rs") {
            continue;
        }
        named_ids(&source, ".t(", &file, &mut used);
        named_ids(&source, ".t1(", &file, &mut used);
    }
    for (file, source) in files(&root.join("static"), "js") {
        if file.ends_with("i18n.js") {
            continue;
        }
        named_ids(&source, "t(", &file, &mut used);
    }
    used
}

#[test]
fn every_message_a_template_or_script_names_exists() {
    let swedish = messages(Lang::Sv);
    let used = used_ids();
    assert!(
        used.contains("meeting-connected") && used.contains("identify-bankid"),
        "the scan finds ids in scripts and templates: {used:?}"
    );
    let missing: Vec<_> = used
        .iter()
        .filter(|id| !swedish.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "named but in no file: {missing:?}");
}

#[test]
fn every_message_is_named_somewhere() {
    let used = used_ids();
    let unused: Vec<_> = messages(Lang::Sv)
        .into_keys()
        .filter(|id| !used.contains(id))
        .collect();
    assert!(unused.is_empty(), "in sv.ftl but named nowhere: {unused:?}");
}

#[test]
fn bankid_wording_is_bankids_own_in_swedish_and_english() {
    use booking::bankid::messages::*;
    let sv = i18n::script_messages_of(Lang::Sv).unwrap();
    let en = i18n::script_messages_of(Lang::En).unwrap();
    for m in [
        RFA1, RFA3, RFA4, RFA5, RFA6, RFA8, RFA9, RFA15B, RFA16, RFA17B, RFA21, RFA22, RFA23,
    ] {
        let id = format!("bankid-{}", m.code.to_lowercase());
        assert_eq!(sv[&id], m.sv, "{id} in Swedish");
        assert_eq!(en[&id], m.en, "{id} in English");
    }
}

#[test]
fn each_language_names_itself_differently() {
    let names: BTreeSet<_> = Lang::ALL
        .into_iter()
        .map(|l| i18n::Tr::new(l).t("language-name"))
        .collect();
    assert_eq!(names.len(), Lang::ALL.len());
}
