//! A message's field index: inline for ordinary messages, on the heap for large ones.

use std::fmt;

use super::view::Span;

/// How many fields a message holds before its field index moves to the heap. A NewOrderSingle has
/// about 18 fields and an ExecutionReport about 26, `BeginString <8>` to `CheckSum <10>` included.
pub(crate) const INLINE_FIELDS: usize = 32;

/// The spans of a message's fields, in wire order.
///
/// The first [`INLINE_FIELDS`] live in an array inside the message, so that indexing an ordinary
/// message does not allocate; a push there is a store and an increment, with none of a general
/// small vector's checks of where its items are. A larger message moves its whole index to the
/// heap.
#[derive(Clone)]
pub(crate) struct FieldIndex {
    inline: [Span; INLINE_FIELDS],
    /// The number of fields: those in `inline` up to [`INLINE_FIELDS`], those in `heap` beyond.
    len: usize,
    /// Every field, once there are more than `inline` holds.
    heap: Vec<Span>,
}

impl FieldIndex {
    /// An empty index.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            inline: [Span::EMPTY; INLINE_FIELDS],
            len: 0,
            heap: Vec::new(),
        }
    }

    /// Empties the index, keeping the memory of its heap part.
    #[inline(always)]
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.heap.clear();
    }

    /// Becomes `other`'s index, which is left empty: only the spans in use are copied, and a
    /// heap part changes hands.
    #[inline]
    pub(crate) fn take_from(&mut self, other: &mut Self) {
        match other.inline.get(..other.len) {
            Some(spans) => self.inline[..spans.len()].copy_from_slice(spans),
            None => std::mem::swap(&mut self.heap, &mut other.heap),
        }
        self.len = other.len;
        other.clear();
    }

    /// Appends a field's span.
    #[inline(always)]
    pub(crate) fn push(&mut self, span: Span) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                // Field by field: a span assembled in memory and copied whole would be read back
                // with one wide load over narrower stores, which the CPU cannot forward.
                slot.tag = span.tag;
                slot.eq = span.eq;
                slot.end = span.end;
            }
            None => self.push_to_heap(span),
        }
        self.len += 1;
    }

    /// The inline slots not yet used, for a caller that fills several in a row and then
    /// [`commit`](Self::commit)s them: empty once the index has moved to the heap.
    #[inline(always)]
    pub(crate) fn spare_inline(&mut self) -> &mut [Span] {
        self.inline.get_mut(self.len..).unwrap_or_default()
    }

    /// Counts the first `n` slots of [`spare_inline`](Self::spare_inline) as pushed.
    #[inline(always)]
    pub(crate) fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(INLINE_FIELDS);
    }

    #[inline(never)]
    fn push_to_heap(&mut self, span: Span) {
        if self.heap.is_empty() {
            self.heap.reserve(2 * INLINE_FIELDS);
            self.heap.extend_from_slice(&self.inline);
        }
        self.heap.push(span);
    }

    /// The number of fields.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The spans, in wire order.
    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[Span] {
        match self.inline.get(..self.len) {
            Some(inline) => inline,
            None => &self.heap,
        }
    }
}

impl fmt::Debug for FieldIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_to_the_heap_past_the_inline_fields_keeping_order() {
        let mut index = FieldIndex::new();
        let span = |i: usize| Span {
            tag: i as u32 + 1,
            eq: i as u32,
            end: i as u32 + 1,
        };
        for i in 0..INLINE_FIELDS {
            index.push(span(i));
        }
        assert!(index.heap.is_empty());
        assert_eq!(index.len(), INLINE_FIELDS);
        for i in INLINE_FIELDS..3 * INLINE_FIELDS {
            index.push(span(i));
        }
        assert_eq!(index.len(), 3 * INLINE_FIELDS);
        let tags: Vec<u32> = index.as_slice().iter().map(|s| s.tag).collect();
        let expected: Vec<u32> = (1..=3 * INLINE_FIELDS as u32).collect();
        assert_eq!(tags, expected);
    }
}
