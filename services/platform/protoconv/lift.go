package protoconv

import (
	commonv1 "github.com/ddrsuite/ddr/gen/ddr/common/v1"
	"github.com/ddrsuite/ddr/services/platform/policy"
)

// Lift is the wire form of a safeguard lifted by two people. One
// conversion for the three services that record lifts, so a lift reads the
// same in every event.
func Lift(l policy.Lift) *commonv1.Lift {
	out := &commonv1.Lift{
		Id:                l.ID,
		Clause:            l.Clause.Number(),
		What:              l.What,
		Basis:             l.Basis,
		EvidenceReference: l.Evidence,
		RecordedBy:        l.RecordedBy,
		RecordTime:        Timestamp(l.RecordedAt),
		Barred:            l.Barred,
		ConfirmedBy:       l.ConfirmedBy,
		ConfirmTime:       Timestamp(l.ConfirmedAt),
	}
	for _, r := range l.ConfirmRoles {
		out.ConfirmRoles = append(out.ConfirmRoles, string(r))
	}
	return out
}

// LiftFrom reads a lift back. A clause the policy does not know is kept
// as written (the domain reports it), never dropped.
func LiftFrom(l *commonv1.Lift) policy.Lift {
	out := policy.Lift{
		ID:          l.GetId(),
		Clause:      policy.Clause(l.GetClause()),
		What:        l.GetWhat(),
		Basis:       l.GetBasis(),
		Evidence:    l.GetEvidenceReference(),
		RecordedBy:  l.GetRecordedBy(),
		RecordedAt:  Time(l.GetRecordTime()),
		Barred:      l.GetBarred(),
		ConfirmedBy: l.GetConfirmedBy(),
		ConfirmedAt: Time(l.GetConfirmTime()),
	}
	for _, r := range l.GetConfirmRoles() {
		out.ConfirmRoles = append(out.ConfirmRoles, policy.Role(r))
	}
	return out
}
