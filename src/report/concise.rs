//! `--format concise`: one line per finding, `path:line:column: severity[rule] message`, as
//! ruff's concise output and compilers write them: for grep, editors' quickfix lists and
//! terminals where the snippets take too much room.

use super::ReportInput;

pub fn render(input: &ReportInput) -> String {
    let mut out = String::new();
    if input.statistics {
        out.push_str(&super::statistics(input));
    } else {
        for diagnostic in input.diagnostics {
            let place = match input.location(diagnostic) {
                Some(l) => format!("{}:{}:{}: ", l.path, l.line, l.column),
                None => String::new(),
            };
            out.push_str(&format!(
                "{place}{}[{}] {}\n",
                diagnostic.severity.as_str(),
                diagnostic.rule,
                diagnostic.message.replace('\n', " ")
            ));
        }
    }
    out.push_str(&super::totals(input));
    out
}
