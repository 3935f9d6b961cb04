package domain

import (
	"slices"
	"time"
)

// FactKind is what a step of a request's course ([Timeline]) is about.
type FactKind uint8

// Fact kinds, named after the events they are read from.
const (
	FactDecided FactKind = iota + 1
	FactReopened
	FactInformationRequested
	FactWithdrawn
	FactWithdrawalAcknowledged
	FactLinked
	FactTargetsRevealed
	FactStepsStopped
	FactDPAObjected
	FactCleared
	FactDisposition
)

// Fact is one step of a request's course as staff read it beside the
// record's entries. It holds no personal data: who, when, which decision,
// which trigger. Free text the company sealed as its record (a question
// asked, why a case was linked, why targets were revealed) is never
// copied: SealedText says only that it is in the entry.
type Fact struct {
	Seq        uint64
	Kind       FactKind
	At         time.Time
	By         string
	DecisionID string
	// Detail: the decision's kind (Decided) or the outcome (Disposition).
	Detail string
	// Superseded: a later reopening superseded this decision (Decided).
	Superseded bool
	// Trigger: what reopened the case (Reopened) or why steps stopped.
	Trigger string
	// Reason: why a case was reopened, in the lifecycle table's words.
	Reason          string
	SealedText      bool
	LinkedRequestID string
	Roles           []string
	Steps           []string
	DPA             string
	// AfterDisclosure: the withdrawal came after the data left; it is
	// recorded and undoes nothing.
	AfterDisclosure bool
}

// Timeline is a request's course, in record order: every decision stays
// in it, an earlier one marked superseded when a reopening replaced it.
// The zero value is empty.
type Timeline struct {
	facts     []Fact
	disclosed bool
}

// Add appends a fact read from the record, in stream order.
func (t *Timeline) Add(f Fact) {
	switch f.Kind {
	case FactReopened:
		if !t.disclosed {
			t.supersede(f.DecisionID)
		}
	case FactWithdrawn, FactWithdrawalAcknowledged:
		f.AfterDisclosure = f.AfterDisclosure || t.disclosed
	case FactDisposition:
		if f.Detail == OutcomeContentDisclosed.String() || f.Detail == OutcomeNonContentOnly.String() {
			t.disclosed = true
		}
	}
	f.Roles, f.Steps = slices.Clone(f.Roles), slices.Clone(f.Steps)
	t.facts = append(t.facts, f)
}

// supersede marks the decision id as superseded or, when the reopening
// names none the timeline holds, the last decision not yet superseded.
func (t *Timeline) supersede(id string) {
	last := -1
	for i := len(t.facts) - 1; i >= 0; i-- {
		f := &t.facts[i]
		if f.Kind != FactDecided || f.Superseded {
			continue
		}
		if id != "" && f.DecisionID == id {
			f.Superseded = true
			return
		}
		if last < 0 {
			last = i
		}
	}
	if last >= 0 {
		t.facts[last].Superseded = true
	}
}

// Facts returns the facts in record order.
func (t *Timeline) Facts() []Fact { return slices.Clone(t.facts) }
