//! Unit tests of maint's web ACL shape: the rule builder, the state
//! record's codec, the reader and composing into a service's own web ACL,
//! round-tripped through a built `WebAcl`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};

use aws_sdk_wafv2::types::{
    BlockAction, CustomResponseBody, FallbackBehavior, ForwardedIpPosition, ResponseContentType,
    Rule, RuleAction, Statement, WebAcl,
};
use chrono::Utc;

use super::compose::{compose, first_place, restore, will_not_fit};
use super::names::{
    is_maint_body, is_maint_rule, IpSetId, PartNames, ALLOWLISTED_LABEL, CLIENT_IP_RULE, LINK_RULE,
    MANAGED_BY, RULE_NAME, SLOTS,
};
use super::reader::{read_acl, read_parts};
use super::record::{state_bodies, Injection, StateRecord};
use super::rules::{
    blocked_requests, bodies, default_action, match_all, metric_base, rules, visibility, AclSpec,
};
use crate::access::{BypassSecret, ClientIp, ClientIpFallback, ClientIpPosition};
use crate::response::MaintenanceResponse;
use crate::response::MAX_BODY_BYTES;

const LB: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123456789abcdef";

/// What the maintenance rule lets through: X in OR(probe, NOT(X)).
fn let_through(s: &Statement) -> &Statement {
    let or = s.or_statement().expect("OR(probe, NOT(let through))");
    or.statements()[1]
        .not_statement()
        .and_then(|n| n.statement())
        .expect("NOT(let through)")
}

fn record(sets: &[&str]) -> StateRecord {
    StateRecord {
        managed_by: MANAGED_BY.into(),
        window: "maint-shop-0123456789abcdef".into(),
        service: None,
        members: vec![LB.to_string()],
        load_balancer: None,
        reason: Some("release".into()),
        since: Utc::now(),
        until: None,
        allowlist_enabled: true,
        ipv4_set: sets.first().map(|s| s.to_string()),
        ipv6_set: sets.get(1).map(|s| s.to_string()),
        active: true,
        armed_since: None,
        injected: None,
        bypass: None,
        bypass_enabled: true,
        client_ip: ClientIp::Connection,
        scope: Default::default(),
        part: None,
        member_prefix: None,
    }
}

fn acl(spec: &AclSpec<'_>, name: &str) -> WebAcl {
    let mut b = WebAcl::builder()
        .name(name)
        .id("id")
        .arn("arn")
        .default_action(default_action())
        .set_rules(Some(rules(spec, "m").unwrap()))
        .visibility_config(visibility("m").unwrap());
    for (k, v) in bodies(spec).unwrap() {
        b = b.custom_response_bodies(k, v);
    }
    b.build().unwrap()
}

const V4: &str =
    "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-shop-0123456789abcdef-ipv4/aaaa";
const V6: &str =
    "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-shop-0123456789abcdef-ipv6/bbbb";

#[test]
fn round_trips_through_the_acl() {
    let response = MaintenanceResponse::default();
    for (sets, enabled) in [
        (vec![V4], true),
        (vec![V4, V6], true),
        (vec![V4], false),
        (vec![], true),
    ] {
        let mut rec = record(&sets);
        rec.allowlist_enabled = enabled;
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let acl = acl(&spec, "maint-shop-0123456789abcdef");
        let read = read_acl(&acl).unwrap().expect("ours");
        assert_eq!(read.record, rec);
        assert_eq!(read.response, response);
    }
}

#[test]
fn the_rule_statement_has_the_expected_shape() {
    let response = MaintenanceResponse::default();
    let mut rec = record(&[V4, V6]);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let s = blocked_requests(&spec).unwrap();
    let inner = let_through(&s);
    assert_eq!(inner.or_statement().unwrap().statements().len(), 2);
    // A probe of the window gets the page whatever its address.
    let probe = s.or_statement().unwrap().statements()[0]
        .byte_match_statement()
        .unwrap();
    assert_eq!(probe.search_string().as_ref(), rec.window.as_bytes());
    rec.allowlist_enabled = false;
    let disabled = AclSpec {
        record: &rec,
        response: &response,
    };
    assert!(blocked_requests(&disabled)
        .unwrap()
        .size_constraint_statement()
        .is_some());
}

