//! Allowlist micro-benchmarks: parse + fold of 10, 1,000, 10,000 and 100,000
//! entries, fold alone, and the added/removed diff of two 10,000-entry lists.
//!
//! Run (no AWS SDK needed):
//!
//! ```sh
//! cargo bench -p maint-core --no-default-features --bench allowlist
//! ```
//!
//! The binary first prints a summary table of its own (median time, time per
//! entry, peak heap bytes per case; the heap is counted by a global allocator
//! from `peak_alloc`), then hands over to divan for the statistically careful
//! timings. Environment:
//! - `MAINT_BENCH_QUICK=1`: fewer iterations in the summary (CI).
//! - `MAINT_BENCH_SUMMARY=PATH`: also write the summary table (Markdown) there.
//! - `MAINT_BENCH_SUMMARY_ONLY=1`: print the summary and skip divan.
//!
//! The data is generated from a fixed seed: a realistic mix of IPv4 (80%) and
//! IPv6 (20%) hosts and networks, some written as bare addresses and some with
//! a prefix, adjacent /25 halves that merge, plus duplicates and hosts inside a
//! listed network (covered entries). Each case's distinct part stays within the
//! AWS WAF limit of 10,000 entries per family, so the 100,000-entry case folds
//! to a valid allowlist (about 91,000 of its entries are duplicates or covered).
//! The case `100000 over limit` is the error path instead: 100,000 distinct
//! IPv4 hosts are parsed and folded, then refused as too many for one IP set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use divan::counter::ItemsCount;
use divan::Bencher;
use maint_core::{Allowlist, Cidr};
use peak_alloc::PeakAlloc;

/// Counts live and peak heap bytes (every allocation of the process).
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// The entry counts of the parse/fold cases.
const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];

/// Distinct entries at most (before duplicates and covered entries are
/// added): 80% IPv4, 20% IPv6, both well under 10,000 per family.
const MAX_DISTINCT: usize = 9_000;

/// Seed of every generated list.
const SEED: u64 = 0x6d61_696e_7400;

/// One generated allowlist in its three input forms.
struct Dataset {
    /// Entries as written by a person: bare addresses or CIDRs.
    entries: Vec<String>,
    /// The same entries as a file: comments, labels and blank lines mixed in.
    text: String,
    /// The same entries already validated (for the fold-only case).
    cidrs: Vec<Cidr>,
}

fn dataset(entries: Vec<String>) -> Dataset {
    let mut text = String::with_capacity(entries.len() * 24);
    text.push_str("# generated allowlist for the benchmarks\n");
    for (i, e) in entries.iter().enumerate() {
        if i % 100 == 0 {
            text.push_str("\n# a section\n");
        }
        if i % 5 == 0 {
            let _ = writeln!(text, "{e}  # host {i}");
        } else {
            let _ = writeln!(text, "{e}");
        }
    }
    let cidrs = entries
        .iter()
        .map(|e| Cidr::parse(e).expect("generated entries are valid"))
        .collect();
    Dataset {
        entries,
        text,
        cidrs,
    }
}

/// A random IPv4 address that is not in 0.0.0.0/8 (never an issue for
/// parsing, but keeps the data realistic).
fn v4(rng: &mut fastrand::Rng) -> Ipv4Addr {
    Ipv4Addr::from(rng.u32(0x0100_0000..=0xdfff_ffff))
}

/// A random IPv6 address inside 2001:db8::/32.
fn v6(rng: &mut fastrand::Rng) -> Ipv6Addr {
    Ipv6Addr::from(
        (0x2001_0db8_u128 << 96) | u128::from(rng.u64(..)) | (u128::from(rng.u32(..)) << 64),
    )
}

