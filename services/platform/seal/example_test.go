package seal_test

import (
	"context"
	"fmt"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/platform/keys"
	"github.com/ddrsuite/ddr/services/platform/seal"
)

// Sealing an event before it is appended, and opening it on an authorised
// read. kr is the process's keyring (keys.New or keys.Lazy).
func ExampleSealer() {
	var kr *keys.Keyring // from keys.New(bucket, kek)
	s := seal.New(kr)
	ctx := context.Background()

	ev := &intakev1.RequestWithdrawn{RequestId: "req-1", Reason: "the suspect, J. Doe, was cleared"}
	if err := s.Seal(ctx, "req-1", ev); err != nil { // Reason is now empty, sealed in the envelope
		return
	}
	// ... store.Append(ctx, "req-1", seq, eventstore.Event{..., Payload: ev}) ...

	// On an authorised read of the loaded event:
	opened, err := s.Open(ctx, "req-1", ev)
	if err != nil {
		return
	}
	if len(opened.Erased) > 0 {
		fmt.Println("erased:", opened.Erased) // those fields stay empty
	}
	fmt.Println(ev.GetReason())
}
