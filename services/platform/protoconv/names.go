package protoconv

// Names is [EnumName] and [EnumValue] bound to one proto enum P, the domain
// type D that spells its values, and the prefix the domain leaves out.
// Declared once per enum, it converts both ways, so a service does not
// write a pair of functions for each of its enums. (Where the domain
// spells values otherwise, [EnumMap] is the table.)
type Names[P Enum, D ~string] struct {
	// Prefix is what the proto's value names carry and the domain's
	// spellings lack ("DECISION_KIND_").
	Prefix string
}

// Domain is p spelled the domain's way: "" for unspecified,
// "undefined_<n>" for a number P does not define ([EnumName]).
func (n Names[P, D]) Domain(p P) D { return D(EnumName(p, n.Prefix)) }

// Proto is the value d spells, or unspecified ([EnumValue]).
func (n Names[P, D]) Proto(d D) P { return EnumValue[P](string(d), n.Prefix) }
