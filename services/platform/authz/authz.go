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
	"/ddr.assessment.v1.AssessmentService/ApproveDecision":              {Approver, Legal},
	"/ddr.assessment.v1.AssessmentService/RejectDecision":               {Approver, Legal},

	// Issue 15. Legal approves and rejects decisions too (above): some
	// disclosures need a legal approver (2.1), and a legal user is then the
	// second pair of eyes; one who may approve may also send one back.
	"/ddr.assessment.v1.AssessmentService/JustifyImminentRisk":       {Reviewer},
	"/ddr.assessment.v1.AssessmentService/ProposeChallengeOutcome":   {Reviewer, Legal},
	"/ddr.assessment.v1.AssessmentService/ConfirmChallengeOutcome":   {Legal},
	"/ddr.reporting.v1.ReportingService/ProposeReportingRestriction": {Legal},
	"/ddr.reporting.v1.ReportingService/ConfirmReportingRestriction": {Legal},

	"/ddr.notification.v1.NotificationService/GetPlan":               {Reviewer, Approver, Legal, Service},
	"/ddr.notification.v1.NotificationService/ListHolds":             {Reviewer, Approver, Legal, Service},
	"/ddr.notification.v1.NotificationService/RecordRedirectOutcome": {Reviewer, Approver},
	"/ddr.notification.v1.NotificationService/RecordExemption":       {Legal, Approver},
	"/ddr.notification.v1.NotificationService/RecordDpaConsultation": {Reviewer, Approver, Legal},
	"/ddr.notification.v1.NotificationService/LiftHold":              {Approver},
	"/ddr.notification.v1.NotificationService/RecordWaiverEffort":    {Reviewer, Legal},
	"/ddr.notification.v1.NotificationService/RetryDelivery":         {Reviewer, Approver},
	// Issue 15: one person proposes a lift, a second confirms; the domain
	// checks the role each lift needs and bars the recorder and proposer.
	"/ddr.notification.v1.NotificationService/ProposeExemption":           {Reviewer, Legal},
	"/ddr.notification.v1.NotificationService/ProposeConsultationOutcome": {Reviewer, Approver, Legal},
	"/ddr.notification.v1.NotificationService/ProposeManualDispatch":      {Reviewer, Approver, Legal},
	"/ddr.notification.v1.NotificationService/ProposeWeakening":           {Reviewer, Legal},
	"/ddr.notification.v1.NotificationService/ConfirmLift":                {Approver, Legal},
	"/ddr.notification.v1.NotificationService/CheckDisclosure":            {Service, Reviewer, Approver},

	// A DPA reads no record content: it gets the copy without personal
	// data of the requests in its remit (GetRecordProof, clause 5.1).
	"/ddr.reporting.v1.ReportingService/GetRecord":                 {Reviewer, Approver, Legal, Service},
	"/ddr.reporting.v1.ReportingService/VerifyRecord":              {Reviewer, Approver, Legal, Service},
	"/ddr.reporting.v1.ReportingService/RecordDisposition":         {Reviewer, Approver},
	"/ddr.reporting.v1.ReportingService/SetReportingRestriction":   {Legal},
	"/ddr.reporting.v1.ReportingService/GetTransparencyReport":     {Reviewer, Approver, Legal, DPA},
	"/ddr.reporting.v1.ReportingService/VerifyTransparencyReport":  {Reviewer, Approver, Legal, DPA},
	"/ddr.reporting.v1.ReportingService/PublishTransparencyReport": {Approver, Legal},
	"/ddr.reporting.v1.ReportingService/GetRecordProof":            {DPA},
	"/ddr.reporting.v1.ReportingService/GetRecordLogConsistency":   {DPA, Reviewer, Approver, Legal},
	"/ddr.reporting.v1.ReportingService/OpenRecordToDpa":           {Approver, Legal},

	// Issue 16: assessment (lifecycle, more information, withdrawal, corrections, links).
	"/ddr.assessment.v1.AssessmentService/RequestInformation":    {Reviewer},
	"/ddr.assessment.v1.AssessmentService/AcknowledgeWithdrawal": privacyTeam,
	"/ddr.assessment.v1.AssessmentService/ProposeFactCorrection": privacyTeam,
	// The domain also checks the confirmer is not the proposer.
	"/ddr.assessment.v1.AssessmentService/ConfirmFactCorrection": {Approver, Legal},
	"/ddr.assessment.v1.AssessmentService/LinkCase":              privacyTeam,
	//
	// Issue 16: intake (the reviewer's whole request, reveals, staff-recorded withdrawal).
	// Targets are revealed to the Privacy Team only, never to a group
	// member through this door (its own Get shows its own request).
	"/ddr.intake.v1.IntakeService/GetRequestForReview": {Reviewer, Approver, Legal},
	"/ddr.intake.v1.IntakeService/RevealTargets":       {Reviewer, Approver, Legal},
	"/ddr.intake.v1.IntakeService/RecordWithdrawal":    {Reviewer, Approver, Legal},
	//
	// Issue 16: notification.
	//
	// Issue 16: reporting.
	//
	// Issue 18: requester verification.
	"/ddr.assessment.v1.VerificationService/GetVerificationContacts": privacyTeam,
	"/ddr.assessment.v1.VerificationService/RecordVerification":      {Reviewer, Approver, Legal},
	// The verification scope: anyone on the Privacy Team sees it and may
	// propose a change (a widening takes effect at once); a narrowing is
	// confirmed by a second pair of eyes, an approver or legal, whom the
	// domain checks is not its proposer.
	"/ddr.assessment.v1.VerificationService/GetVerificationScope":     privacyTeam,
	"/ddr.assessment.v1.VerificationService/ProposeVerificationScope": privacyTeam,
	"/ddr.assessment.v1.VerificationService/ConfirmVerificationScope": {Approver, Legal},
	//
	// Issue 18: legal clocks. Anyone on the Privacy Team sees them; the
	// enforcing authority's confirmation ends a legal waiting period, so
	// it is a reviewer's or legal's act, as are the acts the clocks record.
	"/ddr.assessment.v1.ClocksService/ListDeadlines":                        privacyTeam,
	"/ddr.assessment.v1.ClocksService/RecordEnforcingAuthorityConfirmation": {Reviewer, Legal},
	"/ddr.assessment.v1.ClocksService/ExtendPreservation":                   {Reviewer, Legal},
	"/ddr.assessment.v1.ClocksService/MarkDeadlineMet":                      {Reviewer, Legal},

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

