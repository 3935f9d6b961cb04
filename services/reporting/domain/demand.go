package domain

import (
	"cmp"
	"slices"
)

// One demand is counted once (issue 16, clause 5.1). Two things make one
// demand look like several:
//
//   - the same demand sent to two group members: two requests, which staff
//     link (CaseLinked, on either request). The report counts the linked
//     requests as one, under the earliest received of them (ties: the
//     smaller request id), in the period that one was received in;
//   - one request naming several customers, whose steps end on their own
//     (one customer's authority agrees to a redirect, another's declines
//     and the case goes back to review for it): one request, one count
//     ([RequestFold.Outcome]).
//
// Either way the demand counts by its most significant outcome.

// significance ranks outcomes for counting one demand once: the higher
// counts. The report says how far the company went toward the demand:
//
//  1. content disclosed, then non-content data only: data left, and no
//     later event undoes that;
//  2. pending: part of the demand is still open, so no final outcome is
//     claimed for it (the report never claims what the record does not
//     show yet);
//  3. no data disclosed: a disclosure was decided and made, with nothing
//     found;
//  4. redirected: the authority went to the customer (4.1.1);
//  5. challenged, then rejected: the company refused, challenging being
//     the stronger act (3.3);
//  6. withdrawn: the authority's own act, and the least the company did.
//
// Within one request a recorded disposition is final and covers the whole
// request, which agrees with this order (a customer's redirect ranks below
// any disclosure, and "no data" is only recorded once every step of the
// others was done); without one, a redirect that stands for one customer
// counts beside what the rest of the request comes to.
var significance = [numOutcomes]int{
	OutcomeContentDisclosed: 8,
	OutcomeNonContentOnly:   7,
	OutcomePending:          6,
	OutcomeNoDataDisclosed:  5,
	OutcomeRedirected:       4,
	OutcomeChallenged:       3,
	OutcomeRejected:         2,
	OutcomeWithdrawn:        1,
}

// Significance is o's rank in counting one demand once; higher counts.
func (o Outcome) Significance() int {
	if !o.Valid() {
		return 0
	}
	return significance[o]
}

// MostSignificant returns the most significant of the outcomes
// ([Outcome.Significance]); OutcomePending for none.
func MostSignificant(os ...Outcome) Outcome {
	if len(os) == 0 {
		return OutcomePending
	}
	best := os[0]
	for _, o := range os[1:] {
		if o.Significance() > best.Significance() {
			best = o
		}
	}
	return best
}

// strictness ranks restrictions for a demand counted once: if a court
// order keeps one of its requests out, counting the demand through
// another would show it, so the strictest restriction of the demand holds.
func strictness(r Restriction) int {
	switch r {
	case RestrictionExcludedByCourtOrder:
		return 2
	case RestrictionNationalSecurity:
		return 1
	}
	return 0
}

// CountDemandsOnce folds linked requests into one count. links holds, per
// request id, the requests it was linked to (in either direction; the
// relation is made symmetric and transitive here). Of each group of linked
// requests present in facts, the representative (earliest received, then
// smallest id) is counted with the most significant outcome of the group,
// the largest number of accounts any of them specified, each flag set if
// any of them set it, the strictest restriction, and SameDemand naming the
// others; each other request gets CountedWith, and counts in no figure.
// Facts are returned in their order; requests without links are unchanged.
// Pass the facts of every request, not one period's: a demand received
// across two periods counts once, in the representative's.
func CountDemandsOnce(facts []ReportFacts, links map[string][]string) []ReportFacts {
	if len(links) == 0 {
		return facts
	}
	index := make(map[string]int, len(facts))
	for i := range facts {
		index[facts[i].RequestID] = i
	}
	// Union-find over the facts present; links to requests without facts
	// (no receipt folded) join nothing.
	parent := make(map[int]int)
	var find func(int) int
	find = func(i int) int {
		p, ok := parent[i]
		if !ok || p == i {
			return i
		}
		r := find(p)
		parent[i] = r
		return r
	}
	for id, others := range links {
		a, ok := index[id]
		if !ok {
			continue
		}
		for _, o := range others {
			if b, ok := index[o]; ok && a != b {
				ra, rb := find(a), find(b)
				if ra != rb {
					parent[ra] = rb
				}
			}
		}
	}
	groups := map[int][]int{}
	for i := range parent {
		r := find(i)
		groups[r] = append(groups[r], i)
	}
	out := slices.Clone(facts)
	for r, members := range groups {
		if !slices.Contains(members, r) {
			members = append(members, r)
		}
		if len(members) < 2 {
			continue
		}
		slices.SortFunc(members, func(a, b int) int {
			if c := facts[a].ReceivedAt.Compare(facts[b].ReceivedAt); c != 0 {
				return c
			}
			return cmp.Compare(facts[a].RequestID, facts[b].RequestID)
		})
		rep := &out[members[0]]
		rep.SameDemand = nil
		for _, m := range members[1:] {
			f := &facts[m]
			rep.Outcome = MostSignificant(rep.Outcome, f.Outcome)
			rep.AccountsSpecified = max(rep.AccountsSpecified, f.AccountsSpecified)
			rep.Emergency = rep.Emergency || f.Emergency
			rep.CustomerNotified = rep.CustomerNotified || f.CustomerNotified
			rep.DPAConsulted = rep.DPAConsulted || f.DPAConsulted
			rep.UnderGag = rep.UnderGag || f.UnderGag
			if strictness(f.Restriction) > strictness(rep.Restriction) {
				rep.Restriction = f.Restriction
			}
			rep.SameDemand = append(rep.SameDemand, f.RequestID)
			out[m].CountedWith = rep.RequestID
		}
		slices.Sort(rep.SameDemand)
	}
	return out
}
