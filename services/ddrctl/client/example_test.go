package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/ddrctl/client"
)

// A group member's system hands over a demand the moment it arrives and
// waits for the Privacy Team to take it up. suiteAddr is a running suite
// (make run serves 127.0.0.1:7600).
func Example() {
	c, err := client.New(suiteAddr, client.WithIdentity("spiffe://ddr.local/group-member/acme-us"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The key names this demand for good: a retry, even days later or from
	// another process, answers with the same request.
	res, err := c.Submit(ctx, "phone-2026-11-28-0930", &intakev1.DataDisclosureRequest{
		ReceivedAt: timestamppb.New(time.Now().Add(-30 * time.Minute)),
		Channel:    intakev1.Channel_CHANNEL_PHONE,
		Authority:  &intakev1.Authority{Name: "Seattle Police Department", Kind: intakev1.AuthorityKind_AUTHORITY_KIND_POLICE, Country: "US"},
		Targets:    []*intakev1.Target{{Kind: intakev1.TargetKind_TARGET_KIND_EMAIL_ADDRESS, Value: "someone@example.org"}},
	})
	if err != nil {
		if vs := client.FieldViolations(err); len(vs) > 0 {
			for _, v := range vs {
				log.Printf("%s: %s", v.Field, v.Description)
			}
		}
		log.Fatal(err)
	}

	r, err := c.WaitForStage(ctx, res.GetRequestId(), intakev1.Stage_STAGE_UNDER_REVIEW)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replayed:", res.GetReplayed())
	fmt.Println("stage:", r.GetStage())
	// Output:
	// replayed: false
	// stage: STAGE_UNDER_REVIEW
}
