package payoutfile

import "sync"

// idSet remembers item external IDs by a 96-bit hash with the row where each was first seen: 16
// bytes per slot in one open-addressing table (linear probing, at most 3/4 full), so a million IDs
// take 16 to 32 MiB whatever their length. Two different IDs share a hash with probability about
// n²/2⁹⁷ (10⁻¹⁶ for five million IDs): never in practice, and the harm would be a row wrongly
// refused, not a payment made twice.
type idSet struct {
	slots []idSlot
	n     int
	hint  int    // expected number of IDs, to size the table once
	sink  uint32 // keeps touch's reads
}

type idSlot struct {
	h0  uint64
	h1  uint32 // 0 marks an empty slot
	row uint32
}

// add records the hash of an ID first seen at row and returns 0, or returns the row where the ID
// was first seen.
func (s *idSet) add(h0, h1 uint64, row int) int {
	lo := uint32(h1) | 1 // never 0, which marks an empty slot
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h0 & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		switch {
		case sl.h1 == 0:
			*sl = idSlot{h0, lo, uint32(row)}
			s.n++
			return 0
		case sl.h0 == h0 && sl.h1 == lo:
			return int(sl.row)
		}
	}
}

// reserve makes room for n more IDs, so that add does not move the table.
func (s *idSet) reserve(n int) {
	for 4*(s.n+n) > 3*len(s.slots) {
		s.grow()
	}
}

// touch reads the slot where an ID with hash h0 starts probing. Touching a batch of slots before
// adding them lets the processor fetch them from memory in parallel.
func (s *idSet) touch(h0 uint64) {
	s.sink += s.slots[h0&uint64(len(s.slots)-1)].h1
}

func (s *idSet) grow() {
	old := s.slots
	size := 1024
	for 3*size < 4*s.hint && size < 1<<21 { // at most 32 MiB before the first doubling
		size *= 2
	}
	s.hint = 0
	if size <= len(old) {
		size = 2 * len(old)
	}
	s.slots = takeTable(size)
	mask := uint64(size - 1)
	for _, sl := range old {
		if sl.h1 == 0 {
			continue
		}
		i := sl.h0 & mask
		for s.slots[i].h1 != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// spareTable keeps the tables of the last closed Reader (its item external IDs and its
// recipients, up to 32 MiB each) for the next one of the same size: a fresh table costs a page
// fault per 4 KiB when first written, a reused one only clearing. Processes that read many files
// (serve, scheduler) read each after the first at full speed.
var spareTable struct {
	sync.Mutex
	slots [2][]idSlot
}

const maxSpareSlots = 1 << 21

// takeTable returns an empty table of size slots, a spare one when one has that size.
func takeTable(size int) []idSlot {
	spareTable.Lock()
	var t []idSlot
	for i, sp := range spareTable.slots {
		if len(sp) == size {
			t, spareTable.slots[i] = sp, nil
			break
		}
	}
	spareTable.Unlock()
	if t == nil {
		return make([]idSlot, size)
	}
	clear(t)
	return t
}

// release hands the set's table over for reuse, in place of the smaller spare; the set is empty
// afterwards.
func (s *idSet) release() {
	if n := len(s.slots); n > 0 && n <= maxSpareSlots {
		spareTable.Lock()
		i := 0
		if len(spareTable.slots[1]) < len(spareTable.slots[0]) {
			i = 1
		}
		if n >= len(spareTable.slots[i]) {
			spareTable.slots[i] = s.slots
		}
		spareTable.Unlock()
	}
	s.slots, s.n = nil, 0
}
