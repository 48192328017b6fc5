//! The media task's rooms, each with the deadline it last asked for, kept in time order.
//!
//! A wake-up finds the rooms that are due, and the next time to wake, from this order alone:
//! asking every room (and so every peer) for its next timeout on every wake-up was a tenth of
//! the SFU's time under load (docs/benchmarks.md, "SFU"). Rooms are addressed by a small index so
//! that keeping the order up to date after each packet allocates nothing; the index of a closed
//! room is reused.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::ids::RoomId;
use crate::room::Room;

/// Where a room lives in a [`RoomTable`], while it lives.
pub type RoomIndex = usize;

struct Slot {
    room: Room,
    /// The deadline this room is filed under in `due`.
    deadline: Option<Instant>,
}

#[derive(Default)]
pub struct RoomTable {
    slots: Vec<Option<Slot>>,
    free: Vec<RoomIndex>,
    by_id: HashMap<RoomId, RoomIndex>,
    due: BTreeSet<(Instant, RoomIndex)>,
}

impl RoomTable {
    pub fn index(&self, id: &RoomId) -> Option<RoomIndex> {
        self.by_id.get(id).copied()
    }

    /// The room's index; the room is made with `make` when there is none. The flag says whether
    /// it was made.
    pub fn get_or_insert_with(
        &mut self,
        id: &RoomId,
        make: impl FnOnce() -> Room,
    ) -> (RoomIndex, bool) {
        if let Some(idx) = self.index(id) {
            return (idx, false);
        }
        let slot = Some(Slot {
            room: make(),
            deadline: None,
        });
        let idx = match self.free.pop() {
            Some(idx) => {
                self.slots[idx] = slot;
                idx
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id.clone(), idx);
        self.reschedule(idx);
        (idx, true)
    }

    #[cfg(test)]
    pub fn get(&self, idx: RoomIndex) -> Option<&Room> {
        self.slots.get(idx)?.as_ref().map(|s| &s.room)
    }

    /// The room, to change. Call [`Self::reschedule`] after changing it: its deadline may have
    /// moved.
    pub fn get_mut(&mut self, idx: RoomIndex) -> Option<&mut Room> {
        self.slots.get_mut(idx)?.as_mut().map(|s| &mut s.room)
    }

    pub fn remove(&mut self, idx: RoomIndex) -> Option<Room> {
        let slot = self.slots.get_mut(idx)?.take()?;
        if let Some(at) = slot.deadline {
            self.due.remove(&(at, idx));
        }
        self.by_id.remove(slot.room.id());
        self.free.push(idx);
        Some(slot.room)
    }

    /// Files the room under the deadline it now asks for.
    pub fn reschedule(&mut self, idx: RoomIndex) {
        let Some(slot) = self.slots.get_mut(idx).and_then(Option::as_mut) else {
            return;
        };
        let deadline = slot.room.next_timeout();
        if deadline == slot.deadline {
            return;
        }
        if let Some(old) = slot.deadline {
            self.due.remove(&(old, idx));
        }
        if let Some(new) = deadline {
            self.due.insert((new, idx));
        }
        slot.deadline = deadline;
    }

    /// The earliest deadline of any room.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.due.first().map(|&(at, _)| at)
    }

    /// Every room due at `now`, taken out of the order: reschedule each after handling it.
    pub fn take_due(&mut self, now: Instant, into: &mut Vec<RoomIndex>) {
        while let Some(&(at, idx)) = self.due.first() {
            if at > now {
                break;
            }
            self.due.pop_first();
            if let Some(slot) = self.slots[idx].as_mut() {
                slot.deadline = None;
            }
            into.push(idx);
        }
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (RoomIndex, &mut Room)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|s| (i, &mut s.room)))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Room> {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|s| &s.room))
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::ids::ParticipantId;
    use crate::room::peer_rtc;

    fn room_with_a_peer(table: &mut RoomTable, name: &str, now: Instant) -> RoomIndex {
        let id = RoomId(name.to_owned());
        let (idx, made) = table.get_or_insert_with(&id, || Room::new(id.clone()));
        assert!(made);
        let addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let rtc = peer_rtc(&[addr], crypto, now);
        let room = table.get_mut(idx).unwrap();
        room.add_peer(ParticipantId("p".into()), rtc, Vec::new(), now)
            .unwrap();
        table.reschedule(idx);
        idx
    }

    #[test]
    fn an_empty_room_asks_for_no_wake_up() {
        let mut table = RoomTable::default();
        let id = RoomId("empty".into());
        table.get_or_insert_with(&id, || Room::new(id.clone()));
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn the_next_wake_up_is_the_earliest_room_deadline_and_only_due_rooms_are_taken() {
        let now = Instant::now();
        let mut table = RoomTable::default();
        let a = room_with_a_peer(&mut table, "a", now);
        let b = room_with_a_peer(&mut table, "b", now);
        let deadlines = [a, b].map(|i| table.get(i).unwrap().next_timeout().unwrap());
        assert_eq!(table.next_deadline(), deadlines.iter().min().copied());

        let mut due = Vec::new();
        let before = deadlines
            .iter()
            .min()
            .unwrap()
            .checked_sub(Duration::from_nanos(1));
        if let Some(before) = before {
            table.take_due(before, &mut due);
            assert!(due.is_empty());
        }
        let latest = *deadlines.iter().max().unwrap();
        table.take_due(latest, &mut due);
        due.sort();
        assert_eq!(due, vec![a, b]);
        assert_eq!(
            table.next_deadline(),
            None,
            "taken rooms wait to be rescheduled"
        );
        table.reschedule(a);
        assert_eq!(table.next_deadline(), Some(deadlines[0]));
    }

    #[test]
    fn a_removed_room_leaves_the_order_and_its_index_is_reused() {
        let now = Instant::now();
        let mut table = RoomTable::default();
        let a = room_with_a_peer(&mut table, "a", now);
        assert!(table.next_deadline().is_some());
        let removed = table.remove(a).unwrap();
        assert_eq!(removed.id(), &RoomId("a".into()));
        assert_eq!(table.next_deadline(), None);
        assert_eq!(table.index(&RoomId("a".into())), None);
        let b = room_with_a_peer(&mut table, "b", now);
        assert_eq!(b, a);
        assert_eq!(table.index(&RoomId("b".into())), Some(b));
    }
}
