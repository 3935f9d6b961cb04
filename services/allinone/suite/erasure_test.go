package suite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	optionsv1 "github.com/ddrsuite/ddr/gen/ddr/options/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
	intakeapp "github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/runner"
	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// Erasure that holds. A request with a canary in every marked field the
// member submits (SUBJECT, but the sender's address: RECORD) and in the
// reviewer's own text (RECORD) is
// withdrawn, its record sealed, and its targets erased by legal. Then, on
// a restarted process (so every read model is rebuilt from the stream):
// the member reads none of the SUBJECT values, the reviewer still reads
// the RECORD ones, the record has its entries and VerifyRecord passes.
// And with the process stopped, someone holding the KEK and the data
// directory finds no byte sequence in any file that unwraps to the erased
// key, and a 100,000-value dictionary holding the real target matches no
// stored value or digest: in clear, as SHA-256 (raw, hex, base64), nor as
// intake's keyed content fingerprint computed with the fingerprint key
// (kept beside the KEK, so in hand with it) and every other field of the
// request known; intake keeps that fingerprint only sealed with the
// SUBJECT key, in the event and in the idempotency record. Before the
// erasure the attacker's fingerprint equals intake's, so it is not blind.
func TestErasureHolds_SubjectGoneRecordReadableChainVerifies(t *testing.T) {
	dataDir := t.TempDir()
	p := startSuite(t, runnertest.Options{DataDir: dataDir})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCanaries()
	in := intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice := assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	legal := intakev1.NewIntakeServiceClient(p.Dial(t, callerOf["legal"]))
	dpa := reportingv1.NewReportingServiceClient(p.Dial(t, callerOf["legal"]))

	req := request(time.Now().Add(-2 * time.Hour))
	fillMarked(c, req.ProtoReflect())
	// The request's marked fields are mostly SUBJECT; one the company
	// keeps as its record of who asked (the sender's address) is RECORD.
	var subject, record []string
	for _, v := range c.all {
		if kindOfField(t, c.used[v]) == optionsv1.PersonalKind_PERSONAL_KIND_RECORD {
			record = append(record, v)
		} else {
			subject = append(subject, v)
		}
	}
	target := req.GetTargets()[0].GetValue()
	sub, err := in.Submit(ctx, &intakev1.SubmitRequest{IdempotencyKey: "erasure-holds", Request: req})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRequestId()
	eventually(t, func() error {
		_, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		return err
	})
	must(t, "claim", func() error {
		_, err := asAlice.ClaimCase(ctx, &assessmentv1.ClaimCaseRequest{RequestId: id})
		return err
	})
	var factors []*assessmentv1.FactorAssessment
	for f := assessmentv1.Factor_FACTOR_NATURE; f <= assessmentv1.Factor_FACTOR_VALIDITY; f++ {
		v := c.next("ddr.assessment.v1.FactorAssessment.assessment")
		record = append(record, v)
		factors = append(factors, &assessmentv1.FactorAssessment{Factor: f, Assessment: v})
	}
	rights := c.next("ddr.assessment.v1.RecordFactorsRequest.rights_assessment")
	record = append(record, rights)
	must(t, "factors", func() error {
		_, err := asAlice.RecordFactors(ctx, &assessmentv1.RecordFactorsRequest{RequestId: id, Factors: factors, RightsAssessment: rights})
		return err
	})
	// The attacker's fingerprint of the request with a guessed target,
	// computed as intake does, with the fingerprint key (kept beside the
	// KEK, so in hand with it) and every other field of the request known.
	// Before erasure it reproduces the fingerprint intake stored, so the
	// dictionary below is not blind.
	fpKey, err := keys.LoadFingerprintKeyFile(filepath.Join(string(p.PKI), keys.FingerprintKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	var received *intakev1.RequestReceived
	for _, m := range openedEventsAs(t, p, "intake", id) {
		if rr, ok := m.(*intakev1.RequestReceived); ok {
			received = rr
		}
	}
	guess := func(v string) string {
		r := proto.CloneOf(req)
		r.Targets[0].Value = v
		d := intakeapp.DecodeRequest(received.GetGroupMember(), "erasure-holds", r).ContentDigest()
		return fpKey.Fingerprint("intake.content/v1", d[:])
	}
	if received.GetContentFingerprint() == "" || guess(target) != received.GetContentFingerprint() {
		t.Fatalf("the attacker's fingerprint %q is not intake's %q: the dictionary would be blind", guess(target), received.GetContentFingerprint())
	}
	must(t, "withdraw", func() error {
		_, err := in.Withdraw(ctx, &intakev1.WithdrawRequest{RequestId: id, Reason: "withdrawn by the authority"})
		return err
	})
	acknowledgeWithdrawal(t, p, id) // issue 16: the record closes on the acknowledgement
	sealedRecord := func() error {
		r, err := dpa.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		if err != nil {
			return err
		}
		// The erasure, then the seal a closed record gets over it.
		if got := entryTypes(r.GetRecord()); len(got) < 2 || !slices.Equal(got[len(got)-2:], []string{"intake.v1.TargetsErased", "reporting.v1.RecordSealed"}) {
			return fmt.Errorf("erasure not recorded and sealed yet: %v", got)
		}
		return nil
	}
	// Notification's StepsStopped reacts to the withdrawal on its own time;
	// wait for it (and the seal after it) so that the erasure is the
	// record's last entry.
	eventually(t, func() error {
		if r := waitSealed(t, ctx, dpa, id); !slices.Contains(entryTypes(r), "notification.v1.StepsStopped") {
			return fmt.Errorf("no StepsStopped in the record yet: %v", entryTypes(r))
		}
		return nil
	})
	if er, err := legal.EraseTargets(ctx, &intakev1.EraseTargetsRequest{RequestId: id, Reason: "retention period over"}); err != nil || !er.GetErasedNow() {
		t.Fatalf("EraseTargets = %v, %v", er, err)
	}
	eventually(t, sealedRecord)
	p.Stop(t)

	// Restarted: the read models are rebuilt from the sealed stream.
	p = startSuite(t, runnertest.Options{DataDir: dataDir})
	in = intakev1.NewIntakeServiceClient(p.Dial(t, member))
	asAlice = assessmentv1.NewAssessmentServiceClient(p.Dial(t, reviewer))
	dpa = reportingv1.NewReportingServiceClient(p.Dial(t, callerOf["legal"]))
	var seenCase, seenRequest string
	eventually(t, func() error {
		cs, err := asAlice.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		if err != nil {
			return err
		}
		seenCase = text(cs)
		got, err := in.Get(ctx, &intakev1.GetRequest{RequestId: id})
		if err != nil {
			return err
		}
		seenRequest = text(got)
		return nil
	})
	for _, v := range record {
		if !strings.Contains(seenCase+seenRequest, v) {
			t.Errorf("RECORD %s unreadable after the erasure", c.used[v])
		}
	}
	for _, v := range subject {
		if strings.Contains(seenRequest+seenCase, v) {
			t.Errorf("SUBJECT %s still readable after the erasure", c.used[v])
		}
	}
	eventually(t, sealedRecord)
	v, err := dpa.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
	if err != nil || !v.GetValid() {
		t.Errorf("VerifyRecord after erasure = %v, %v; want valid", v, err)
	}
	p.Stop(t)

	// The attacker with the KEK and a copy of the data directory.
	kek, err := keys.LoadKEKFile(filepath.Join(string(p.PKI), runner.KEKFileName))
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	files := 0
	err = filepath.WalkDir(filepath.Join(dataDir, "jetstream"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if at, err := keys.FindWrapped(kek, id, keys.Subject, b); err != nil || len(at) > 0 {
			t.Errorf("the erased key unwraps from %s at %v (%v)", path, at, err)
		}
		all = append(append(all, b...), 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	dict := make([]string, 0, 100_000)
	for i := range 99_999 {
		dict = append(dict, fmt.Sprintf("acct-%06d", i))
	}
	dict = append(dict, target)
	// Every keyed fingerprint stored anywhere (event, idempotency record)
	// is 43 characters of unpadded base64url: each such run of the files.
	stored := map[string]bool{}
	for _, tok := range regexp.MustCompile(`[A-Za-z0-9_-]+`).FindAll(all, -1) {
		if len(tok) == 43 {
			stored[string(tok)] = true
		}
	}
	hits, keyedHits := 0, 0
	for _, v := range dict {
		sum := sha256.Sum256([]byte(v))
		for _, probe := range [][]byte{[]byte(v), sum[:], []byte(hex.EncodeToString(sum[:])), []byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(base64.RawURLEncoding.EncodeToString(sum[:]))} {
			if bytes.Contains(all, probe) {
				hits++
			}
		}
		if stored[guess(v)] {
			keyedHits++
		}
	}
	if hits > 0 {
		t.Errorf("the dictionary matched %d stored values or digests", hits)
	}
	if keyedHits > 0 {
		t.Errorf("with the fingerprint key, the dictionary matched %d stored keyed fingerprints", keyedHits)
	}
	t.Logf("erased key: no wrapped copy in %d files (%d bytes); dictionary of %d values x 5 probes, and keyed against %d stored fingerprint-shaped values: %d + %d hits in %v",
		files, len(all), len(dict), len(stored), hits, keyedHits, time.Since(start))
}

// kindOfField is the personal-data kind the field named name is marked with.
func kindOfField(t *testing.T, name string) optionsv1.PersonalKind {
	t.Helper()
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := d.(protoreflect.FieldDescriptor)
	if !ok {
		t.Fatalf("%s is not a field", name)
	}
	return seal.KindOf(fd)
}
