//! Byte searches that never ask the CPU what it can do. memchr's top-level functions choose
//! AVX2 or SSE2 at their first call through std's feature detection: a dozen CPUID
//! instructions, each a trap to the hypervisor on a virtual machine (perf: ~45 µs of a
//! ~2 ms rebound-lda delivery, for searches over a few kilobytes). SSE2 is part of x86-64
//! itself, so its searcher needs no question; other targets use memchr's portable one.

/// `find` for one byte.
#[cfg(target_arch = "x86_64")]
fn finder1(a: u8) -> impl Fn(&[u8]) -> Option<usize> {
    let sse2 = memchr::arch::x86_64::sse2::memchr::One::new(a);
    let all = memchr::arch::all::memchr::One::new(a);
    move |h| match &sse2 {
        Some(s) => s.find(h),
        None => all.find(h),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn finder1(a: u8) -> impl Fn(&[u8]) -> Option<usize> {
    let all = memchr::arch::all::memchr::One::new(a);
    move |h| all.find(h)
}

/// `find` for either of two bytes.
#[cfg(target_arch = "x86_64")]
fn finder2(a: u8, b: u8) -> impl Fn(&[u8]) -> Option<usize> {
    let sse2 = memchr::arch::x86_64::sse2::memchr::Two::new(a, b);
    let all = memchr::arch::all::memchr::Two::new(a, b);
    move |h| match &sse2 {
        Some(s) => s.find(h),
        None => all.find(h),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn finder2(a: u8, b: u8) -> impl Fn(&[u8]) -> Option<usize> {
    let all = memchr::arch::all::memchr::Two::new(a, b);
    move |h| all.find(h)
}

/// Positions of the matches of `find` in `hay`, ascending.
struct Positions<'h, F> {
    hay: &'h [u8],
    at: usize,
    find: F,
}

impl<F: Fn(&[u8]) -> Option<usize>> Iterator for Positions<'_, F> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let i = self.at + (self.find)(self.hay.get(self.at..)?)?;
        self.at = i + 1;
        Some(i)
    }
}

/// Every position of `a` in `hay` (as `memchr::memchr_iter`).
pub fn positions(a: u8, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    Positions {
        hay,
        at: 0,
        find: finder1(a),
    }
}

/// Every position of `a` or `b` in `hay` (as `memchr::memchr2_iter`).
pub fn positions2(a: u8, b: u8, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    Positions {
        hay,
        at: 0,
        find: finder2(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_as_memchr(hay in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'\n'), any::<u8>()], 0..300), a in any::<u8>(), b in any::<u8>()) {
            prop_assert_eq!(positions(a, &hay).collect::<Vec<_>>(), memchr::memchr_iter(a, &hay).collect::<Vec<_>>());
            prop_assert_eq!(positions2(a, b, &hay).collect::<Vec<_>>(), memchr::memchr2_iter(a, b, &hay).collect::<Vec<_>>());
        }
    }
}