/// `n` entries: distinct hosts and networks (at most [`MAX_DISTINCT`]), the
/// rest alternately duplicates of earlier entries and hosts inside a listed
/// network; shuffled.
fn realistic(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let distinct = (n * 4 / 5).clamp(n.min(1), MAX_DISTINCT);
    let mut out: Vec<String> = Vec::with_capacity(n);
    // Networks that covered entries are drawn from.
    let mut v4_nets: Vec<(u32, u8)> = Vec::new();
    let mut v6_nets: Vec<(u128, u8)> = Vec::new();
    while out.len() < distinct {
        if rng.u8(0..10) < 8 {
            match rng.u8(0..10) {
                0..=5 => {
                    let a = v4(&mut rng);
                    out.push(if rng.bool() {
                        a.to_string()
                    } else {
                        format!("{a}/32")
                    });
                }
                6..=8 => {
                    let base = u32::from(v4(&mut rng)) & 0xffff_ff00;
                    v4_nets.push((base, 24));
                    out.push(format!("{}/24", Ipv4Addr::from(base)));
                }
                _ => {
                    // Two adjacent /25 halves: they fold into one /24.
                    let base = u32::from(v4(&mut rng)) & 0xffff_ff00;
                    out.push(format!("{}/25", Ipv4Addr::from(base)));
                    out.push(format!("{}/25", Ipv4Addr::from(base | 0x80)));
                }
            }
        } else {
            match rng.u8(0..10) {
                0..=5 => {
                    let a = v6(&mut rng);
                    out.push(if rng.bool() {
                        a.to_string()
                    } else {
                        format!("{a}/128")
                    });
                }
                6..=8 => {
                    let base = u128::from(v6(&mut rng)) & !((1u128 << 80) - 1);
                    v6_nets.push((base, 48));
                    out.push(format!("{}/48", Ipv6Addr::from(base)));
                }
                _ => {
                    let base = u128::from(v6(&mut rng)) & !((1u128 << 64) - 1);
                    v6_nets.push((base, 64));
                    out.push(format!("{}/64", Ipv6Addr::from(base)));
                }
            }
        }
    }
    out.truncate(n);
    let distinct_len = out.len();
    let mut k = 0usize;
    while out.len() < n {
        k += 1;
        let covered = k % 2 == 0;
        if covered && !v4_nets.is_empty() && (v6_nets.is_empty() || k % 10 != 0) {
            let (base, prefix) = v4_nets[rng.usize(..v4_nets.len())];
            let host = base | (rng.u32(..) >> prefix);
            out.push(Ipv4Addr::from(host).to_string());
        } else if covered && !v6_nets.is_empty() {
            let (base, prefix) = v6_nets[rng.usize(..v6_nets.len())];
            let host =
                base | (((u128::from(rng.u64(..)) << 64) | u128::from(rng.u64(..))) >> prefix);
            out.push(Ipv6Addr::from(host).to_string());
        } else {
            let dup = out[rng.usize(..distinct_len)].clone();
            out.push(dup);
        }
    }
    rng.shuffle(&mut out);
    out
}

/// `n` distinct IPv4 hosts: more than one IP set holds once `n` > 10,000.
fn over_limit(n: usize, seed: u64) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // Even addresses only: no two are adjacent, so nothing folds.
        let a = v4(&mut rng);
        let a = Ipv4Addr::from(u32::from(a) & !1);
        if seen.insert(a) {
            out.push(a.to_string());
        }
    }
    out
}

/// The two 10,000-entry lists of the diff case: 9,500 entries in common,
/// 500 only in the old list and 500 only in the new one.
fn diff_pair() -> (Allowlist, Allowlist) {
    let all = realistic(10_500, SEED ^ 0xd1ff);
    let old = Allowlist::parse(&all[..10_000]).expect("the old list is valid");
    let new = Allowlist::parse(&all[500..]).expect("the new list is valid");
    (old, new)
}

// ---------------------------------------------------------------------------
// divan benchmarks

/// `Allowlist::parse` over entries: validate every entry, then fold.
#[divan::bench(args = SIZES)]
fn parse_and_fold(bencher: Bencher, n: usize) {
    let d = dataset(realistic(n, SEED));
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| Allowlist::parse(black_box(&d.entries)).expect("valid"));
}

/// `Allowlist::parse_text` over a file's text (comments, labels, blank lines).
#[divan::bench(args = SIZES)]
fn parse_text_and_fold(bencher: Bencher, n: usize) {
    let d = dataset(realistic(n, SEED));
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| Allowlist::parse_text(black_box(&d.text), "bench.txt").expect("valid"));
}

/// `Allowlist::from_cidrs`: the fold alone, from validated entries.
#[divan::bench(args = SIZES)]
fn fold_only(bencher: Bencher, n: usize) {
    let d = dataset(realistic(n, SEED));
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| d.cidrs.clone())
        .bench_values(|cidrs| Allowlist::from_cidrs(cidrs).expect("valid"));
}

/// The error path: 100,000 distinct IPv4 hosts parsed and folded, then
/// refused (more than 10,000 per family).
#[divan::bench]
fn parse_over_limit_100000(bencher: Bencher) {
    let entries = over_limit(100_000, SEED);
    bencher
        .counter(ItemsCount::new(entries.len()))
        .bench(|| Allowlist::parse(black_box(&entries)).expect_err("over the limit"));
}

/// Added/removed entries between two 10,000-entry allowlists.
#[divan::bench]
fn diff_10000(bencher: Bencher) {
    let (old, new) = diff_pair();
    bencher
        .counter(ItemsCount::new(old.len() + new.len()))
        .bench(|| black_box(&old).diff(black_box(&new)));
}

// ---------------------------------------------------------------------------
// Summary: median time, time per entry and peak heap per case

struct Row {
    case: String,
    entries: usize,
    result: String,
    median: Duration,
    peak_bytes: usize,
}

/// Runs `f` until `iters` runs are done (at least one, and stops early after
/// about `budget`), returns the median time and the largest heap growth above
/// what was live before a run (the inputs are allocated before, so they are
/// not counted; the result is, until it is dropped).
fn measure<R>(iters: usize, budget: Duration, mut f: impl FnMut() -> R) -> (Duration, usize) {
    drop(black_box(f())); // warm-up
    let mut times = Vec::with_capacity(iters);
    let mut peak = 0usize;
    let started = Instant::now();
    for _ in 0..iters.max(1) {
        let before = HEAP.current_usage();
        HEAP.reset_peak_usage();
        let t = Instant::now();
        let r = black_box(f());
        times.push(t.elapsed());
        drop(r);
        peak = peak.max(HEAP.peak_usage().saturating_sub(before));
        if started.elapsed() > budget && times.len() >= 3 {
            break;
        }
    }
    times.sort_unstable();
    (times[times.len() / 2], peak)
}

