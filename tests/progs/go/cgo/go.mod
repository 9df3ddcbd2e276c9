module fptrace.test/cgo

go 1.19