#[test]
fn acls_that_are_not_ours_are_not_read() {
    let response = MaintenanceResponse::default();
    let rec = record(&[]);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    assert!(read_acl(&acl(&spec, "security-acl")).unwrap().is_none());
    let mut other = rec.clone();
    other.window = "maint-svc-other".into();
    let spec = AclSpec {
        record: &other,
        response: &response,
    };
    assert!(read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
        .unwrap()
        .is_none());
}

#[test]
fn a_record_from_before_windows_reads_as_a_window_of_one() {
    let response = MaintenanceResponse::default();
    let mut old = record(&[V4]);
    old.window = String::new();
    old.members = Vec::new();
    old.load_balancer = Some(LB.to_string());
    let spec = AclSpec {
        record: &old,
        response: &response,
    };
    let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
        .unwrap()
        .expect("ours");
    assert_eq!(read.record.window, "maint-shop-0123456789abcdef");
    assert_eq!(read.record.members, [LB]);
    assert_eq!(read.record.load_balancer, None);
}

#[test]
fn ip_set_ids_parse_from_arns() {
    let id = IpSetId::from_arn(V4).unwrap();
    assert_eq!(id.name, "maint-shop-0123456789abcdef-ipv4");
    assert_eq!(id.id, "aaaa");
    assert!(IpSetId::from_arn("arn:aws:wafv2:x:y:regional/webacl/a/b").is_err());
}

