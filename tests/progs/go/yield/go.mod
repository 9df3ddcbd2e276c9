module fptrace.test/yield

go 1.19
