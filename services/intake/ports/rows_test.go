package ports

import (
	"fmt"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	"github.com/ddrsuite/ddr/services/intake/app"
)

// fill sets every field of m to a value other than its default (a nested
// message set but empty, a list of one element), so that a copy that
// leaves a field out differs from it.
func fill(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		switch {
		case fd.IsMap():
			mv := m.Mutable(fd).Map()
			mv.Set(fd.MapKey().Default().MapKey(), mv.NewValue())
		case fd.IsList():
			l := m.Mutable(fd).List()
			l.Append(scalar(fd, l.NewElement()))
		case fd.Message() != nil:
			m.Mutable(fd)
		default:
			m.Set(fd, scalar(fd, fd.Default()))
		}
	}
}

// scalar is a value of fd's kind other than the default (v, returned as
// it is for messages).
func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(1)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("x")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("x"))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(1)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1)
	}
	return v
}

// The copies a List row is served in carry every field of the kept row: a
// field added to Request or DataDisclosureRequest and not to copyRequest
// or copyDemand fails here.
func TestRowCopiesCarryEveryField(t *testing.T) {
	req := &intakev1.Request{}
	fill(req.ProtoReflect())
	demand := &intakev1.DataDisclosureRequest{}
	fill(demand.ProtoReflect())
	req.Content = demand
	if got := copyRequest(req); !proto.Equal(got, req) {
		t.Errorf("copyRequest left fields out:\n got %v\nwant %v", got, req)
	}
	if got := copyDemand(demand); !proto.Equal(got, demand) {
		t.Errorf("copyDemand left fields out:\n got %v\nwant %v", got, demand)
	}
}

// The row cache serves a row only at the version it was kept at, keeps the
// newer of two versions, and never holds more rows than its bound, also
// when written from many goroutines (run with -race).
func TestRowCacheServesOnlyItsVersionAndStaysBounded(t *testing.T) {
	c := newRowCache(8)
	c.put("r1", row{version: 5, msg: &intakev1.Request{RequestId: "r1"}})
	if got := c.get([]app.Row{{ID: "r1", Version: 5}}); got["r1"].msg.GetRequestId() != "r1" {
		t.Fatalf("the row kept at version 5 is not served at 5: %v", got)
	}
	if got := c.get([]app.Row{{ID: "r1", Version: 6}}); len(got) != 0 {
		t.Fatalf("a row kept at version 5 is served at 6: %v", got)
	}
	c.put("r1", row{version: 7})
	c.put("r1", row{version: 6}) // a slower rendering of an older version
	if got := c.get([]app.Row{{ID: "r1", Version: 7}}); len(got) != 1 {
		t.Errorf("an older version replaced the newer: %v", got)
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				id := fmt.Sprintf("r-%d-%d", g, i)
				c.put(id, row{version: 1})
				c.get([]app.Row{{ID: id, Version: 1}})
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > 8 {
		t.Errorf("the cache holds %d rows, bound 8", n)
	}
}

// A row holds the personal values its view forgets on erasure: the
// erasure drops it, and a rendering read before the erasure and kept
// after it (a List racing the erasure) is refused, while one rendered
// after the erasure is kept.
func TestRowCache_ErasureDropsTheRowAndRefusesOneRenderedBefore(t *testing.T) {
	c := newRowCache(8)
	before := row{version: 5, msg: &intakev1.Request{RequestId: "r1", Content: &intakev1.DataDisclosureRequest{Notes: "personal"}}}
	c.put("r1", before)
	c.forget("r1", 7)
	if got := c.get([]app.Row{{ID: "r1", Version: 5}, {ID: "r1", Version: 7}}); len(got) != 0 {
		t.Errorf("after the erasure the cache serves %v", got)
	}
	c.put("r1", before)
	if r := c.rows["r1"]; !r.erased {
		t.Errorf("a row rendered before the erasure was kept after it: %v", r.msg)
	}
	after := row{version: 7, msg: &intakev1.Request{RequestId: "r1"}}
	c.put("r1", after)
	if got := c.get([]app.Row{{ID: "r1", Version: 7}}); got["r1"].msg != after.msg {
		t.Errorf("the row rendered after the erasure is not served: %v", got)
	}
	c.forget("r1", 7) // told again (a replay): the row rendered since stays
	if got := c.get([]app.Row{{ID: "r1", Version: 7}}); got["r1"].msg != after.msg {
		t.Errorf("a second notice of the erasure dropped the row rendered after it: %v", got)
	}
}
