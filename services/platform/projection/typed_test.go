package projection_test

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	"github.com/ddrsuite/ddr/services/platform/eventstore"
	"github.com/ddrsuite/ddr/services/platform/projection"
)

func TestDispatch_FiltersAndRoutesByType(t *testing.T) {
	var got []string
	filters, apply := projection.Dispatch(
		projection.On(func(_ eventstore.Event, p *intakev1.RequestReceived) error {
			got = append(got, "received "+p.GetRequestId())
			return nil
		}),
		projection.On(func(_ eventstore.Event, p *notificationv1.RequestCleared) error {
			got = append(got, "cleared "+p.GetRequestId())
			return nil
		}),
	)
	if want := []string{"ddr.req.*.intake.received", "ddr.req.*.notification.cleared"}; !slices.Equal(filters, want) {
		t.Errorf("filters = %q, want %q", filters, want)
	}
	for _, p := range []proto.Message{
		&intakev1.RequestReceived{RequestId: "a"}, &intakev1.RequestWithdrawn{RequestId: "b"}, &notificationv1.RequestCleared{RequestId: "c"},
	} {
		if err := apply(eventstore.Event{Type: string(proto.MessageName(p)), Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"received a", "cleared c"}; !slices.Equal(got, want) {
		t.Errorf("applied %q, want %q", got, want)
	}
}