/// A service's own web ACL with rules at the given priorities.
fn host(priorities: &[(&str, i32)]) -> WebAcl {
    let mut b = WebAcl::builder()
        .name("security")
        .id("id")
        .arn("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/security/id")
        .default_action(default_action())
        .visibility_config(visibility("security").unwrap())
        .custom_response_bodies(
            "blocked",
            CustomResponseBody::builder()
                .content_type(ResponseContentType::TextPlain)
                .content("no")
                .build()
                .unwrap(),
        );
    for (name, priority) in priorities {
        b = b.rules(
            Rule::builder()
                .name(*name)
                .priority(*priority)
                .statement(match_all().unwrap())
                .action(
                    RuleAction::builder()
                        .block(BlockAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility(name).unwrap())
                .build()
                .unwrap(),
        );
    }
    b.build().unwrap()
}

fn injected(acl: &WebAcl) -> StateRecord {
    let mut rec = record(&[V4]);
    rec.injected = Some(Injection {
        renumbered: first_place(acl, SLOTS, &PartNames::of(None)),
        slots: SLOTS,
    });
    rec
}

fn priorities(rules: &[Rule]) -> Vec<(String, i32)> {
    let mut p: Vec<(String, i32)> = rules
        .iter()
        .map(|r| (r.name().to_string(), r.priority()))
        .collect();
    p.sort_by_key(|(_, p)| *p);
    p
}

fn with_rules(
    acl: &WebAcl,
    rules: Vec<Rule>,
    bodies: HashMap<String, CustomResponseBody>,
) -> WebAcl {
    let mut acl = acl.clone();
    acl.rules = Some(rules);
    acl.custom_response_bodies = Some(bodies);
    acl
}

#[test]
fn maints_rule_goes_first_and_exit_restores_exactly() {
    let response = MaintenanceResponse::default();
    let acl = host(&[
        ("managed", 0),
        ("rate", 1),
        ("geo", 5),
        ("Shield", 10_000_000),
    ]);
    assert_eq!(
        first_place(&acl, SLOTS, &PartNames::of(None)),
        BTreeMap::from([("managed".to_string(), 0), ("rate".to_string(), 1)]),
        "only the rules below the first three free priorities move"
    );
    assert_eq!(
        first_place(&acl, 1, &PartNames::of(None)),
        BTreeMap::from([("managed".to_string(), 0), ("rate".to_string(), 1)]),
    );
    let gap_of_two = host(&[("a", 0), ("b", 3), ("c", 4), ("d", 8)]);
    assert_eq!(
        first_place(&gap_of_two, SLOTS, &PartNames::of(None)),
        BTreeMap::from([
            ("a".to_string(), 0),
            ("b".to_string(), 3),
            ("c".to_string(), 4)
        ]),
        "a gap of two is too small for three rules"
    );
    let rec = injected(&acl);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let (rules, bodies) = compose(&acl, &spec).unwrap();
    assert_eq!(
        priorities(&rules),
        [
            ("maint-maintenance".to_string(), 2),
            ("managed".to_string(), 3),
            ("rate".to_string(), 4),
            ("geo".to_string(), 5),
            ("Shield".to_string(), 10_000_000)
        ]
    );
    assert_eq!(bodies.len(), 3, "its own body and maint's two");
    assert!(will_not_fit(&acl, &rules, &bodies, &PartNames::of(None)).is_none());
    let during = with_rules(&acl, rules, bodies);
    let read = read_acl(&during).unwrap().expect("the injected window");
    assert!(read.injected() && read.rule_present);
    // The same rules and record in a web ACL named like a window of
    // maint's (a copy): not trusted, so never changed or emptied.
    let mut copy = during.clone();
    copy.name = "maint-svc-z".into();
    assert!(read_acl(&copy).unwrap().is_none());
    // Composing again (an allowlist edit) moves nothing further.
    let (again, _) = compose(&during, &spec).unwrap();
    assert_eq!(priorities(&again), priorities(during.rules()));

    let (rules, bodies) = restore(
        &during,
        rec.injected.as_ref().unwrap(),
        &PartNames::of(None),
    );
    let after = with_rules(&acl, rules, bodies);
    assert_eq!(priorities(after.rules()), priorities(acl.rules()));
    assert_eq!(after.custom_response_bodies(), acl.custom_response_bodies());
}

/// `acl` with the part of the window `record` composed in.
fn with_part(acl: &WebAcl, record: &StateRecord, response: &MaintenanceResponse) -> WebAcl {
    let (rules, bodies) = compose(acl, &AclSpec { record, response }).unwrap();
    with_rules(acl, rules, bodies)
}

#[test]
fn two_windows_share_a_web_acl_each_in_its_own_part_and_leave_the_other_exactly() {
    let response = MaintenanceResponse::default();
    let acl = host(&[("managed", 0), ("rate", 1)]);
    // The shop's window goes in first, with maint's first names.
    let shop = injected(&acl);
    let with_shop = with_part(&acl, &shop, &response);
    // Then the api's, scoped to its host, with names of its own.
    let mut api = record(&[]);
    api.window = "maint-svc-api".into();
    api.service = Some("api".into());
    let names = PartNames::sharing(&api.window);
    api.part = names.id().map(str::to_string);
    api.injected = Some(Injection {
        renumbered: first_place(&with_shop, SLOTS, &names),
        slots: SLOTS,
    });
    let page = MaintenanceResponse::build(
        None,
        Some(crate::response::ResponseStatus::new(503).unwrap()),
        Some(
            crate::response::ResponseBody::new(
                crate::response::ContentType::Json,
                r#"{"message":"api down"}"#.into(),
            )
            .unwrap(),
        ),
        crate::response::ContentType::Json,
        Vec::new(),
    )
    .unwrap();
    let api_spec = AclSpec {
        record: &api,
        response: &page,
    };
    let (rules, bodies) = compose(&with_shop, &api_spec).unwrap();
    assert!(will_not_fit(&with_shop, &rules, &bodies, &names).is_none());
    let both = with_rules(&with_shop, rules, bodies);
    assert_eq!(
        priorities(both.rules()),
        [
            (names.rule(), 2),
            ("maint-maintenance".to_string(), 5),
            ("managed".to_string(), 6),
            ("rate".to_string(), 7),
        ],
        "the newcomer's rules go first, everything else moves up by its slots"
    );
    let parts = read_parts(&both).unwrap();
    let windows: Vec<&str> = parts.iter().map(|p| p.record.window.as_str()).collect();
    assert_eq!(windows, [shop.window.as_str(), "maint-svc-api"]);
    assert_eq!(parts[1].record, api);
    assert_eq!(parts[1].response, page);
    assert_eq!(parts[0].response, response);
    assert!(parts.iter().all(|p| p.rule_present && p.damage.is_none()));
    // The shop's part composed again (an allowlist edit) leaves the api's
    // where it is.
    let (again, bodies) = compose(
        &both,
        &AclSpec {
            record: &shop,
            response: &response,
        },
    )
    .unwrap();
    assert_eq!(priorities(&again), priorities(both.rules()));
    assert_eq!(bodies.len(), both.custom_response_bodies().unwrap().len());
    // The api leaves first: the shop's part and the service's rules are
    // as they were before it came.
    let (rules, bodies) = restore(&both, api.injected.as_ref().unwrap(), &names);
    let after_api = with_rules(&acl, rules, bodies);
    assert_eq!(priorities(after_api.rules()), priorities(with_shop.rules()));
    assert_eq!(
        after_api.custom_response_bodies(),
        with_shop.custom_response_bodies()
    );
    // Or the shop leaves first: the api's part stays whole, and reads as
    // the only window there.
    let (rules, bodies) = restore(&both, shop.injected.as_ref().unwrap(), &PartNames::of(None));
    let after_shop = with_rules(&acl, rules, bodies);
    let left = read_parts(&after_shop).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record, api);
    assert!(left[0].rule_present && left[0].damage.is_none());
}

