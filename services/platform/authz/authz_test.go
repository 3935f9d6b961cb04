package authz_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/authz"
)

func id(t *testing.T, uri string) auth.Identity {
	t.Helper()
	i, err := auth.ParseSPIFFE(uri)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestMethodMissingFromTheTableIsDeniedToEveryone(t *testing.T) {
	p, err := authz.New("d", authz.Staff{"root": {authz.Reviewer, authz.Approver, authz.Legal}})
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{
		"spiffe://d/staff/root", "spiffe://d/group-member/m", "spiffe://d/service/intake",
		"spiffe://d/dpa/x", "spiffe://d/sre/x",
	} {
		if err := p.Authorize(id(t, uri), "/ddr.intake.v1.IntakeService/DropEverything"); !errors.Is(err, authz.ErrDenied) {
			t.Errorf("%s calling an unlisted method: %v, want denied", uri, err)
		}
	}
}

func TestRolesComeFromTheKindAndForStaffFromTheRolesFile(t *testing.T) {
	p, err := authz.New("d", authz.DevStaff())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		uri    string
		method string
		ok     bool
	}{
		{"spiffe://d/group-member/acme", "/ddr.intake.v1.IntakeService/Submit", true},
		{"spiffe://d/staff/alice", "/ddr.intake.v1.IntakeService/Submit", false},
		{"spiffe://d/staff/alice", "/ddr.assessment.v1.AssessmentService/Decide", true},
		{"spiffe://d/staff/alice", "/ddr.assessment.v1.AssessmentService/ApproveDecision", false},
		{"spiffe://d/staff/bob", "/ddr.assessment.v1.AssessmentService/ApproveDecision", true},
		{"spiffe://d/staff/carol", "/ddr.intake.v1.IntakeService/EraseTargets", true},
		{"spiffe://d/staff/nobody", "/ddr.assessment.v1.AssessmentService/GetCase", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/GetRecordProof", true},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/GetTransparencyReport", true},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/GetRecord", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/VerifyRecord", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/OpenRecordToDpa", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.intake.v1.IntakeService/List", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.intake.v1.IntakeService/Get", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.assessment.v1.AssessmentService/ListCases", false},
		{"spiffe://d/staff/carol", "/ddr.reporting.v1.ReportingService/PublishTransparencyReport", true},
		{"spiffe://d/staff/alice", "/ddr.reporting.v1.ReportingService/PublishTransparencyReport", false},
		{"spiffe://d/dpa/dpc-ie", "/ddr.reporting.v1.ReportingService/RecordDisposition", false},
		{"spiffe://d/sre/oncall", "/ddr.reporting.v1.ReportingService/GetTransparencyReport", false},
		{"spiffe://d/sre/oncall", "/grpc.health.v1.Health/Check", true},
		{"spiffe://d/service/notification", "/ddr.reporting.v1.ReportingService/GetRecord", true},
	}
	for _, tt := range tests {
		err := p.Authorize(id(t, tt.uri), tt.method)
		if (err == nil) != tt.ok {
			t.Errorf("%s -> %s: %v, want allowed=%v", tt.uri, tt.method, err, tt.ok)
		}
	}
}

func TestRolesFileRoundTripsAndRejectsUnknownRoles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "roles.json")
	if wrote, err := authz.WriteStaff(path, authz.DevStaff()); err != nil || !wrote {
		t.Fatalf("WriteStaff = %v, %v", wrote, err)
	}
	if wrote, err := authz.WriteStaff(path, authz.Staff{}); err != nil || wrote {
		t.Fatalf("WriteStaff over an existing file = %v, %v; want it kept", wrote, err)
	}
	got, err := authz.LoadStaff(path)
	if err != nil || len(got["bob"]) != 1 || got["bob"][0] != authz.Approver {
		t.Fatalf("LoadStaff = %v, %v", got, err)
	}
	for name, body := range map[string]string{
		"unknown role":    `{"staff": {"eve": ["admin"]}}`,
		"non-staff role":  `{"staff": {"eve": ["service"]}}`,
		"unknown field":   `{"staf": {"eve": ["reviewer"]}}`,
		"not json at all": `alice=reviewer`,
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := authz.LoadStaff(path); err == nil {
			t.Errorf("%s: LoadStaff accepted %s", name, body)
		}
	}
}

