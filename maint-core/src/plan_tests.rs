//! Table and property tests of the window rules, on observations built by
//! hand: no backend.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::allowlist::Allowlist;
use crate::error::ErrorKind;
use crate::maintenance::State;

/// The window every case asks about, and another one.
const SHOP: &str = "shop";
const OTHER: &str = "other";

/// Where a member is before the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Under no web ACL.
    Normal,
    /// Under maint's own web ACL of service `.0`: in maintenance (`active`)
    /// or in pass-through form, armed or not.
    Own(&'static str, bool, bool),
    /// Under web ACL `.0`, maint did not create it.
    Foreign(&'static str),
    /// Under web ACL `.0` maint did not create, maint's rule for service
    /// `.1` injected into it, still in place (`active`) or removed.
    Injected(&'static str, &'static str, bool),
    /// Could not be observed.
    Unread,
}

fn window(service: &str) -> Window {
    Window::of_service(service)
}

fn lb(i: usize) -> ResourceArn {
    ResourceArn::parse(&format!(
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/lb{i}/{i:016x}"
    ))
    .unwrap()
}

fn acl_arn(name: &str) -> String {
    format!("arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/{name}/0000")
}

/// A record of the window of `service`, with no member yet.
fn record(service: &str, active: bool, armed: bool, injected: bool) -> WindowRecord {
    let host = injected.then(|| "host".to_string());
    let spec = MaintenanceSpec::default();
    let mut w = WindowRecord::new(&window(service), "", &spec, host, armed, &BTreeSet::new());
    w.active = active;
    w
}

/// A world of `places` (member `i` is `lb(i)`); `extra` load balancers
/// (not named) are under the same web ACLs as the first member; `leftover`:
/// the window of `SHOP` exists with no member (an interrupted run).
fn world(places: &[At], extra: usize, leftover: bool) -> (Vec<ResourceArn>, Observation) {
    let lbs: Vec<ResourceArn> = (0..places.len()).map(lb).collect();
    let mut seen = Observation::default();
    let add = |seen: &mut Observation, name: &str, who: String, w: Option<WindowRecord>| {
        let arn = acl_arn(name);
        let acl = seen.acls.entry(arn.clone()).or_insert_with(|| ObservedAcl {
            arn: arn.clone(),
            name: name.to_string(),
            associated: BTreeSet::new(),
            maints: w.as_ref().is_some_and(|w| !w.injected),
            parts: w.into_iter().collect(),
        });
        acl.associated.insert(who.clone());
        for w in &mut acl.parts {
            w.members.insert(who.clone());
        }
        arn
    };
    for (i, at) in places.iter().enumerate() {
        let who = lb(i).to_string();
        let under = match *at {
            At::Normal => None,
            At::Unread => {
                seen.members.push(Err(Error::unexpected("throttled")));
                continue;
            }
            At::Own(service, active, armed) => {
                let w = record(service, active, armed, false);
                Some(add(&mut seen, window(service).name(), who, Some(w)))
            }
            At::Foreign(name) => Some(add(&mut seen, name, who, None)),
            At::Injected(name, service, active) => {
                let w = record(service, active, false, true);
                Some(add(&mut seen, name, who, Some(w)))
            }
        };
        seen.members.push(Ok(under));
    }
    if let Some(Ok(Some(first))) = seen.members.first().cloned() {
        for e in 0..extra {
            let acl = seen.acls.get_mut(&first).unwrap();
            acl.associated.insert(lb(100 + e).to_string());
        }
    }
    let own = acl_arn(window(SHOP).name());
    if leftover && !seen.acls.contains_key(&own) {
        seen.acls.insert(
            own.clone(),
            ObservedAcl {
                arn: own.clone(),
                name: window(SHOP).name().to_string(),
                associated: BTreeSet::new(),
                parts: vec![record(SHOP, true, false, false)],
                maints: true,
            },
        );
    }
    if seen.acls.contains_key(&own) {
        seen.own = Some(own);
    }
    (lbs, seen)
}

fn consent() -> MaintenanceSpec {
    MaintenanceSpec {
        existing_web_acl: ExistingWebAcl::Inject,
        ..MaintenanceSpec::default()
    }
}

/// What a member gets, written shortly: its move and changes, or the kind
/// of its refusal and a piece of its wording.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Part(Move, Vec<Change>),
    Refused(ErrorKind, String),
}

fn got(plan: &Plan) -> Vec<Got> {
    plan.members
        .iter()
        .map(|m| match m {
            Ok(p) => Got::Part(p.moves, p.changes.clone()),
            Err(e) => Got::Refused(e.kind(), e.to_string()),
        })
        .collect()
}

/// Checks each member against `want`: a part exactly, a refusal by kind
/// and a piece of its message.
fn expect(case: &str, plan: &Plan, want: &[Got]) {
    let got = got(plan);
    assert_eq!(got.len(), want.len(), "{case}: {got:?}");
    for (g, w) in got.iter().zip(want) {
        match (g, w) {
            (Got::Refused(k, text), Got::Refused(wk, piece)) => {
                assert_eq!(k, wk, "{case}: {text}");
                assert!(
                    text.contains(piece.as_str()),
                    "{case}: {text:?} lacks {piece:?}"
                );
            }
            _ => assert_eq!(g, w, "{case}"),
        }
    }
}

fn part(moves: Move, changes: &[Change]) -> Got {
    Got::Part(moves, changes.to_vec())
}

