//! What the process tells the operating system about its largest arrays. The account columns, the values'
//! frequencies and the candidate pairs reach gigabytes at ten million accounts and are read at random (a pair's
//! two accounts, a value's frequency); with 4 KiB pages nearly every such read also misses the
//! address-translation cache, and under a hypervisor that miss costs another walk of the host's tables. Arrays
//! written once in order and then read in order (blocking's sorted key entries) are not advised: faulting
//! fresh huge pages costs more than their sequential reads save. Arrays this module is told
//! about are backed by 2 MiB pages where the kernel allows it (`MADV_HUGEPAGE`, honoured when transparent huge
//! pages are `always` or `madvise`); everything else keeps small pages, since the allocator reuses and returns
//! its small-object memory often and a huge page faulted again each time costs more than it saves. Advice only:
//! no effect on what the program computes, and a no-op elsewhere than Linux. And when freed memory goes back:
//! `release_freed`, called by the stages where a large transient has just been dropped.

/// The size of a huge page on x86-64 and aarch64 Linux.
const HUGE_PAGE: usize = 2 << 20;

/// Arrays smaller than this are left alone: they would hold no whole huge page, or only one. (At 16 MiB
/// the one-million-account columns of names, codes and dates stayed small-paged; at 4 MiB comparing took
/// 2.15 → 2.04 s, means of five alternating runs.)
const MIN_ADVISED: usize = 2 * HUGE_PAGE;

/// Asks for huge pages under the room `v` has reserved (its capacity, written or not). Call it right after
/// reserving, before the room is written: pages already touched stay small until the kernel merges them.
pub fn advise_huge_pages<T>(v: &Vec<T>) {
    advise_range(v.as_ptr() as usize, v.capacity() * std::mem::size_of::<T>());
}

/// Collects a parallel iterator of known length into a vector whose room is advised first (`par_extend` of
/// an indexed iterator writes into the room reserved, in place).
pub fn collect_advised<T: Send>(
    iter: impl rayon::iter::IndexedParallelIterator<Item = T>,
) -> Vec<T> {
    use rayon::iter::ParallelExtend;
    let mut v = Vec::with_capacity(iter.len());
    advise_huge_pages(&v);
    v.par_extend(iter);
    v
}

/// `n` copies of `value` in a vector whose room is advised before they are written (`vec![value; n]`, advised),
/// written by every worker: writing them is the memory's first touch, and one thread faulting in the load's id
/// table alone was about a second and a half at ten million accounts.
pub fn filled_advised<T: Clone + Send + Sync>(n: usize, value: T) -> Vec<T> {
    collect_advised(rayon::iter::repeat_n(value, n))
}

/// `advise_huge_pages` for a `String`'s room.
pub fn advise_huge_pages_str(s: &String) {
    advise_range(s.as_ptr() as usize, s.capacity());
}

/// Returns the memory freed so far to the operating system now, instead of when the allocator next gets
/// round to it. Call it where a stage has just dropped a large transient (blocking's key entries): the
/// allocator otherwise keeps such memory mapped for a while, and the next stage's arrays then come on top of
/// it, so the run's peak is the two together. No effect on what the program computes.
pub fn release_freed() {
    // Each worker thread's heap too: what one thread frees of another's memory waits for the owner.
    // SAFETY: `mi_collect` takes no pointers; it only walks the allocator's own structures, and it is a
    // no-op for memory that mimalloc does not manage (when another global allocator is in use).
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// The whole huge pages inside `[start, start + len)`: the advice applies to whole pages only.
fn huge_pages_within(start: usize, len: usize) -> Option<(usize, usize)> {
    if len < MIN_ADVISED {
        return None;
    }
    let from = start.checked_next_multiple_of(HUGE_PAGE)?;
    let to = start.checked_add(len)? / HUGE_PAGE * HUGE_PAGE;
    (to > from).then_some((from, to - from))
}

#[cfg(target_os = "linux")]
fn advise_range(start: usize, len: usize) {
    if let Some((from, len)) = huge_pages_within(start, len) {
        // SAFETY: `from..from + len` lies inside one live allocation (a vector's reserved room); MADV_HUGEPAGE
        // changes how the kernel backs those pages, never their contents or whether they are mapped. A
        // refusal (THP disabled, an old kernel) leaves small pages, which is what the call would replace.
        unsafe {
            libc::madvise(from as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_range(_start: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_huge_pages_inside_the_room_are_advised() {
        let mb = 1 << 20;
        // (start, length) of the room → the huge pages advised inside it, as (start, length).
        type Case = ((usize, usize), Option<(usize, usize)>);
        let cases: &[Case] = &[
            // Too small to matter.
            ((0, MIN_ADVISED - 1), None),
            // Aligned: all of it.
            ((64 * mb, 16 * mb), Some((64 * mb, 16 * mb))),
            // Unaligned start and end: rounded inwards.
            ((64 * mb + 1, 16 * mb), Some((66 * mb, 14 * mb))),
            ((64 * mb + 4096, 20 * mb), Some((66 * mb, 18 * mb))),
            // Past the top of the address space: nothing, and no overflow.
            ((usize::MAX - 10 * mb, 20 * mb), None),
        ];
        for &((start, len), want) in cases {
            assert_eq!(
                huge_pages_within(start, len),
                want,
                "start {start:#x} len {len}"
            );
        }
    }

    #[test]
    fn collecting_advised_keeps_order_and_length() {
        use rayon::iter::{IntoParallelIterator, ParallelIterator};
        let n = 3 << 20;
        let v = collect_advised((0..n).into_par_iter().map(|i| i * 3));
        assert_eq!(v.len(), n);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i * 3));
        assert!(collect_advised((0..0usize).into_par_iter()).is_empty());
    }

    #[test]
    fn advising_a_vector_keeps_its_contents() {
        let mut v: Vec<u64> = (0..1000).collect();
        v.reserve(4 << 20);
        advise_huge_pages(&v);
        v.extend(1000..(4 << 20));
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        assert_eq!(filled_advised(3 << 20, 7u8), vec![7u8; 3 << 20]);
        assert!(filled_advised(0, 7u8).is_empty());
    }
}
