// Package authz is the one place that decides which caller may call which
// RPC. Every gRPC method of the suite is in [Table] with the roles allowed
// to call it; a method missing from the table is refused, so a new RPC is
// closed until someone decides who may use it. The grpcserver interceptor
// enforces the table before any handler runs; handlers still decide what a
// caller may see (a group member sees only its own requests).
package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/ddrsuite/ddr/services/platform/auth"
)

// Role is what a caller may do. Group members, data protection
// authorities, operators and services get their role from the kind of
// their identity; staff get theirs from the roles file.
type Role string

// The roles.
const (
	// GroupMember submits demands it received and follows its own requests.
	GroupMember Role = "group-member"
	// Reviewer is a Privacy Team reviewer: works cases, proposes decisions.
	Reviewer Role = "reviewer"
	// Approver is a Privacy Team approver: the second pair of eyes.
	Approver Role = "approver"
	// Legal records legal judgements (exemptions, restrictions, counsel)
	// and erases personal data at the end of retention.
	Legal Role = "legal"
	// DPA is a data protection authority: reports and records, read only.
	DPA Role = "dpa"
	// SRE operates the suite: health and metrics only.
	SRE Role = "sre"
	// Service is another ddr service.
	Service Role = "service"
)

// AllRoles lists every role.
var AllRoles = []Role{GroupMember, Reviewer, Approver, Legal, DPA, SRE, Service}

// StaffRoles are the roles a staff member may be given.
var StaffRoles = []Role{Reviewer, Approver, Legal}

// privacyTeam may read cases and plans.
var privacyTeam = []Role{Reviewer, Approver, Legal}

// Table maps every full gRPC method name to the roles allowed to call it.
// It is the policy; tests call every entry with every role.
var Table = map[string][]Role{
	"/ddr.intake.v1.IntakeService/Submit":       {GroupMember},
	"/ddr.intake.v1.IntakeService/Get":          {GroupMember},
	"/ddr.intake.v1.IntakeService/List":         {GroupMember},
	"/ddr.intake.v1.IntakeService/Amend":        {GroupMember},
	"/ddr.intake.v1.IntakeService/Withdraw":     {GroupMember},
	"/ddr.intake.v1.IntakeService/EraseTargets": {Legal},

	"/ddr.assessment.v1.AssessmentService/GetCase":                      privacyTeam,
	"/ddr.assessment.v1.AssessmentService/ListCases":                    privacyTeam,
	"/ddr.assessment.v1.AssessmentService/ClaimCase":                    {Reviewer, Approver},
	"/ddr.assessment.v1.AssessmentService/RecordFactors":                {Reviewer},
	"/ddr.assessment.v1.AssessmentService/RecordCounselConsultation":    {Reviewer, Legal},
	"/ddr.assessment.v1.AssessmentService/RecordChallengeConsideration": {Reviewer, Legal},
	"/ddr.assessment.v1.AssessmentService/Decide":                       {Reviewer},
	"/ddr.assessment.v1.AssessmentService/ApproveDecision":              {Approver},
	"/ddr.assessment.v1.AssessmentService/RejectDecision":               {Approver},

	"/ddr.notification.v1.NotificationService/GetPlan":               {Reviewer, Approver, Legal, Service},
	"/ddr.notification.v1.NotificationService/ListHolds":             {Reviewer, Approver, Legal, Service},
	"/ddr.notification.v1.NotificationService/RecordRedirectOutcome": {Reviewer, Approver},
	"/ddr.notification.v1.NotificationService/RecordExemption":       {Legal, Approver},
	"/ddr.notification.v1.NotificationService/RecordDpaConsultation": {Reviewer, Approver, Legal},
	"/ddr.notification.v1.NotificationService/LiftHold":              {Approver},
	"/ddr.notification.v1.NotificationService/RecordWaiverEffort":    {Reviewer, Legal},
	"/ddr.notification.v1.NotificationService/RetryDelivery":         {Reviewer, Approver},

	"/ddr.reporting.v1.ReportingService/GetRecord":                {Reviewer, Approver, Legal, DPA, Service},
	"/ddr.reporting.v1.ReportingService/VerifyRecord":             {Reviewer, Approver, Legal, DPA, Service},
	"/ddr.reporting.v1.ReportingService/RecordDisposition":        {Reviewer, Approver},
	"/ddr.reporting.v1.ReportingService/SetReportingRestriction":  {Legal},
	"/ddr.reporting.v1.ReportingService/GetTransparencyReport":    {Reviewer, Approver, Legal, DPA},
	"/ddr.reporting.v1.ReportingService/VerifyTransparencyReport": {Reviewer, Approver, Legal, DPA},

	// Operators see dead letters (metadata, never payloads) and replay one.
	"/ddr.admin.v1.AdminService/ListDeadLetters":  {SRE},
	"/ddr.admin.v1.AdminService/ReplayDeadLetter": {SRE},
}