fn refused(kind: ErrorKind, piece: &str) -> Got {
    Got::Refused(kind, piece.to_string())
}

fn created() -> Change {
    Change::CreatedWebAcl {
        name: window(SHOP).name().to_string(),
    }
}

fn deleted() -> Change {
    Change::DeletedWebAcl {
        name: window(SHOP).name().to_string(),
    }
}

/// A step's kind, for comparing plans shortly.
fn kinds(plan: &Plan) -> Vec<&'static str> {
    plan.steps
        .iter()
        .map(|s| match s {
            Step::Create { armed: false, .. } => "create",
            Step::Create { armed: true, .. } => "create armed",
            Step::Inject { .. } => "inject",
            Step::Update {
                switch: Some(true), ..
            } => "switch on",
            Step::Update {
                switch: Some(false),
                settings: None,
                ..
            } => "switch off",
            Step::Update { arm: true, .. } => "update armed",
            Step::Update { .. } => "update",
            Step::Forget { .. } => "forget",
            Step::Delete { .. } => "delete",
            Step::RemoveInjection { .. } => "remove injection",
            Step::SetAccess { .. } => "set access",
        })
        .collect()
}

fn run(places: &[At], extra: usize, leftover: bool, request: Request<'_>) -> Result<Plan> {
    let (lbs, seen) = world(places, extra, leftover);
    plan(&window(SHOP), &lbs, &seen, request)
}

use At::{Foreign, Injected, Normal, Own, Unread};
use ErrorKind::{Conflict, ForeignWebAcl, NotInMaintenance, Unexpected};

#[test]
fn enter_creates_joins_switches_and_refuses_each_member_for_itself() {
    let spec = MaintenanceSpec::default();
    let enter = Request::Enter(&spec);
    let joined = |extra: &[Change]| {
        let mut c = extra.to_vec();
        c.push(Change::Associated);
        part(Move::Join, &c)
    };
    type Case<'a> = (&'a str, Vec<At>, bool, Vec<Got>, Vec<&'a str>);
    let cases: Vec<Case<'_>> = vec![
        (
            "a new window",
            vec![Normal, Normal],
            false,
            vec![joined(&[created()]), joined(&[created()])],
            vec!["create"],
        ),
        (
            "a member joins a window in maintenance",
            vec![Own(SHOP, true, false), Normal],
            false,
            vec![part(Move::Stay, &[]), joined(&[])],
            vec!["update"],
        ),
        (
            "an armed window is switched on",
            vec![Own(SHOP, false, true)],
            false,
            vec![part(Move::Stay, &[Change::SwitchedOn])],
            vec!["switch on"],
        ),
        (
            "a leftover window is used again",
            vec![Normal],
            true,
            vec![joined(&[])],
            vec!["update"],
        ),
        (
            "members of other windows and foreign web ACLs are refused alone",
            vec![
                Normal,
                Own(OTHER, true, false),
                Own("third", false, true),
                Foreign("security"),
                Injected("team", OTHER, true),
                Unread,
            ],
            false,
            vec![
                joined(&[created()]),
                refused(
                    Conflict,
                    "it is in maintenance in window maint-svc-other, not",
                ),
                refused(Conflict, "it is armed in window maint-svc-third"),
                refused(ForeignWebAcl, "security"),
                refused(Conflict, "in maintenance in window maint-svc-other"),
                refused(Unexpected, "throttled"),
            ],
            vec!["create"],
        ),
        (
            "nothing to join: no window is made",
            vec![Foreign("security")],
            false,
            vec![refused(ForeignWebAcl, "security")],
            vec![],
        ),
    ];
    for (case, places, leftover, want, steps) in cases {
        let plan = run(&places, 0, leftover, enter).unwrap();
        expect(case, &plan, &want);
        assert_eq!(kinds(&plan), steps, "{case}");
    }
}

#[test]
fn enter_injects_only_into_one_web_acl_the_window_has_to_itself() {
    let spec = consent();
    let enter = Request::Enter(&spec);
    let injected = Change::RuleInjected {
        web_acl: "team".into(),
    };
    let plan = run(&[Foreign("team"), Foreign("team")], 0, false, enter).unwrap();
    expect(
        "consent",
        &plan,
        &[
            part(Move::Stay, std::slice::from_ref(&injected)),
            part(Move::Stay, std::slice::from_ref(&injected)),
        ],
    );
    assert_eq!(kinds(&plan), ["inject"]);

    // Refused as a whole: nothing is planned.
    type Case<'a> = (&'a str, Vec<At>, usize, bool, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "a member not under it",
            vec![Foreign("team"), Normal],
            0,
            false,
            "is not under it",
        ),
        (
            "it reaches beyond the window",
            vec![Foreign("team")],
            1,
            false,
            "would reach",
        ),
        (
            "another window's rule",
            vec![Injected("team", OTHER, true)],
            0,
            false,
            "carries maint's rule for window maint-svc-other",
        ),
    ];
    for (case, places, extra, leftover, piece) in cases {
        match run(&places, extra, leftover, enter) {
            Err(e) => {
                assert_eq!(e.kind(), Conflict, "{case}: {e}");
                assert!(e.to_string().contains(piece), "{case}: {e}");
            }
            Ok(plan) => panic!("{case}: planned {plan:?}"),
        }
    }
    // maint's own web ACL of the window is in use (by another load
    // balancer): a window is injected or under maint's own, not both.
    let (lbs, mut seen) = world(&[Foreign("team")], 0, true);
    let own = seen.own.clone().unwrap();
    seen.acls
        .get_mut(&own)
        .unwrap()
        .associated
        .insert(lb(9).to_string());
    let e = super::plan(&window(SHOP), &lbs, &seen, enter).unwrap_err();
    assert!(e.to_string().contains("either injected"), "{e}");
}

