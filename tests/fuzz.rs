//! Fuzzed readers (issue #23): random bytes, and valid files mutated (cut short, bytes flipped
//! or overwritten, NUL, 0xFF, huge and negative numbers, line breaks, quotes and very long
//! lines inserted), fed to every reader of user files: vector files (word2vec binary and text,
//! GloVe, fastText `.bin`), model directories (each part through `load`), `tokenizer.json`,
//! CSV/TSV/MR/SST, sentence pairs, corpora and stdin lines.
//!
//! Each case must end in a result or an error that names the file, never a panic, and within a
//! memory bound: a counting allocator measures the most bytes each reader holds at once (Rust
//! allocations on the reading thread; libtorch's own are not seen), which must stay under a
//! multiple of the input plus a constant far below what a lying header or a long line would
//! cost. The line limit is lowered to [`LINE_LIMIT`] here, so that lines over it are cheap to
//! make.
//!
//! Each property runs `PROPTEST_CASES` cases, 64 by default (seconds in all);
//! `scripts/bench/hostile.sh` runs many more.

#[path = "common/mod.rs"]
mod common;

#[path = "fuzz/cli.rs"]
mod cli;
#[path = "fuzz/models.rs"]
mod models;
#[path = "fuzz/tables.rs"]
mod tables;
#[path = "fuzz/vectors.rs"]
mod vectors;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The line limit of these tests: 64 KiB.
pub const LINE_LIMIT: usize = 64 << 10;

/// Lowers the line limit for this process (every test calls it first; the value is the same).
pub fn setup() {
    seqmodels::text::set_max_line_bytes(LINE_LIMIT);
}

/// Cases per property: `PROPTEST_CASES`, or 64.
pub fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 512,
        ..Config::default()
    }
}

/// Counts the bytes allocated by each thread, and the most it held at once.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call goes to the system allocator unchanged; the counters are plain
// thread-local cells with constant initialisers, which neither allocate nor register a
// destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, size);
        if !q.is_null() {
            track(size as isize - layout.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns what it returned and the most bytes it held allocated at once.
pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get);
    (out, (peak - base).max(0) as usize)
}

/// The most a reader may hold for an input of `len` bytes: 32 bytes per input byte (a word of
/// a vector file costs its string, its index entry, its line number) plus 16 MiB (read
/// buffers, a gzip decoder, the room reserved from a header, capped at a few MiB). A reader
/// that believed a header's counts, or held a whole long line, would go far past it.
pub fn bound(len: usize) -> usize {
    32 * len + (16 << 20)
}

/// Runs `read` and checks that it held at most [`bound`] of `len`.
pub fn bounded<T>(what: &str, len: usize, read: impl FnOnce() -> T) -> T {
    let (out, peak) = peak_of(read);
    assert!(
        peak <= bound(len),
        "{what}: held {peak} bytes at once for an input of {len} bytes (bound {})",
        bound(len)
    );
    out
}

/// One change to a valid file.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Cut the file here (each position is taken modulo the file's length, plus one).
    Truncate(usize),
    /// XOR a byte.
    Flip(usize, u8),
    /// Insert bytes.
    Insert(usize, Bytes),
    /// Write bytes over the file's own.
    Overwrite(usize, Bytes),
    /// Remove up to this many bytes.
    Remove(usize, usize),
    /// Replace one of the file's numbers (a run of digits) with a hostile one.
    Number(usize, &'static str),
}

/// Numbers that readers must not trust: huge, negative, past 32 and 64 bits, not finite.
const NUMBERS: [&str; 12] = [
    "0",
    "-1",
    "2147483648",
    "4294967296",
    "999999999",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e309",
    "-1e309",
    "NaN",
    "inf",
    "1.5",
];

/// Bytes worth inserting: separators, NUL, 0xFF, little-endian huge integers, numbers as
/// text, a line longer than [`LINE_LIMIT`], random bytes.
fn insertion() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        prop::sample::select(vec![
            b"\0".to_vec(),
            b"\xff".to_vec(),
            b"\n".to_vec(),
            b"\r\n".to_vec(),
            b"\"".to_vec(),
            b",".to_vec(),
            b"\t".to_vec(),
            b" ".to_vec(),
            b"{".to_vec(),
            i32::MAX.to_le_bytes().to_vec(),
            (-1i32).to_le_bytes().to_vec(),
            i64::MAX.to_le_bytes().to_vec(),
            u32::MAX.to_le_bytes().to_vec(),
        ]),
        prop::sample::select(NUMBERS.to_vec()).prop_map(|n| n.as_bytes().to_vec()),
        (LINE_LIMIT..4 * LINE_LIMIT).prop_map(|n| vec![b'a'; n]),
        prop::collection::vec(any::<u8>(), 1..16),
    ]
    .prop_map(Bytes)
}

