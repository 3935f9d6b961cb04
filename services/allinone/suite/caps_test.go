package suite_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/ddrsuite/ddr/gen/ddr/admin/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	_ "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// Every string, bytes, repeated and map field an RPC accepts must carry a
// cap in the proto (buf.validate max_len / max_bytes / in, max_items,
// max_pairs): a request turns into events, and an event must fit one NATS
// message. Without this test a new field without a cap would pass review
// and be found by the first caller who fills it. Issue 17 item 2.
func TestEveryRequestFieldIsCapped(t *testing.T) {
	var uncapped []string
	services := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "ddr.") {
			return true
		}
		for i := range fd.Services().Len() {
			services++
			methods := fd.Services().Get(i).Methods()
			for j := range methods.Len() {
				in := methods.Get(j).Input()
				uncapped = append(uncapped, uncappedFields(in, string(in.Name()), map[protoreflect.FullName]bool{})...)
			}
		}
		return true
	})
	if services < 5 {
		t.Fatalf("found %d ddr services; the generated packages are not all registered", services)
	}
	slices.Sort(uncapped)
	uncapped = slices.Compact(uncapped)
	for _, u := range uncapped {
		t.Errorf("uncapped request field %s", u)
	}
}

// uncappedFields lists the fields reachable from md that can grow without
// a bound set in the proto. Well-known types (Timestamp, Duration) hold no
// such field and are not walked.
func uncappedFields(md protoreflect.MessageDescriptor, path string, seen map[protoreflect.FullName]bool) []string {
	if seen[md.FullName()] || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil
	}
	seen[md.FullName()] = true
	defer delete(seen, md.FullName())
	var out []string
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p := fmt.Sprintf("%s.%s (%s)", path, fd.Name(), fd.FullName())
		rules := fieldRules(fd)
		switch {
		case fd.IsMap():
			if !rules.GetMap().HasMaxPairs() {
				out = append(out, p+": map without max_pairs")
			}
			out = append(out, scalarUncapped(fd.MapValue(), rules.GetMap().GetValues(), p+"[value]")...)
			out = append(out, scalarUncapped(fd.MapKey(), rules.GetMap().GetKeys(), p+"[key]")...)
		case fd.IsList():
			if !rules.GetRepeated().HasMaxItems() {
				out = append(out, p+": repeated without max_items")
			}
			out = append(out, scalarUncapped(fd, rules.GetRepeated().GetItems(), p+"[]")...)
		default:
			out = append(out, scalarUncapped(fd, rules, p)...)
		}
		if m := elemMessage(fd); m != nil {
			out = append(out, uncappedFields(m, path+"."+string(fd.Name()), seen)...)
		}
	}
	return out
}

func elemMessage(fd protoreflect.FieldDescriptor) protoreflect.MessageDescriptor {
	if fd.IsMap() {
		fd = fd.MapValue()
	}
	return fd.Message()
}

// scalarUncapped checks one string or bytes value against its rules.
func scalarUncapped(fd protoreflect.FieldDescriptor, rules *validate.FieldRules, p string) []string {
	switch fd.Kind() {
	case protoreflect.StringKind:
		s := rules.GetString()
		if !s.HasMaxLen() && !s.HasMaxBytes() && !s.HasLen() && !s.HasConst() && len(s.GetIn()) == 0 {
			return []string{p + ": string without max_len or max_bytes"}
		}
	case protoreflect.BytesKind:
		b := rules.GetBytes()
		if !b.HasMaxLen() && !b.HasLen() && !b.HasConst() && len(b.GetIn()) == 0 {
			return []string{p + ": bytes without max_len"}
		}
	}
	return nil
}

// fieldRules returns fd's buf.validate rules, or empty rules.
func fieldRules(fd protoreflect.FieldDescriptor) *validate.FieldRules {
	opts := fd.Options()
	if opts == nil || !proto.HasExtension(opts, validate.E_Field) {
		return &validate.FieldRules{}
	}
	return proto.GetExtension(opts, validate.E_Field).(*validate.FieldRules)
}
