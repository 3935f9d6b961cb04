module github.com/ddrsuite/ddr/tools/cmd/vulngate

go 1.26.7
