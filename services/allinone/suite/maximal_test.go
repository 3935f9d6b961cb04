package suite_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/timestamppb"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	"github.com/ddrsuite/ddr/services/allinone/suite"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
	pvalidate "github.com/ddrsuite/ddr/services/platform/validate"
)

// natsDefaultMaxPayload is nats-server's default max_payload, which the
// suite does not raise: every event must fit it.
const natsDefaultMaxPayload = 1 << 20

// headroomLimit is what the largest event may take of a NATS message: the
// caps must leave room for fields added later and for envelope overhead.
const headroomLimit = natsDefaultMaxPayload * 85 / 100

// The largest request the protos accept, built from their own rules (every
// string at its cap in four-byte characters where no format applies, every
// list at its max_items), is recorded, and so is every event it causes and
// the largest amendment: the case, a review whose every text is at its cap, a decision naming all
// of its targets, the approval, the plan and the record. The largest event
// must fit a NATS message with headroom, also once its personal data is
// sealed into an envelope (package seal). Issue 17 item 2.
func TestMaximalValidRequestIsRecordedWithEveryEventItCauses(t *testing.T) {
	cfg := suite.DefaultConfig()
	// A decision naming all 1,000 targets would be bulk under the default
	// 6.1 thresholds and refused; a deployment may set them this high.
	cfg.Assessment.BulkMaxTargets = 1000
	cfg.Assessment.BulkMaxTimeRange = 400 * 24 * time.Hour
	p := runnertest.Start(t, runnertest.Options{}, cfg.Build)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	now := time.Now()
	req := &intakev1.SubmitRequest{}
	maximal(t, req, map[protoreflect.FullName]func(i int) protoreflect.Value{
		// Formats the rules name but a length cannot express.
		"ddr.intake.v1.SubmitRequest.idempotency_key": str("maximal-" + strings.Repeat("k", 120)),
		"ddr.intake.v1.Authority.country":             str("UNKNOWN"),
		// The customers in the list form, each id distinct and at its cap
		// (issue 16): a request names them there or in the one-customer
		// form, not both, and the list is the larger.
		"ddr.intake.v1.DataDisclosureRequest.customer_id":            str(""),
		"ddr.intake.v1.DataDisclosureRequest.customer_establishment": str(""),
		"ddr.intake.v1.Customer.establishment":                       str("FR"),
		"ddr.intake.v1.Customer.customer_id": func(i int) protoreflect.Value {
			return protoreflect.ValueOfString(fmt.Sprintf("%04d", i) + maxText(196))
		},
		"ddr.intake.v1.Attachment.sha256":     str(strings.Repeat("ab", 32)),
		"ddr.intake.v1.Attachment.media_type": str("application/" + strings.Repeat("x", 255-len("application/"))),
		// The rules allow 50 attachments: each URI distinct and at its cap.
		"ddr.intake.v1.Attachment.uri": func(i int) protoreflect.Value {
			u := fmt.Sprintf("https://dms.example/%04d/", i)
			return protoreflect.ValueOfString(u + strings.Repeat("d", 2048-len(u)))
		},
		// Output-only fields intake sets itself.
		"ddr.intake.v1.Target.erased": func(int) protoreflect.Value { return protoreflect.ValueOfBool(false) },
		// Named targets: the other selectors are bulk by definition (6.1).
		"ddr.intake.v1.DataDisclosureRequest.scope_selector": enumValue(intakev1.ScopeSelector_SCOPE_SELECTOR_NAMED_TARGETS),
		"ddr.intake.v1.DataDisclosureRequest.received_at":    ts(now.Add(-2 * time.Hour)),
		"ddr.intake.v1.LegalProcess.date":                    ts(now.AddDate(0, 0, -3)),
		"ddr.intake.v1.TimeRange.from":                       ts(now.AddDate(0, -6, 0)),
		"ddr.intake.v1.TimeRange.to":                         ts(now.AddDate(0, 0, -1)),
		"ddr.intake.v1.Gag.expires_at":                       ts(now.AddDate(1, 0, 0)),
		"ddr.intake.v1.DataDisclosureRequest.deadline":       ts(now.AddDate(0, 0, 7)),
	})
	if n := len(req.GetRequest().GetTargets()); n != 1000 {
		t.Fatalf("the maximal request has %d targets, want the cap of 1000", n)
	}
	// An emergency disclosure takes effect only after a call back through
	// the authority directory (issue 18, clause 2.1): the authority is one
	// the directory knows (a few hundred bytes short of the caps of its
	// name and the sender's address), so the Privacy Team can verify it.
	fromTheBKA(req.Request)
	wire := proto.Size(req)
	t.Logf("maximal SubmitRequest: %d bytes on the wire", wire)

	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	asBob := assessmentv1.NewAssessmentServiceClient(p.Dial(t, approver))
	no := notificationv1.NewNotificationServiceClient(p.Dial(t, reviewer))
	re := reportingv1.NewReportingServiceClient(p.Dial(t, reviewer))

	sub, err := in.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit of the maximal valid request: %v", err)
	}
	id := sub.GetRequestId()
	got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetRequest().GetContent().GetTargets()[999], withRef(req.GetRequest().GetTargets()[999], "t1000")) {
		t.Errorf("the last target did not come back as sent")
	}

	// The largest amendment, from the same generator.
	amend := &intakev1.AmendRequest{}
	maximal(t, amend, map[protoreflect.FullName]func(i int) protoreflect.Value{
		"ddr.intake.v1.AmendRequest.request_id": str(id),
		"ddr.intake.v1.Attachment.sha256":       str(strings.Repeat("cd", 32)),
		"ddr.intake.v1.Attachment.media_type":   str("application/" + strings.Repeat("y", 255-len("application/"))),
		"ddr.intake.v1.Attachment.uri": func(i int) protoreflect.Value {
			u := fmt.Sprintf("https://dms.example/amended/%04d/", i)
			return protoreflect.ValueOfString(u + strings.Repeat("e", 2048-len(u)))
		},
	})
	must(t, "amend", func() error { _, err := in.Amend(ctx, amend); return err })

	eventually(t, func() error {
		_, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	must(t, "claim", func() error {
		_, err := asAlice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	// The review's texts at their caps: six factors and the rights
	// assessment in one event.
	text := maxText(10000)
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: text})
	}
	factorsReq := &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: text}
	counselReq := &assessmentv1.RecordCounselConsultationRequest{RequestId: id, Consultation: &assessmentv1.CounselConsultation{
		Kind: assessmentv1.CounselKind_COUNSEL_KIND_OUTSIDE_COUNSEL, Counsel: maxText(300), Summary: text, ConsultTime: timestamppb.New(now.Add(-time.Hour)),
	}}
	challengeReq := &assessmentv1.RecordChallengeConsiderationRequest{RequestId: id, Considered: true, Reasoning: text}
	refs := make([]string, 1000)
	for i := range refs {
		refs[i] = fmt.Sprintf("t%d", i+1)
	}
	decideReq := &assessmentv1.DecideRequest{
		RequestId:  id,
		Kind:       assessmentv1.DecisionKind_DECISION_KIND_DISCLOSE,
		LegalBasis: assessmentv1.LegalBasis_LEGAL_BASIS_COMPELLING_LEGAL_OBLIGATION,
		Scope:      &assessmentv1.Scope{TargetRefs: refs, DataCategories: req.GetRequest().GetDataCategories()},
		Grounds:    text,
	}
	var decisionID string
	type step struct {
		name string
		msg  proto.Message
		call func() error
	}
	steps := []step{
		{"factors", factorsReq, func() error { _, err := asAlice.RecordFactors(ctx, factorsReq); return err }},
		{"counsel", counselReq, func() error { _, err := asAlice.RecordCounselConsultation(ctx, counselReq); return err }},
		{"challenge", challengeReq, func() error { _, err := asAlice.RecordChallengeConsideration(ctx, challengeReq); return err }},
		{"decide", decideReq, func() error {
			res, err := asAlice.Decide(ctx, decideReq)
			decisionID = res.GetCase().GetDecision().GetDecisionId()
			return err
		}},
	}
	v := validator(t)
	for _, s := range steps {
		// Each is itself at the caps of its rules, so it must pass them.
		if err := v.Check(s.msg); err != nil {
			t.Fatalf("%s: the request breaks its own rules: %v", s.name, err)
		}
		must(t, s.name, s.call)
	}
	must(t, "verify the requester", confirmRequester(ctx, assessmentv1.NewVerificationServiceClient(p.Dial(t, approver)), id))
	must(t, "approve", func() error {
		_, err := asBob.ApproveDecision(ctx, &assessmentv1.ApproveDecisionRequest{RequestId: id, DecisionId: decisionID})
		return err
	})
	c, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.GetCase().GetDecision(); d.GetStatus() != assessmentv1.DecisionStatus_DECISION_STATUS_EFFECTIVE || len(d.GetScope().GetTargetRefs()) != 1000 {
		t.Errorf("decision %v with %d targets, want effective with 1000", d.GetStatus(), len(d.GetScope().GetTargetRefs()))
	}
	eventually(t, func() error {
		_, err := no.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		return err
	})

	// Every event of the request is in its record, which verifies.
	want := []string{
		"ddr.intake.v1.RequestReceived", "ddr.intake.v1.RequestAmended", "ddr.assessment.v1.CaseOpened", "ddr.assessment.v1.CaseClaimed", "ddr.assessment.v1.FactorsRecorded",
		"ddr.assessment.v1.CounselConsulted", "ddr.assessment.v1.ChallengeConsidered", "ddr.assessment.v1.DecisionProposed",
		"ddr.assessment.v1.AssessmentDecided", "ddr.notification.v1.PlanDerived",
	}
	eventually(t, func() error {
		res, err := re.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		var types []string
		for _, e := range res.GetRecord().GetEntries() {
			types = append(types, e.GetEventType())
		}
		for _, w := range want {
			if !slices.Contains(types, w) {
				return fmt.Errorf("record lacks %s; has %v", w, types)
			}
		}
		return nil
	})
	if res, err := re.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id}); err != nil || !res.GetValid() {
		t.Errorf("VerifyRecord = %v, %v", res, err)
	}

	// Measure every stored event, as stored and as it will be once its
	// personal fields are sealed into an envelope.
	sealer := seal.New(newAEADKeyring(t))
	largest, largestSealed := 0, 0
	var largestType string
	for _, m := range storedMessages(t, p) {
		size := len(m.Data)
		for k, vs := range m.Header {
			for _, v := range vs {
				size += len(k) + len(v) + 4
			}
		}
		typ := m.Header.Get(eventstore.HeaderType)
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typ))
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		ev := mt.New().Interface()
		if err := proto.Unmarshal(m.Data, ev); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		sealedSize := size
		if !seal.IsSealed(ev) {
			if err := sealer.Seal(ctx, id, ev); err != nil {
				t.Fatalf("seal %s: %v", typ, err)
			}
			b, err := proto.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			sealedSize = size - len(m.Data) + len(b)
		}
		t.Logf("%-40s %8d bytes stored (with headers), %8d sealed", typ, size, sealedSize)
		if size > largest {
			largest, largestType = size, typ
		}
		largestSealed = max(largestSealed, sealedSize)
	}
	t.Logf("largest event %s: %d bytes, %.1f%% of NATS's 1 MiB (headroom %d bytes); sealed into an envelope at most %d bytes (headroom %d)",
		largestType, largest, 100*float64(largest)/natsDefaultMaxPayload, natsDefaultMaxPayload-largest, largestSealed, natsDefaultMaxPayload-largestSealed)
	if largest > headroomLimit || largestSealed > headroomLimit {
		t.Errorf("the largest event takes %d bytes (%d sealed), over %d (85%% of 1 MiB): lower the caps", largest, largestSealed, headroomLimit)
	}
}

