package protoconv

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Label spells any enum value for the tools that show the services'
// answers to people (ddrctl, the console), which hold enums of every
// type behind protoreflect.Enum: like [EnumName], lower case without the
// prefix the zero value names (STAGE_UNSPECIFIED: "STAGE_"), "" for the
// unspecified value; but the bare number for one the enum does not define,
// as a newer service may send it to an older tool.
func Label(e protoreflect.Enum) string {
	d := e.Descriptor()
	v := d.Values().ByNumber(e.Number())
	if v == nil {
		return strconv.Itoa(int(e.Number()))
	}
	name := string(v.Name())
	if first := d.Values().Get(0); first != nil {
		if p, ok := strings.CutSuffix(string(first.Name()), "UNSPECIFIED"); ok {
			name = strings.TrimPrefix(name, p)
		}
	}
	if name == "UNSPECIFIED" {
		return ""
	}
	return strings.ToLower(name)
}