// Staff maps a staff member to their roles. A key is the member's full
// SPIFFE ID (spiffe://<trust-domain>/staff/<name>) or, the older form, the
// bare name, which [New] reads as that name in the pinned trust domain.
// Roles are looked up by full ID, the same ID four eyes compares, so a
// namesake from another trust domain never holds a role.
type Staff map[string][]Role

// DevStaff is the development assignment, written next to the dev PKI.
func DevStaff() Staff {
	return Staff{"alice": {Reviewer}, "bob": {Approver}, "carol": {Legal}}
}

// Subjects maps the OIDC subject of a person who signs in to the console
// to who they are here: "<kind>/<name>" in the pinned trust domain, or a
// full SPIFFE ID, of kind staff or group-member. Roles still come only
// from the staff map (or, for a group member, from its kind), so alice
// through the console and alice with her ddrctl certificate are one
// person to four eyes.
type Subjects map[string]string

// DevSubjects maps the dev OpenID provider's users (services/devoidc).
func DevSubjects() Subjects {
	return Subjects{
		"alice": "staff/alice", "bob": "staff/bob", "carol": "staff/carol",
		"reception-acme-eu": "group-member/acme-eu",
	}
}

// RolesFile is the roles file's JSON form.
type RolesFile struct {
	Staff Staff `json:"staff"`
	// OIDCSubjects is optional: without it no one acts through the console.
	OIDCSubjects Subjects `json:"oidc_subjects,omitempty"`
}

// DevRoles is the development roles file, written next to the dev PKI.
func DevRoles() RolesFile {
	return RolesFile{Staff: DevStaff(), OIDCSubjects: DevSubjects()}
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

// LoadRoles reads a roles file: {"staff": {"spiffe://ddr.local/staff/alice":
// ["reviewer"], "bob": ["approver"], ...}, "oidc_subjects": {"alice":
// "staff/alice", ...}}. The subjects are checked by [New], which knows the
// trust domain.
func LoadRoles(path string) (RolesFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RolesFile{}, fmt.Errorf("authz: roles file: %w", err)
	}
	var f RolesFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return RolesFile{}, fmt.Errorf("authz: roles file %s: %w", path, err)
	}
	if err := f.Staff.Validate(); err != nil {
		return RolesFile{}, fmt.Errorf("authz: roles file %s: %w", path, err)
	}
	return f, nil
}

// LoadStaff reads the staff map of a roles file (see [LoadRoles]).
func LoadStaff(path string) (Staff, error) {
	f, err := LoadRoles(path)
	return f.Staff, err
}

// WriteRoles writes f as a roles file, unless path exists (the operator's
// edits win).
func WriteRoles(path string, f RolesFile) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return false, err
	}
	// Who holds which role is no secret: readable like the certificates
	// beside it, so an operator and every service process can read it.
	return true, os.WriteFile(path, append(b, '\n'), 0o644) //nolint:gosec // G306: public configuration (above)
}