// Roles belong to full SPIFFE IDs: the old bare-name form means the name in
// the pinned trust domain, and a namesake of another trust domain holds
// nothing, so it can neither act nor be a second pair of eyes.
func TestStaffRolesAreKeyedByFullSPIFFEID(t *testing.T) {
	p, err := authz.New("ddr.local", authz.Staff{
		"alice":                        {authz.Reviewer},
		"spiffe://ddr.local/staff/bob": {authz.Approver},
	})
	if err != nil {
		t.Fatal(err)
	}
	const approve = "/ddr.assessment.v1.AssessmentService/ApproveDecision"
	for _, tt := range []struct {
		uri    string
		method string
		ok     bool
	}{
		{"spiffe://ddr.local/staff/alice", "/ddr.assessment.v1.AssessmentService/Decide", true},
		{"spiffe://ddr.local/staff/bob", approve, true},
		{"spiffe://other.example/staff/bob", approve, false},
		{"spiffe://other.example/staff/alice", "/ddr.assessment.v1.AssessmentService/Decide", false},
		{"spiffe://other.example/group-member/acme", "/ddr.intake.v1.IntakeService/Submit", false},
		{"spiffe://other.example/sre/oncall", "/grpc.health.v1.Health/Check", false},
	} {
		if err := p.Authorize(id(t, tt.uri), tt.method); (err == nil) != tt.ok {
			t.Errorf("%s -> %s: %v, want allowed=%v", tt.uri, tt.method, err, tt.ok)
		}
	}
	for name, staff := range map[string]authz.Staff{
		"another trust domain": {"spiffe://other.example/staff/bob": {authz.Approver}},
		"not a staff id":       {"spiffe://ddr.local/service/intake": {authz.Approver}},
		"listed twice":         {"bob": {authz.Approver}, "spiffe://ddr.local/staff/bob": {authz.Reviewer}},
		"malformed":            {"spiffe://ddr.local/staff/Bob": {authz.Approver}},
	} {
		if _, err := authz.New("ddr.local", staff); err == nil {
			t.Errorf("%s: New accepted %v", name, staff)
		}
	}
}

// Issue 23: a person signing in to the console is mapped by the roles file
// alone, to a staff or group-member identity of the pinned trust domain.
func TestIssue23_OIDCSubjectsMapToPeopleOfThePinnedTrustDomain(t *testing.T) {
	p, err := authz.New("ddr.local", authz.DevStaff(), authz.WithOIDCSubjects(authz.DevSubjects()))
	if err != nil {
		t.Fatal(err)
	}
	for sub, want := range map[string]string{
		"alice":             "spiffe://ddr.local/staff/alice",
		"reception-acme-eu": "spiffe://ddr.local/group-member/acme-eu",
	} {
		id, ok := p.Person(sub)
		if !ok || id.URI != want {
			t.Errorf("Person(%q) = %+v, %v; want %s", sub, id, ok, want)
		}
	}
	if id, ok := p.Person("mallory"); ok {
		t.Errorf("an unmapped subject is %+v", id)
	}
	// alice through the console holds alice's roles, from the staff map.
	alice, _ := p.Person("alice")
	if err := p.Authorize(alice, "/ddr.assessment.v1.AssessmentService/Decide"); err != nil {
		t.Errorf("alice through the console may not decide: %v", err)
	}

	for name, subjects := range map[string]authz.Subjects{
		"a service":           {"x": "service/intake"},
		"an SRE":              {"x": "sre/oncall"},
		"another domain":      {"x": "spiffe://other.example/staff/alice"},
		"not an identity":     {"x": "staff/Alice Smith"},
		"an empty subject":    {"": "staff/alice"},
		"two subjects as one": {"a": "staff/alice", "b": "spiffe://ddr.local/staff/alice"},
	} {
		if _, err := authz.New("ddr.local", authz.DevStaff(), authz.WithOIDCSubjects(subjects)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRolesFileRoundTripsTheOIDCSubjects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roles.json")
	if ok, err := authz.WriteRoles(path, authz.DevRoles()); !ok || err != nil {
		t.Fatalf("WriteRoles: %v, %v", ok, err)
	}
	got, err := authz.LoadRoles(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(authz.DevRoles(), got); diff != "" {
		t.Errorf("roles file (-want +got):\n%s", diff)
	}
}
