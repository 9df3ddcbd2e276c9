module fptrace.test/gcmark

go 1.19