#[test]
fn a_removed_rule_is_put_back_only_with_consent_again() {
    let places = [Injected("team", SHOP, false)];
    let refuse = MaintenanceSpec::default();
    let plan = run(&places, 0, false, Request::Enter(&refuse)).unwrap();
    expect("no consent", &plan, &[refused(ForeignWebAcl, "team")]);
    assert!(plan.steps.is_empty());
    let spec = consent();
    let plan = run(&places, 0, false, Request::Enter(&spec)).unwrap();
    expect(
        "consent",
        &plan,
        &[part(
            Move::Stay,
            &[Change::RuleInjected {
                web_acl: "team".into(),
            }],
        )],
    );
    assert_eq!(kinds(&plan), ["switch on"]);
    // In place, it is updated with no consent.
    let plan = run(
        &[Injected("team", SHOP, true)],
        0,
        false,
        Request::Enter(&refuse),
    )
    .unwrap();
    expect("in place", &plan, &[part(Move::Stay, &[])]);
    assert_eq!(kinds(&plan), ["update"]);
}

#[test]
fn two_services_of_one_name_are_never_merged() {
    let (_, seen) = world(&[Own(SHOP, true, false)], 0, false);
    // The window's only member is lb(0); these name lb(5) alone.
    let spec = MaintenanceSpec::default();
    for request in [Request::Enter(&spec), Request::Arm(&spec)] {
        let mut seen = seen.clone();
        seen.members = vec![Ok(None)];
        let e = plan(&window(SHOP), &[lb(5)], &seen, request).unwrap_err();
        assert!(e.to_string().contains("never merged"), "{e}");
    }
}

#[test]
fn arm_creates_in_pass_through_form_and_never_puts_anyone_into_maintenance() {
    let spec = MaintenanceSpec::default();
    let arm = Request::Arm(&spec);
    let plan = run(&[Normal, Foreign("team")], 0, false, arm).unwrap();
    expect(
        "a new window",
        &plan,
        &[
            part(Move::Join, &[created(), Change::Armed]),
            refused(ForeignWebAcl, "team"),
        ],
    );
    assert_eq!(kinds(&plan), ["create armed"]);

    let plan = run(&[Own(SHOP, true, false), Normal], 0, false, arm).unwrap();
    expect(
        "in maintenance",
        &plan,
        &[
            part(Move::Stay, &[Change::Armed]),
            refused(Conflict, "arming would put"),
        ],
    );
    assert_eq!(kinds(&plan), ["update armed"]);
    let plan = run(&[Own(SHOP, true, true)], 0, false, arm).unwrap();
    expect("armed already", &plan, &[part(Move::Stay, &[])]);
    assert!(plan.steps.is_empty());

    let plan = run(&[Own(SHOP, false, true), Normal], 0, false, arm).unwrap();
    expect(
        "re-armed",
        &plan,
        &[part(Move::Stay, &[]), part(Move::Join, &[Change::Armed])],
    );
    assert_eq!(kinds(&plan), ["update armed"]);
    let plan = run(&[Injected("team", SHOP, true)], 0, false, arm).unwrap();
    expect("injected", &plan, &[refused(ForeignWebAcl, "team")]);
    let plan = run(&[Injected("team", OTHER, true)], 0, false, arm).unwrap();
    expect(
        "in another window, injected",
        &plan,
        &[refused(
            Conflict,
            "in maintenance in window maint-svc-other",
        )],
    );
}

#[test]
fn exit_leaves_switches_off_deletes_and_removes_injections() {
    let gone = |extra: &[Change]| {
        let mut c = vec![Change::Disassociated];
        c.extend_from_slice(extra);
        part(Move::Leave, &c)
    };
    type Case<'a> = (&'a str, Vec<At>, usize, bool, Vec<Got>, Vec<&'a str>);
    let removed = Change::RuleRemoved {
        web_acl: "team".into(),
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "the last members",
            vec![Own(SHOP, true, false), Own(SHOP, true, false), Normal],
            0,
            false,
            vec![
                gone(&[deleted()]),
                gone(&[deleted()]),
                part(Move::Stay, &[deleted()]),
            ],
            vec!["delete"],
        ),
        (
            "some members",
            vec![Own(SHOP, true, false)],
            1,
            false,
            vec![gone(&[])],
            vec!["forget"],
        ),
        (
            "an armed window, every member",
            vec![Own(SHOP, true, true), Own(SHOP, true, true)],
            0,
            false,
            vec![
                part(Move::Stay, &[Change::SwitchedOff]),
                part(Move::Stay, &[Change::SwitchedOff]),
            ],
            vec!["switch off"],
        ),
        (
            "an armed window in pass-through form",
            vec![Own(SHOP, false, true)],
            0,
            false,
            vec![part(Move::Stay, &[])],
            vec!["forget"],
        ),
        (
            "a leftover window goes with a normal member",
            vec![Normal],
            0,
            true,
            vec![part(Move::Stay, &[deleted()])],
            vec!["delete"],
        ),
        (
            "foreign and unread members",
            vec![Foreign("security"), Unread, Normal],
            0,
            false,
            vec![
                refused(ForeignWebAcl, "security"),
                refused(Unexpected, "throttled"),
                part(Move::Stay, &[]),
            ],
            vec![],
        ),
        (
            "an injected window, all together",
            vec![Injected("team", SHOP, true), Injected("team", SHOP, true)],
            0,
            false,
            vec![
                part(Move::Stay, std::slice::from_ref(&removed)),
                part(Move::Stay, std::slice::from_ref(&removed)),
            ],
            vec!["remove injection"],
        ),
        (
            "an injected window whose web ACL also protects a load balancer not in it",
            vec![Injected("team", SHOP, true)],
            1,
            false,
            vec![part(Move::Stay, std::slice::from_ref(&removed))],
            vec!["remove injection"],
        ),
        (
            "another window's injected rule is never removed by this one",
            vec![Injected("team", OTHER, true)],
            0,
            false,
            vec![refused(
                Conflict,
                "in maintenance in window maint-svc-other, injected into web ACL team",
            )],
            vec![],
        ),
    ];
    for (case, places, extra, leftover, want, steps) in cases {
        let plan = run(&places, extra, leftover, Request::Exit).unwrap();
        expect(case, &plan, &want);
        assert_eq!(kinds(&plan), steps, "{case}");
    }
}