// infraPrefixes are the standard services every authenticated caller may
// use: health checks and reflection describe the server, not requests.
var infraPrefixes = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// IsInfra reports whether fullMethod is a health or reflection method.
func IsInfra(fullMethod string) bool {
	for _, p := range infraPrefixes {
		if strings.HasPrefix(fullMethod, p) {
			return true
		}
	}
	return false
}

// Allowed reports whether role may call fullMethod according to the table.
func Allowed(fullMethod string, role Role) bool {
	if IsInfra(fullMethod) {
		return true
	}
	return slices.Contains(Table[fullMethod], role)
}

// Methods lists the table's methods, sorted.
func Methods() []string {
	out := make([]string, 0, len(Table))
	for m := range Table {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// ErrDenied is wrapped by every refusal.
var ErrDenied = errors.New("permission denied")

// Staff maps a staff member's name (the last segment of
// spiffe://<trust-domain>/staff/<name>) to their roles.
type Staff map[string][]Role

// DevStaff is the development assignment, written next to the dev PKI.
func DevStaff() Staff {
	return Staff{"alice": {Reviewer}, "bob": {Approver}, "carol": {Legal}}
}

// rolesFile is the roles file's JSON form.
type rolesFile struct {
	Staff Staff `json:"staff"`
}

// Validate refuses roles staff cannot hold, so a typo in the roles file
// fails at start instead of silently granting nothing (or too much).
func (s Staff) Validate() error {
	var errs []error
	for name, roles := range s {
		for _, r := range roles {
			if !slices.Contains(StaffRoles, r) {
				errs = append(errs, fmt.Errorf("staff %q: role %q is not one of %v", name, r, StaffRoles))
			}
		}
	}
	return errors.Join(errs...)
}

// LoadStaff reads a roles file: {"staff": {"alice": ["reviewer"], ...}}.
func LoadStaff(path string) (Staff, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("authz: roles file: %w", err)
	}
	var f rolesFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("authz: roles file %s: %w", path, err)
	}
	if err := f.Staff.Validate(); err != nil {
		return nil, fmt.Errorf("authz: roles file %s: %w", path, err)
	}
	return f.Staff, nil
}

// WriteStaff writes s as a roles file, unless path exists (the operator's
// edits win).
func WriteStaff(path string, s Staff) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	b, err := json.MarshalIndent(rolesFile{Staff: s}, "", "  ")
	if err != nil {
		return false, err
	}
	return true, os.WriteFile(path, append(b, '\n'), 0o644)
}

// Policy decides calls: the table plus who holds which role.
type Policy struct {
	staff Staff
}

// New returns the policy with staff's role assignment.
func New(staff Staff) (*Policy, error) {
	if err := staff.Validate(); err != nil {
		return nil, err
	}
	return &Policy{staff: staff}, nil
}

// Roles returns the roles of id.
func (p *Policy) Roles(id auth.Identity) []Role {
	switch id.Kind {
	case auth.KindGroupMember:
		return []Role{GroupMember}
	case auth.KindDPA:
		return []Role{DPA}
	case auth.KindSRE:
		return []Role{SRE}
	case auth.KindService:
		return []Role{Service}
	case auth.KindStaff:
		return p.staff[id.Name]
	}
	return nil
}

// Authorize returns nil if id may call fullMethod, an error wrapping
// [ErrDenied] otherwise.
func (p *Policy) Authorize(id auth.Identity, fullMethod string) error {
	if IsInfra(fullMethod) {
		return nil
	}
	allowed, known := Table[fullMethod]
	if !known {
		return fmt.Errorf("%w: %s is not in the policy table", ErrDenied, fullMethod)
	}
	for _, r := range p.Roles(id) {
		if slices.Contains(allowed, r) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s needs one of the roles %v", ErrDenied, fullMethod, allowed)
}
