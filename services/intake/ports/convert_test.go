package ports

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/intake/domain"
	"github.com/ddrsuite/ddr/services/platform/policy"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// fullRequest sets every field of the domain demand, each part non-zero.
func fullRequest() domain.Request {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return domain.Request{
		GroupMember:            "spiffe://ddr.example/member/acme-de",
		ReceivedAt:             at("2026-03-01T09:30:00.123456789Z"),
		Channel:                domain.ChannelInPerson,
		ReceivedBy:             "legal office",
		Authority:              domain.Authority{Name: "Landeskriminalamt", Kind: domain.AuthorityKinds()[len(domain.AuthorityKinds())-1], Country: "DE", Subdivision: "Berlin"},
		LegalProcess:           domain.LegalProcess{Type: domain.LegalProcessNationalSecurityOrder, Reference: "AZ 1/26", IssuingBody: "court", Date: at("2026-02-27T00:00:00Z"), EnforcingAuthorityNotified: true},
		CitesDataProtectionLaw: true,
		Targets:                []domain.Target{{Kind: domain.TargetKinds()[0], Value: "a"}, {Kind: domain.TargetKinds()[1], Value: "b"}},
		ScopeDescription:       "scope",
		ScopeSelector:          domain.ScopeDescribed,
		CustomerID:             "customer-1",
		DataCategories:         domain.DataCategories(),
		TimeRange:              domain.TimeRange{From: at("2025-01-01T00:00:00Z"), To: at("2025-12-31T23:59:59Z")},
		StatedPurpose:          "purpose",
		Emergency:              domain.Emergency{Claimed: true, HarmDescribed: "harm", ImminentRisk: true},
		Gag:                    domain.Gag{Present: true, Reference: "gag 1", ExpiresAt: at("2027-01-01T00:00:00Z")},
		Deadline:               at("2026-03-15T12:00:00Z"),
		Attachments:            []domain.Attachment{{URI: "s3://bucket/a.pdf", SHA256: "ab", MediaType: "application/pdf"}, {URI: "s3://bucket/b", SHA256: "cd"}},
		Notes:                  "notes",
		SenderAddress:          "lka-berlin@example.org",
		IdempotencyKey:         "key-1",
		// Not valid beside CustomerID (Validate says one form or the
		// other); here only the conversion is tested, of every role.
		Customers: []domain.Customer{{ID: "c-1", Role: domain.CustomerController, Establishment: "IE"}, {ID: "c-2", Role: domain.CustomerNotController}, {ID: "c-3"}},
	}
}

// roundTrip is domain -> proto (the app's event codec, which renders the
// demand) -> wire bytes -> proto -> domain (ports).
func roundTrip(t *testing.T, d domain.Request) domain.Request {
	t.Helper()
	b, err := proto.Marshal(app.EncodeRequest(d))
	if err != nil {
		t.Fatal(err)
	}
	var p intakev1.DataDisclosureRequest
	if err := proto.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return app.DecodeRequest(d.GroupMember, d.IdempotencyKey, &p)
}

func TestFullRequestRoundTrips(t *testing.T) {
	d := fullRequest()
	if diff := cmp.Diff(d, roundTrip(t, d)); diff != "" {
		t.Fatalf("domain -> proto -> domain changed the request (-want +got):\n%s", diff)
	}
}