func withRef(t *intakev1.Target, ref string) *intakev1.Target {
	c := proto.Clone(t).(*intakev1.Target)
	c.Ref = ref
	return c
}

func validator(t *testing.T) *pvalidate.Validator {
	t.Helper()
	v, err := pvalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// maximal fills msg to the caps of its buf.validate rules and checks that
// the result passes them. Fields whose rules are a format (a pattern, a
// URI) or whose value the flow depends on take their value from
// overrides, keyed by the field's full name and called with the element's
// index; a patterned field without one fails the test, so a new format
// cannot be skipped silently.
func maximal(t *testing.T, msg proto.Message, overrides map[protoreflect.FullName]func(i int) protoreflect.Value) {
	t.Helper()
	fillMessage(t, msg.ProtoReflect(), overrides, 0)
	if err := validator(t).Check(msg); err != nil {
		t.Fatalf("the maximal %s breaks its own rules: %v", msg.ProtoReflect().Descriptor().FullName(), err)
	}
}

func fillMessage(t *testing.T, m protoreflect.Message, overrides map[protoreflect.FullName]func(int) protoreflect.Value, idx int) {
	t.Helper()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && o.Fields().Get(0) != fd {
			continue // one member of each oneof
		}
		rules := fieldRules(fd)
		switch {
		case fd.IsMap():
			t.Fatalf("%s: maps are not generated yet", fd.FullName())
		case fd.IsList():
			items := rules.GetRepeated().GetItems()
			n := int(rules.GetRepeated().GetMaxItems())
			var enums []protoreflect.EnumNumber
			if fd.Kind() == protoreflect.EnumKind {
				// Distinct values: lists of enums are sets to the domain.
				enums = allowedEnums(fd.Enum(), items.GetEnum())
				n = min(n, len(enums))
			}
			list := m.Mutable(fd).List()
			for j := range n {
				switch {
				case enums != nil:
					list.Append(protoreflect.ValueOfEnum(enums[j]))
				case fd.Message() != nil:
					e := list.NewElement()
					fillMessage(t, e.Message(), overrides, j)
					list.Append(e)
				default:
					list.Append(scalar(t, fd, items, overrides, j))
				}
			}
		case fd.Message() != nil:
			if o, ok := overrides[fd.FullName()]; ok {
				m.Set(fd, o(idx))
				continue
			}
			if strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf.") {
				continue // times without an override stay unset
			}
			fillMessage(t, m.Mutable(fd).Message(), overrides, idx)
		default:
			v := scalar(t, fd, rules, overrides, idx)
			if v.IsValid() {
				m.Set(fd, v)
			}
		}
	}
}