#[test]
fn disarm_takes_an_armed_window_away_and_refuses_one_in_maintenance() {
    let plan = run(&[Own(SHOP, false, true), Normal], 0, false, Request::Disarm).unwrap();
    expect(
        "armed",
        &plan,
        &[
            part(Move::Leave, &[Change::Disarmed, deleted()]),
            part(Move::Stay, &[]),
        ],
    );
    assert_eq!(kinds(&plan), ["delete"]);
    let plan = run(&[Own(SHOP, false, true)], 1, false, Request::Disarm).unwrap();
    expect("some", &plan, &[part(Move::Leave, &[Change::Disarmed])]);
    assert_eq!(kinds(&plan), ["forget"]);
    let plan = run(&[Own(SHOP, true, true)], 0, false, Request::Disarm).unwrap();
    expect(
        "in maintenance",
        &plan,
        &[refused(Conflict, "`maint exit` first (it stays armed)")],
    );
    assert!(plan.steps.is_empty());
    // Nothing armed: each member says why, and what to run instead.
    let plan = run(
        &[
            Own(SHOP, true, false),
            Injected("team", SHOP, true),
            Foreign("security"),
            Own(OTHER, true, false),
            Own("third", false, true),
            Injected("team2", OTHER, true),
            Normal,
        ],
        0,
        false,
        Request::Disarm,
    )
    .unwrap();
    expect(
        "nothing armed",
        &plan,
        &[
            refused(Conflict, "never armed; `maint exit` ends it"),
            refused(Conflict, "own web ACL: nothing is armed"),
            refused(ForeignWebAcl, "security"),
            refused(Conflict, "in maintenance in window maint-svc-other"),
            refused(Conflict, "armed in window maint-svc-third"),
            refused(Conflict, "in maintenance in window maint-svc-other"),
            part(Move::Stay, &[]),
        ],
    );
    assert!(plan.steps.is_empty());
}

#[test]
fn allowlist_edits_reach_the_window_in_maintenance_only() {
    let add = AllowlistChange::Add(Allowlist::parse(["192.0.2.1"]).unwrap());
    let edit = Request::Allowlist(&add);
    let plan = run(
        &[
            Own(SHOP, true, false),
            Normal,
            Own(OTHER, false, true),
            Injected("team", OTHER, false),
            Foreign("security"),
        ],
        0,
        false,
        edit,
    )
    .unwrap();
    let added = |g: &Got| matches!(g, Got::Part(Move::Stay, c) if matches!(c[..], [Change::AllowlistAdded { .. }]));
    let all = got(&plan);
    assert!(added(&all[0]), "{all:?}");
    expect(
        "refusals",
        &Plan {
            members: plan.members[1..].to_vec(),
            steps: Vec::new(),
        },
        &[
            refused(NotInMaintenance, "not in maintenance"),
            refused(Conflict, "armed in window maint-svc-other"),
            refused(NotInMaintenance, "not in maintenance"),
            refused(ForeignWebAcl, "security"),
        ],
    );
    assert_eq!(kinds(&plan), ["set access"]);
    // Armed windows are edited in pass-through form; a removed rule is
    // not in maintenance.
    let plan = run(&[Own(SHOP, false, true)], 0, false, edit).unwrap();
    assert!(added(&got(&plan)[0]));
    let plan = run(&[Injected("team", SHOP, false)], 0, false, edit).unwrap();
    expect(
        "reverted",
        &plan,
        &[refused(Conflict, "`maint enter` puts the rule back")],
    );
    assert!(plan.steps.is_empty());
}

#[test]
fn states_follow_the_web_acl() {
    assert_eq!(state_of(None, SHOP), State::Normal);
    let (_, seen) = world(
        &[
            Own(SHOP, true, false),
            Own(OTHER, false, true),
            Foreign("security"),
            Injected("team", "third", false),
        ],
        0,
        false,
    );
    let states: Vec<State> = seen
        .members
        .iter()
        .map(|m| {
            let acl = m.as_ref().unwrap().as_ref().and_then(|a| seen.acls.get(a));
            state_of(acl, window(SHOP).name())
        })
        .collect();
    assert!(matches!(states[0], State::Maintenance(_)));
    assert!(matches!(states[1], State::Armed(_)));
    assert!(matches!(states[2], State::Foreign { .. }));
    assert!(matches!(states[3], State::Reverted { .. }));
}

