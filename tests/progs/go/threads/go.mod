module fptrace.test/threads

go 1.19