fn describe(result: &Result<Allowlist, maint_core::allowlist::AllowlistError>) -> String {
    match result {
        Ok(a) => format!("ok: {} IPv4 + {} IPv6", a.ipv4().len(), a.ipv6().len()),
        Err(e) => format!(
            "refused: {}",
            e.problems()
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

fn summary(quick: bool) -> String {
    let budget = Duration::from_millis(if quick { 300 } else { 3_000 });
    let iters = |n: usize| -> usize {
        let full = match n {
            0..=1_000 => 1_001,
            1_001..=10_000 => 201,
            _ => 31,
        };
        if quick {
            (full / 10).max(5)
        } else {
            full
        }
    };
    let mut rows = Vec::new();
    for n in SIZES {
        let d = dataset(realistic(n, SEED));
        let result = describe(&Allowlist::parse(&d.entries));
        let (median, peak_bytes) = measure(iters(n), budget, || Allowlist::parse(&d.entries));
        rows.push(Row {
            case: format!("parse + fold, {n}"),
            entries: n,
            result: result.clone(),
            median,
            peak_bytes,
        });
        let (median, peak_bytes) = measure(iters(n), budget, || {
            Allowlist::parse_text(&d.text, "bench.txt")
        });
        rows.push(Row {
            case: format!("parse_text + fold, {n}"),
            entries: n,
            result: result.clone(),
            median,
            peak_bytes,
        });
        let (median, peak_bytes) = measure(iters(n), budget, || {
            Allowlist::from_cidrs(d.cidrs.iter().copied())
        });
        rows.push(Row {
            case: format!("fold only (from_cidrs), {n}"),
            entries: n,
            result,
            median,
            peak_bytes,
        });
    }
    let entries = over_limit(100_000, SEED);
    let result = describe(&Allowlist::parse(&entries));
    let (median, peak_bytes) = measure(iters(100_000), budget, || Allowlist::parse(&entries));
    rows.push(Row {
        case: "parse + fold, 100000 over limit (error path)".into(),
        entries: entries.len(),
        result,
        median,
        peak_bytes,
    });
    drop(entries);
    let (old, new) = diff_pair();
    let d = old.diff(&new);
    let (median, peak_bytes) = measure(iters(10_000), budget, || old.diff(&new));
    rows.push(Row {
        case: "diff of two 10000-entry lists".into(),
        entries: old.len() + new.len(),
        result: format!(
            "{} added, {} removed (folded sizes {} and {})",
            d.added.len(),
            d.removed.len(),
            old.len(),
            new.len()
        ),
        median,
        peak_bytes,
    });

    let mut out = String::new();
    let _ = writeln!(
        out,
        "| case | entries | median | per entry | peak heap | result |\n|---|---:|---:|---:|---:|---|"
    );
    for r in &rows {
        let per_entry_ns = r.median.as_nanos() as f64 / r.entries.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} ns | {} | {} |",
            r.case,
            r.entries,
            fmt_duration(r.median),
            per_entry_ns,
            fmt_bytes(r.peak_bytes),
            r.result
        );
    }
    // The target: a 10,000-entry allowlist parsed and folded in under 5 ms.
    let mut facts = BTreeMap::new();
    if let Some(r) = rows.iter().find(|r| r.case == "parse + fold, 10000") {
        facts.insert("parse_fold_10000_ms", r.median.as_secs_f64() * 1e3);
    }
    if let Some(r) = rows
        .iter()
        .find(|r| r.case == "fold only (from_cidrs), 10000")
    {
        facts.insert("fold_only_10000_ms", r.median.as_secs_f64() * 1e3);
    }
    for (k, v) in facts {
        let _ = writeln!(out, "\nMETRIC {k}={v:.4}");
    }
    out
}

fn fmt_duration(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn fmt_bytes(b: usize) -> String {
    let b = b as f64;
    if b < 1024.0 {
        format!("{b:.0} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{:.2} MiB", b / (1024.0 * 1024.0))
    }
}

fn main() {
    let quick = std::env::var_os("MAINT_BENCH_QUICK").is_some_and(|v| v != "0");
    let table = summary(quick);
    println!(
        "allowlist summary ({} mode; peak heap = largest heap growth during one call, result included)\n\n{table}",
        if quick { "quick" } else { "full" }
    );
    if let Some(path) = std::env::var_os("MAINT_BENCH_SUMMARY") {
        if let Err(e) = std::fs::write(&path, &table) {
            eprintln!("could not write {}: {e}", path.to_string_lossy());
        }
    }
    if std::env::var_os("MAINT_BENCH_SUMMARY_ONLY").is_some_and(|v| v != "0") {
        return;
    }
    divan::main();
}
