package domain

import (
	"cmp"
	"slices"
	"time"
)

// QueueEntry is a case as the Privacy Team's queue shows it.
type QueueEntry struct {
	RequestID  string
	Status     Status
	Assignee   string
	Urgent     bool
	Deadline   time.Time
	ReceivedAt time.Time
	ReviewDue  time.Time
	// LegalDue is the nearest open legal deadline (issue 18, clocks.go);
	// zero for a case opened before its clocks existed.
	LegalDue time.Time
}

// QueueEntry returns the case's queue entry.
func (c *Case) QueueEntry() QueueEntry {
	return QueueEntry{
		RequestID:  c.requestID,
		Status:     c.status,
		Assignee:   c.assignee,
		Urgent:     c.facts.Urgent(),
		Deadline:   c.facts.Deadline,
		ReceivedAt: c.facts.ReceivedAt,
		ReviewDue:  c.reviewDue,
		LegalDue:   c.legalDue(),
	}
}

// CompareQueue orders the queue: urgent cases first, then the nearest
// legal deadline (the authority's, an EPOC's; cases without one after
// those with one), then the
// earliest received, then request id so the order is total.
func CompareQueue(a, b QueueEntry) int {
	if a.Urgent != b.Urgent {
		if a.Urgent {
			return -1
		}
		return 1
	}
	if c := compareDeadline(a.due(), b.due()); c != 0 {
		return c
	}
	if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.RequestID, b.RequestID)
}

func compareDeadline(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// SortQueue sorts q in queue order.
func SortQueue(q []QueueEntry) { slices.SortStableFunc(q, CompareQueue) }
