module fptrace.test/duff

go 1.19