fn place() -> impl Strategy<Value = At> {
    let service = prop_oneof![Just(SHOP), Just(OTHER)];
    // A web ACL maint did not create is either plain or injected into,
    // whoever is under it: one name for each.
    let foreign = prop_oneof![Just("security"), Just("shield")];
    prop_oneof![
        3 => Just(Normal),
        4 => (service.clone(), any::<bool>(), any::<bool>())
            // Only an armed window is ever in pass-through form.
            .prop_map(|(s, active, armed)| Own(s, active, armed || !active)),
        2 => foreign.prop_map(Foreign),
        2 => (service, any::<bool>()).prop_map(|(s, on)| Injected("team", s, on)),
        1 => Just(Unread),
    ]
}

/// Plans request number `n` (enter, enter with consent, arm, exit,
/// disarm, an allowlist edit) for `lbs` as `seen` observed them.
fn ask(n: u8, lbs: &[ResourceArn], seen: &Observation) -> Result<Plan> {
    let (refuse, inject) = (MaintenanceSpec::default(), consent());
    let add = AllowlistChange::Add(Allowlist::parse(["192.0.2.1"]).unwrap());
    let request = match n {
        0 => Request::Enter(&refuse),
        1 => Request::Enter(&inject),
        2 => Request::Arm(&refuse),
        3 => Request::Exit,
        4 => Request::Disarm,
        _ => Request::Allowlist(&add),
    };
    plan(&window(SHOP), lbs, seen, request)
}

/// An observation as a world of its own, for the property tests to apply
/// a plan to and plan again on.
struct Model<'o>(&'o mut Observation);

impl Model<'_> {
    fn acl(&mut self, acl: &str) -> Result<&mut ObservedAcl> {
        self.0
            .acls
            .get_mut(acl)
            .ok_or_else(|| Error::unexpected("no such web ACL"))
    }
}

impl Records for Model<'_> {
    fn create(&mut self, window: &Window, record: &dyn Fn(&str) -> WindowRecord) -> Result<String> {
        let arn = acl_arn(window.name());
        let acl = ObservedAcl {
            arn: arn.clone(),
            name: window.name().to_string(),
            associated: BTreeSet::new(),
            parts: vec![record(&arn)],
            maints: true,
        };
        self.0.acls.insert(arn.clone(), acl);
        self.0.own = Some(arn.clone());
        Ok(arn)
    }

    fn name(&self, acl: &str) -> Result<String> {
        Ok(self.0.acls[acl].name.clone())
    }

    fn set(&mut self, acl: &str, window: &str, record: Option<WindowRecord>) -> Result<()> {
        let parts = &mut self.acl(acl)?.parts;
        let at = parts.iter().position(|w| w.info.window == window);
        match (at, record) {
            (Some(i), Some(record)) => parts[i] = record,
            (None, Some(record)) => parts.push(record),
            (Some(i), None) => {
                parts.remove(i);
            }
            (None, None) => {}
        }
        Ok(())
    }

    fn record(&mut self, acl: &str, window: &str) -> Result<&mut WindowRecord> {
        self.acl(acl)?
            .parts
            .iter_mut()
            .find(|w| w.info.window == window)
            .ok_or_else(|| Error::unexpected("no window"))
    }

    fn delete(&mut self, acl: &str) {
        self.0.acls.remove(acl);
        if self.0.own.as_deref() == Some(acl) {
            self.0.own = None;
        }
    }

    fn associate(&mut self, lb: &ResourceArn, acl: Option<&str>) {
        let i = lb.name()[2..].parse::<usize>().unwrap();
        let Ok(under) = &mut self.0.members[i] else {
            return;
        };
        if let Some(old) = under.take().and_then(|a| self.0.acls.get_mut(&a)) {
            old.associated.remove(lb.as_str());
        }
        if let Some(new) = acl.and_then(|a| self.0.acls.get_mut(a)) {
            new.associated.insert(lb.to_string());
            *under = Some(new.arn.clone());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the world, each member gets a part or a refusal of its
    /// own; only a normal member joins, only a member under maint's own
    /// web ACL leaves, a web ACL maint did not create is never associated
    /// or deleted, and a member that could not be read is refused as it
    /// was.
    #[test]
    fn every_member_is_answered_by_the_rules(
        places in prop::collection::vec(place(), 1..6),
        extra in 0usize..2,
        leftover in any::<bool>(),
        n in 0u8..6,
    ) {
        let (lbs, seen) = world(&places, extra, leftover);
        let Ok(plan) = ask(n, &lbs, &seen) else {
            return Ok(());
        };
        prop_assert_eq!(plan.members.len(), lbs.len());
        for (at, m) in places.iter().zip(&plan.members) {
            match (at, m) {
                (Unread, m) => prop_assert!(matches!(m, Err(e) if e.kind() == Unexpected)),
                (_, Ok(Part { moves: Move::Join, .. })) => prop_assert_eq!(*at, Normal),
                (_, Ok(Part { moves: Move::Leave, .. })) => {
                    prop_assert!(matches!(at, Own(..)), "{:?} left", at)
                }
                (Foreign(_), Ok(p)) if n != 4 => {
                    // Only an injection (with consent) answers for it.
                    prop_assert_eq!(n, 1);
                    let injected = p.changes.iter().all(|c| matches!(c, Change::RuleInjected { .. }));
                    prop_assert!(injected, "{:?}", p);
                }
                _ => {}
            }
        }
        let created = plan.steps.iter().filter(|s| matches!(s, Step::Create { .. })).count();
        prop_assert!(created <= 1);
        prop_assert!(created == 0 || seen.own.is_none());
        for step in &plan.steps {
            if let Step::Delete { acl } = step {
                prop_assert!(seen.acls[acl].maints, "{} is not maint's", acl);
            }
        }
    }

    /// Every request is idempotent: planned again on the world it made,
    /// nobody joins or leaves, nobody reports a change, and no web ACL is
    /// created, deleted, injected into or switched on.
    #[test]
    fn a_request_made_twice_changes_nothing_the_second_time(
        places in prop::collection::vec(place(), 1..6),
        extra in 0usize..2,
        leftover in any::<bool>(),
        n in 0u8..6,
    ) {
        let (lbs, mut seen) = world(&places, extra, leftover);
        let Ok(first) = ask(n, &lbs, &seen) else {
            return Ok(());
        };
        let own = seen.own.clone();
        first.apply(&window(SHOP), &lbs, own, &mut Model(&mut seen)).unwrap();
        let second = match ask(n, &lbs, &seen) {
            Ok(second) => second,
            Err(e) => return Err(TestCaseError::fail(format!("{first:?} then {e}"))),
        };
        for m in second.members.iter().flatten() {
            prop_assert_eq!(m.moves, Move::Stay, "{:?} then {:?}", first, second);
            prop_assert!(m.changes.is_empty(), "{:?} then {:?}", first, second);
        }
        for step in &second.steps {
            let quiet = matches!(
                step,
                Step::Update { switch: None | Some(false), .. } | Step::Forget { .. }
            );
            prop_assert!(quiet, "{:?} then {:?}", first, second);
        }
    }
}

#[test]
fn an_observation_of_other_members_is_refused() {
    let (_, seen) = world(&[Normal, Normal], 0, false);
    let e = plan(&window(SHOP), &[lb(0)], &seen, Request::Exit).unwrap_err();
    assert_eq!(e.kind(), Unexpected, "{e}");
}

#[test]
fn a_rule_changed_outside_maint_is_restored_by_enter_and_arm() {
    let restored = Change::RuleRestored {
        what: "rule action".into(),
    };
    let spec = MaintenanceSpec::default();
    type Case<'a> = (At, Request<'a>, Vec<Change>);
    let cases: Vec<Case<'_>> = vec![
        (
            Own(SHOP, true, false),
            Request::Enter(&spec),
            vec![restored.clone()],
        ),
        (
            Own(SHOP, false, true),
            Request::Enter(&spec),
            vec![Change::SwitchedOn, restored.clone()],
        ),
        (
            Own(SHOP, false, true),
            Request::Arm(&spec),
            vec![restored.clone()],
        ),
    ];
    for (at, request, want) in cases {
        let (lbs, mut seen) = world(&[at], 0, false);
        let own = seen.own.clone().unwrap();
        let acl = seen.acls.get_mut(&own).unwrap();
        acl.parts[0].damage = Some("rule action".into());
        let first = plan(&window(SHOP), &lbs, &seen, request).unwrap();
        expect("damaged", &first, &[part(Move::Stay, &want)]);
        first
            .apply(
                &window(SHOP),
                &lbs,
                Some(own.clone()),
                &mut Model(&mut seen),
            )
            .unwrap();
        assert_eq!(seen.acls[&own].parts[0].damage, None);
    }
}

