package grpcserver_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

func TestReflectionListsRegisteredServices(t *testing.T) {
	f := start(t, grpcserver.Config{}, panicky())
	stream, err := reflectionpb.NewServerReflectionClient(dial(t, f.addr)).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req := &reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: ""},
	}
	if err := stream.Send(req); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		got = append(got, s.GetName())
	}
	want := []string{probeService, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
}
