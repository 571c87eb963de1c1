//! A bounded list of remembered things that reuses its oldest slot once full: the decoder's
//! layouts and validation's shapes.

use std::ops::{Deref, DerefMut};

/// At most `N` items; past that, each new one takes the place (and the memory) of the oldest.
#[derive(Clone, Debug)]
pub(crate) struct Recent<T, const N: usize> {
    items: Vec<T>,
    /// The slot to reuse next once full.
    next: usize,
}

impl<T, const N: usize> Default for Recent<T, N> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            next: 0,
        }
    }
}

impl<T: Default, const N: usize> Recent<T, N> {
    /// A slot for a new item: a fresh one while there is room, else the oldest, as it was. Rare
    /// (a new layout or shape), so kept out of its callers' hot paths.
    #[cold]
    pub(crate) fn claim(&mut self) -> &mut T {
        if self.items.len() < N {
            self.items.push(T::default());
            let last = self.items.len() - 1;
            return &mut self.items[last];
        }
        let oldest = self.next;
        self.next = (oldest + 1) % N;
        &mut self.items[oldest]
    }

    /// Forgets every item.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.next = 0;
    }
}

impl<T, const N: usize> Deref for Recent<T, N> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T, const N: usize> DerefMut for Recent<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_the_oldest_slot_once_full() {
        let mut recent: Recent<u32, 3> = Recent::default();
        for n in 1..=5 {
            *recent.claim() = n;
        }
        // 4 took the place of 1, then 5 that of 2.
        assert_eq!(&recent[..], &[4, 5, 3]);
        recent.clear();
        assert!(recent.is_empty());
        *recent.claim() = 6;
        assert_eq!(&recent[..], &[6]);
    }
}