/// One mutation of any kind.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<usize>().prop_map(Mutation::Truncate),
        3 => (any::<usize>(), 1..=255u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<usize>(), insertion()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => (any::<usize>(), insertion()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
        1 => (any::<usize>(), 1..64usize).prop_map(|(i, n)| Mutation::Remove(i, n)),
        3 => (any::<usize>(), prop::sample::select(NUMBERS.to_vec()))
            .prop_map(|(i, n)| Mutation::Number(i, n)),
    ]
}

/// `bytes` with `m` applied.
pub fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let at = |i: &usize, len: usize| i % (len + 1);
    match m {
        Mutation::Truncate(i) => bytes.truncate(at(i, bytes.len())),
        Mutation::Flip(i, b) if !bytes.is_empty() => {
            let k = i % bytes.len();
            bytes[k] ^= b;
        }
        Mutation::Flip(..) => {}
        Mutation::Insert(i, b) => {
            let k = at(i, bytes.len());
            bytes.splice(k..k, b.iter().copied());
        }
        Mutation::Overwrite(i, b) => {
            let k = at(i, bytes.len());
            let end = (k + b.len()).min(bytes.len());
            bytes.splice(k..end, b.iter().copied());
        }
        Mutation::Remove(i, n) => {
            let k = at(i, bytes.len());
            let end = (k + n).min(bytes.len());
            bytes.drain(k..end);
        }
        Mutation::Number(i, n) => {
            let runs = digit_runs(&bytes);
            if !runs.is_empty() {
                let (start, end) = runs[i % runs.len()];
                bytes.splice(start..end, n.bytes());
            }
        }
    }
    bytes
}

/// Where the runs of ASCII digits of `bytes` start and end.
fn digit_runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, bytes.len()));
    }
    runs
}

/// Bytes that print short: escaped, with runs of one byte as `{97 x 70000}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl std::ops::Deref for Bytes {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes: b\"", self.0.len())?;
        let mut rest = &self.0[..];
        while let Some(&b) = rest.first() {
            let run = rest.iter().take_while(|&&c| c == b).count();
            if run > 8 {
                write!(f, "{{{b} x {run}}}")?;
            } else {
                for &c in &rest[..run] {
                    write!(f, "{}", std::ascii::escape_default(c))?;
                }
            }
            rest = &rest[run..];
        }
        write!(f, "\"")
    }
}

/// One of `valid` with one to five mutations, or (one case in five) random bytes.
pub fn hostile(valid: Vec<Vec<u8>>) -> impl Strategy<Value = Bytes> {
    let mutated = (
        prop::sample::select(valid),
        prop::collection::vec(mutation(), 1..6),
    )
        .prop_map(|(base, ms)| ms.iter().fold(base, apply));
    prop_oneof![
        4 => mutated,
        1 => prop::collection::vec(any::<u8>(), 0..2048),
    ]
    .prop_map(Bytes)
}

/// A stream of `len` bytes of `byte` then a line break, made as it is read (the test itself
/// holds none of it).
pub fn long_line(byte: u8, len: u64) -> impl std::io::Read {
    use std::io::Read;
    std::io::repeat(byte).take(len).chain(&b"\n"[..])
}

#[test]
fn mutations_do_what_they_say() {
    let base = b"ab 12 cd 345".to_vec();
    let idx = |k: usize| k;
    assert_eq!(
        apply(base.clone(), &Mutation::Number(idx(0), "-1")),
        b"ab -1 cd 345"
    );
    assert_eq!(
        apply(base.clone(), &Mutation::Number(idx(3), "0")),
        b"ab 12 cd 0"
    );
    assert_eq!(apply(base.clone(), &Mutation::Truncate(idx(0))), b"");
    assert_eq!(apply(Vec::new(), &Mutation::Flip(idx(3), 1)), b"");
    assert_eq!(
        apply(
            base.clone(),
            &Mutation::Insert(idx(0), Bytes(b"X".to_vec()))
        ),
        b"Xab 12 cd 345"
    );
    assert_eq!(digit_runs(b"1a22"), [(0, 1), (2, 4)]);
    // The counter sees what a reader holds.
    let (v, peak) = peak_of(|| vec![0u8; 1 << 20]);
    assert!(peak >= 1 << 20 && v.len() == 1 << 20);
}
