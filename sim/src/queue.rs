//! Simulated time and the event queue: a priority queue of timed events, popped in time order
//! (ties in the order they were pushed), so one thread replays a whole store deterministically.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Events due at simulated milliseconds, earliest first.
#[derive(Debug)]
pub struct Queue<T> {
    heap: BinaryHeap<Reverse<(u64, u64, Slot<T>)>>,
    pushed: u64,
    now_ms: u64,
}

/// Wraps an event so the heap orders by (time, push order) only.
#[derive(Debug)]
struct Slot<T>(T);

impl<T> PartialEq for Slot<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Slot<T> {}
impl<T> PartialOrd for Slot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Slot<T> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<T> Queue<T> {
    /// An empty queue at time 0.
    pub fn new() -> Queue<T> {
        Queue {
            heap: BinaryHeap::new(),
            pushed: 0,
            now_ms: 0,
        }
    }

    /// The simulated time, in milliseconds since the start.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Schedules `event` `delay_ms` from now.
    pub fn after(&mut self, delay_ms: u64, event: T) {
        let at = self.now_ms.saturating_add(delay_ms);
        self.pushed += 1;
        self.heap.push(Reverse((at, self.pushed, Slot(event))));
    }

    /// The next event, with the clock moved to its time.
    pub fn pop(&mut self) -> Option<T> {
        let Reverse((at, _, Slot(event))) = self.heap.pop()?;
        self.now_ms = self.now_ms.max(at);
        Some(event)
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Queue;

    #[test]
    fn events_come_out_in_time_order_and_ties_in_push_order() {
        let mut queue = Queue::new();
        queue.after(30, "c");
        queue.after(10, "a");
        queue.after(10, "b");
        assert_eq!(queue.pop(), Some("a"));
        assert_eq!(queue.now_ms(), 10);
        queue.after(5, "a2");
        assert_eq!(queue.pop(), Some("b"));
        assert_eq!(queue.pop(), Some("a2"));
        assert_eq!(queue.now_ms(), 15);
        assert_eq!(queue.pop(), Some("c"));
        assert_eq!(queue.now_ms(), 30);
        assert_eq!(queue.pop(), None);
    }
}
