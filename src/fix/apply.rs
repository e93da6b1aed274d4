//! Puts fixes into text: per file, the fixes whose edits do not overlap an earlier one's, each
//! applied whole or not at all. What is left over is applied on the next pass, after the
//! findings are read again from the fixed text.

use std::collections::BTreeMap;

use crate::model::FileId;

use super::{Applicability, Edit, Fix};

/// The fixes to apply now, by file: those at most `allowed`, in text order, skipping any that
/// overlaps or touches one already taken (it is found again, and applied, on the next pass),
/// and the same fix found twice (one statement read for several operations) once.
pub fn choose<'a>(
    fixes: impl IntoIterator<Item = &'a Fix>,
    allowed: Applicability,
) -> BTreeMap<FileId, Vec<&'a Fix>> {
    let mut by_file: BTreeMap<FileId, Vec<&Fix>> = BTreeMap::new();
    for fix in fixes {
        if fix.applicability <= allowed {
            by_file.entry(fix.file).or_default().push(fix);
        }
    }
    for fixes in by_file.values_mut() {
        fixes.sort_by(|a, b| {
            a.edits
                .iter()
                .map(Edit::key)
                .cmp(b.edits.iter().map(Edit::key))
        });
        fixes.dedup_by(|a, b| a.edits == b.edits);
        let mut taken: Vec<&Fix> = Vec::new();
        for fix in fixes.drain(..) {
            if taken.iter().all(|t| apart(t, fix)) {
                taken.push(fix);
            }
        }
        *fixes = taken;
    }
    by_file
}

/// The two can be applied in one pass: their extents (first edit to last) are apart, so that
/// neither changes the indentation or the lines the other computed its text from (a block one
/// fix moves in holds a call the other reformats); the same edits, made once, also go together
/// (two findings moving one statement into one block). The rest waits for the next pass, read
/// again from the text as it is then.
fn apart(a: &Fix, b: &Fix) -> bool {
    let (x, y) = (a.extent(), b.extent());
    x.end < y.start || y.end < x.start || a.edits == b.edits
}

/// The text with the fixes' edits made. The fixes must be apart (as `choose` picks them).
pub fn apply(text: &str, fixes: &[&Fix]) -> String {
    let mut edits: Vec<&Edit> = Vec::new();
    for edit in fixes.iter().flat_map(|f| &f.edits) {
        if !edits.contains(&edit) {
            edits.push(edit);
        }
    }
    // Stable: insertions at one point keep the order of their fixes.
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    // A file written with CRLF line ends keeps them in what the fixes add.
    let crlf = text.contains("\r\n");
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for edit in edits {
        out.push_str(&text[at..edit.range.start]);
        if crlf {
            out.push_str(&edit.content.replace('\n', "\r\n"));
        } else {
            out.push_str(&edit.content);
        }
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix::new("t", Applicability::Safe, FileId(0), edits).unwrap()
    }

    #[test]
    fn edits_apply_in_text_order() {
        let a = fix(vec![Edit::insert(4, "X"), Edit::replace(0..1, "b")]);
        let b = fix(vec![Edit::insert(6, "Y")]);
        assert_eq!(apply("abcdefg", &[&b, &a]), "bbcdXefYg");
    }

    #[test]
    fn crlf_files_keep_crlf() {
        let b = fix(vec![Edit::insert(4, "x\n")]);
        assert_eq!(apply("ab\r\ncd", &[&b]), "ab\r\nx\r\ncd");
    }

    #[test]
    fn touching_fixes_wait_for_the_next_pass() {
        let a = fix(vec![Edit::insert(2, "X")]);
        let b = fix(vec![Edit::replace(2..3, "Y")]);
        assert!(!apart(&a, &b));
        assert!(apart(&a, &fix(vec![Edit::insert(4, "Z")])));
    }

    #[test]
    fn fixes_whose_extents_overlap_wait_for_the_next_pass() {
        let wrap = Edit::insert(0, "with block:\n    ");
        let a = fix(vec![wrap.clone(), Edit::insert(6, "A")]);
        let b = fix(vec![Edit::insert(3, "B")]);
        assert!(!apart(&a, &b));
        assert!(apart(&a, &a.clone()));
    }
}
