use crate::diagnostic::{Diagnostic, Origin, RuleMeta, Severity};
use crate::model::OpKind;
use crate::model::op::same_name;

use super::{LintContext, Rule};

pub static META: RuleMeta = RuleMeta {
    id: "add-domain-constraint",
    severity: Severity::Error,
    summary: "A domain constraint checked against existing data scans every table using the domain while blocking its writes.",
    doc: include_str!("../../rules/add-domain-constraint.md"),
    origin: Origin::Lint,
};

pub struct AddDomainConstraint;

impl Rule for AddDomainConstraint {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &LintContext, out: &mut Vec<Diagnostic>) {
        for site in cx.all_ops() {
            let OpKind::ConstrainDomain {
                domain,
                checks_existing: true,
            } = &site.op.kind
            else {
                continue;
            };
            // A domain created earlier in the same body has no columns yet.
            let created_here = site.earlier().iter().any(|op| {
                matches!(&op.kind, OpKind::CreateDomain { name, .. } if same_name(name, domain))
            });
            if created_here {
                continue;
            }
            out.push(
                cx.report_op(&META, &site, format!("checking the constraint of domain `{domain}` scans every table with a `{domain}` column, each under a SHARE lock (writes stop) for the length of its scan; for a domain, VALIDATE CONSTRAINT takes the same lock"))
                    .with_help("check the condition per table instead (`ALTER TABLE ... ADD CONSTRAINT ... CHECK (...) NOT VALID`, then VALIDATE, which lets writes go on); or add the domain constraint NOT VALID for new values only"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixtures() {
        super::super::testing::check_fixtures(&super::META);
    }
}
