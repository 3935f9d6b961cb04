package ports

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/validate"
)

// FuzzSubmitValidation feeds arbitrary wire bytes to the validation a
// submission meets at the gRPC edge (proto rules and domain rules
// together): it must never panic, and refuse only with field violations,
// each with a reason and, but for a final summary, a field.
func FuzzSubmitValidation(f *testing.F) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	valid := &intakev1.SubmitRequest{IdempotencyKey: "k-1", Request: &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(now.Add(-time.Hour)),
		Channel:    intakev1.Channel_CHANNEL_LETTER,
		Authority:  &intakev1.Authority{Name: "Police", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "DE"},
		Targets:    []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_ACCOUNT, Value: "acct-1"}},
		Attachments: []*intakev1.Attachment{{
			Uri: "https://files.example/a.pdf", Sha256: "0000000000000000000000000000000000000000000000000000000000000000", MediaType: "application/pdf",
		}},
	}}
	for _, m := range []proto.Message{valid, &intakev1.SubmitRequest{}, &intakev1.SubmitRequest{Request: &intakev1.DataDisclosureRequest{Channel: 99}}} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x02, 0x3a, 0x00})
	v, err := validate.New()
	if err != nil {
		f.Fatal(err)
	}
	s := NewServer(nil, nil, v, app.Config{Now: func() time.Time { return now }}, nil)
	f.Fuzz(func(t *testing.T, wire []byte) {
		var req intakev1.SubmitRequest
		if proto.Unmarshal(wire, &req) != nil {
			return
		}
		_, err := s.checkSubmit("spiffe://ddr.local/group-member/acme-eu", &req)
		if err == nil {
			return
		}
		var ve *ddrerr.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) == 0 {
			t.Fatalf("error %T %v, want field violations", err, err)
		}
		for i, fv := range ve.Violations {
			// Only a final "N more problems" summary is about no one field.
			if fv.Description == "" || (fv.Field == "" && i != len(ve.Violations)-1) {
				t.Fatalf("violation %d %+v names no field or reason", i, fv)
			}
		}
	})
}