#[test]
fn a_part_whose_record_claims_another_parts_names_is_not_read() {
    let response = MaintenanceResponse::default();
    let acl = host(&[("managed", 0)]);
    let mut api = injected(&acl);
    api.window = "maint-svc-api".into();
    // Written under the names of another window's part.
    let names = PartNames::sharing("maint-svc-other");
    api.part = names.id().map(str::to_string);
    let (rules, bodies) = compose(
        &acl,
        &AclSpec {
            record: &api,
            response: &response,
        },
    )
    .unwrap();
    assert!(read_parts(&with_rules(&acl, rules, bodies))
        .unwrap()
        .is_empty());
}

#[test]
fn a_rule_someone_moved_during_the_window_keeps_its_new_place() {
    let response = MaintenanceResponse::default();
    let acl = host(&[("managed", 0), ("rate", 1)]);
    let rec = injected(&acl);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let (mut rules, bodies) = compose(&acl, &spec).unwrap();
    // Meanwhile another team moves "rate" to 7 and adds "new" at 3.
    for r in &mut rules {
        if r.name() == "rate" {
            r.priority = 7;
        }
    }
    let mut extra = host(&[("new", 6)]).rules().to_vec();
    rules.append(&mut extra);
    let during = with_rules(&acl, rules, bodies);
    let (rules, _) = restore(
        &during,
        rec.injected.as_ref().unwrap(),
        &PartNames::of(None),
    );
    assert_eq!(
        priorities(&rules),
        [
            ("managed".to_string(), 0),
            ("new".to_string(), 6),
            ("rate".to_string(), 7)
        ]
    );
}