/// The web ACL the windows below share (issue 21): `OTHER`'s own, unless
/// a case says otherwise.
const SHARED: &str = "maint-svc-other";

/// A scope of `host` alone (`None`: everything).
fn scope(host: Option<&str>) -> Scope {
    host.map_or_else(Scope::everything, |h| {
        Scope::parse(&[h], &[] as &[&str], &[] as &[&str]).unwrap()
    })
}

/// A spec of `host` alone (`None`: everything).
fn scoped(host: Option<&str>) -> MaintenanceSpec {
    MaintenanceSpec {
        scope: scope(host),
        ..MaintenanceSpec::default()
    }
}

/// The part of window `service`, in maintenance, of `host` alone (`None`:
/// everything), injected or the web ACL's own.
fn part_of(service: &str, host: Option<&str>, injected: bool) -> WindowRecord {
    let mut w = record(service, true, false, injected);
    w.info.scope = scope(host);
    w
}

/// `n` load balancers under web ACL `name` (maint's when `maints`),
/// holding `parts`, each recording them all; the first `named` are the
/// members named. The window of `SHOP` has its own web ACL when one of
/// the parts is its own.
fn shared(
    n: usize,
    named: usize,
    name: &str,
    maints: bool,
    parts: Vec<WindowRecord>,
) -> (Vec<ResourceArn>, Observation) {
    let arn = acl_arn(name);
    let all: BTreeSet<String> = (0..n).map(|i| lb(i).to_string()).collect();
    let parts: Vec<WindowRecord> = parts
        .into_iter()
        .map(|w| WindowRecord {
            members: all.clone(),
            ..w
        })
        .collect();
    let own = parts
        .iter()
        .any(|w| !w.injected && w.info.window == window(SHOP).name())
        .then(|| arn.clone());
    let acl = ObservedAcl {
        arn: arn.clone(),
        name: name.to_string(),
        associated: all,
        parts,
        maints,
    };
    let seen = Observation {
        members: (0..named).map(|_| Ok(Some(arn.clone()))).collect(),
        acls: BTreeMap::from([(arn, acl)]),
        own,
    };
    ((0..named).map(lb).collect(), seen)
}