func TestEmptyRequestRoundTripsWithoutAddingParts(t *testing.T) {
	p := app.EncodeRequest(domain.Request{})
	if !proto.Equal(p, &intakev1.DataDisclosureRequest{}) {
		t.Fatalf("the empty demand rendered as %v, want no parts set", p)
	}
	if diff := cmp.Diff(domain.Request{}, roundTrip(t, domain.Request{})); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// everyValue checks that every value the domain lists and every value the
// proto enum defines (but unspecified) crosses both ways unchanged, and that
// the two sets are the same size (no value of one side is missing on the
// other).
func everyValue[D comparable, E interface {
	protoreflect.Enum
	~int32
}](t *testing.T, name string, values []D, set func(*domain.Request, D), get func(domain.Request) D, setProto func(*intakev1.DataDisclosureRequest, E), getProto func(*intakev1.DataDisclosureRequest) E) {
	t.Run(name, func(t *testing.T) {
		for _, v := range values {
			var d domain.Request
			set(&d, v)
			if got := get(roundTrip(t, d)); got != v {
				t.Errorf("%v came back as %v", v, got)
			}
		}
		var zero E
		evs := zero.Descriptor().Values()
		if evs.Len()-1 != len(values) {
			t.Errorf("proto defines %d values, domain %d", evs.Len()-1, len(values))
		}
		for i := range evs.Len() {
			n := evs.Get(i).Number()
			if n == 0 {
				continue
			}
			var p intakev1.DataDisclosureRequest
			setProto(&p, E(n))
			back := app.EncodeRequest(app.DecodeRequest("", "", &p))
			if got := getProto(back); got != E(n) {
				t.Errorf("%v came back as %v", E(n), got)
			}
		}
	})
}

func TestEveryEnumValueRoundTrips(t *testing.T) {
	everyValue(t, "channel", domain.Channels(),
		func(d *domain.Request, v domain.Channel) { d.Channel = v },
		func(d domain.Request) domain.Channel { return d.Channel },
		func(p *intakev1.DataDisclosureRequest, v intakev1.Channel) { p.Channel = v },
		func(p *intakev1.DataDisclosureRequest) intakev1.Channel { return p.GetChannel() })
	everyValue(t, "authority kind", domain.AuthorityKinds(),
		func(d *domain.Request, v domain.AuthorityKind) { d.Authority.Kind = v },
		func(d domain.Request) domain.AuthorityKind { return d.Authority.Kind },
		func(p *intakev1.DataDisclosureRequest, v intakev1.AuthorityKind) {
			p.Authority = &intakev1.Authority{Kind: v}
		},
		func(p *intakev1.DataDisclosureRequest) intakev1.AuthorityKind { return p.GetAuthority().GetKind() })
	everyValue(t, "legal process type", domain.LegalProcessTypes(),
		func(d *domain.Request, v domain.LegalProcessType) { d.LegalProcess.Type = v },
		func(d domain.Request) domain.LegalProcessType { return d.LegalProcess.Type },
		func(p *intakev1.DataDisclosureRequest, v intakev1.LegalProcessType) {
			p.LegalProcess = &intakev1.LegalProcess{Type: v}
		},
		func(p *intakev1.DataDisclosureRequest) intakev1.LegalProcessType {
			return p.GetLegalProcess().GetType()
		})
	everyValue(t, "target kind", domain.TargetKinds(),
		func(d *domain.Request, v domain.TargetKind) { d.Targets = []domain.Target{{Kind: v}} },
		func(d domain.Request) domain.TargetKind { return d.Targets[0].Kind },
		func(p *intakev1.DataDisclosureRequest, v intakev1.TargetKind) {
			p.Targets = []*intakev1.Target{{Kind: v}}
		},
		func(p *intakev1.DataDisclosureRequest) intakev1.TargetKind { return p.GetTargets()[0].GetKind() })
	everyValue(t, "data category", domain.DataCategories(),
		func(d *domain.Request, v domain.DataCategory) { d.DataCategories = []domain.DataCategory{v} },
		func(d domain.Request) domain.DataCategory { return d.DataCategories[0] },
		func(p *intakev1.DataDisclosureRequest, v intakev1.DataCategory) {
			p.DataCategories = []intakev1.DataCategory{v}
		},
		func(p *intakev1.DataDisclosureRequest) intakev1.DataCategory { return p.GetDataCategories()[0] })
	everyValue(t, "scope selector", domain.ScopeSelectors(),
		func(d *domain.Request, v domain.ScopeSelector) { d.ScopeSelector = v },
		func(d domain.Request) domain.ScopeSelector { return d.ScopeSelector },
		func(p *intakev1.DataDisclosureRequest, v intakev1.ScopeSelector) { p.ScopeSelector = v },
		func(p *intakev1.DataDisclosureRequest) intakev1.ScopeSelector { return p.GetScopeSelector() })
}

func TestAmendmentRendersWhatWasRecorded(t *testing.T) {
	d := fullRequest()
	a := app.Amended{ID: "amendment-1", Amendment: domain.Amendment{At: d.Deadline, Information: "more", Attachments: d.Attachments}}
	p := amendmentProto(a)
	if p.GetAmendmentId() != a.ID || p.GetInformation() != "more" || !p.GetAmendTime().AsTime().Equal(d.Deadline) {
		t.Fatalf("amendment rendered as %v", p)
	}
	if diff := cmp.Diff(d.Attachments, app.DecodeAttachments(p.GetAttachments())); diff != "" {
		t.Fatalf("attachments (-want +got):\n%s", diff)
	}
}

// TestEveryStageAndOutcomeRoundTrips: every stage a request can stand at
// and every outcome has its proto value and reads back the same; the
// domain's amended stage (a timeline entry only) has none.
func TestEveryStageAndOutcomeRoundTrips(t *testing.T) {
	stages := domain.Stages()
	for _, s := range stages {
		p := stageProto(s)
		if p == intakev1.Stage_STAGE_UNSPECIFIED || domain.Stage(protoconv.EnumName(p, "STAGE_")) != s {
			t.Errorf("stage %q rendered as %v", s, p)
		}
	}
	// STAGE_DECIDED and STAGE_WITHDRAWN are no longer shown (issue 16:
	// platform/lifecycle.StageOf), kept so that old clients still decode.
	if n := intakev1.Stage(0).Descriptor().Values().Len() - 3; n != len(stages) {
		t.Errorf("proto defines %d stages in use, the domain %d", n, len(stages))
	}
	if p := stageProto(domain.StageAmended); p != intakev1.Stage_STAGE_UNSPECIFIED {
		t.Errorf("amended rendered as %v, want no stage", p)
	}
	for _, o := range policy.Outcomes() {
		want := "OUTCOME_" + strings.ToUpper(string(o))
		if o == policy.OutcomeNoDataFound {
			want = "OUTCOME_NO_DATA" // the API's published name, kept
		}
		if got := requestProto(app.Request{Outcome: o}).GetOutcome(); got.String() != want {
			t.Errorf("outcome %q rendered as %v, want %s", o, got, want)
		}
	}
	if n := intakev1.Outcome(0).Descriptor().Values().Len() - 1; n != len(policy.Outcomes()) {
		t.Errorf("proto defines %d outcomes, the policy %d", n, len(policy.Outcomes()))
	}
}

// TestRequestRendersWhatTheViewHolds renders a full request as its member
// reads it and reads every part back.
func TestRequestRendersWhatTheViewHolds(t *testing.T) {
	d := fullRequest()
	content := d
	content.GroupMember, content.IdempotencyKey, content.Targets = "", "", nil
	r := app.Request{
		ID:          "req-1",
		GroupMember: d.GroupMember,
		Content:     content,
		Targets: []app.Target{
			{Ref: "t1", Kind: domain.TargetAccount, Value: "acct-1"},
			{Ref: "t2", Kind: domain.TargetEmail, Erased: true},
			{Ref: "t3", Kind: domain.TargetUser, Sealed: []byte{1, 2, 3}},
		},
		Amendments:      []app.Amended{{ID: "a-1", Amendment: domain.Amendment{At: d.Deadline, Information: "more", Attachments: d.Attachments}}},
		SubmitTime:      d.ReceivedAt.Add(time.Hour),
		ForwardingDelay: time.Hour,
		LateForwarding:  true,
		Stage:           domain.StageClosed,
		Outcome:         policy.OutcomeRejected,
		Question:        &domain.Question{Text: "which account?", At: d.Deadline},
		Timeline: []domain.TimelineEntry{
			{Stage: domain.StageReceived, At: d.ReceivedAt},
			{Stage: domain.StageAmended, At: d.Deadline},
			{Stage: domain.StageClosed, Outcome: policy.OutcomeRejected, At: d.Deadline.Add(time.Hour)},
		},
	}
	p := requestProto(r)
	if p.GetRequestId() != r.ID || p.GetGroupMember() != r.GroupMember || !p.GetSubmitTime().AsTime().Equal(r.SubmitTime) ||
		p.GetForwardingDelay().AsDuration() != time.Hour || !p.GetLateForwarding() ||
		p.GetStage() != intakev1.Stage_STAGE_CLOSED || p.GetOutcome() != intakev1.Outcome_OUTCOME_REJECTED {
		t.Errorf("request rendered as %v", p)
	}
	back := app.DecodeRequest("", "", p.GetContent())
	back.Targets = nil
	if diff := cmp.Diff(content, back); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	want := []*intakev1.Target{
		{Ref: "t1", Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-1"},
		{Ref: "t2", Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Erased: true},
		{Ref: "t3", Kind: intakev1.TargetKind_TARGET_KIND_USER, SealedValue: []byte{1, 2, 3}},
	}
	if diff := cmp.Diff(want, p.GetContent().GetTargets(), protocmp.Transform()); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	if q := p.GetInformationRequest(); q.GetQuestion() != "which account?" || !q.GetAskTime().AsTime().Equal(d.Deadline) {
		t.Errorf("information request rendered as %v", q)
	}
	if len(p.GetAmendments()) != 1 || !proto.Equal(p.GetAmendments()[0], amendmentProto(r.Amendments[0])) {
		t.Errorf("amendments rendered as %v", p.GetAmendments())
	}
	var stages []intakev1.Stage
	for _, e := range p.GetTimeline() {
		stages = append(stages, e.GetStage())
	}
	if diff := cmp.Diff([]intakev1.Stage{intakev1.Stage_STAGE_RECEIVED, intakev1.Stage_STAGE_CLOSED}, stages); diff != "" {
		t.Errorf("timeline, amendments left out (-want +got):\n%s", diff)
	}
}
