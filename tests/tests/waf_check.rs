//! `maint check`, the bypass and the client address from a header, on the
//! WAF backend against moto. Each request is answered three ways, which
//! must agree:
//! - the backend's `check` (the live ACL read through the AWS SDK, maint's
//!   rules converted to WAF's JSON form and evaluated);
//! - the same evaluator on the web ACL and IP sets as moto returns them on
//!   the wire (raw JSON, no SDK, no conversion of maint's): the rules as
//!   maint wrote them;
//! - `check::decide`, maint's intent, from `status`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use maint_core::access::{
    BypassRequest, BypassSecret, ClientIp, ClientIpFallback, ClientIpPosition,
};
use maint_core::backend::waf::evaluate::{evaluate, LiveAcl};
use maint_core::backend::{AllowlistChange, ExistingWebAcl, MaintenanceSpec, Mode, State, Window};
use maint_core::check::{self, CheckRequest, Verdict};
use maint_core::{Allowlist, MaintenanceBackend, ResourceArn};
use maint_tests::faults::Faults;
use maint_tests::{fast_settings, faulty_backend, seed, waf_backend, OperationLog};

async fn alb(hint: &str) -> ResourceArn {
    let name = seed::unique_lb_name(hint);
    ResourceArn::parse(&seed::create_load_balancer(&name, "application").await).unwrap()
}

fn spec(bypass: BypassRequest, client_ip: ClientIp) -> MaintenanceSpec {
    MaintenanceSpec {
        allowlist: Allowlist::parse(["203.0.113.0/24", "2001:db8:1::/48"]).unwrap(),
        bypass,
        client_ip,
        ..MaintenanceSpec::default()
    }
}

fn request(ip: &str, headers: &[&str], path: &str) -> CheckRequest {
    let headers: Vec<String> = headers.iter().map(ToString::to_string).collect();
    CheckRequest::new(ip, &headers, Some(path)).unwrap()
}

/// The web ACL associated with `lb` as moto returns it on the wire.
fn live_from_the_wire(lb: &ResourceArn) -> LiveAcl {
    maint_tests::edge::live_from_the_wire(lb).expect("a web ACL is associated")
}

