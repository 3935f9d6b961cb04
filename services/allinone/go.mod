module github.com/ddrsuite/ddr/services/allinone

go 1.26.0

require (
	github.com/ddrsuite/ddr/gen v0.0.0
	github.com/ddrsuite/ddr/services/assessment v0.0.0
	github.com/ddrsuite/ddr/services/intake v0.0.0
	github.com/ddrsuite/ddr/services/notification v0.0.0
	github.com/ddrsuite/ddr/services/platform v0.0.0
	github.com/ddrsuite/ddr/services/reporting v0.0.0
)

replace (
	github.com/ddrsuite/ddr/gen => ../../gen
	github.com/ddrsuite/ddr/services/assessment => ../assessment
	github.com/ddrsuite/ddr/services/intake => ../intake
	github.com/ddrsuite/ddr/services/notification => ../notification
	github.com/ddrsuite/ddr/services/platform => ../platform
	github.com/ddrsuite/ddr/services/reporting => ../reporting
)
