//! The backend conformance suite: scenarios written once against
//! `&dyn MaintenanceBackend`, run against [`MemoryBackend`](super::MemoryBackend)
//! in this crate's tests and against the WAF backend on an AWS API emulator in
//! the workspace's `tests` crate.
//!
//! Every scenario creates the load balancers it uses through a [`Fixture`], so
//! scenarios can share one backend and run in any order. A failed expectation
//! panics with a message saying what differed.
//!
//! [`run_all`] runs them all; the scenarios are grouped by theme, one file
//! each: `enter_exit` (one load balancer in and out of maintenance, dry runs,
//! a custom response), `allowlist` (edits), `leftovers` (an interrupted run
//! and `cleanup`), `window` (several members sharing one web ACL), `arm`
//! (armed windows, disarm), `inject` (maint's rule in a service's own web
//! ACL), `bypass` (the bypass secret) and `scope` (hosts, paths, open
//! paths; two windows scoped apart sharing a load balancer) and
//! `refusals` (what every command refuses, in the same words) and
//! `dry_runs` (every dry run says what its change then does); `helpers`
//! holds what they share and
//! `fixture` the [`Fixture`] trait.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod allowlist;
mod arm;
mod bypass;
mod dry_runs;
mod enter_exit;
mod fixture;
mod helpers;
mod inject;
mod leftovers;
mod refusals;
mod scope;
mod window;

pub use fixture::Fixture;

/// Runs every scenario, one after the other.
pub async fn run_all(f: &dyn Fixture) {
    enter_exit::resolves_names_and_refuses_other_types(f).await;
    enter_exit::full_cycle(f).await;
    enter_exit::enter_is_idempotent_and_reports_changes(f).await;
    enter_exit::exit_is_idempotent(f).await;
    enter_exit::foreign_web_acl_is_never_touched(f).await;
    allowlist::allowlist_edits(f).await;
    allowlist::allowlist_edits_need_maintenance(f).await;
    allowlist::concurrent_allowlist_edits_all_survive(f).await;
    enter_exit::dry_run_changes_nothing(f).await;
    enter_exit::custom_response_round_trips(f).await;
    leftovers::interrupted_runs_show_as_leftovers_and_cleanup_deletes_exactly_them(f).await;
    window::a_window_of_several_members_shares_one_web_acl(f).await;
    window::two_services_with_the_same_name_are_never_merged(f).await;
    window::a_foreign_member_does_not_stop_the_others_of_its_window(f).await;
    window::a_member_another_writer_detached_is_reported_and_put_back(f).await;
    window::a_window_of_a_load_balancer_and_an_api_stage_switches_both(f).await;
    arm::an_armed_window_switches_without_associating(f).await;
    arm::disarm_is_refused_in_maintenance(f).await;
    arm::arming_a_window_in_maintenance_only_marks_it_armed(f).await;
    arm::an_armed_window_is_edited_and_rearmed_in_place(f).await;
    arm::armed_dry_runs_change_nothing(f).await;
    arm::arm_refuses_a_foreign_web_acl(f).await;
    inject::a_window_of_one_is_injected_into_its_own_web_acl_with_consent(f).await;
    bypass::the_bypass_is_kept_rotated_shut_and_removed(f).await;
    scope::a_scoped_window_covers_its_hosts_and_paths_only(f).await;
    scope::two_scoped_windows_share_one_load_balancer(f).await;
    refusals::a_member_of_another_window_is_refused_by_every_command(f).await;
    refusals::disarm_with_nothing_armed_says_why(f).await;
    refusals::arming_a_window_in_maintenance_refuses_only_its_new_members(f).await;
    refusals::an_allowlist_edit_after_the_injected_rule_was_removed_says_how_to_put_it_back(f)
        .await;
    dry_runs::every_dry_run_says_what_its_change_does(f).await;
}
