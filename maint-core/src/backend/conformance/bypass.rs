//! The bypass scenario: a bypass secret kept, rotated, shut with the
//! allowlist and removed, with the backend's `check` agreeing at each step.

use super::fixture::Fixture;
use super::helpers::{alb, edit, spec, status};
use crate::access::{BypassRequest, BypassState};
use crate::check::{CheckRequest, Verdict};
use crate::maintenance::{AllowlistChange, Change, MaintenanceSpec, Mode, TargetStatus};
use crate::target::ResourceArn;

/// What `request` gets from `lb`, by the backend's `check`.
async fn verdict(f: &dyn Fixture, lb: &ResourceArn, ip: &str, headers: &[String]) -> Verdict {
    let request = CheckRequest::new(ip, headers, None).unwrap();
    f.backend()
        .check(lb, &request)
        .await
        .unwrap_or_else(|e| panic!("check {lb}: {e}"))
        .verdict
}

/// The bypass: kept by a repeated `enter`, rotated, shut by `allowlist
/// disable` unless kept, opened by `enable`, removed; `check` agrees at
/// each step.
pub(super) async fn the_bypass_is_kept_rotated_shut_and_removed(f: &dyn Fixture) {
    let b = f.backend();
    let lb = alb(f, "conf-bypass").await;
    let with = |bypass: BypassRequest| MaintenanceSpec {
        bypass,
        ..spec(&["192.0.2.0/24"], "bypass")
    };
    b.enter(&lb, &with(BypassRequest::On), Mode::Apply)
        .await
        .unwrap();
    let secret = |st: &TargetStatus| st.window_info().and_then(|i| i.bypass.clone());
    let first = secret(&status(f, &lb).await).expect("a bypass");
    assert!(first.enabled);
    let header = |s: &BypassState| vec![format!("x-maint-bypass: {}", s.secret.expose())];
    let stranger = "198.51.100.7";
    assert_eq!(verdict(f, &lb, stranger, &[]).await, Verdict::Maintenance);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&first)).await,
        Verdict::LetThrough
    );
    assert_eq!(verdict(f, &lb, "192.0.2.9", &[]).await, Verdict::LetThrough);
    // The link: a redirect to / that sets the cookie until the window's end.
    let link = CheckRequest::new(stranger, &[], Some(&first.secret.link_path())).unwrap();
    let answer = b.check(&lb, &link).await.unwrap();
    assert_eq!(answer.verdict, Verdict::BypassLink);
    let response = answer.response.expect("the redirect");
    assert_eq!(response.status, 302);
    assert_eq!(
        response.headers,
        first
            .secret
            .link_response_headers(status(f, &lb).await.window_info().unwrap().until)
    );

    let kept = b
        .enter(&lb, &with(BypassRequest::Keep), Mode::Apply)
        .await
        .unwrap();
    assert!(!kept.changed(), "{kept:?}");
    assert_eq!(secret(&status(f, &lb).await), Some(first.clone()));

    let rotated = b
        .enter(&lb, &with(BypassRequest::Rotate), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(rotated.changes, [Change::BypassRotated]);
    let second = secret(&status(f, &lb).await).unwrap();
    assert_ne!(second.secret, first.secret);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&first)).await,
        Verdict::Maintenance
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::LetThrough
    );

    assert_eq!(
        edit(f, &lb, AllowlistChange::Disable).await,
        [Change::AllowlistDisabled, Change::BypassDisabled]
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::Maintenance
    );
    assert_eq!(
        edit(f, &lb, AllowlistChange::Enable).await,
        [Change::AllowlistEnabled, Change::BypassEnabled]
    );
    assert_eq!(
        edit(f, &lb, AllowlistChange::DisableKeepingBypass).await,
        [Change::AllowlistDisabled]
    );
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::LetThrough
    );
    assert_eq!(
        verdict(f, &lb, "192.0.2.9", &[]).await,
        Verdict::Maintenance
    );

    // A repeated enter keeps the allowlist and the bypass as they are.
    b.enter(&lb, &with(BypassRequest::Keep), Mode::Apply)
        .await
        .unwrap();
    let now = secret(&status(f, &lb).await).unwrap();
    assert_eq!((now.secret, now.enabled), (second.secret.clone(), true));

    let off = b
        .enter(&lb, &with(BypassRequest::Off), Mode::Apply)
        .await
        .unwrap();
    assert_eq!(off.changes, [Change::BypassOff]);
    assert_eq!(secret(&status(f, &lb).await), None);
    assert_eq!(
        verdict(f, &lb, stranger, &header(&second)).await,
        Verdict::Maintenance
    );
    b.exit(&lb, Mode::Apply).await.unwrap();
    assert_eq!(verdict(f, &lb, stranger, &[]).await, Verdict::LetThrough);
}