#[test]
fn name_clashes_and_limits_are_refused() {
    let response = MaintenanceResponse::default();
    let clash = host(&[(RULE_NAME, 3)]);
    let rec = injected(&clash);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let (rules, bodies) = compose(&clash, &spec).unwrap();
    assert!(will_not_fit(&clash, &rules, &bodies, &PartNames::of(None))
        .unwrap()
        .contains("already has a rule named"));

    let acl = host(&[("a", 0)]);
    let many: HashMap<String, CustomResponseBody> = (0..49)
        .map(|i| {
            (
                format!("b{i}"),
                acl.custom_response_bodies().unwrap()["blocked"].clone(),
            )
        })
        .collect();
    let crowded = with_rules(&acl, acl.rules().to_vec(), many);
    let rec = injected(&crowded);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let (rules, bodies) = compose(&crowded, &spec).unwrap();
    assert!(
        will_not_fit(&crowded, &rules, &bodies, &PartNames::of(None))
            .unwrap()
            .contains("custom response bodies")
    );
}

#[test]
fn an_armed_window_passes_everything_and_reads_back() {
    let response = MaintenanceResponse::default();
    let mut rec = record(&[V4]);
    rec.active = false;
    rec.armed_since = Some(rec.since);
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let s = blocked_requests(&spec).unwrap();
    let inner = s.not_statement().unwrap().statement().unwrap();
    assert!(
        inner.size_constraint_statement().is_some(),
        "matches nothing"
    );
    let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
        .unwrap()
        .expect("ours");
    assert_eq!(read.record, rec);
}

#[test]
fn a_bypass_adds_its_header_and_cookie_and_a_link_rule_before_the_page() {
    let response = MaintenanceResponse::default();
    let mut rec = record(&[V4]);
    rec.bypass = Some(BypassSecret::random().expose().to_string());
    rec.until = Some(Utc::now() + chrono::Duration::hours(2));
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let rules = rules(&spec, "m").unwrap();
    let names: Vec<(&str, i32)> = rules.iter().map(|r| (r.name(), r.priority())).collect();
    assert_eq!(names, [(LINK_RULE, 1), (RULE_NAME, 2)]);
    let link = rules[0].action().unwrap().block().unwrap();
    let custom = link.custom_response().unwrap();
    assert_eq!(custom.response_code(), 302);
    let cookie = custom
        .response_headers()
        .iter()
        .find(|h| h.name() == "Set-Cookie")
        .unwrap()
        .value();
    assert!(cookie.starts_with(&format!(
        "maint_bypass={}; Path=/; Expires=",
        rec.bypass.as_deref().unwrap()
    )));
    assert!(
        cookie.ends_with("GMT; Secure; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    assert!(cookie.len() <= 255, "AWS's limit on a header value");
    let or = let_through(rules[1].statement().unwrap())
        .or_statement()
        .unwrap();
    assert_eq!(
        or.statements().len(),
        3,
        "the IP set, the header, the cookie"
    );
    let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
        .unwrap()
        .unwrap();
    assert_eq!(read.record, rec);
    // A disabled bypass takes no part: no link, nothing let through.
    rec.bypass_enabled = false;
    rec.allowlist_enabled = false;
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let rules = self::rules(&spec, "m").unwrap();
    assert_eq!(rules.len(), 1);
    assert!(rules[0]
        .statement()
        .unwrap()
        .size_constraint_statement()
        .is_some());
}

#[test]
fn a_client_address_from_a_header_is_labelled_by_a_count_rule_of_its_own() {
    let response = MaintenanceResponse::default();
    let mut rec = record(&[V4, V6]);
    rec.client_ip = ClientIp::header(
        "X-Forwarded-For",
        ClientIpPosition::Last,
        ClientIpFallback::NoMatch,
    )
    .unwrap();
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let rules = rules(&spec, "m").unwrap();
    assert_eq!(rules[0].name(), CLIENT_IP_RULE);
    assert_eq!(rules[0].priority(), 0);
    assert!(rules[0].action().unwrap().count().is_some());
    assert_eq!(rules[0].rule_labels()[0].name(), ALLOWLISTED_LABEL);
    let sets = rules[0]
        .statement()
        .unwrap()
        .or_statement()
        .unwrap()
        .statements();
    let fwd = sets[0]
        .ip_set_reference_statement()
        .unwrap()
        .ip_set_forwarded_ip_config()
        .unwrap();
    assert_eq!(fwd.header_name(), "X-Forwarded-For");
    assert_eq!(fwd.position(), &ForwardedIpPosition::Last);
    assert_eq!(fwd.fallback_behavior(), &FallbackBehavior::NoMatch);
    let inner = let_through(rules[1].statement().unwrap());
    assert_eq!(
        inner.label_match_statement().unwrap().key(),
        ALLOWLISTED_LABEL
    );
    let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
        .unwrap()
        .unwrap();
    assert_eq!(read.record, rec);
}

#[test]
fn a_window_injected_with_one_slot_refuses_what_needs_three() {
    let response = MaintenanceResponse::default();
    let mut rec = record(&[V4]);
    rec.injected = Some(Injection {
        renumbered: BTreeMap::new(),
        slots: 1,
    });
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let only = rules(&spec, "security").unwrap();
    assert_eq!((only[0].name(), only[0].priority()), (RULE_NAME, 0));
    rec.bypass = Some(BypassSecret::random().expose().to_string());
    let spec = AclSpec {
        record: &rec,
        response: &response,
    };
    let err = rules(&spec, "security").unwrap_err();
    assert!(err.to_string().contains("maint exit"), "{err}");
}

fn members(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/\
                     shop-frontend-production-{i:07}/{i:016x}"
            )
        })
        .collect()
}

