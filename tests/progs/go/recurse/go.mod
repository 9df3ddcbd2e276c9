module fptrace.test/recurse

go 1.19
