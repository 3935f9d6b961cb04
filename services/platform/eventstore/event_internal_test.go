package eventstore

import (
	"context"
	"testing"
	"unsafe"

	"github.com/nats-io/nats.go"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
)

// A decoded event keeps none of the header block nats.go decoded its
// headers from (one string every value is a slice of): a read model that
// keeps events would otherwise keep every event's whole block.
func TestFromMsg_KeepsNoneOfTheHeaderBlock(t *testing.T) {
	m, err := ToMsg(context.Background(), Event{RequestID: "req-1", Actor: "spiffe://ddr.test/staff/alice", Payload: &intakev1.RequestReceived{RequestId: "req-1"}})
	if err != nil {
		t.Fatal(err)
	}
	// Encoded and decoded as nats.go receives it.
	var block []byte
	block = append(block, "NATS/1.0\r\n"...)
	for k, vs := range m.Header {
		for _, v := range vs {
			block = append(block, k+": "+v+"\r\n"...)
		}
	}
	block = append(block, "\r\n"...)
	h, err := nats.DecodeHeadersMsg(block)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := FromMsg(m.Subject, h, m.Data, 7)
	if err != nil {
		t.Fatal(err)
	}
	// Every value of h lies within one allocation: the span from the
	// lowest to the highest address of its values bounds it.
	lo, hi := uintptr(0), uintptr(0)
	for _, vs := range h {
		for _, v := range vs {
			if v == "" {
				continue
			}
			p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
			if lo == 0 || p < lo {
				lo = p
			}
			hi = max(hi, p+uintptr(len(v)))
		}
	}
	for name, v := range map[string]string{"ID": ev.ID, "Type": ev.Type, "Source": ev.Source, "Actor": ev.Actor} {
		if v == "" {
			t.Errorf("%s is empty", name)
			continue
		}
		if p := uintptr(unsafe.Pointer(unsafe.StringData(v))); p >= lo && p < hi {
			t.Errorf("%s %q is a slice of the header block", name, v)
		}
	}
}
