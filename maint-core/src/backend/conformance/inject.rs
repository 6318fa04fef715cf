//! The injection scenario: with consent, maint's rule goes into a load
//! balancer's own web ACL and comes out again on exit.

use super::fixture::Fixture;
use super::helpers::{alb, edit, list, spec, status, without_ip_sets};
use crate::backend::contract::web_acl_name;
use crate::maintenance::{AllowlistChange, Change, ExistingWebAcl, Mode, Window};
use crate::Error;

/// The web ACL's name in its ARN (`.../webacl/<name>/<id>`).
fn acl_name(arn: &str) -> String {
    let mut parts = arn.rsplit('/');
    parts.next();
    parts.next().expect("a web ACL ARN").to_string()
}

/// With consent, maint's rule goes into the service's own web ACL: enter
/// reports the injection, status shows maintenance through that ACL,
/// allowlist edits and re-enters update it in place, cleanup leaves it,
/// and exit removes exactly what maint added, the ACL staying associated.
/// Without consent (a dry run included) nothing changes.
pub(super) async fn a_window_of_one_is_injected_into_its_own_web_acl_with_consent(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "inject").await;
    let acl = f.associate_foreign_web_acl(&lb).await;
    let name = acl_name(&acl);
    let foreign = status(f, &lb).await;
    let s = spec(&["192.0.2.1"], "inject");
    let refused = b.enter(&lb, &s, Mode::Apply).await;
    assert!(
        matches!(refused, Err(Error::ForeignWebAcl { .. })),
        "no consent: {refused:?}"
    );
    let mut consent = s.clone();
    consent.existing_web_acl = ExistingWebAcl::Inject;
    let plan = b
        .enter(&lb, &consent, Mode::DryRun)
        .await
        .expect("inject dry run");
    let injected = [Change::RuleInjected {
        web_acl: name.clone(),
    }];
    assert_eq!(plan.changes, injected);
    assert_eq!(status(f, &lb).await, foreign, "nothing changed");

    let out = b.enter(&lb, &consent, Mode::Apply).await.expect("inject");
    assert_eq!(out.changes, injected);
    let st = status(f, &lb).await;
    let info = st.maintenance().unwrap_or_else(|| panic!("{st:?}"));
    assert_eq!(info.host_web_acl.as_deref(), Some(name.as_str()));
    assert_eq!(info.web_acl_arn, acl);
    assert_eq!(info.window, web_acl_name(&lb));
    assert_eq!(info.allowlist.entries, s.allowlist);
    assert_eq!(info.armed_since, None);
    assert!(st.leftovers.is_empty(), "{:?}", st.leftovers);

    assert_eq!(
        edit(f, &lb, AllowlistChange::Add(list(&["198.51.100.1"]))).await,
        [Change::AllowlistAdded {
            entries: list(&["198.51.100.1"]).iter().collect()
        }]
    );
    let again = b
        .enter(&lb, &spec(&[], "new reason"), Mode::Apply)
        .await
        .expect("re-enter");
    assert_eq!(
        again.changes,
        [Change::ReasonChanged {
            reason: Some("new reason".into())
        }]
    );
    assert!(
        !b.cleanup(Mode::DryRun)
            .await
            .expect("cleanup")
            .iter()
            .any(|l| l.arn == acl || l.name == info.window),
        "an injected window is no leftover"
    );
    let armed = b
        .arm_window(
            &Window::of_load_balancer(&lb),
            std::slice::from_ref(&lb),
            &consent,
            Mode::Apply,
        )
        .await
        .expect("the window");
    assert!(
        matches!(armed[0], Err(Error::ForeignWebAcl { .. })),
        "{armed:?}"
    );

    let plan = b.exit(&lb, Mode::DryRun).await.expect("exit dry run");
    let removed = vec![vec![Change::RuleRemoved {
        web_acl: name.clone(),
    }]];
    assert_eq!(without_ip_sets(vec![plan.changes]), removed);
    assert!(status(f, &lb).await.maintenance().is_some());
    let out = b.exit(&lb, Mode::Apply).await.expect("exit");
    assert_eq!(without_ip_sets(vec![out.changes]), removed);
    assert_eq!(status(f, &lb).await, foreign, "the ACL as it was");
    let out = b.exit(&lb, Mode::Apply);
    assert!(
        matches!(out.await, Err(Error::ForeignWebAcl { .. })),
        "exit leaves a foreign ACL alone"
    );
}