#[test]
fn a_small_record_is_one_json_body_as_before() {
    let mut rec = record(&[]);
    rec.members = members(20);
    let bodies = state_bodies(&rec).unwrap();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0].1, ResponseContentType::ApplicationJson);
    assert!(!bodies[0].2.contains("member_prefix"));
}

#[test]
fn a_window_of_a_hundred_load_balancers_fits_wafs_body_limit_and_reads_back() {
    let response = MaintenanceResponse::default();
    for n in [40, 60, 100] {
        let mut rec = record(&[]);
        rec.members = members(n);
        rec.bypass = Some(crate::access::BypassSecret::random().expose().to_string());
        let pieces = state_bodies(&rec).unwrap();
        for (key, _, content) in &pieces {
            assert!(content.len() <= MAX_BODY_BYTES, "{key}: {}", content.len());
            assert!(is_maint_body(key), "{key}");
        }
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let read = read_acl(&acl(&spec, "maint-shop-0123456789abcdef"))
            .unwrap()
            .expect("ours");
        assert_eq!(read.record, rec, "{n} members");
    }
    let mut rec = record(&[]);
    rec.members = members(100);
    assert!(state_bodies(&rec).unwrap().len() >= 2, "cut into pieces");
}

#[test]
fn maints_bodies_are_told_from_others() {
    for key in [
        "maint-page",
        "maint-state",
        "maint-state-2",
        "maint-state-17",
    ] {
        assert!(is_maint_body(key), "{key}");
    }
    for key in [
        "maint-state-1",
        "maint-state-x",
        "maint-statey",
        "blocked",
        "maint-pages",
    ] {
        assert!(!is_maint_body(key), "{key}");
    }
}

