//! The `graph` command: each migration set's revision history as a text listing, a Mermaid
//! flowchart or JSON. Reads the model only.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::model::graph::RevisionGraph;
use crate::model::{MigrationSet, Sources};

#[derive(Debug, Serialize)]
pub struct History {
    pub root: String,
    pub framework: &'static str,
    pub revisions: usize,
    pub heads: Vec<String>,
    pub bases: Vec<String>,
    pub branch_points: Vec<String>,
    pub merge_points: Vec<String>,
    /// Newest first: every revision after all of its children.
    pub nodes: Vec<Node>,
}

#[derive(Debug, Serialize)]
pub struct Node {
    pub id: String,
    pub path: String,
    pub line: usize,
    pub parents: Vec<String>,
    pub depends_on: Vec<String>,
    pub children: Vec<String>,
    pub branch_labels: Vec<String>,
    pub head: bool,
    pub base: bool,
    pub branch_point: bool,
    pub merge_point: bool,
    /// The revision lies on a cycle and has no place in the order.
    pub in_cycle: bool,
}

pub fn build(set: &MigrationSet, sources: &Sources) -> History {
    let graph = RevisionGraph::build(set);
    let branch_points = graph.branch_points();
    let merge_points = graph.merge_points(set);
    let order = graph.newest_first(set);
    let ordered: BTreeSet<&String> = order.iter().collect();
    // Revisions on a `down_revision` loop never become ready; they go last.
    let unordered: Vec<String> = graph
        .index
        .keys()
        .filter(|id| !ordered.contains(id))
        .cloned()
        .collect();
    let on_cycles: BTreeSet<String> = graph.cycles(set).into_iter().flatten().collect();
    let nodes = order
        .iter()
        .chain(&unordered)
        .filter_map(|id| {
            let in_cycle = on_cycles.contains(id);
            let migration = graph.migration(set, id)?;
            let file = sources.get(migration.file);
            Some(Node {
                id: id.clone(),
                path: file.path.clone(),
                line: file.line_col(migration.revision_span.start).0,
                parents: migration.parents.clone(),
                depends_on: migration.depends_on.clone(),
                children: graph.children.get(id).cloned().unwrap_or_default(),
                branch_labels: migration.branch_labels.clone(),
                head: graph.heads.contains(id),
                base: graph.bases.contains(id),
                branch_point: branch_points.contains(id),
                merge_point: merge_points.contains(id),
                in_cycle,
            })
        })
        .collect();
    History {
        root: set.root.clone(),
        framework: set.framework.label(),
        revisions: graph.index.len(),
        heads: graph.heads.clone(),
        bases: graph.bases.clone(),
        branch_points,
        merge_points,
        nodes,
    }
}

pub fn render_text(histories: &[History]) -> String {
    let mut out = String::new();
    for history in histories {
        let _ = writeln!(
            out,
            "{} history in {}: {} revisions, {} head(s), {} base(s), {} branch point(s), {} merge(s)",
            history.framework,
            history.root,
            history.revisions,
            history.heads.len(),
            history.bases.len(),
            history.branch_points.len(),
            history.merge_points.len()
        );
        let width = history.nodes.iter().map(|n| n.id.len()).max().unwrap_or(0);
        for node in &history.nodes {
            let mut marks = Vec::new();
            if node.head {
                marks.push("head".to_string());
            }
            if node.base {
                marks.push("base".to_string());
            }
            if node.branch_point {
                marks.push(format!("branch point → {}", node.children.join(", ")));
            }
            if node.merge_point {
                marks.push("merge".to_string());
            }
            if node.in_cycle {
                marks.push("IN A CYCLE".to_string());
            }
            if !node.branch_labels.is_empty() {
                marks.push(format!("label {}", node.branch_labels.join(", ")));
            }
            let mut line = format!("  {:width$}", node.id);
            if !node.parents.is_empty() {
                let _ = write!(line, "  ← {}", node.parents.join(" + "));
            }
            if !node.depends_on.is_empty() {
                let _ = write!(line, "  (depends on {})", node.depends_on.join(", "));
            }
            if !marks.is_empty() {
                let _ = write!(line, "  [{}]", marks.join("; "));
            }
            let _ = writeln!(out, "{line}  {}:{}", node.path, node.line);
        }
        out.push('\n');
    }
    out
}

pub fn render_mermaid(histories: &[History]) -> String {
    let mut out = String::from("flowchart BT\n");
    for (set_index, history) in histories.iter().enumerate() {
        let positions: BTreeMap<&str, usize> = history
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        // Node keys by position: ids may hold characters Mermaid does not accept in keys.
        let key = |id: &str| match positions.get(id) {
            Some(i) => format!("s{set_index}_{i}"),
            None => format!("s{set_index}_missing_{}", sanitize(id)),
        };
        let _ = writeln!(
            out,
            "  subgraph set{set_index}[\"{}: {}\"]",
            history.framework,
            escape(&history.root)
        );
        for node in &history.nodes {
            let stem = node
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&node.path)
                .trim_end_matches(".py")
                .trim_end_matches(".sql");
            let stem = stem
                .strip_prefix(node.id.as_str())
                .map_or(stem, |rest| rest.trim_start_matches('_'));
            let class = if node.in_cycle {
                ":::cycle"
            } else if node.head {
                ":::head"
            } else if node.merge_point {
                ":::merge"
            } else if node.base {
                ":::base"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {}[\"{}<br/><small>{}</small>\"]{class}",
                key(&node.id),
                escape(&node.id),
                escape(stem)
            );
        }
        for node in &history.nodes {
            for parent in &node.parents {
                let _ = writeln!(out, "    {} --> {}", key(parent), key(&node.id));
            }
            for dependency in &node.depends_on {
                let _ = writeln!(
                    out,
                    "    {} -.->|depends on| {}",
                    key(dependency),
                    key(&node.id)
                );
            }
        }
        out.push_str("  end\n");
    }
    out.push_str("  classDef head fill:#d1f7d6,stroke:#1a7f37\n");
    out.push_str("  classDef base fill:#eaeef2,stroke:#57606a\n");
    out.push_str("  classDef merge fill:#ddf4ff,stroke:#0969da\n");
    out.push_str("  classDef cycle fill:#ffebe9,stroke:#cf222e\n");
    out
}

pub fn render_json(histories: &[History]) -> String {
    let document = serde_json::json!({"version": 1, "sets": histories});
    format!(
        "{}\n",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    )
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}