/// What `request` gets, three ways; asserts they agree and returns it.
async fn verdict(b: &dyn MaintenanceBackend, lb: &ResourceArn, r: &CheckRequest) -> Verdict {
    let checked = b.check(lb, r).await.unwrap();
    let status = b.status(lb).await.unwrap();
    let intended = check::decide(lb, &status.state, r);
    let live = live_from_the_wire(lb);
    let wire = evaluate(&live, r, |n| n.starts_with("maint-")).unwrap();
    let wire_verdict = match wire.decided_by.as_deref() {
        Some("maint-bypass-link") => Verdict::BypassLink,
        Some(_) => Verdict::Maintenance,
        None => Verdict::LetThrough,
    };
    assert_eq!(
        checked.verdict, wire_verdict,
        "check vs the wire: {r:?}\n{checked:?}"
    );
    assert_eq!(
        checked.verdict, intended.verdict,
        "check vs intent: {r:?}\n{checked:?}"
    );
    assert_eq!(
        checked.response.as_ref().map(|x| x.status),
        wire.response.as_ref().map(|x| x.status)
    );
    checked.verdict
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bypass_header_cookie_and_link_let_a_tester_in_until_rotated() {
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let lb = alb("check-bypass").await;
    b.enter(
        &lb,
        &spec(BypassRequest::On, ClientIp::Connection),
        Mode::Apply,
    )
    .await
    .unwrap();
    let status = b.status(&lb).await.unwrap();
    let State::Maintenance(info) = &status.state else {
        panic!("{:?}", status.state)
    };
    let secret = info.bypass.as_ref().expect("a bypass").secret.clone();
    let s = secret.expose();
    let stranger = "198.51.100.7";

    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[], "/")).await,
        Verdict::Maintenance
    );
    assert_eq!(
        verdict(&b, &lb, &request("203.0.113.9", &[], "/")).await,
        Verdict::LetThrough
    );
    assert_eq!(
        verdict(&b, &lb, &request("2001:db8:1::9", &[], "/")).await,
        Verdict::LetThrough
    );
    let header = format!("x-maint-bypass: {s}");
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&header], "/")).await,
        Verdict::LetThrough
    );
    let cookie = format!("Cookie: a=b; maint_bypass={s}");
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&cookie], "/x")).await,
        Verdict::LetThrough
    );
    let wrong = "x-maint-bypass: not-the-secret-not-the-secret";
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[wrong], "/")).await,
        Verdict::Maintenance
    );

    // The link: a 302 to / that sets the cookie, as a careful web developer
    // sets it.
    let link = b
        .check(&lb, &request(stranger, &[], &secret.link_path()))
        .await
        .unwrap();
    assert_eq!(link.verdict, Verdict::BypassLink);
    let response = link.response.unwrap();
    assert_eq!(response.status, 302);
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name}: {:?}", response.headers))
    };
    assert_eq!(header("Location"), "/");
    let set_cookie = header("Set-Cookie");
    assert!(
        set_cookie.starts_with(&format!("maint_bypass={s}; Path=/; ")),
        "{set_cookie}"
    );
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Max-Age=43200"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert_eq!(header("Cache-Control"), "no-store");
    let through = b
        .check(&lb, &request(stranger, &[&cookie], "/"))
        .await
        .unwrap();
    assert!(
        through
            .why
            .iter()
            .any(|w| matches!(w, check::Why::BypassCookie)),
        "{through:?}"
    );

    // Rotating: the old secret no longer works, the new one does.
    let rotate = MaintenanceSpec {
        bypass: BypassRequest::Rotate,
        ..spec(BypassRequest::Keep, ClientIp::Connection)
    };
    b.enter(&lb, &rotate, Mode::Apply).await.unwrap();
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&cookie], "/")).await,
        Verdict::Maintenance
    );
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[], &secret.link_path())).await,
        Verdict::Maintenance
    );
    let status = b.status(&lb).await.unwrap();
    let new = status.window_info().unwrap().bypass.clone().unwrap().secret;
    assert_ne!(new, secret);
    let header = format!("x-maint-bypass: {}", new.expose());
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&header], "/")).await,
        Verdict::LetThrough
    );

    // allowlist disable shuts the bypass too; --keep-bypass keeps it.
    b.update_allowlist(&lb, &AllowlistChange::Disable, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&header], "/")).await,
        Verdict::Maintenance
    );
    assert_eq!(
        verdict(&b, &lb, &request("203.0.113.9", &[], "/")).await,
        Verdict::Maintenance
    );
    b.update_allowlist(&lb, &AllowlistChange::Enable, Mode::Apply)
        .await
        .unwrap();
    b.update_allowlist(&lb, &AllowlistChange::DisableKeepingBypass, Mode::Apply)
        .await
        .unwrap();
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&header], "/")).await,
        Verdict::LetThrough
    );
    assert_eq!(
        verdict(&b, &lb, &request("203.0.113.9", &[], "/")).await,
        Verdict::Maintenance
    );

    // A repeated enter without a bypass flag keeps the secret; --no-bypass
    // removes it.
    b.enter(
        &lb,
        &spec(BypassRequest::Keep, ClientIp::Connection),
        Mode::Apply,
    )
    .await
    .unwrap();
    let kept = b.status(&lb).await.unwrap();
    assert_eq!(
        kept.window_info().unwrap().bypass.as_ref().unwrap().secret,
        new
    );
    b.enter(
        &lb,
        &spec(BypassRequest::Off, ClientIp::Connection),
        Mode::Apply,
    )
    .await
    .unwrap();
    assert_eq!(
        verdict(&b, &lb, &request(stranger, &[&header], "/")).await,
        Verdict::Maintenance
    );

    b.exit(&lb, Mode::Apply).await.unwrap();
    let after = b.check(&lb, &request(stranger, &[], "/")).await.unwrap();
    assert_eq!(after.verdict, Verdict::LetThrough);
    assert_eq!(after.why, [check::Why::NotInMaintenance]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarded_address_is_matched_at_its_position_and_not_spoofed() {
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let lb = alb("check-xff").await;
    let last = ClientIp::header(
        "X-Forwarded-For",
        ClientIpPosition::Last,
        ClientIpFallback::NoMatch,
    )
    .unwrap();
    let secret = BypassSecret::new("a-tester-secret-of-enough-length").unwrap();
    b.enter(&lb, &spec(BypassRequest::Set(secret), last), Mode::Apply)
        .await
        .unwrap();
    let cloudfront = "10.0.0.1";
    let xff = |v: &str| format!("X-Forwarded-For: {v}");
    // CloudFront appends the address it saw: the last one.
    let tester = xff("198.51.100.7, 203.0.113.9");
    assert_eq!(
        verdict(&b, &lb, &request(cloudfront, &[&tester], "/")).await,
        Verdict::LetThrough
    );
    let v6 = xff("2001:db8:1::42");
    assert_eq!(
        verdict(&b, &lb, &request(cloudfront, &[&v6], "/")).await,
        Verdict::LetThrough
    );
    // A client that claims an allowlisted address first is not let in.
    let spoof = xff("203.0.113.9, 198.51.100.7");
    assert_eq!(
        verdict(&b, &lb, &request(cloudfront, &[&spoof], "/")).await,
        Verdict::Maintenance
    );
    // The connection's address no longer counts; no header, no way in.
    assert_eq!(
        verdict(&b, &lb, &request("203.0.113.9", &[], "/")).await,
        Verdict::Maintenance
    );
    // The bypass still works behind the proxy.
    let bypass = "x-maint-bypass: a-tester-secret-of-enough-length";
    assert_eq!(
        verdict(&b, &lb, &request(cloudfront, &[&spoof, bypass], "/")).await,
        Verdict::LetThrough
    );
    let why = b
        .check(&lb, &request(cloudfront, &[&tester], "/"))
        .await
        .unwrap()
        .why;
    assert_eq!(
        why,
        [check::Why::AllowlistEntry {
            entry: "203.0.113.0/24".into(),
            address: "203.0.113.9".into(),
            from: "header X-Forwarded-For".into(),
        }]
    );
    let status = b.status(&lb).await.unwrap();
    assert_eq!(
        status.window_info().unwrap().client_ip.describe(),
        "header X-Forwarded-For (last address)"
    );
    b.exit(&lb, Mode::Apply).await.unwrap();
}

/// A service window named for this run (windows are named after their
/// service, and moto is shared by the tests).
fn window_of() -> Window {
    Window::of_service(&seed::unique_lb_name("svc"))
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_services_own_web_acl_the_bypass_and_header_address_continue_into_its_rules() {
    let faults = Faults::new();
    faults.answer_list_resources_for_web_acl();
    faults.answer_check_capacity();
    let b = faulty_backend(&faults, &OperationLog::new(), fast_settings());
    let lbs = vec![alb("check-inj-a").await, alb("check-inj-b").await];
    let arns: Vec<&str> = lbs.iter().map(ResourceArn::as_str).collect();
    let security = seed::security_web_acl(&arns).await;
    let read = || async {
        seed::waf_client()
            .get_web_acl()
            .name(&security.name)
            .id(&security.id)
            .scope(aws_sdk_wafv2::types::Scope::Regional)
            .send()
            .await
            .unwrap()
            .web_acl()
            .unwrap()
            .clone()
    };
    let before = read().await;
    let w = window_of();
    let last = ClientIp::header(
        "X-Forwarded-For",
        ClientIpPosition::Last,
        ClientIpFallback::NoMatch,
    )
    .unwrap();
    let injected = MaintenanceSpec {
        existing_web_acl: ExistingWebAcl::Inject,
        ..spec(BypassRequest::On, last)
    };
    for r in b
        .enter_window(&w, &lbs, &injected, Mode::Apply)
        .await
        .unwrap()
    {
        r.unwrap();
    }
    let during = read().await;
    let mut mine: Vec<(&str, i32)> = during
        .rules()
        .iter()
        .filter(|r| r.name().starts_with("maint-"))
        .map(|r| (r.name(), r.priority()))
        .collect();
    mine.sort_by_key(|(_, p)| *p);
    assert_eq!(
        mine,
        [
            ("maint-client-ip", 0),
            ("maint-bypass-link", 1),
            ("maint-maintenance", 2)
        ]
    );
    let status = b.status(&lbs[0]).await.unwrap();
    let secret = status.window_info().unwrap().bypass.clone().unwrap().secret;
    let (edge, stranger) = ("10.0.0.1", "X-Forwarded-For: 198.51.100.7");
    let tester = "X-Forwarded-For: 198.51.100.7, 203.0.113.9";
    for lb in &lbs {
        assert_eq!(
            verdict(&b, lb, &request(edge, &[stranger], "/")).await,
            Verdict::Maintenance
        );
        assert_eq!(
            verdict(&b, lb, &request(edge, &[tester], "/")).await,
            Verdict::LetThrough
        );
        let header = format!("x-maint-bypass: {}", secret.expose());
        assert_eq!(
            verdict(&b, lb, &request(edge, &[stranger, &header], "/")).await,
            Verdict::LetThrough
        );
        assert_eq!(
            verdict(&b, lb, &request(edge, &[stranger], &secret.link_path())).await,
            Verdict::BypassLink
        );
    }
    let why = b
        .check(&lbs[1], &request(edge, &[tester], "/"))
        .await
        .unwrap()
        .why;
    assert_eq!(
        why.last(),
        Some(&check::Why::ContinuesInto {
            web_acl: security.name.clone()
        }),
        "{why:?}"
    );
    for r in b.exit_window(&w, &lbs, Mode::Apply).await.unwrap() {
        r.unwrap();
    }
    let after = read().await;
    let priorities = |acl: &aws_sdk_wafv2::types::WebAcl| {
        let mut p: Vec<(String, i32)> = acl
            .rules()
            .iter()
            .map(|r| (r.name().to_string(), r.priority()))
            .collect();
        p.sort();
        p
    };
    assert_eq!(priorities(&after), priorities(&before), "exactly as it was");
    assert_eq!(
        after.custom_response_bodies(),
        before.custom_response_bodies()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_armed_window_lets_everyone_through_until_entered_then_the_bypass_works() {
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let lbs = vec![alb("check-arm-a").await, alb("check-arm-b").await];
    let w = window_of();
    for r in b
        .arm_window(
            &w,
            &lbs,
            &spec(BypassRequest::On, ClientIp::Connection),
            Mode::Apply,
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
    let stranger = "198.51.100.7";
    let armed = b
        .check(&lbs[0], &request(stranger, &[], "/"))
        .await
        .unwrap();
    assert_eq!(
        (armed.verdict, armed.why.clone()),
        (Verdict::LetThrough, vec![check::Why::Armed])
    );
    let status = b.status(&lbs[0]).await.unwrap();
    let secret = status.window_info().unwrap().bypass.clone().unwrap().secret;
    // Armed, the link does nothing: no redirect, the site as usual.
    assert_eq!(
        verdict(&b, &lbs[0], &request(stranger, &[], &secret.link_path())).await,
        Verdict::LetThrough
    );
    for r in b
        .enter_window(
            &w,
            &lbs,
            &spec(BypassRequest::Keep, ClientIp::Connection),
            Mode::Apply,
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
    let header = format!("x-maint-bypass: {}", secret.expose());
    for lb in &lbs {
        assert_eq!(
            verdict(&b, lb, &request(stranger, &[], "/")).await,
            Verdict::Maintenance
        );
        assert_eq!(
            verdict(&b, lb, &request(stranger, &[&header], "/")).await,
            Verdict::LetThrough
        );
    }
    for r in b.exit_window(&w, &lbs, Mode::Apply).await.unwrap() {
        r.unwrap();
    }
    assert_eq!(
        verdict(&b, &lbs[1], &request(stranger, &[], "/")).await,
        Verdict::LetThrough
    );
    for r in b.disarm_window(&w, &lbs, Mode::Apply).await.unwrap() {
        r.unwrap();
    }
}

/// A window scoped to hosts and paths, with an open path: what each request
/// gets, three ways, and why (the backend's explanation and maint's intent
/// give the same reasons).
#[tokio::test(flavor = "multi_thread")]
async fn a_scoped_window_answers_its_hosts_and_paths_and_keeps_its_open_paths_open() {
    use maint_core::maintenance::Given;
    use maint_core::scope::{Scope, ScopeParts};
    let b = waf_backend(&OperationLog::new(), fast_settings());
    let lb = alb("check-scope").await;
    let scope = Scope::parse(
        &["Shop.Example.com", "*.shop.example.com"],
        &["/checkout", "/api/orders/"],
        &["/checkout/healthz"],
    )
    .unwrap();
    let scoped = MaintenanceSpec {
        scope: scope.clone(),
        ..spec(BypassRequest::On, ClientIp::Connection)
    };
    b.enter(&lb, &scoped, Mode::Apply).await.unwrap();
    let status = b.status(&lb).await.unwrap();
    let info = status.window_info().unwrap().clone();
    assert_eq!(info.scope, scope);
    let secret = info.bypass.clone().unwrap().secret;

    let stranger = "198.51.100.7";
    let at = |host: &str, path: &str| {
        let headers = if host.is_empty() {
            Vec::new()
        } else {
            vec![format!("Host: {host}")]
        };
        CheckRequest::new(stranger, &headers, Some(path)).unwrap()
    };
    // Three ways, and the same reasons from the live rules and the intent.
    let answer = |r: CheckRequest| {
        let b = &b;
        let lb = &lb;
        async move {
            let v = verdict(b, lb, &r).await;
            let checked = b.check(lb, &r).await.unwrap();
            let intended = check::decide(lb, &b.status(lb).await.unwrap().state, &r);
            assert_eq!(checked.why, intended.why, "{r:?}");
            (v, checked.why)
        }
    };
    let out_of_scope = |why: &[check::Why]| matches!(why, [check::Why::OutOfScope { .. }]);
    let open = |why: &[check::Why]| matches!(why, [check::Why::OpenPath { path }] if path == "/checkout/healthz");

    for (host, path) in [
        ("shop.example.com", "/checkout"),
        ("SHOP.example.COM", "/checkout/pay"),
        ("eu.shop.example.com", "/api/orders/17"),
        ("shop.example.com", "/checkout/healthz/../pay"),
        ("shop.example.com", "//checkout"),
    ] {
        let (v, _) = answer(at(host, path)).await;
        assert_eq!(v, Verdict::Maintenance, "{host} {path}");
    }
    for (host, path) in [
        ("api.example.com", "/checkout"),
        ("shop.example.com", "/"),
        ("shop.example.com", "/api/orders"),
        ("evilshop.example.com", "/checkout"),
        ("shop.example.com:8443", "/checkout"),
        ("", "/checkout"),
    ] {
        let (v, why) = answer(at(host, path)).await;
        assert_eq!(v, Verdict::LetThrough, "{host} {path}");
        assert!(out_of_scope(&why), "{host} {path}: {why:?}");
    }
    for path in [
        "/checkout/healthz",
        "/checkout/healthz/deep",
        "/checkout/%68ealthz",
    ] {
        let (v, why) = answer(at("shop.example.com", path)).await;
        assert_eq!(v, Verdict::LetThrough, "{path}");
        assert!(open(&why), "{path}: {why:?}");
    }
    // Testers still get in on the window's hosts: the allowlist, the
    // bypass header, the link (which answers on the window's hosts only).
    let tester = CheckRequest::new(
        "203.0.113.9",
        &["Host: shop.example.com".into()],
        Some("/checkout"),
    )
    .unwrap();
    let (v, why) = answer(tester).await;
    assert_eq!(v, Verdict::LetThrough);
    assert!(
        matches!(why.as_slice(), [check::Why::AllowlistEntry { .. }]),
        "{why:?}"
    );
    let with_header = CheckRequest::new(
        stranger,
        &[
            "Host: shop.example.com".into(),
            format!("x-maint-bypass: {}", secret.expose()),
        ],
        Some("/checkout"),
    )
    .unwrap();
    assert_eq!(answer(with_header).await.0, Verdict::LetThrough);
    assert_eq!(
        answer(at("shop.example.com", &secret.link_path())).await.0,
        Verdict::BypassLink
    );
    let (v, why) = answer(at("api.example.com", &secret.link_path())).await;
    assert_eq!(v, Verdict::LetThrough);
    assert!(out_of_scope(&why), "{why:?}");

    // A repeated enter keeps the scope it is not given; given hosts change
    // the hosts only.
    let nothing_given = MaintenanceSpec {
        given: Some(Given::default()),
        ..spec(BypassRequest::Keep, ClientIp::Connection)
    };
    b.enter(&lb, &nothing_given, Mode::Apply).await.unwrap();
    let kept = b.status(&lb).await.unwrap();
    assert_eq!(kept.window_info().unwrap().scope, scope);
    let hosts_only = MaintenanceSpec {
        scope: Scope::parse(&["api.example.com"], &[] as &[&str], &[] as &[&str]).unwrap(),
        given: Some(Given {
            scope: ScopeParts {
                hosts: true,
                ..ScopeParts::default()
            },
            ..Given::default()
        }),
        ..spec(BypassRequest::Keep, ClientIp::Connection)
    };
    let outcome = b.enter(&lb, &hosts_only, Mode::Apply).await.unwrap();
    assert!(
        outcome
            .changes
            .iter()
            .any(|c| matches!(c, maint_core::maintenance::Change::ScopeChanged { .. })),
        "{outcome:?}"
    );
    let now = b
        .status(&lb)
        .await
        .unwrap()
        .window_info()
        .unwrap()
        .scope
        .clone();
    assert_eq!(now.hosts().len(), 1);
    assert_eq!(now.paths(), scope.paths());
    assert_eq!(now.open_paths(), scope.open_paths());
    assert_eq!(
        answer(at("api.example.com", "/checkout")).await.0,
        Verdict::Maintenance
    );
    assert_eq!(
        answer(at("shop.example.com", "/checkout")).await.0,
        Verdict::LetThrough
    );

    b.exit(&lb, Mode::Apply).await.unwrap();
    assert_eq!(
        b.check(&lb, &at("api.example.com", "/checkout"))
            .await
            .unwrap()
            .verdict,
        Verdict::LetThrough
    );
}