/// Two services scoped to their hosts, each window a part of one service
/// web ACL, each with an allowlist of its own read from a proxy's header
/// (so each part labels its allowlisted requests): the web ACL as AWS WAF
/// evaluates it answers each host with its own window's response, and one
/// service's allowlist never lets anyone into the other.
#[test]
fn two_parts_in_one_web_acl_answer_each_host_with_its_own_window() {
    use crate::backend::waf::evaluate::{evaluate, LiveAcl};
    use crate::backend::waf::live::rule_json;
    use crate::check::CheckRequest;
    use crate::scope::Scope;

    const API_V4: &str =
        "arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/maint-svc-api-ipv4/cccc";
    let xff = ClientIp::Header {
        name: "X-Forwarded-For".into(),
        position: ClientIpPosition::First,
        fallback: ClientIpFallback::NoMatch,
    };
    let response = MaintenanceResponse::default();
    let acl = host(&[("managed", 0)]);
    let mut shop = injected(&acl);
    shop.client_ip = xff.clone();
    shop.scope = Scope::parse(&["shop.example.com"], &[] as &[&str], &[] as &[&str]).unwrap();
    let with_shop = with_part(&acl, &shop, &response);
    let mut api = record(&[API_V4]);
    api.window = "maint-svc-api".into();
    api.client_ip = xff;
    api.scope = Scope::parse(&["api.example.com"], &[] as &[&str], &[] as &[&str]).unwrap();
    let names = PartNames::sharing(&api.window);
    api.part = names.id().map(str::to_string);
    api.injected = Some(Injection {
        renumbered: first_place(&with_shop, SLOTS, &names),
        slots: SLOTS,
    });
    let both = with_part(&with_shop, &api, &response);
    let live = LiveAcl {
        name: both.name().to_string(),
        rules: both.rules().iter().map(rule_json).collect(),
        bodies: both
            .custom_response_bodies()
            .unwrap()
            .iter()
            .map(|(k, b)| {
                (
                    k.clone(),
                    (
                        b.content_type().as_str().to_string(),
                        b.content().to_string(),
                    ),
                )
            })
            .collect(),
        ip_sets: HashMap::from([
            (V4.to_string(), vec!["203.0.113.0/24".parse().unwrap()]),
            (API_V4.to_string(), vec!["198.51.100.0/24".parse().unwrap()]),
        ]),
    };
    let decided = |host: &str, from: &str| {
        let request = CheckRequest::new(
            "192.0.2.1",
            &[format!("X-Forwarded-For: {from}")],
            Some("/"),
        )
        .unwrap()
        .with_host(host)
        .unwrap();
        evaluate(&live, &request, is_maint_rule).unwrap().decided_by
    };
    let shops = Some("maint-maintenance".to_string());
    let apis = Some(names.rule());
    // A stranger gets each host's own window.
    assert_eq!(decided("shop.example.com", "192.0.2.7"), shops);
    assert_eq!(decided("api.example.com", "192.0.2.7"), apis);
    // Each allowlist lets its own testers into its own service only.
    assert_eq!(decided("shop.example.com", "203.0.113.9"), None);
    assert_eq!(decided("api.example.com", "203.0.113.9"), apis);
    assert_eq!(decided("api.example.com", "198.51.100.9"), None);
    assert_eq!(decided("shop.example.com", "198.51.100.9"), shops);
    // A host in neither scope is left alone.
    assert_eq!(decided("admin.example.com", "192.0.2.7"), None);
}

#[test]
fn metric_names_keep_within_awss_128_characters_in_a_web_acl_of_the_longest_name() {
    // A service's own web ACL may be named with 128 characters; maint's
    // first part, and a sharing part, in it.
    let long = "a".repeat(128);
    let response = MaintenanceResponse::default();
    for part in [None, PartNames::sharing("maint-svc-api").id()] {
        let mut rec = record(&[V4]);
        rec.bypass = Some(BypassSecret::random().expose().to_string());
        rec.part = part.map(str::to_string);
        let spec = AclSpec {
            record: &rec,
            response: &response,
        };
        let rules = rules(&spec, &long).unwrap();
        assert_eq!(rules.len(), 2, "bypass link and maintenance rules");
        let names: Vec<&str> = rules
            .iter()
            .map(|r| r.visibility_config().unwrap().metric_name())
            .collect();
        for name in &names {
            assert!(name.len() <= 128, "{} characters: {name}", name.len());
        }
        // Still one metric per rule, and a sharing part's its own.
        assert_ne!(names[0], names[1]);
        if let Some(id) = part {
            assert!(names.iter().all(|n| n.contains(id)), "{names:?}");
        }
    }
    // A short name is kept whole.
    assert_eq!(
        metric_base("security-acl", Some("p0123abcd")),
        "security-acl-p0123abcd"
    );
}