func scalar(t *testing.T, fd protoreflect.FieldDescriptor, rules *validate.FieldRules, overrides map[protoreflect.FullName]func(int) protoreflect.Value, idx int) protoreflect.Value {
	t.Helper()
	if o, ok := overrides[fd.FullName()]; ok {
		return o(idx)
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := rules.GetString()
		if in := s.GetIn(); len(in) > 0 {
			return protoreflect.ValueOfString(slices.MaxFunc(in, func(a, b string) int { return len(a) - len(b) }))
		}
		if s.HasPattern() || s.GetUri() || s.GetEmail() || s.GetHostname() {
			t.Fatalf("%s has a format; give the maximal generator an override", fd.FullName())
		}
		maxLen := int(s.GetMaxLen())
		maxBytes := 4 * maxLen
		if s.HasMaxBytes() {
			maxBytes = int(s.GetMaxBytes())
			if !s.HasMaxLen() {
				maxLen = maxBytes
			}
		}
		// A distinct ASCII prefix keeps list elements unique.
		return protoreflect.ValueOfString(fillText(fmt.Sprintf("%d ", idx), maxLen, maxBytes))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes(make([]byte, rules.GetBytes().GetMaxLen()))
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		e := allowedEnums(fd.Enum(), rules.GetEnum())
		return protoreflect.ValueOfEnum(e[len(e)-1])
	}
	return protoreflect.Value{} // numbers: zero is valid wherever the rules allow it
}