#[test]
fn windows_scoped_apart_share_a_web_acl_part_by_part() {
    let (shop, other) = (Some("shop.example.com"), Some("api.example.com"));
    let (spec, unscoped) = (scoped(shop), scoped(None));
    let to = |name: &str| name.to_string();
    let injected = |name: &str| Change::RuleInjected { web_acl: to(name) };
    let removed = |name: &str| Change::RuleRemoved { web_acl: to(name) };
    let mut armed = part_of(SHOP, shop, false);
    armed.active = false;
    armed.info.armed_since = Some(armed.info.since);
    // What, on which parts (of a web ACL of `name`, maint's or not), with
    // how many load balancers under it and named: each member's part and
    // the steps.
    type Case<'a> = (
        &'a str,
        Vec<WindowRecord>,
        (&'a str, bool),
        (usize, usize),
        Request<'a>,
        Vec<Got>,
        Vec<&'a str>,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "a window scoped apart joins another's own web ACL, no consent asked",
            vec![part_of(OTHER, other, false)],
            (SHARED, true),
            (2, 2),
            Request::Enter(&spec),
            vec![part(Move::Stay, &[injected(SHARED)]); 2],
            vec!["inject"],
        ),
        (
            "into a web ACL maint did not create, only with consent",
            vec![part_of(OTHER, other, true)],
            ("team", false),
            (1, 1),
            Request::Enter(&spec),
            vec![refused(ForeignWebAcl, "team")],
            vec![],
        ),
        (
            "two windows of everything: refused as in another window",
            vec![part_of(OTHER, None, false)],
            (SHARED, true),
            (1, 1),
            Request::Enter(&unscoped),
            vec![refused(
                Conflict,
                "in maintenance in window maint-svc-other",
            )],
            vec![],
        ),
        (
            "the part of a window that shares leaves, the owner's stays",
            vec![part_of(OTHER, other, false), part_of(SHOP, shop, true)],
            (SHARED, true),
            (2, 2),
            Request::Exit,
            vec![part(Move::Stay, &[removed(SHARED)]); 2],
            vec!["remove injection"],
        ),
        (
            "the last part of maint's web ACL leaves: it goes",
            vec![part_of(SHOP, shop, true)],
            (SHARED, true),
            (1, 1),
            Request::Exit,
            vec![part(
                Move::Leave,
                &[
                    Change::Disassociated,
                    Change::DeletedWebAcl { name: to(SHARED) },
                ],
            )],
            vec!["remove injection", "delete"],
        ),
        (
            "the owner leaves while another part stays: never disassociated",
            vec![part_of(SHOP, shop, false), part_of(OTHER, other, true)],
            ("maint-svc-shop", true),
            (2, 2),
            Request::Exit,
            vec![part(Move::Stay, &[removed("maint-svc-shop")]); 2],
            vec!["remove injection"],
        ),
        (
            "the owner leaves naming only some of the load balancers under it",
            vec![part_of(SHOP, shop, false), part_of(OTHER, other, true)],
            ("maint-svc-shop", true),
            (2, 1),
            Request::Exit,
            vec![refused(Conflict, "exit them together (also")],
            vec![],
        ),
        (
            "an armed owner is disarmed: its part goes, the other stays",
            vec![armed, part_of(OTHER, other, true)],
            ("maint-svc-shop", true),
            (1, 1),
            Request::Disarm,
            vec![part(Move::Stay, &[Change::Disarmed])],
            vec!["remove injection"],
        ),
        (
            "its own part gone, a window joins its web ACL again as a part",
            vec![part_of(OTHER, other, true)],
            ("maint-svc-shop", true),
            (1, 1),
            Request::Enter(&spec),
            vec![part(Move::Stay, &[injected("maint-svc-shop")])],
            vec!["inject"],
        ),
    ];
    for (case, parts, (name, maints), (n, named), request, want, steps) in cases {
        let (lbs, mut seen) = shared(n, named, name, maints, parts);
        // A backend that finds the window's web ACL by its name.
        seen.own = seen.own.or_else(|| {
            let arn = acl_arn(name);
            (name == window(SHOP).name()).then_some(arn)
        });
        let plan =
            plan(&window(SHOP), &lbs, &seen, request).unwrap_or_else(|e| panic!("{case}: {e}"));
        expect(case, &plan, &want);
        assert_eq!(kinds(&plan), steps, "{case}");
    }
}

#[test]
fn windows_whose_scopes_overlap_never_share() {
    let cases = [
        (Some("*.example.com"), Some("shop.example.com")),
        (None, Some("shop.example.com")),
    ];
    for (other, shop) in cases {
        let (lbs, seen) = shared(1, 1, SHARED, true, vec![part_of(OTHER, other, false)]);
        let e = plan(&window(SHOP), &lbs, &seen, Request::Enter(&scoped(shop))).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.kind(), Conflict, "{text}");
        for piece in ["maint-svc-shop", "maint-svc-other", "nothing was changed"] {
            assert!(text.contains(piece), "{other:?} {shop:?}: {text}");
        }
    }
    // A window of everything never shares: it is refused as in the other
    // window, member by member, as before scopes (the WAF backend only
    // looks for a web ACL to share for a scoped window).
    let (lbs, seen) = shared(
        1,
        1,
        SHARED,
        true,
        vec![part_of(OTHER, Some("api.example.com"), false)],
    );
    let plan = plan(&window(SHOP), &lbs, &seen, Request::Enter(&scoped(None))).unwrap();
    expect(
        "unscoped",
        &plan,
        &[refused(
            Conflict,
            "in maintenance in window maint-svc-other",
        )],
    );
    assert!(plan.steps.is_empty());
}