// WriteStaff writes a roles file of s alone, unless path exists.
func WriteStaff(path string, s Staff) (bool, error) {
	return WriteRoles(path, RolesFile{Staff: s})
}

// Option adds to a [Policy] beyond the staff's roles.
type Option func(*Policy) error

// WithOIDCSubjects lets the people of subjects act through the console
// (issue 23). Each must be a staff or group-member identity of the
// policy's trust domain; a subject mapped to anything else, or two
// subjects to one identity, stops the start.
func WithOIDCSubjects(subjects Subjects) Option {
	return func(p *Policy) error {
		var errs []error
		byID := map[string]string{}
		for sub, who := range subjects {
			if sub == "" {
				errs = append(errs, errors.New("oidc_subjects: an empty subject"))
				continue
			}
			uri := who
			if !strings.Contains(who, "://") {
				uri = "spiffe://" + p.trustDomain + "/" + who
			}
			id, err := auth.ParseSPIFFE(uri)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("oidc_subjects %q: %w", sub, err))
				continue
			case id.Kind != auth.KindStaff && id.Kind != auth.KindGroupMember:
				errs = append(errs, fmt.Errorf("oidc_subjects %q: kind %q; only %s and %s sign in to the console", sub, id.Kind, auth.KindStaff, auth.KindGroupMember))
				continue
			case id.TrustDomain() != p.trustDomain:
				errs = append(errs, fmt.Errorf("oidc_subjects %q: trust domain is not %s", sub, p.trustDomain))
				continue
			}
			if other, dup := byID[id.URI]; dup {
				errs = append(errs, fmt.Errorf("oidc_subjects %q and %q: both are %s", sub, other, id.URI))
				continue
			}
			byID[id.URI] = sub
			p.subjects[sub] = id
		}
		return errors.Join(errs...)
	}
}

// Policy decides calls: the table plus who holds which role.
type Policy struct {
	trustDomain string
	// staff is keyed by full SPIFFE ID.
	staff Staff
	// subjects maps an OIDC subject to a person (WithOIDCSubjects).
	subjects map[string]auth.Identity
}

// New returns the policy of trustDomain with staff's role assignment. A
// staff key that is a bare name stands for spiffe://<trustDomain>/staff/<name>;
// a full ID must be a staff ID of trustDomain. Two keys for one member are
// an error, since their roles would silently merge or shadow each other.
func New(trustDomain string, staff Staff, opts ...Option) (*Policy, error) {
	if trustDomain == "" {
		return nil, errors.New("authz: a trust domain is required")
	}
	if err := staff.Validate(); err != nil {
		return nil, err
	}
	pinned := make(Staff, len(staff))
	var errs []error
	for key, roles := range staff {
		uri := key
		if !strings.Contains(key, "://") {
			uri = "spiffe://" + trustDomain + "/" + auth.KindStaff + "/" + key
		}
		id, err := auth.ParseSPIFFE(uri)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("staff %q: %w", key, err))
			continue
		case id.Kind != auth.KindStaff:
			errs = append(errs, fmt.Errorf("staff %q: not a staff identity", key))
			continue
		case id.TrustDomain() != trustDomain:
			errs = append(errs, fmt.Errorf("staff %q: trust domain is not %s", key, trustDomain))
			continue
		}
		if _, dup := pinned[id.URI]; dup {
			errs = append(errs, fmt.Errorf("staff %q: %s is listed twice", key, id.URI))
			continue
		}
		pinned[id.URI] = slices.Clone(roles)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	p := &Policy{trustDomain: trustDomain, staff: pinned, subjects: map[string]auth.Identity{}}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	return p, nil
}

// Person returns the identity of the person whose OIDC subject is sub;
// ok is false for a subject the roles file does not map.
func (p *Policy) Person(sub string) (id auth.Identity, ok bool) {
	id, ok = p.subjects[sub]
	return id, ok
}

// Roles returns the roles of id; none for an identity of another trust
// domain.
func (p *Policy) Roles(id auth.Identity) []Role {
	if id.TrustDomain() != p.trustDomain {
		return nil
	}
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
		return p.staff[id.URI]
	}
	return nil
}

// Authorize returns nil if id may call fullMethod, an error wrapping
// [ErrDenied] otherwise.
func (p *Policy) Authorize(id auth.Identity, fullMethod string) error {
	if id.TrustDomain() != p.trustDomain {
		return fmt.Errorf("%w: the caller is not of trust domain %s", ErrDenied, p.trustDomain)
	}
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