// allowedEnums are the defined values the rules allow, in number order.
func allowedEnums(ed protoreflect.EnumDescriptor, r *validate.EnumRules) []protoreflect.EnumNumber {
	var out []protoreflect.EnumNumber
	for i := range ed.Values().Len() {
		n := ed.Values().Get(i).Number()
		if n == 0 || slices.Contains(r.GetNotIn(), int32(n)) || len(r.GetIn()) > 0 && !slices.Contains(r.GetIn(), int32(n)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// fillText is prefix followed by four-byte characters, then ASCII, up to
// maxLen characters and maxBytes bytes: the most bytes the caps allow.
func fillText(prefix string, maxLen, maxBytes int) string {
	runes := maxLen - utf8.RuneCountInString(prefix) // characters left
	room := maxBytes - len(prefix)                   // bytes left
	if runes <= 0 || room <= 0 {
		return prefix[:min(len(prefix), maxBytes)]
	}
	if room < runes {
		return prefix + strings.Repeat("a", room)
	}
	// k four-byte characters and runes-k ASCII ones: 3k extra bytes.
	k := min(runes, (room-runes)/3)
	return prefix + strings.Repeat("𝄞", k) + strings.Repeat("a", runes-k)
}

// maxText is n four-byte characters.
func maxText(n int) string { return strings.Repeat("𝄞", n) }

func str(s string) func(int) protoreflect.Value {
	return func(int) protoreflect.Value { return protoreflect.ValueOfString(s) }
}

func ts(at time.Time) func(int) protoreflect.Value {
	return func(int) protoreflect.Value { return protoreflect.ValueOfMessage(timestamppb.New(at).ProtoReflect()) }
}

func enumValue(e interface {
	Number() protoreflect.EnumNumber
}) func(int) protoreflect.Value {
	return func(int) protoreflect.Value { return protoreflect.ValueOfEnum(e.Number()) }
}

// storedMessages reads every message of the DDR stream.
func storedMessages(t *testing.T, p *runnertest.Proc) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(p.NATS(t, "spiffe://ddr.local/service/reporting"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, eventstore.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

// aeadKeyring seals as package keys does (AES-256-GCM, a fresh nonce per
// value), with one key per test: only the sealed sizes matter here.
type aeadKeyring struct{ aead cipher.AEAD }

func newAEADKeyring(t *testing.T) *aeadKeyring {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &aeadKeyring{aead: a}
}

func (k *aeadKeyring) SealKind(_ context.Context, requestID string, _ keys.Kind, label string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plaintext, []byte(requestID+"\x00"+label)), nil
}

func (k *aeadKeyring) OpenKind(_ context.Context, requestID string, _ keys.Kind, label string, sealed []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	return k.aead.Open(nil, sealed[:n], sealed[n:], []byte(requestID+"\x00"+label))
}