#[test]
fn an_allowlist_edit_changes_only_its_window_part() {
    let parts = vec![
        part_of(OTHER, Some("api.example.com"), false),
        part_of(SHOP, Some("shop.example.com"), true),
    ];
    let (lbs, mut seen) = shared(1, 1, SHARED, true, parts);
    let other = seen.acls[&acl_arn(SHARED)].parts[0].clone();
    let add = AllowlistChange::Add(Allowlist::parse(["192.0.2.1"]).unwrap());
    let plan = plan(&window(SHOP), &lbs, &seen, Request::Allowlist(&add)).unwrap();
    assert!(
        matches!(plan.steps.as_slice(), [Step::SetAccess { acl, .. }] if *acl == acl_arn(SHARED)),
        "{plan:?}"
    );
    plan.apply(&window(SHOP), &lbs, None, &mut Model(&mut seen))
        .unwrap();
    let acl = &seen.acls[&acl_arn(SHARED)];
    assert_eq!(acl.part(other.info.window.as_str()), Some(&other));
    let shop = acl.part(window(SHOP).name()).unwrap();
    assert_eq!(
        shop.info.allowlist.entries,
        Allowlist::parse(["192.0.2.1"]).unwrap()
    );
}

/// The own web ACL of window `name` in `seen` (the one holding its part
/// not injected), as a backend finds it.
fn own_of(seen: &Observation, name: &str) -> Option<String> {
    seen.acls
        .values()
        .find(|a| a.part(name).is_some_and(|w| !w.injected))
        .map(|a| a.arn.clone())
}

proptest! {
    /// Two windows scoped apart enter and exit one load balancer in any
    /// order: each is in maintenance exactly while it is in, the other's
    /// part is never touched, and once both are out no web ACL is left
    /// and the load balancer is normal. (Only a window that is in exits:
    /// an exit naming a member of another window alone takes it out of
    /// that window, `maint exit <lb>`.)
    #[test]
    fn two_windows_scoped_apart_come_and_go_on_one_load_balancer(
        ops in prop::collection::vec((any::<bool>(), any::<bool>()), 0..12),
        last in any::<bool>(),
    ) {
        let windows = [
            (window(SHOP), scoped(Some("shop.example.com"))),
            (window(OTHER), scoped(Some("api.example.com"))),
        ];
        let (lbs, mut seen) = world(&[Normal], 0, false);
        let mut inside = [false, false];
        let finish = [(last, false), (!last, false)];
        for (first, enter) in ops.into_iter().chain(finish) {
            let (me, you) = if first { (0, 1) } else { (1, 0) };
            if !enter && !inside[me] {
                continue;
            }
            let (w, spec) = &windows[me];
            seen.own = own_of(&seen, w.name());
            let request = if enter { Request::Enter(spec) } else { Request::Exit };
            let plan = plan(w, &lbs, &seen, request).unwrap();
            prop_assert!(plan.members[0].is_ok(), "{:?}", plan);
            let part = |seen: &Observation, name: &str| {
                seen.acls.values().find_map(|a| a.part(name).cloned())
            };
            let theirs = part(&seen, windows[you].0.name());
            let own = seen.own.clone();
            plan.apply(w, &lbs, own, &mut Model(&mut seen)).unwrap();
            prop_assert_eq!(part(&seen, windows[you].0.name()), theirs);
            inside[me] = enter;
            for (i, (w, _)) in windows.iter().enumerate() {
                let under = seen.members[0].as_ref().unwrap().as_ref();
                let state = state_of(under.and_then(|a| seen.acls.get(a)), w.name());
                let blocked = matches!(&state, State::Maintenance(info) if info.window == w.name());
                prop_assert_eq!(blocked, inside[i], "{}: {:?}", w.name(), state);
            }
        }
        prop_assert!(seen.acls.is_empty(), "{:?}", seen.acls);
        prop_assert!(matches!(seen.members[0], Ok(None)));
    }
}

#[test]
fn a_window_sharing_a_web_acl_stays_apart_and_brings_no_one_else_in() {
    let parts = || {
        vec![
            part_of(SHOP, Some("shop.example.com"), false),
            part_of(OTHER, Some("api.example.com"), true),
        ]
    };
    // Widened over the other window's hosts: refused, nothing changed.
    let (lbs, seen) = shared(1, 1, "maint-svc-shop", true, parts());
    let wide = scoped(Some("*.example.com"));
    let e = plan(&window(SHOP), &lbs, &seen, Request::Enter(&wide)).unwrap_err();
    assert_eq!(e.kind(), Conflict, "{e}");
    assert!(e.to_string().contains("maint-svc-other"), "{e}");
    // A load balancer joining would come under the other window's rule
    // too: refused alone, the member already in stays.
    let (mut lbs, mut seen) = shared(1, 1, "maint-svc-shop", true, parts());
    lbs.push(lb(1));
    seen.members.push(Ok(None));
    let spec = scoped(Some("shop.example.com"));
    let plan = plan(&window(SHOP), &lbs, &seen, Request::Enter(&spec)).unwrap();
    expect(
        "joining",
        &plan,
        &[
            part(Move::Stay, &[]),
            refused(Conflict, "also holds window maint-svc-other"),
        ],
    );
}
