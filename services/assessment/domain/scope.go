package domain

import (
	"fmt"
	"slices"
)

// Scope is the set of data a request asks for, or a disclosure would hand
// over. It is what the bulk rule (6.1) judges.
type Scope struct {
	TargetIDs []string
	// TargetCount counts targets beyond those listed in TargetIDs.
	TargetCount    int
	ScopeDescribed bool
	Selectors      Selectors
	DataCategories []string
	TimeRange      TimeRange
}

// Targets is the number of targets in the scope.
func (s Scope) Targets() int { return max(s.TargetCount, len(s.TargetIDs)) }

// Scope is the scope the request asks for.
func (f RequestFacts) Scope() Scope {
	return Scope{
		TargetIDs:      slices.Clone(f.TargetIDs),
		TargetCount:    f.TargetCount,
		ScopeDescribed: f.ScopeDescribed,
		Selectors:      f.Selectors,
		DataCategories: slices.Clone(f.DataCategories),
		TimeRange:      f.TimeRange,
	}
}

// Narrowing restricts a disclosure to part of the request. Empty fields
// keep the request's value.
type Narrowing struct {
	TargetIDs      []string
	DataCategories []string
	TimeRange      TimeRange
}

func (n *Narrowing) empty() bool {
	return n == nil || (len(n.TargetIDs) == 0 && len(n.DataCategories) == 0 && n.TimeRange == TimeRange{})
}

// DisclosedScope is what a disclosure under n would hand over. Naming
// targets drops the indiscriminate selectors: only those targets remain.
func DisclosedScope(f RequestFacts, n *Narrowing) Scope {
	s := f.Scope()
	if n.empty() {
		return s
	}
	if len(n.TargetIDs) > 0 {
		s.TargetIDs = slices.Clone(n.TargetIDs)
		s.TargetCount = 0
		s.ScopeDescribed = false
		s.Selectors = Selectors{}
	}
	if len(n.DataCategories) > 0 {
		s.DataCategories = slices.Clone(n.DataCategories)
	}
	if n.TimeRange != (TimeRange{}) {
		s.TimeRange = n.TimeRange
	}
	return s
}

// BulkReasons explains why s is a bulk scope under t (6.1); none means it
// is not. Reasons carry counts and durations, never target ids.
func BulkReasons(s Scope, t BulkThresholds) []string {
	var out []string
	if n := s.Targets(); n > t.MaxTargets {
		out = append(out, fmt.Sprintf("%d targets, more than the threshold of %d", n, t.MaxTargets))
	}
	// A description counts even beside listed targets: "two accounts and
	// everyone who contacted them" is indiscriminate whatever is listed.
	// Only a decision that names its targets drops it (DisclosedScope).
	switch {
	case s.ScopeDescribed && s.Targets() == 0:
		out = append(out, "the scope is described without listing its targets")
	case s.ScopeDescribed:
		out = append(out, "the scope is described in words beyond the listed targets")
	case s.Targets() == 0:
		out = append(out, "no targets are listed")
	}
	if s.Selectors.WholeTenant {
		out = append(out, "it selects a whole customer tenant")
	}
	if s.Selectors.WholeService {
		out = append(out, "it selects a whole service")
	}
	switch {
	case !s.TimeRange.Bounded():
		out = append(out, "the time range is unbounded")
	case s.TimeRange.Duration() > t.MaxTimeRange:
		out = append(out, fmt.Sprintf("the time range of %s is longer than the threshold of %s", s.TimeRange.Duration(), t.MaxTimeRange))
	}
	return out
}

// MaxNarrowingTargets bounds the targets a decision may name: as many as
// intake lets a request list (the max_items of Scope.target_refs and of
// DataDisclosureRequest.targets in the protos). It is checked before
// anything else, so an oversized list costs a length check and nothing more.
const MaxNarrowingTargets = 1_000

// validateNarrowing checks n only removes from the request: named targets
// and categories must be in the request, and the time range inside it.
// Membership is checked against sets, so a long list costs O(n+m).
func validateNarrowing(f RequestFacts, n *Narrowing) []string {
	if n == nil {
		return nil
	}
	var out []string
	switch {
	case len(n.TargetIDs) > MaxNarrowingTargets:
		out = append(out, fmt.Sprintf("narrowing.target_ids: at most %d targets", MaxNarrowingTargets))
	case len(n.TargetIDs) > len(f.TargetIDs):
		// Distinct targets of the request cannot outnumber it.
		out = append(out, "narrowing.target_ids: lists more targets than the request; each must be one the request lists, once")
	default:
		requested := setOf(f.TargetIDs)
		seen := make(map[string]struct{}, len(n.TargetIDs))
		twice, foreign := false, false
		for _, id := range n.TargetIDs {
			if _, dup := seen[id]; dup {
				twice = true
			}
			seen[id] = struct{}{}
			if _, ok := requested[id]; !ok {
				foreign = true
			}
		}
		if twice {
			out = append(out, "narrowing.target_ids: a target is listed twice")
		}
		if foreign {
			out = append(out, "narrowing.target_ids: every target must be one the request lists")
		}
	}
	if len(f.DataCategories) > 0 {
		asked := setOf(f.DataCategories)
		for _, c := range n.DataCategories {
			if _, ok := asked[c]; !ok {
				out = append(out, "narrowing.data_categories: every category must be one the request asks for")
				break
			}
		}
	}
	if n.TimeRange != (TimeRange{}) {
		switch {
		case n.TimeRange.Bounded() && n.TimeRange.To.Before(n.TimeRange.From):
			out = append(out, "narrowing.time_range: end is before start")
		case !f.TimeRange.contains(n.TimeRange):
			out = append(out, "narrowing.time_range: must lie within the requested range")
		}
	}
	return out
}

func setOf(xs []string) map[string]struct{} {
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

// strictlyNarrower reports whether n hands over less than the request: fewer
// targets, fewer categories or a shorter time range (validateNarrowing
// already keeps it inside the request).
func strictlyNarrower(f RequestFacts, n *Narrowing) bool {
	if n.empty() {
		return false
	}
	return (len(n.TargetIDs) > 0 && len(n.TargetIDs) < f.Targets()) ||
		(len(n.DataCategories) > 0 && len(n.DataCategories) < len(f.DataCategories)) ||
		(n.TimeRange != TimeRange{} && n.TimeRange != f.TimeRange)
}
