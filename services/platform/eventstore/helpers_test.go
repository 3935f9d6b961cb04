package eventstore_test

import (
	"testing"

	"github.com/ddrsuite/ddr/services/platform/testkit"
)

func TestMain(m *testing.M) { testkit.MainTraced(m) }

// newJS starts a real embedded JetStream server with the DDR streams (the
// name the package's many tests call it by).
var newJS = testkit.Streams
